package pseudonym

import (
	"strings"
	"testing"
	"time"
)

// TestOf pins the stored format: known answers (computed independently
// with Python's hmac module), so a change that would orphan pseudonyms
// already written fails here.
func TestOf(t *testing.T) {
	tests := []struct {
		name    string
		key, id string
		want    string
	}{
		{name: "development key", key: "development-only-pseudonym-key", id: "alice", want: "ps_2a20335996427e8136c8e92ac94c7a0c"},
		{name: "coach uid", key: "k1", id: "coach-1", want: "ps_765657e0977b42217ed91f19655effb3"},
		{name: "empty id", key: "k1", id: "", want: "ps_e6f06a89ac679df9f3f5774369cac0d5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Of([]byte(tc.key), tc.id)
			if got != tc.want {
				t.Errorf("Of(%q, %q) = %q, want %q", tc.key, tc.id, got, tc.want)
			}
			if len(got) != 35 || !strings.HasPrefix(got, Prefix) || (tc.id != "" && strings.Contains(got, tc.id)) {
				t.Errorf("Of(%q, %q) = %q: not a 35-character pseudonym without the id", tc.key, tc.id, got)
			}
		})
	}
}

// TestOfKeyed: another key gives another pseudonym of the same id.
func TestOfKeyed(t *testing.T) {
	if a, b := Of([]byte("k1"), "alice"), Of([]byte("k2"), "alice"); a == b {
		t.Errorf("two keys give the same pseudonym %q", a)
	}
}

// TestErasureRequestID pins the erasure request id: known answers
// (computed independently with Python's hmac module) and the derivation
// from Of that gdpr.Service.ErasureID has always used, so requests already
// stored stay findable.
func TestErasureRequestID(t *testing.T) {
	tests := []struct {
		name    string
		key, id string
		want    string
	}{
		{name: "development key", key: "development-only-pseudonym-key", id: "alice", want: "erasure_c52e2e697623140efe6308c5"},
		{name: "coach uid", key: "k1", id: "coach-1", want: "erasure_4ddf5bdee0631e651636d139"},
		{name: "empty id", key: "k1", id: "", want: "erasure_741af0423aaaabe5c5d74d75"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ErasureRequestID([]byte(tc.key), tc.id)
			if got != tc.want {
				t.Errorf("ErasureRequestID(%q, %q) = %q, want %q", tc.key, tc.id, got, tc.want)
			}
			if legacy := "erasure_" + Of([]byte(tc.key), "erasure:"+tc.id)[3:27]; got != legacy {
				t.Errorf("ErasureRequestID(%q, %q) = %q, want the stored derivation %q", tc.key, tc.id, got, legacy)
			}
		})
	}
}

// TestBookkeepingHoldUntil: the hold ends at the start of the year after
// seven full calendar years after the record's year, in UTC.
func TestBookkeepingHoldUntil(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{name: "mid year", at: time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC), want: time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "new year's eve", at: time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), want: time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "local time in the next UTC year", at: time.Date(2025, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), want: time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := BookkeepingHoldUntil(tc.at); !got.Equal(tc.want) {
				t.Errorf("BookkeepingHoldUntil(%v) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

// TestIs: Of's results are pseudonyms; uids and near misses are not.
func TestIs(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{Of([]byte("k"), "uid-1"), true},
		{"ps_0123456789abcdef0123456789abcdef", true},
		{"ps_0123456789ABCDEF0123456789abcdef", false},
		{"ps_0123456789abcdef0123456789abcde", false},
		{"ps_0123456789abcdef0123456789abcdefa", false},
		{"0123456789abcdef0123456789abcdef", false},
		{"aBcDeFgHiJkLmNoPqRsTuVwXyZ12", false},
		{"erased-user", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Is(tt.id); got != tt.want {
			t.Errorf("Is(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
