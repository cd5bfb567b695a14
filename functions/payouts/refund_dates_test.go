package payouts

// Refunds booked on their own dates (found by an authorised accountant's
// review): every business event on its own date (BFL 5 kap. 1–2 §§), so a
// refund is in its own financial year and VAT period, however the payout
// runs fall.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
)

// acctBalances sums debit − credit per (account, date) over the fake's
// vouchers of a series ("" = all series).
func acctBalances(s *fortnoxfake.Server, series string, account int) map[string]int64 {
	out := map[string]int64{}
	for _, v := range s.Vouchers(s.Tenant()) {
		if series != "" && v.Series != series {
			continue
		}
		for _, r := range v.Rows {
			if r.Account == account {
				out[v.TransactionDate] += r.Debit - r.Credit
			}
		}
	}
	return out
}

func sortedDates(m map[string]int64) string {
	var ks []string
	for k, v := range m {
		if v != 0 {
			ks = append(ks, fmt.Sprintf("%s:%d", k, v))
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// decemberSale writes program p (coach c1) and its sale x of 1 000 kr,
// paid on 18 December 2026.
func (e *env) decemberSale() {
	e.t.Helper()
	e.program("p", []string{"c1"}, nil, nil)
	paid := time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC)
	e.payment("x", "p", 100000, "SEK", 0, func(p *model.Payment) { p.PaymentDate, p.CreatedAt, p.UpdatedAt = paid, paid, paid })
}

// TestRefundsOnEitherSideOfYearEndBookedEachOnItsDay: two refunds of one
// sale on either side of the year end, seen by one payout run, were booked
// as one voucher dated the later refund, the December refund in the next
// financial year and VAT period. Each is its own voucher on its own day,
// as the transfer reversals are.
func TestRefundsOnEitherSideOfYearEndBookedEachOnItsDay(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(time.Date(2026, 12, 21, 4, 0, 0, 0, time.UTC)) // Monday
	e.svc.Settings.BookSales = true
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.decemberSale()
	e.run(RunRequest{})
	e.sync(SyncRequest{})

	r1 := time.Date(2026, 12, 30, 9, 0, 0, 0, time.UTC)
	r2 := time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)
	e.update("payments/x",
		fsUpdate("status", string(model.PaymentPartiallyRefunded))[0],
		fsUpdate("refundDetails", model.RefundDetails{AmountRefunded: 50000, Refunds: []model.Refund{
			{RefundID: "re_1", Amount: 30000, Status: "succeeded", CreatedAt: r1},
			{RefundID: "re_2", Amount: 20000, Status: "succeeded", CreatedAt: r2}}})[0],
		fsUpdate("updatedAt", r2)[0])
	e.clock.Set(time.Date(2027, 1, 4, 4, 0, 0, 0, time.UTC)) // next Monday
	e.run(RunRequest{})
	if rep := e.sync(SyncRequest{}); rep.SalesFailed != 0 {
		t.Fatalf("sync %+v", rep)
	}
	want := "2026-12-18:100000 2026-12-30:-30000 2027-01-02:-20000"
	if got := sortedDates(acctBalances(s, "A", 1580)); got != want {
		t.Errorf("1580 by date: %s\n want %s\n(the 300 kr refund of 30 Dec 2026 is booked in financial year 2027)", got, want)
	}
}

// TestLateRecordedRefundKeepsItsDate: a refund made before the payout run
// that allocated the sale, but recorded by the webhook after it (Stripe
// retries for days; the daily replay), was dated the day a later run saw
// it, 11 January 2027 for a refund of 27 December 2026. It keeps its own
// date.
func TestLateRecordedRefundKeepsItsDate(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(time.Date(2026, 12, 28, 4, 0, 0, 0, time.UTC)) // Monday
	e.svc.Settings.BookSales = true
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.decemberSale()
	e.run(RunRequest{}) // allocates at 28 Dec 04:00; the refund of 27 Dec 23:00 is not recorded yet
	e.sync(SyncRequest{})
	refunded := time.Date(2026, 12, 27, 22, 0, 0, 0, time.UTC)
	e.clock.Set(time.Date(2026, 12, 28, 10, 0, 0, 0, time.UTC)) // the webhook's retry arrives
	e.update("payments/x",
		fsUpdate("status", string(model.PaymentPartiallyRefunded))[0],
		fsUpdate("refundDetails", model.RefundDetails{AmountRefunded: 40000, Refunds: []model.Refund{
			{RefundID: "re_1", Amount: 40000, Status: "succeeded", CreatedAt: refunded}}})[0],
		fsUpdate("updatedAt", e.clock.Now())[0])
	e.clock.Set(time.Date(2027, 1, 11, 4, 0, 0, 0, time.UTC))
	e.run(RunRequest{})
	e.sync(SyncRequest{})
	want := "2026-12-18:100000 2026-12-27:-40000"
	if got := sortedDates(acctBalances(s, "A", 1580)); got != want {
		t.Errorf("1580 by date: %s\n want %s\n(a refund Stripe made on 27 Dec 2026 booked on the day a run saw it)", got, want)
	}
}
