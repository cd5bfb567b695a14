package payouts

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/testenv"
)

// reverseWithID is reverseAt with Stripe's reversal id given: Stripe's
// ids are random, so two reversals made in the same second may sort by id
// in either order.
func (l *revLedger) reverseWithID(tr, id string, amount int64, at time.Time) *stripe.Transfer {
	l.ledger.reverse(tr, amount)
	l.rmu.Lock()
	l.revs[tr] = append(l.revs[tr], &stripe.TransferReversal{ID: id, Object: "transfer_reversal",
		Amount: amount, Created: at.Unix(), Currency: "sek", Transfer: &stripe.Transfer{ID: tr}})
	l.rmu.Unlock()
	got, _ := l.Get(context.Background(), tr)
	return got
}

// TestReview19ReversalPartlyCoveredByLumpNotLost: a voucher without a
// reversal id (booked before reversals were kept one by one, or by a sync
// without Stripe's listing) that covers a reversal only in part makes the
// sync book that reversal's rest under its id. Once that rest is booked,
// the part the lump covered must stay covered: it may not slide on to the
// next reversal, which would then be neither booked nor awaited
// (reversalPending cleared, money missing from 1580/2890).
func TestReview19ReversalPartlyCoveredByLumpNotLost(t *testing.T) {
	may30 := time.Date(2026, 5, 30, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		run  func(t *testing.T, e *env, l *revLedger, tr string)
		want int64 // reversed in all, each öre to be booked once
	}{
		{name: "booked before the change: the first of two reversals made in the same second",
			run: func(t *testing.T, e *env, l *revLedger, tr string) {
				e.svc.Transfers = l.ledger // before the change: no listing, events without lists
				e.clock.Set(may30)
				// Stripe makes trr_B first; the old event books 2 000.
				deliverTransferEvent(t, e, "evt_1", "transfer.reversed", l.reverseWithID(tr, "trr_B", 2000, may30))
				e.sync(SyncRequest{})
				// In the same second, trr_A (sorts first by id).
				last := l.reverseWithID(tr, "trr_A", 3000, may30)
				e.svc.Transfers = l // the change deployed
				e.clock.Set(may30.Add(time.Hour))
				deliverListed(t, e, "evt_2", "transfer.reversed", last)
			},
			want: 5000},
		{name: "synced without Stripe's listing: eleven reversals, then two more",
			run: func(t *testing.T, e *env, l *revLedger, tr string) {
				e.svc.Transfers = nil // STRIPE_SECRET_KEY unset in the syncing shell
				var last *stripe.Transfer
				for d := 1; d <= 11; d++ {
					last = l.reverseAt(tr, 100, time.Date(2026, 6, d, 9, 0, 0, 0, time.UTC))
				}
				e.clock.Set(time.Date(2026, 6, 11, 10, 0, 0, 0, time.UTC))
				deliverListed(t, e, "evt_11", "transfer.reversed", last)
				e.sync(SyncRequest{})
				e.clock.Set(time.Date(2026, 6, 12, 10, 0, 0, 0, time.UTC))
				deliverListed(t, e, "evt_12", "transfer.reversed", l.reverseAt(tr, 500, time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC)))
				e.sync(SyncRequest{})
				e.clock.Set(time.Date(2026, 6, 13, 10, 0, 0, 0, time.UTC))
				deliverListed(t, e, "evt_13", "transfer.reversed", l.reverseAt(tr, 100, time.Date(2026, 6, 13, 9, 0, 0, 0, time.UTC)))
				e.sync(SyncRequest{})
				e.svc.Transfers = l // Stripe configured again
			},
			want: 1700},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			l := newRevLedger()
			e.svc.Transfers = l.ledger
			s := withFortnox(t, e, fortnoxfake.Options{}, nil)
			id, tr := bookedPayout(t, e, true)
			tc.run(t, e, l, tr)
			e.clock.Add(24 * time.Hour)
			e.sync(SyncRequest{})
			e.sync(SyncRequest{})
			var vouchers int64
			for _, v := range reversalVouchers(t, s) {
				var d string
				var a int64
				_, _ = fmt.Sscanf(v, "%s %d", &d, &a)
				vouchers += a
			}
			if vouchers != tc.want {
				t.Errorf("reversal vouchers book %d in all (%q), want %d: Stripe took back %d of the transfer",
					vouchers, reversalVouchers(t, s), tc.want, tc.want)
			}
			p := e.reversalPayout(id)
			var booked int64
			for _, b := range p.ReversalBookings {
				booked += b.Amount
			}
			if booked != tc.want || p.ReversalPending || p.ReversedAmount() != tc.want {
				t.Errorf("payout: bookings %+v (%d in all), pending %v, reversed %d; want %d booked", p.ReversalBookings, booked,
					p.ReversalPending, p.ReversedAmount(), tc.want)
			}
			if amount, _ := l.paid(relAccount); amount != 8000-tc.want {
				t.Errorf("coach holds %d", amount)
			}
		})
	}
}

// slowStripe is a Stripe Connect whose Create runs onCreate (once) before
// it answers: what happens elsewhere while a transfer is in flight. A
// transfer exists (Find, Get) only once Create has answered.
type slowStripe struct {
	mu       sync.Mutex
	byPayout map[string]*stripe.Transfer
	creates  int
	onCreate func()
}

func (f *slowStripe) Create(_ context.Context, p *model.Payout, dest string) (*stripe.Transfer, error) {
	f.mu.Lock()
	f.creates++
	hook := f.onCreate
	f.onCreate = nil
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if tr, ok := f.byPayout[p.PayoutID]; ok { // the idempotency key
		c := *tr
		return &c, nil
	}
	tr := &stripe.Transfer{ID: "tr_19_" + fmt.Sprint(len(f.byPayout)+1), Amount: p.Amount, Currency: stripe.Currency(strings.ToLower(p.Currency)),
		Destination: &stripe.Account{ID: dest}, TransferGroup: p.PayoutID, Metadata: map[string]string{"payoutId": p.PayoutID}}
	f.byPayout[p.PayoutID] = tr
	c := *tr
	return &c, nil
}

func (f *slowStripe) Find(_ context.Context, payoutID string) (*stripe.Transfer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tr, ok := f.byPayout[payoutID]; ok {
		c := *tr
		return &c, nil
	}
	return nil, nil
}

func (f *slowStripe) Get(_ context.Context, id string) (*stripe.Transfer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tr := range f.byPayout {
		if tr.ID == id {
			c := *tr
			return &c, nil
		}
	}
	return nil, &stripe.Error{HTTPStatusCode: 404, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing}
}

// TestReview19ErasedCoachPayoutNotHeldWhileItsTransferIsInFlight: a run
// (B) is transferring a live coach's pending payout (transferStartedAt
// marked, Stripe's answer not back yet) when the coach is erased and
// another run (A: the admin's runPayouts, the weekly one) reaches the
// payout. Stripe has no transfer yet, but one is in flight: A must not
// hold the payout as "coach erased: nobody can receive this payout;
// settle it by hand". Otherwise the transfer B made lands on a payout
// that is failed for good (never completed, never booked in Fortnox: the
// 8 000 öre that left the Stripe balance are missing from 1580/2890), and
// the alert tells the operator to pay the coach by other means, although
// the coach was paid.
func TestReview19ErasedCoachPayoutNotHeldWhileItsTransferIsInFlight(t *testing.T) {
	e := newEnv(t)
	logs := testenv.CaptureLogs(t)
	fortnox := withFortnox(t, e, fortnoxfake.Options{}, nil)
	const coach = "coach19-inflight"
	ps := pseudonym.Of(testKey, coach)
	id := pid(coach, "SEK", "2026-05-04")
	e.coach(coach, "acct_19", true)
	review18Pending(e, id, coach, false)
	st := &slowStripe{byPayout: map[string]*stripe.Transfer{}}
	e.svc.Transfers = st

	var repA TransferReport
	st.onCreate = func() {
		// While B's transfer is in flight: the coach is erased
		// (functions/gdpr pseudonymisePayout), then run A reaches the
		// payout.
		hold := pseudonym.BookkeepingHoldUntil(t0)
		e.update("payouts/"+id, firestore.Update{Path: "coachId", Value: ps}, firestore.Update{Path: "pseudonymised", Value: true},
			firestore.Update{Path: "legalHoldUntil", Value: hold})
		var err error
		if repA, err = e.svc.ExecuteTransfers(e.ctx); err != nil {
			t.Errorf("run A: %v", err)
		}
	}
	repB, err := e.svc.ExecuteTransfers(e.ctx)
	if err != nil {
		t.Fatalf("run B: %v", err)
	}
	po := e.payout(id)
	if st.creates != 1 || po.ProcessorPayoutID == nil {
		t.Fatalf("setup: %d transfers created, payout %+v", st.creates, po)
	}
	if po.Status == model.PayoutFailed && strings.HasPrefix(po.Reason, "coach erased") {
		t.Errorf("payout held as %q (run A: %+v, run B: %+v) although transfer %s was in flight and stands: the coach was paid",
			po.Reason, repA, repB, *po.ProcessorPayoutID)
	}

	// Later: confirmed from its transfer and booked, as any payout whose
	// transfer reached the coach's account before the erasure.
	e.clock.Add(2 * time.Hour)
	e.sync(SyncRequest{})
	po = e.payout(id)
	if po.Status != model.PayoutCompleted || po.FortnoxReference == nil {
		t.Errorf("payout status %s reason %q, voucher %v: want completed and booked (its 8 000 öre left the Stripe balance, %d vouchers)",
			po.Status, po.Reason, po.FortnoxReference, len(fortnox.Vouchers(fortnox.Tenant())))
	}
	if a := logs.Records("alert", review18AlertErased); len(a) != 0 {
		t.Errorf("%d %q alerts asking to settle by hand a payout whose transfer stands: %v", len(a), review18AlertErased, a)
	}
}
