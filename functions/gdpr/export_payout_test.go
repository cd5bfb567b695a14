package gdpr

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/model"
)

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

// TestCoachArchiveMasksReleaseOperator is the regression test of the
// payouts rule's export wiring, which TestExportPayoutNamesNoOperator
// (calling exportPayout directly) does not reach: the archive a coach
// downloads (WriteArchive, data/payouts.coachId.json) holds their payouts
// with every field, but a released payout's operator (release.by, written
// by `ops payouts retry` as "ops:<login>") only as "staff", and the
// operator's name nowhere in the archive.
func TestCoachArchiveMasksReleaseOperator(t *testing.T) {
	e := newEnv(t, false)
	coach := uid("coach")
	const operator = "ops:alice-operator"
	at := e.clock.Now()
	rel := payouts.Release{At: at, By: operator, Attempt: 1, Amount: 8000, FailedReason: "Stripe refused the transfer: transfers_not_allowed",
		Entries: []payouts.ReleasedEntry{{PaymentID: "pi_a", Seq: 1, Amount: 8000}}}
	tests := []struct {
		name   string
		doc    map[string]any
		wantBy any // nil: no release record
	}{
		{"released", map[string]any{"payoutId": "po-rel", "coachId": coach, "amount": int64(8000), "currency": "SEK",
			"status": string(model.PayoutFailed), "release": rel}, "staff"},
		{"not released", map[string]any{"payoutId": "po-ok", "coachId": coach, "amount": int64(9000), "currency": "SEK",
			"status": string(model.PayoutCompleted)}, nil},
	}
	for _, tt := range tests {
		e.set("payouts/"+tt.doc["payoutId"].(string), tt.doc)
	}
	files := e.archive(coach)
	for name, b := range files {
		if strings.Contains(string(b), operator) || strings.Contains(string(b), "alice-operator") {
			t.Errorf("archive file %s names the operator", name)
		}
	}
	var docs []ExportDoc
	if err := json.Unmarshal(files["data/payouts.coachId.json"], &docs); err != nil {
		t.Fatalf("data/payouts.coachId.json: %v", err)
	}
	byID := map[string]map[string]any{}
	for _, d := range docs {
		byID[d.ID] = d.Data
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := byID[tt.doc["payoutId"].(string)]
			if got == nil || got["coachId"] != coach || got["amount"] != float64(tt.doc["amount"].(int64)) {
				t.Fatalf("exported payout %v", got)
			}
			r, _ := got["release"].(map[string]any)
			if tt.wantBy == nil {
				if r != nil {
					t.Errorf("release %v, want none", r)
				}
				return
			}
			if r["by"] != tt.wantBy || r["attempt"] != float64(1) || r["amount"] != float64(8000) || r["failedReason"] != rel.FailedReason {
				t.Errorf("release %v, want by %v and the rest kept", r, tt.wantBy)
			}
		})
	}
}
