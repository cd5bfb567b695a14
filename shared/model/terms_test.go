package model

import (
	"reflect"
	"testing"
)

// TestProgramTermsOf: a program document's terms are read field by field;
// malformed splits and commissions are kept as rejected values, never as
// valid ones, and other fields never matter.
func TestProgramTermsOf(t *testing.T) {
	bps := func(v int) *int { return &v }
	tests := []struct {
		name string
		data map[string]any
		want ProgramTerms
	}{
		{"coaches only: an equal split, the default commission",
			map[string]any{"createdBy": []any{"c1", "c2"}, "tags": []any{1}},
			ProgramTerms{ProgramFound: true, CoachIDs: []string{"c1", "c2"}}},
		{"split and commission",
			map[string]any{"createdBy": []any{"c1", "c2"}, "coachSplits": map[string]any{"c1": int64(7000), "c2": int64(3000)}, "commissionBps": int64(1500)},
			ProgramTerms{ProgramFound: true, CoachIDs: []string{"c1", "c2"}, CoachSplits: map[string]int{"c1": 7000, "c2": 3000}, CommissionBps: bps(1500)}},
		{"coach ids of the wrong type are left out",
			map[string]any{"createdBy": []any{"c1", int64(7), nil}},
			ProgramTerms{ProgramFound: true, CoachIDs: []string{"c1"}}},
		{"createdBy not a list", map[string]any{"createdBy": "c1"}, ProgramTerms{ProgramFound: true}},
		{"split values out of range or not integers",
			map[string]any{"createdBy": []any{"c1", "c2", "c3"}, "coachSplits": map[string]any{"c1": "5000", "c2": int64(10001), "c3": 12.5}},
			ProgramTerms{ProgramFound: true, CoachIDs: []string{"c1", "c2", "c3"}, CoachSplits: map[string]int{"c1": -1, "c2": -1, "c3": -1}}},
		{"splits not a map",
			map[string]any{"createdBy": []any{"c1"}, "coachSplits": []any{int64(10000)}},
			ProgramTerms{ProgramFound: true, CoachIDs: []string{"c1"}, CoachSplitsInvalid: true}},
		{"commission not an integer", map[string]any{"commissionBps": "2000"}, ProgramTerms{ProgramFound: true, CommissionBps: bps(-1)}},
		{"commission negative", map[string]any{"commissionBps": int64(-5)}, ProgramTerms{ProgramFound: true, CommissionBps: bps(-1)}},
		{"null split and commission are absent", map[string]any{"coachSplits": nil, "commissionBps": nil}, ProgramTerms{ProgramFound: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ProgramTermsOf(tt.data); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ProgramTermsOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}
