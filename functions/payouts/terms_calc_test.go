package payouts

import (
	"maps"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// TestEligibilityByFrozenTerms: an unallocated payment is allocated by the
// terms frozen on it whatever the program says now; only a payment
// without frozen terms (legacy) uses the program, and frozen terms are
// rejected for the same reasons the program's would be.
func TestEligibilityByFrozenTerms(t *testing.T) {
	s := &Service{Settings: DefaultSettings()}
	end := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	now := &model.Program{ProgramID: "p", CreatedBy: []string{"taker"}} // the program at payout time
	tests := []struct {
		name    string
		terms   *model.ProgramTerms
		program *model.Program
		weights map[string]int64
		bps     int
		reason  string
		source  string
	}{
		{"frozen terms win over the program", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"a"}}, now,
			map[string]int64{"a": 1}, 2000, "", TermsFromPayment},
		{"frozen terms without a program now", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"a", "b"},
			CoachSplits: map[string]int{"a": 7000, "b": 3000}, CommissionBps: intp(1000)}, nil,
			map[string]int64{"a": 7000, "b": 3000}, 1000, "", TermsFromPayment},
		{"program missing when paid, present now", &model.ProgramTerms{ProgramFound: false, CoachIDs: []string{}}, now,
			nil, 0, skipNoTermsWhenPaid, TermsFromPayment},
		{"program re-created after checkout, present now", &model.ProgramTerms{ProgramFound: false, RecreatedAfterCheckout: true, CoachIDs: []string{}}, now,
			nil, 0, skipRecreated, TermsFromPayment},
		{"re-created flag wins over terms found", &model.ProgramTerms{ProgramFound: true, RecreatedAfterCheckout: true, CoachIDs: []string{"a"}}, now,
			nil, 0, skipRecreated, TermsFromPayment},
		{"frozen splits not a map", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"a"}, CoachSplitsInvalid: true}, now,
			nil, 0, skipBadSplit, TermsFromPayment},
		{"frozen split value rejected", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"a"}, CoachSplits: map[string]int{"a": -1}}, now,
			nil, 0, skipBadSplit, TermsFromPayment},
		{"frozen commission rejected", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"a"}, CommissionBps: intp(-1)}, now,
			nil, 0, skipBadCommission, TermsFromPayment},
		{"frozen terms without coaches", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{}}, now,
			nil, 0, skipBadSplit, TermsFromPayment},
		{"legacy: the program now", nil, now, map[string]int64{"taker": 1}, 2000, "", TermsFromProgram},
		{"legacy: no program", nil, nil, nil, 0, skipProgramMissing, TermsFromProgram},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &model.Payment{PaymentID: "pay", Amount: 10000, Currency: "SEK", Status: model.PaymentSucceeded,
				PaymentDate: end.Add(-48 * time.Hour), ProgramID: ptrTo("p"), ProgramTerms: tt.terms}
			st := saleTerms(p, tt.program)
			if st.source != tt.source {
				t.Errorf("source = %q, want %q", st.source, tt.source)
			}
			_, w, bps, _, reason, ok := s.eligibility(p, st, end)
			if reason != tt.reason || ok != (tt.reason == "") {
				t.Fatalf("eligibility: reason %q ok %v, want reason %q", reason, ok, tt.reason)
			}
			if ok && (!maps.Equal(w, tt.weights) || bps != tt.bps) {
				t.Errorf("weights %v bps %d, want %v %d", w, bps, tt.weights, tt.bps)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
