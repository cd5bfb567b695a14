package gdpr

import "testing"

// TestExportPayoutNamesNoOperator: a coach's export holds their payouts in
// full, except the operator who released a failed one (ops payouts retry
// writes release.by), who appears as "staff" as in the other records.
func TestExportPayoutNamesNoOperator(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		name    string
		doc     map[string]any
		wantBy  any // nil: no release record
		wantAmt int64
	}{
		{"released", map[string]any{"coachId": "coach-1", "amount": int64(12000), "status": "failed",
			"release": map[string]any{"by": "ops:alice", "attempt": int64(1)}}, "staff", 12000},
		{"not released", map[string]any{"coachId": "coach-1", "amount": int64(9000), "status": "completed"}, nil, 9000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "payouts/p-" + tt.name[:3]
			e.set(path, tt.doc)
			snap, err := e.fs.Doc(path).Get(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := exportPayout(nil, snap)
			if !ok || got["amount"] != tt.wantAmt || got["coachId"] != "coach-1" {
				t.Fatalf("export %v, %v", got, ok)
			}
			r, _ := got["release"].(map[string]any)
			if tt.wantBy == nil {
				if r != nil {
					t.Errorf("release %v, want none", r)
				}
				return
			}
			if r["by"] != tt.wantBy || r["attempt"] != int64(1) {
				t.Errorf("release %v, want by %v and the rest kept", r, tt.wantBy)
			}
		})
	}
}
