package payments

import (
	"fmt"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// objReversedTransfer is transfer tr_x of payout po-x (30 000 öre) with
// amountReversed and, unless listed is nil, its embedded reversals list
// (id → amount, created).
func objReversedTransfer(amountReversed int64, listed []map[string]any) map[string]any {
	o := objTransfer("tr_x", "po-x", 30000, amountReversed)
	if listed != nil {
		o["reversals"] = map[string]any{"object": "list", "data": listed, "has_more": false, "url": "/v1/transfers/tr_x/reversals"}
	}
	return o
}

func objReversal(id string, amount, created int64) map[string]any {
	return map[string]any{"id": id, "object": "transfer_reversal", "amount": amount, "created": created,
		"currency": "sek", "transfer": "tr_x"}
}

// TestReview18TransferReversalsRecordedOneByOne: the transfer.* webhook
// records each partial reversal of the payout's transfer by its id
// (payouts.transferReversals[trr_…] {amount, at: when Stripe made it}), so
// that the Fortnox sync books each on its own day, and keeps the
// cumulative transferReversal: whatever order the events come in, however
// often, and also after an event without the list (the earlier
// fixtures'); a stale event lowers and removes nothing.
func TestReview18TransferReversalsRecordedOneByOne(t *testing.T) {
	t1, t2 := t0+3*86400, t0+5*86400
	first := event("evt_first", "transfer.reversed", t1+60, objReversedTransfer(3000, []map[string]any{objReversal("trr_1", 3000, t1)}))
	firstAgain := event("evt_first_b", "transfer.updated", t1+120, objReversedTransfer(3000, []map[string]any{objReversal("trr_1", 3000, t1)}))
	second := event("evt_second", "transfer.reversed", t2+60,
		objReversedTransfer(4000, []map[string]any{objReversal("trr_2", 1000, t2), objReversal("trr_1", 3000, t1)}))
	unlisted := event("evt_unlisted", "transfer.updated", t2+90, objReversedTransfer(4000, nil))
	want := map[string]model.TransferReversal{
		"trr_1": {Amount: 3000, At: time.Unix(t1, 0).UTC()},
		"trr_2": {Amount: 1000, At: time.Unix(t2, 0).UTC()},
	}
	tests := []struct {
		name   string
		events [][]byte
		wantAt int64 // transferReversal.at
	}{
		{"in order", [][]byte{first, second}, t2},
		{"the later first, the earlier late", [][]byte{second, first}, t2},
		{"repeated and redelivered", [][]byte{first, firstAgain, second, first, second, firstAgain}, t2},
		{"after an event without the list", [][]byte{first, unlisted, second}, t2 + 90},
		{"before an event without the list", [][]byte{second, unlisted, first}, t2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			at := time.Unix(t0, 0).UTC()
			seedUnrecordedPayout(h, "po-x", model.PayoutCompleted, "tr_x", &at)
			for _, ev := range tc.events {
				h.mustDeliver(ev)
			}
			var p model.Payout
			if !h.get("payouts/po-x", &p) {
				t.Fatal("payout missing")
			}
			if fmt.Sprint(p.TransferReversals) != fmt.Sprint(want) {
				t.Errorf("transferReversals %v, want %v", p.TransferReversals, want)
			}
			if p.TransferReversal == nil || p.TransferReversal.Amount != 4000 || !p.TransferReversal.At.Equal(time.Unix(tc.wantAt, 0)) {
				t.Errorf("transferReversal %+v, want 4000 at %v", p.TransferReversal, time.Unix(tc.wantAt, 0).UTC())
			}
			if !p.ReversalPending || p.Status != model.PayoutCompleted || p.ReversalsKnown() != p.ReversedAmount() {
				t.Errorf("payout: pending %v, status %s, known %d of %d", p.ReversalPending, p.Status, p.ReversalsKnown(), p.ReversedAmount())
			}
		})
	}
}
