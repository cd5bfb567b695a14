package payouts

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
)

// deliverTransferEvent hands Stripe's transfer event typ (transfer.updated,
// transfer.reversed) for transfer tr, as the ledger holds it now, to the
// payments area's webhook processing, created at the env's clock.
func deliverTransferEvent(t *testing.T, e *env, evtID, typ string, tr *stripe.Transfer) {
	t.Helper()
	deliverTransferObject(t, e, evtID, typ, transferObject(tr))
}

// transferObject is transfer tr as a Stripe event carries it, without its
// reversals list.
func transferObject(tr *stripe.Transfer) map[string]any {
	return map[string]any{"id": tr.ID, "object": "transfer", "amount": tr.Amount,
		"amount_reversed": tr.AmountReversed, "reversed": tr.Reversed, "currency": string(tr.Currency),
		"destination": tr.Destination.ID, "transfer_group": tr.TransferGroup, "metadata": tr.Metadata}
}

// deliverTransferObject hands the event typ of transfer object obj to the
// payments area's webhook processing, created at the env's clock.
func deliverTransferObject(t *testing.T, e *env, evtID, typ string, obj map[string]any) {
	t.Helper()
	ps := &payments.Service{Firestore: e.fs, Now: e.clock.Now, PseudonymKey: testKey}
	raw, err := json.Marshal(map[string]any{
		"id": evtID, "object": "event", "api_version": stripe.APIVersion, "created": e.clock.Now().Unix(),
		"type": typ, "livemode": false, "data": map[string]any{"object": obj},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev stripe.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Process(e.ctx, &ev); err != nil {
		t.Fatalf("webhook %s: %v", evtID, err)
	}
}

// clearingByDate sums the clearing account (1580, debit − credit) of the
// fake's vouchers in series by transaction date.
func clearingByDate(s *fortnoxfake.Server, series string) map[string]int64 {
	out := map[string]int64{}
	for _, v := range s.Vouchers(s.Tenant()) {
		if v.Series != series {
			continue
		}
		for _, r := range v.Rows {
			if r.Account == 1580 {
				out[v.TransactionDate] += r.Debit - r.Credit
			}
		}
	}
	return out
}

// TestReview12PartlyReversedTransferBooked: a coach's transfer of 8 000
// öre is partly reversed on Stripe. The payout voucher books the transfer
// (2890 D / 1580 C 8 000, on the payout's date) and each reversal is a
// voucher of its own on the day it happened (1580 D / 2890 C), so that the
// clearing account follows Stripe's balance and the coach liability shows
// what did not reach the coach: whether the reversal is seen before the
// payout is booked (Confirm reads it from the transfer) or after (the
// transfer.reversed webhook), booked once however often the sync and the
// events repeat, and a second partial reversal is booked as its own
// voucher.
func TestReview12PartlyReversedTransferBooked(t *testing.T) {
	tests := []struct {
		name string
		// afterBooking: the reversals happen after the payout's voucher.
		afterBooking bool
	}{
		{name: "reversed before the payout is booked"},
		{name: "reversed after the payout is booked", afterBooking: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			l := newLedger()
			e.svc.Transfers = l
			s := withFortnox(t, e, fortnoxfake.Options{}, nil)
			e.program("p", []string{relCoach}, nil, nil)
			e.coach(relCoach, relAccount, true)
			e.payment("a", "p", 10000, "SEK", 3)
			e.run(RunRequest{}) // 2026-05-04: transfer of 8 000 made
			id := pid(relCoach, "SEK", relEnd)
			trID := *e.payout(id).ProcessorPayoutID
			reverse := func(evt string, amount int64) {
				t.Helper()
				l.reverse(trID, amount)
				tr, _ := l.Get(e.ctx, trID)
				deliverTransferEvent(t, e, evt, "transfer.reversed", tr)
				deliverTransferEvent(t, e, evt, "transfer.reversed", tr) // redelivered
			}
			if !tc.afterBooking {
				e.clock.Add(time.Hour)
				l.reverse(trID, 3000) // no webhook: Confirm reads it
			}
			e.clock.Add(2 * time.Hour)
			e.run(RunRequest{Scheduled: true}) // confirmed: completed
			if p := e.payout(id); p.Status != model.PayoutCompleted {
				t.Fatalf("payout %+v", p)
			}
			e.sync(SyncRequest{})
			want := map[string]int64{"2026-05-04": -8000 + 3000}
			if tc.afterBooking {
				e.clock.Set(time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC))
				reverse("evt_rev1", 3000)
				want = map[string]int64{"2026-05-04": -8000, "2026-05-12": 3000}
			}
			e.sync(SyncRequest{})
			e.sync(SyncRequest{})
			if got := clearingByDate(s, "P"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Stripe clearing (1580) booked by date %v, want %v (8 000 sent, 3 000 came back)", got, want)
			}

			// A second partial reversal, 1 000 on 2026-06-01 (an older
			// transfer.updated arriving late changes nothing).
			stale, _ := l.Get(e.ctx, trID)
			e.clock.Set(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
			reverse("evt_rev2", 1000)
			deliverTransferEvent(t, e, "evt_stale", "transfer.updated", stale)
			e.sync(SyncRequest{})
			e.sync(SyncRequest{})
			want["2026-06-01"] = 1000
			if got := clearingByDate(s, "P"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after a second reversal: 1580 by date %v, want %v", got, want)
			}
			var liability int64
			var descs []string
			for _, v := range s.Vouchers(s.Tenant()) {
				descs = append(descs, v.Description)
				for _, r := range v.Rows {
					if r.Account == 2890 {
						liability += r.Debit - r.Credit
					}
				}
			}
			sort.Strings(descs)
			if amount, _ := l.paid(relAccount); liability != amount || amount != 4000 {
				t.Errorf("coach liability settled by the payout vouchers %d, coach received %d: vouchers %q", liability, amount, descs)
			}
			for _, d := range descs {
				if !strings.Contains(d, id) {
					t.Errorf("voucher %q does not name the payout", d)
				}
			}
		})
	}
}

// TestReview12SaleRefundedInFullBeforeAllocationBooked: with the sales
// booking on, a sale paid on 30 December and refunded in full on 2
// January, before the first payout run of the new year, is booked as the
// sale on 30 December and the refund on 2 January (as a partial refund
// before allocation is); the coach is paid nothing, no payout is written,
// and reruns of the run and the sync book nothing twice.
func TestReview12SaleRefundedInFullBeforeAllocationBooked(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(time.Date(2027, 1, 4, 4, 0, 0, 0, time.UTC)) // Monday
	e.svc.Settings.BookSales = true
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.program("p", []string{"c1", "c2"}, nil, nil)
	paid := time.Date(2026, 12, 30, 12, 0, 0, 0, time.UTC)
	refunded := time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)
	prog := "p"
	e.set("payments/x", model.Payment{PaymentID: "x", UserID: "u", Amount: 10000, Currency: "SEK", PaymentDate: paid,
		Status: model.PaymentRefunded, Processor: "stripe", ProcessorPaymentID: "pi_x", ProgramID: &prog,
		RefundDetails: &model.RefundDetails{AmountRefunded: 10000, Refunds: []model.Refund{{RefundID: "re_1", Amount: 10000, Status: "succeeded", CreatedAt: refunded}}},
		CreatedAt:     paid, UpdatedAt: refunded})
	for range 2 {
		e.run(RunRequest{})
		if rep := e.sync(SyncRequest{}); rep.SalesFailed != 0 {
			t.Fatalf("sync %+v", rep)
		}
	}
	e.run(RunRequest{PeriodEnd: "2027-01-04"})
	e.sync(SyncRequest{})
	want := map[string]int64{"2026-12-30": 10000, "2027-01-02": -10000}
	if got := clearingByDate(s, "A"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Stripe clearing (1580) booked by date %v, want %v (the sale in 2026, its refund in 2027)", got, want)
	}
	if n := len(s.Vouchers(s.Tenant())); n != 2 {
		t.Errorf("%d vouchers, want 2", n)
	}
	if ps := e.payouts(); len(ps) != 0 {
		t.Errorf("payouts written for a sale refunded in full: %+v", ps)
	}
	for _, c := range []string{"c1", "c2"} {
		if b := e.carry(c, "SEK"); b != 0 {
			t.Errorf("coach %s carries %d", c, b)
		}
	}
	if a := e.allocation("x"); a.Net != 0 || a.HasOpen || len(a.Entries) != 0 || a.SalesPending || len(a.Events) != 2 {
		t.Errorf("allocation %+v", a)
	}
	if p := e.paymentPayoutID("x"); p != "" {
		t.Errorf("payment names payout %q", p)
	}
}

// TestReview12RefundAfterAllocationBookedWhenItHappened: with the sales
// booking on, a sale allocated (and booked) in December and partly
// refunded on 30 December is booked as a refund of 30 December even when
// the next payout run sees it only on 4 January: Stripe's balance gave the
// money back in December, and the refund must fall in that financial year
// and VAT period, as a refund seen before the allocation does.
func TestReview12RefundAfterAllocationBookedWhenItHappened(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(time.Date(2026, 12, 21, 4, 0, 0, 0, time.UTC)) // Monday
	e.svc.Settings.BookSales = true
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.program("p", []string{"c1"}, nil, nil)
	paid := time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC)
	refunded := time.Date(2026, 12, 30, 9, 0, 0, 0, time.UTC)
	prog := "p"
	e.set("payments/x", model.Payment{PaymentID: "x", UserID: "u", Amount: 10000, Currency: "SEK", PaymentDate: paid,
		Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: "pi_x", ProgramID: &prog,
		CreatedAt: paid, UpdatedAt: paid})
	e.run(RunRequest{})
	e.sync(SyncRequest{})
	e.update("payments/x", fsUpdate("status", string(model.PaymentPartiallyRefunded))...)
	e.update("payments/x", fsUpdate("refundDetails", model.RefundDetails{AmountRefunded: 4000,
		Refunds: []model.Refund{{RefundID: "re_1", Amount: 4000, Status: "succeeded", CreatedAt: refunded}}})...)
	e.update("payments/x", fsUpdate("updatedAt", refunded)...)
	e.clock.Set(time.Date(2027, 1, 4, 4, 0, 0, 0, time.UTC))
	e.run(RunRequest{})
	if rep := e.sync(SyncRequest{}); rep.SalesFailed != 0 || rep.SalesBooked != 1 {
		t.Fatalf("sync %+v", rep)
	}
	want := map[string]int64{"2026-12-18": 10000, "2026-12-30": -4000}
	if got := clearingByDate(s, "A"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Stripe clearing (1580) booked by date %v, want %v (the refund on the day it happened)", got, want)
	}
}
