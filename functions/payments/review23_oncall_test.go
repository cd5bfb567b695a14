package payments

import (
	"net/http"
	"testing"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestReview23TransferConflictIsAnAlert: a transfer.* event naming a payout
// that records another transfer (a second transfer with the payout's
// metadata: money possibly sent twice) is, per the README, "logged at ERROR
// ... for a person to check". The root README's operators set up log-match
// alerts on the stable "alert" attribute the functions log "for what needs
// a person"; this line has none, so nobody is ever paged on it.
func TestReview23TransferConflictIsAnAlert(t *testing.T) {
	logs := testenv.CaptureLogs(t)
	h := newHarness(t)
	seedUnrecordedPayout(h, "po-x", model.PayoutProcessing, "tr_old", nil)
	code, body := h.deliver(event("evt_r23_conflict", "transfer.created", t0+300, objTransfer("tr_new", "po-x", 30000, 0)))
	if code != http.StatusOK || body["reason"] != ReasonTransferConflict {
		t.Fatalf("delivery: %d %v, want 200 %q", code, body, ReasonTransferConflict)
	}
	conflict := logs.Records("msg", "transfer event for a payout that records another transfer")
	if len(conflict) == 0 {
		t.Fatalf("no ERROR line about the conflicting transfer:\n%s", logs)
	}
	for _, rec := range conflict {
		if rec["alert"] == nil {
			t.Errorf("the conflicting-transfer ERROR line carries no alert attribute (nothing a log-match alert can page on): %v", rec)
		}
	}
}
