package payouts

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

// twinPayout writes a copy of payout id as another payout (same coach,
// reversals and sync mark; its own voucher another reference), awaiting
// the same reversal voucher 1, and returns its id.
func twinPayout(t *testing.T, e *env, id string) string {
	t.Helper()
	snap, err := e.fs.Doc("payouts/" + id).Get(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := snap.Data()
	twin := id + "_2"
	data["payoutId"] = twin
	data["fortnoxReference"] = "P/900/7"
	data["fortnoxVoucher"] = map[string]any{"series": "P", "number": 900, "year": 7}
	e.set("payouts/"+twin, data)
	return twin
}

// syncPosted posts the voucher the sync posts for marker (a reversal
// voucher of amount on date, under its marker) and returns its reference.
func syncPosted(t *testing.T, e *env, payoutID string, seq int, amount int64, date string) string {
	t.Helper()
	return postVoucher(t, e, e.svc.reversalVoucher(payoutID, seq, amount, date, "P"), reversalMarker(payoutID, seq))
}

// TestReview22SettleRefusesAnotherPayoutsReversalVoucher: a reversal
// voucher of another payout books the same accounts and, for an equal
// reversal, the same amount. SettleVoucher must refuse it (its doc: "or is
// the voucher of another booking"; the README: "a voucher that another
// booking of the payout or another payout records"), whether that payout
// recorded it through the sync, through an earlier settlement, or
// through a settlement running at the same time. Recording it books one
// Fortnox voucher for two payouts' reversals: the second reversal is
// never booked.
func TestReview22SettleRefusesAnotherPayoutsReversalVoucher(t *testing.T) {
	tests := []struct {
		name string
		// other records (or races to record) voucher for the twin payout
		// and returns it; settle then records it for the case's payout.
		other func(t *testing.T, sc *settleCase, twin string) string
		race  bool
	}{
		{name: "posted by the sync for the other payout", other: func(t *testing.T, sc *settleCase, twin string) string {
			v := syncPosted(t, sc.e, twin, 1, 3000, sc.handDate)
			p := sc.e.reversalPayout(twin)
			p.ReversalBookings[0].Reference = &v
			sc.e.update("payouts/"+twin, fsUpdate("reversalBookings", p.ReversalBookings)...)
			return v
		}},
		{name: "settled for the other payout before", other: func(t *testing.T, sc *settleCase, twin string) string {
			v := handBooked(t, sc.e, sc.handDate, sc.rows...)
			if _, err := sc.e.svc.SettleVoucher(sc.e.ctx, twin, sc.opts(v)); err != nil {
				t.Fatalf("settle the other payout: %v", err)
			}
			return v
		}},
		{name: "settled for both at the same time", race: true, other: func(t *testing.T, sc *settleCase, twin string) string {
			return handBooked(t, sc.e, sc.handDate, sc.rows...)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := lockedReversal(t)
			e := sc.e
			sc.heldBack(t)
			twin := twinPayout(t, e, sc.id)
			v := tc.other(t, sc, twin)
			ids := []string{sc.id}
			if tc.race {
				ids = append(ids, twin)
				// Both calls check everything, then meet in their
				// transactions (the first clock read) before either
				// commits.
				var arrived sync.WaitGroup
				arrived.Add(len(ids))
				var mu sync.Mutex
				waiting := len(ids)
				now := e.clock.Now
				e.svc.Now = func() time.Time {
					mu.Lock()
					first := waiting > 0
					if first {
						waiting--
					}
					mu.Unlock()
					if first {
						arrived.Done()
						arrived.Wait()
					}
					return now()
				}
			}
			errs := make([]error, len(ids))
			var wg sync.WaitGroup
			for i, id := range ids {
				wg.Go(func() { _, errs[i] = e.svc.SettleVoucher(e.ctx, id, sc.opts(v)) })
			}
			wg.Wait()
			recorded := 0
			for i, id := range ids {
				if errs[i] == nil {
					recorded++
				} else if fault.CodeOf(errs[i]) != fault.FailedPrecondition || !strings.Contains(errs[i].Error(), v) {
					t.Errorf("settle %s: %v, want FailedPrecondition naming %s", id, errs[i], v)
				}
			}
			var holders []string
			for _, id := range []string{sc.id, twin} {
				for _, b := range e.reversalPayout(id).ReversalBookings {
					if b.Reference != nil && *b.Reference == v {
						holders = append(holders, id)
					}
				}
			}
			if len(holders) != 1 {
				t.Errorf("voucher %s is recorded as the reversal voucher of %d payouts %q (%d settle calls succeeded), want one", v, len(holders), holders, recorded)
			}
		})
	}
}
