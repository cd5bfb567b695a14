package payouts

import (
	"testing"

	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
)

// TestForeignCurrencySaleReported: a sale in another currency than the
// books' is left to be booked by hand, as a payout in one is; it was
// closed with no count in the sync's report (which the job logs), so
// nobody heard of it. It is counted once, in the dry run too, and its
// event says why.
func TestForeignCurrencySaleReported(t *testing.T) {
	e := newEnv(t)
	e.svc.Settings.BookSales = true
	withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.program("p", []string{"c1"}, nil, nil)
	e.payment("eur", "p", 9900, "EUR", 2)
	e.run(RunRequest{})
	if rep := e.sync(SyncRequest{DryRun: true}); rep.SalesNotBooked[notBookedCurrency] != 1 {
		t.Errorf("dry run %+v, want the EUR sale counted", rep)
	}
	if rep := e.sync(SyncRequest{}); rep.SalesNotBooked[notBookedCurrency] != 1 || rep.SalesBooked != 0 {
		t.Errorf("sync %+v, want the EUR sale counted as left for manual booking", rep)
	}
	if ev := e.allocation("eur").Events; len(ev) == 0 || ev[0].SalesError == "" {
		t.Errorf("events %+v, want the reason recorded", ev)
	}
	if rep := e.sync(SyncRequest{}); len(rep.SalesNotBooked) != 0 {
		t.Errorf("next sync %+v: counted again", rep)
	}
}
