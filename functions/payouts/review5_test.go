package payouts

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
)

// TestReview5RefundBeforeAllocationBookedOnSaleDate: with the sales
// booking on, a sale paid on 30 December and partly refunded on 2 January
// (before the first payout run of the new year allocates it) is booked as
// ONE voucher dated 30 December for the net after the January refund. The
// Stripe balance (1580) really took the full 10 000 in December and gave
// 4 000 back in January: the closed year's books understate the clearing
// account, the coach liability, the commission and the output VAT of
// December, and January carries no refund at all (cut-off across the
// financial year and the VAT period).
func TestReview5RefundBeforeAllocationBookedOnSaleDate(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(time.Date(2027, 1, 4, 4, 0, 0, 0, time.UTC)) // Monday
	e.svc.Settings.BookSales = true
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.program("p", []string{"c1"}, nil, nil)
	paid := time.Date(2026, 12, 30, 12, 0, 0, 0, time.UTC)
	refunded := time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)
	prog := "p"
	e.set("payments/x", model.Payment{PaymentID: "x", UserID: "u", Amount: 10000, Currency: "SEK", PaymentDate: paid,
		Status: model.PaymentPartiallyRefunded, Processor: "stripe", ProcessorPaymentID: "pi_x", ProgramID: &prog,
		RefundDetails: &model.RefundDetails{AmountRefunded: 4000, Refunds: []model.Refund{{RefundID: "re_1", Amount: 4000, Status: "succeeded", CreatedAt: refunded}}},
		CreatedAt:     paid, UpdatedAt: refunded})
	e.run(RunRequest{})
	if rep := e.sync(SyncRequest{}); rep.SalesFailed != 0 {
		t.Fatalf("sync %+v", rep)
	}
	clearing := map[string]int64{} // year → 1580 debit − credit
	for _, v := range s.Vouchers(s.Tenant()) {
		if v.Series != "A" {
			continue
		}
		for _, r := range v.Rows {
			if r.Account == 1580 {
				clearing[v.TransactionDate[:4]] += r.Debit - r.Credit
			}
		}
	}
	if clearing["2026"] != 10000 || clearing["2027"] != -4000 {
		t.Errorf("Stripe clearing booked per year %v, want 2026: 10000 (the sale), 2027: -4000 (the refund)", clearing)
	}
}
