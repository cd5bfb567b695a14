package pseudonym

import (
	"strings"
	"testing"
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
