package payments

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// TestTransferEventRecordsTransferID: a transfer.* webhook on a payout
// without processorPayoutId (the payouts run lost Stripe's answer) records
// the transfer's id, also when the status it brings is older than the
// stored one; an id already recorded is never overwritten, and a transfer
// that is not the payout's recorded one changes nothing (ignored with
// ReasonTransferConflict). Bank payouts (payout.*) never record their id.
func TestTransferEventRecordsTransferID(t *testing.T) {
	later := time.Unix(t0+90000, 0).UTC()
	cases := []struct {
		name       string
		status     model.PayoutStatus // stored
		recorded   string             // stored processorPayoutId ("" = none)
		sourceAt   *time.Time         // stored sourceUpdated
		typ        string
		obj        map[string]any
		wantResult string
		wantReason string
		want       model.PayoutStatus
		wantPayout string // processorPayoutId afterwards ("" = none)
		wantWhy    string // the payout's reason afterwards
	}{
		{name: "created on a pending payout without id", status: model.PayoutPending,
			typ: "transfer.created", obj: objTransfer("tr_new", "po-x", 30000, 0),
			wantResult: StatusProcessed, want: model.PayoutProcessing, wantPayout: "tr_new"},
		{name: "created after the payout was paid", status: model.PayoutCompleted, sourceAt: &later,
			typ: "transfer.created", obj: objTransfer("tr_new", "po-x", 30000, 0),
			wantResult: StatusProcessed, wantReason: "older than the stored state; transfer id recorded",
			want: model.PayoutCompleted, wantPayout: "tr_new"},
		{name: "reversed on a payout without id", status: model.PayoutProcessing,
			typ: "transfer.reversed", obj: objTransfer("tr_new", "po-x", 30000, 30000),
			wantResult: StatusProcessed, want: model.PayoutFailed, wantPayout: "tr_new", wantWhy: "transfer_reversed"},
		{name: "same transfer as recorded", status: model.PayoutPending, recorded: "tr_new",
			typ: "transfer.updated", obj: objTransfer("tr_new", "po-x", 30000, 0),
			wantResult: StatusProcessed, want: model.PayoutProcessing, wantPayout: "tr_new"},
		{name: "another transfer than recorded", status: model.PayoutProcessing, recorded: "tr_old",
			typ: "transfer.created", obj: objTransfer("tr_new", "po-x", 30000, 0),
			wantResult: StatusIgnored, wantReason: ReasonTransferConflict, want: model.PayoutProcessing, wantPayout: "tr_old"},
		{name: "reversal of another transfer than recorded", status: model.PayoutProcessing, recorded: "tr_old",
			typ: "transfer.reversed", obj: objTransfer("tr_new", "po-x", 30000, 30000),
			wantResult: StatusIgnored, wantReason: ReasonTransferConflict, want: model.PayoutProcessing, wantPayout: "tr_old"},
		{name: "bank payout id is not recorded", status: model.PayoutProcessing,
			typ: "payout.paid", obj: objPayout("po_bank", "po-x", "paid", ""),
			wantResult: StatusProcessed, want: model.PayoutCompleted},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			seedUnrecordedPayout(h, "po-x", c.status, c.recorded, c.sourceAt)
			code, body := h.deliver(event(fmt.Sprintf("evt_rec_%d", i), c.typ, t0+300, c.obj))
			if code != http.StatusOK || body["status"] != c.wantResult || body["reason"] != c.wantReason {
				t.Fatalf("delivery: %d %v, want %s %q", code, body, c.wantResult, c.wantReason)
			}
			var p model.Payout
			if !h.get("payouts/po-x", &p) {
				t.Fatal("payout missing")
			}
			got := ""
			if p.ProcessorPayoutID != nil {
				got = *p.ProcessorPayoutID
			}
			if p.Status != c.want || got != c.wantPayout || p.Reason != c.wantWhy {
				t.Errorf("payout status %s processorPayoutId %q reason %q, want %s %q %q",
					p.Status, got, p.Reason, c.want, c.wantPayout, c.wantWhy)
			}
		})
	}
}

// seedUnrecordedPayout writes payout id (300.00 SEK, Stripe Connect) in
// status, with processorPayoutId recorded ("" = none) and sourceUpdated
// sourceAt (nil = none).
func seedUnrecordedPayout(h *harness, id string, status model.PayoutStatus, recorded string, sourceAt *time.Time) {
	h.t.Helper()
	started := time.Unix(t0, 0).UTC()
	p := model.Payout{PayoutID: id, CoachID: "coach-1", Amount: 30000, Currency: "SEK", Status: status,
		Processor: "stripe_connect", TransferStartedAt: &started, SourceUpdated: sourceAt,
		PayoutDate: started, CreatedAt: started, UpdatedAt: started}
	if recorded != "" {
		p.ProcessorPayoutID = &recorded
	}
	h.set("payouts/"+id, p)
}
