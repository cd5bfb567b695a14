package payouts

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
)

// want is an expected payout.
type want struct {
	amount, gross, commission, carriedIn, carriedOut int64
	payments                                         int
	status                                           model.PayoutStatus
}

func checkPayouts(t *testing.T, e *env, wants map[string]want) {
	t.Helper()
	got := map[string]model.Payout{}
	for _, p := range e.payouts() {
		got[p.PayoutID] = p
	}
	for id, w := range wants {
		p, ok := got[id]
		if !ok {
			t.Errorf("payout %s missing (have %v)", id, keys(got))
			continue
		}
		if w.status == "" {
			w.status = model.PayoutPending
		}
		g := want{p.Amount, p.Gross, p.Commission, p.CarriedIn, p.CarriedOut, len(p.RelatedPaymentIDs), p.Status}
		if g != w {
			t.Errorf("payout %s = %+v, want %+v", id, g, w)
		}
		if p.Processor != ProcessorStripeConnect || p.CalculationPeriod == nil || p.ProcessorPayoutID != nil || p.FortnoxReference != nil {
			t.Errorf("payout %s: spec fields %+v", id, p)
		}
	}
	for id := range got {
		if _, ok := wants[id]; !ok {
			t.Errorf("unexpected payout %s: %+v", id, got[id])
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPayoutCalculation: a table of payments, refunds and disputes → payouts.
func TestPayoutCalculation(t *testing.T) {
	sek, eur := pid("c1", "SEK", "2026-05-04"), pid("c1", "EUR", "2026-05-04")
	tests := []struct {
		name    string
		setup   func(e *env)
		want    map[string]want
		held    int
		skipped map[string]int
	}{
		{"one coach, default 20 % commission, half-up rounding", func(e *env) {
			e.program("p1", []string{"c1"}, nil, nil)
			e.payment("a", "p1", 10000, "SEK", 3)
			e.payment("b", "p1", 4999, "SEK", 1) // commission 999.8 → 1000
		}, map[string]want{sek: {amount: 11999, gross: 14999, commission: 3000, payments: 2}}, 0, nil},

		{"three coaches, equal split, largest remainder", func(e *env) {
			e.program("p3", []string{"c3", "c1", "c2"}, nil, nil)
			e.payment("a", "p3", 10000, "SEK", 2)
		}, map[string]want{
			sek:                            {amount: 2667, gross: 3334, commission: 667, payments: 1},
			pid("c2", "SEK", "2026-05-04"): {amount: 2667, gross: 3333, commission: 666, payments: 1},
			pid("c3", "SEK", "2026-05-04"): {amount: 2666, gross: 3333, commission: 667, payments: 1},
		}, 0, nil},

		{"coachSplits 70/30 and a 10 % commission override", func(e *env) {
			e.program("p2", []string{"c1", "c2"}, map[string]int{"c1": 7000, "c2": 3000}, intp(1000))
			e.payment("a", "p2", 12345, "SEK", 2) // commission 1234.5 → 1235
		}, map[string]want{
			sek:                            {amount: 7777, gross: 8642, commission: 865, payments: 1},
			pid("c2", "SEK", "2026-05-04"): {amount: 3333, gross: 3703, commission: 370, payments: 1},
		}, 0, nil},

		{"refunds, disputes, statuses and dates", func(e *env) {
			e.program("p1", []string{"c1"}, nil, nil)
			e.payment("a", "p1", 10000, "SEK", 5, func(p *model.Payment) {
				p.Status, p.RefundDetails = model.PaymentPartiallyRefunded, &model.RefundDetails{AmountRefunded: 2500}
			})
			e.payment("b", "p1", 10000, "SEK", 5, func(p *model.Payment) {
				p.Status, p.RefundDetails = model.PaymentRefunded, &model.RefundDetails{AmountRefunded: 10000}
			})
			e.payment("c", "p1", 10000, "SEK", 5, func(p *model.Payment) { p.Dispute = &model.Dispute{Amount: 10000, Open: true} })
			e.payment("d", "p1", 10000, "SEK", 5, func(p *model.Payment) { p.Dispute = &model.Dispute{Amount: 10000, Lost: true} })
			e.payment("e", "p1", 10000, "SEK", 5, func(p *model.Payment) { p.Status = model.PaymentPending })
			e.payment("f", "p1", 10000, "SEK", 0) // after the period's end
			e.payment("g", "", 10000, "SEK", 5)   // no program
			e.payment("h", "p1", 5000, "SEK", 20)
		}, map[string]want{sek: {amount: 10000, gross: 12500, commission: 2500, payments: 2}}, 1, map[string]int{skipNoProgram: 1}},

		{"one payout per currency", func(e *env) {
			e.program("p1", []string{"c1"}, nil, nil)
			e.payment("a", "p1", 10000, "SEK", 3)
			e.payment("b", "p1", 2000, "EUR", 3)
			e.payment("c", "p1", 3000, "eur", 2) // Stripe's lower case
		}, map[string]want{
			sek: {amount: 8000, gross: 10000, commission: 2000, payments: 1},
			eur: {amount: 4000, gross: 5000, commission: 1000, payments: 2},
		}, 0, nil},

		{"a carried-forward balance absorbs earnings in its currency only", func(e *env) {
			e.program("p1", []string{"c1"}, nil, nil)
			e.set("users/c1/private/payouts", model.CoachPayoutState{CoachID: "c1", CarryForward: map[string]int64{"SEK": -3000}})
			e.payment("a", "p1", 2000, "SEK", 3)
			e.payment("b", "p1", 1000, "EUR", 3)
		}, map[string]want{
			sek: {amount: 0, gross: 2000, commission: 400, carriedIn: -3000, carriedOut: -1400, payments: 1, status: model.PayoutCompleted},
			eur: {amount: 800, gross: 1000, commission: 200, payments: 1},
		}, 0, nil},

		{"unpayable programs are reported, not paid", func(e *env) {
			e.program("bad", []string{"c1", "c2"}, map[string]int{"c1": 6000, "c2": 3000}, nil)
			e.program("badfee", []string{"c1"}, nil, intp(-5))
			e.payment("a", "bad", 10000, "SEK", 3)
			e.payment("b", "ghost", 10000, "SEK", 3)
			e.payment("c", "badfee", 10000, "SEK", 3)
		}, map[string]want{}, 0, map[string]int{skipBadSplit: 1, skipProgramMissing: 1, skipBadCommission: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.setup(e)
			rep := e.run(RunRequest{})
			checkPayouts(t, e, tt.want)
			if rep.Held != tt.held {
				t.Errorf("held %d, want %d", rep.Held, tt.held)
			}
			for r, n := range tt.skipped {
				if rep.Skipped[r] != n {
					t.Errorf("skipped[%s] = %d, want %d (%v)", r, rep.Skipped[r], n, rep.Skipped)
				}
			}
			if len(rep.Payouts) != len(tt.want) {
				t.Errorf("report lists %d payouts, want %d", len(rep.Payouts), len(tt.want))
			}
			// A rerun of the same period pays nothing more.
			rep = e.run(RunRequest{})
			if len(rep.Payouts) != 0 {
				t.Errorf("rerun wrote %+v", rep.Payouts)
			}
			checkPayouts(t, e, tt.want)
		})
	}
}

// TestRefundsAfterPayout: refunds and lost disputes of paid-out payments
// reduce the next payouts of every coach of the payment, through the frozen
// split, and a negative balance is carried forward until earnings cover it.
func TestRefundsAfterPayout(t *testing.T) {
	e := newEnv(t)
	e.program("p1", []string{"c1"}, nil, nil)
	e.program("p2", []string{"c1", "c2"}, map[string]int{"c1": 7000, "c2": 3000}, nil)
	e.payment("a", "p1", 10000, "SEK", 3)
	e.payment("b", "p2", 10000, "SEK", 3)
	e.run(RunRequest{})
	checkPayouts(t, e, map[string]want{
		pid("c1", "SEK", "2026-05-04"): {amount: 8000 + 5600, gross: 17000, commission: 3400, payments: 2},
		pid("c2", "SEK", "2026-05-04"): {amount: 2400, gross: 3000, commission: 600, payments: 1},
	})

	// Period 2: a is refunded in full, b in part; b's program changes its
	// split (which must not move money already allocated); c1 earns 5000.
	e.clock.Set(t0.AddDate(0, 0, 14))
	e.refund("a", 10000, true)
	e.refund("b", 5000, false)
	e.program("p2", []string{"c1", "c2"}, map[string]int{"c1": 1000, "c2": 9000}, nil)
	e.payment("c", "p1", 5000, "SEK", -13)
	e.run(RunRequest{})
	// c1: c +4000, a −8000, b 7000→... net 10000→5000: pool 8000→4000, c1 70 % → −2800.
	checkPayouts(t, e, map[string]want{
		pid("c1", "SEK", "2026-05-04"): {amount: 13600, gross: 17000, commission: 3400, payments: 2},
		pid("c2", "SEK", "2026-05-04"): {amount: 2400, gross: 3000, commission: 600, payments: 1},
		pid("c1", "SEK", "2026-05-18"): {amount: 0, gross: 5000 - 10000 - 3500, commission: 1000 - 2000 - 700, carriedOut: 4000 - 8000 - 2800,
			payments: 3, status: model.PayoutCompleted},
		pid("c2", "SEK", "2026-05-18"): {amount: 0, gross: -1500, commission: -300, carriedOut: -1200, payments: 1, status: model.PayoutCompleted},
	})
	if c := e.carry("c1", "SEK"); c != -6800 {
		t.Errorf("c1 carry %d, want -6800", c)
	}

	// Period 3: a lost dispute on c (5000 → 0) and new earnings of 12500.
	e.clock.Set(t0.AddDate(0, 0, 28))
	e.update("payments/c", firestore.Update{Path: "dispute", Value: model.Dispute{Amount: 5000, Lost: true}},
		firestore.Update{Path: "updatedAt", Value: e.clock.Now()})
	e.payment("d", "p1", 12500, "SEK", -27)
	e.payment("e", "p2", 1000, "SEK", -27) // new split applies to new payments: c1 10 %, c2 90 %
	e.run(RunRequest{})
	// c1: d +10000, e +80, c −4000, carry −6800 → −720 carried.
	p := e.payout(pid("c1", "SEK", "2026-06-01"))
	if p.Amount != 0 || p.CarriedIn != -6800 || p.CarriedOut != -720 {
		t.Errorf("period 3 c1: %+v", p)
	}
	// c2: e +720, carry −1200 → −480.
	p = e.payout(pid("c2", "SEK", "2026-06-01"))
	if p.Amount != 0 || p.CarriedIn != -1200 || p.CarriedOut != -480 {
		t.Errorf("period 3 c2: %+v", p)
	}

	// Every allocation sums exactly and every entry was taken once.
	snaps, err := e.fs.Collection(model.ColPayoutAllocations).Documents(e.ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		var a model.PayoutAllocation
		if err := s.DataTo(&a); err != nil {
			t.Fatal(err)
		}
		var g, amt int64
		for _, en := range a.Entries {
			g += en.Gross
			amt += en.Amount
			if en.PayoutID == "" {
				t.Errorf("allocation %s: entry %+v not taken", a.PaymentID, en)
			}
		}
		if g != a.Net || amt != a.Net-Commission(a.Net, a.CommissionBps) || len(a.Open) != 0 {
			t.Errorf("allocation %s does not sum: %+v", a.PaymentID, a)
		}
	}
}

// TestRunsTwiceAndConcurrently: the job run twice, concurrently, with
// different period ends and a dry run beside them, pays every payment
// exactly once.
func TestRunsTwiceAndConcurrently(t *testing.T) {
	e := newEnv(t)
	e.program("solo", []string{"c1"}, nil, nil)
	e.program("duo", []string{"c1", "c2"}, nil, nil)
	e.program("trio", []string{"c1", "c2", "c3"}, map[string]int{"c1": 5000, "c2": 2500, "c3": 2500}, intp(1500))
	progs := []string{"solo", "duo", "trio"}
	var wantTotal = map[string]int64{}
	w := map[string]map[string]int64{
		"solo": {"c1": 1}, "duo": {"c1": 1, "c2": 1}, "trio": {"c1": 5000, "c2": 2500, "c3": 2500},
	}
	bw := e.fs.BulkWriter(e.ctx)
	for i := 0; i < 90; i++ {
		prog := progs[i%3]
		amount := int64(1000 + 37*i)
		cur := "SEK"
		if i%5 == 0 {
			cur = "EUR"
		}
		id := fmt.Sprintf("pay%03d", i)
		at := t0.AddDate(0, 0, -1-i%10)
		pr := prog
		if _, err := bw.Set(e.fs.Doc("payments/"+id), model.Payment{PaymentID: id, Amount: amount, Currency: cur, PaymentDate: at,
			Status: model.PaymentSucceeded, ProgramID: &pr, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		bps := 2000
		if prog == "trio" {
			bps = 1500
		}
		for c, v := range shares(amount, bps, w[prog]) {
			wantTotal[c+"/"+cur] += v.amount
		}
	}
	bw.End()
	e.svc.Settings.MaxPaymentsPerPayout = 25 // several payouts per coach: exercises the suffixes

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i, req := range []RunRequest{{}, {}, {PeriodEnd: "2026-05-04"}, {DryRun: true}, {}, {PeriodEnd: "2026-05-03"}} {
		wg.Go(func() {
			if _, err := e.svc.Run(e.ctx, req); err != nil {
				errs <- fmt.Errorf("run %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	e.run(RunRequest{}) // and once more afterwards

	got := map[string]int64{}
	paid := map[string]int{}
	for _, p := range e.payouts() {
		got[p.CoachID+"/"+p.Currency] += p.Amount
		for _, id := range p.RelatedPaymentIDs {
			paid[id+"/"+p.CoachID]++
		}
	}
	for k, v := range wantTotal {
		if got[k] != v {
			t.Errorf("%s paid %d, want %d", k, got[k], v)
		}
	}
	for k, n := range paid {
		if n != 1 {
			t.Errorf("%s paid %d times", k, n)
		}
	}
	snaps, err := e.fs.Collection(model.ColPayments).Documents(e.ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if v, _ := s.DataAt("payoutId"); v == "" || v == nil {
			t.Errorf("payment %s has no payoutId", s.Ref.ID)
		}
	}
}

// TestScheduledRunsEveryOtherWeek: the weekly schedule starts a period only
// when PeriodDays have passed since the last one; transfers run anyway.
func TestScheduledRunsEveryOtherWeek(t *testing.T) {
	e := newEnv(t)
	e.program("p1", []string{"c1"}, nil, nil)
	e.payment("a", "p1", 10000, "SEK", 3)
	rep := e.run(RunRequest{Scheduled: true})
	if !rep.Due || rep.PeriodStart != "2026-04-20" || rep.PeriodEnd != "2026-05-04" || len(rep.Payouts) != 1 {
		t.Fatalf("first scheduled run: %+v", rep)
	}
	e.clock.Set(t0.AddDate(0, 0, 7))
	e.payment("b", "p1", 10000, "SEK", -5)
	if rep := e.run(RunRequest{Scheduled: true}); rep.Due || len(rep.Payouts) != 0 {
		t.Fatalf("a week later: %+v", rep)
	}
	e.clock.Set(t0.AddDate(0, 0, 14))
	rep = e.run(RunRequest{Scheduled: true})
	if !rep.Due || rep.PeriodStart != "2026-05-04" || rep.PeriodEnd != "2026-05-18" || len(rep.Payouts) != 1 {
		t.Fatalf("two weeks later: %+v", rep)
	}
	p := e.payout(pid("c1", "SEK", "2026-05-18"))
	loc := DefaultSettings().Zone
	if !p.CalculationPeriod.Start.Equal(time.Date(2026, 5, 4, 0, 0, 0, 0, loc)) || !p.CalculationPeriod.End.Equal(time.Date(2026, 5, 18, 0, 0, 0, 0, loc)) {
		t.Errorf("calculationPeriod %+v", p.CalculationPeriod)
	}
	for _, bad := range []RunRequest{{PeriodEnd: "2026-13-01"}, {PeriodEnd: "2027-01-01"}, {PeriodStart: "2026-05-20", PeriodEnd: "2026-05-18"}} {
		if _, err := e.svc.Run(e.ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestDryRunWritesNothing: a dry run reports the payouts a run would write.
func TestDryRunWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.program("duo", []string{"c1", "c2"}, nil, nil)
	e.payment("a", "duo", 10001, "SEK", 3)
	rep := e.run(RunRequest{DryRun: true})
	if len(rep.Payouts) != 2 || rep.Payouts[0].Amount+rep.Payouts[1].Amount != 8001 {
		t.Fatalf("dry run: %+v", rep.Payouts)
	}
	if n := len(e.payouts()); n != 0 {
		t.Fatalf("dry run wrote %d payouts", n)
	}
	if snaps, _ := e.fs.Collection(model.ColPayoutAllocations).Documents(e.ctx).GetAll(); len(snaps) != 0 {
		t.Fatal("dry run wrote allocations")
	}
	real := e.run(RunRequest{})
	if len(real.Payouts) != 2 || real.Payouts[0] != rep.Payouts[0] || real.Payouts[1] != rep.Payouts[1] {
		t.Errorf("run %+v differs from its dry run %+v", real.Payouts, rep.Payouts)
	}
}

// TestInterruptedRunIsFinished: a run that stopped after one coach of a
// shared payment left the other coach's share open; a later run finds the
// open allocation even when the payment itself is out of its window.
func TestInterruptedRunIsFinished(t *testing.T) {
	e := newEnv(t)
	e.svc.Settings.LookbackDays = 5
	e.program("duo", []string{"c1", "c2"}, nil, nil)
	e.payment("a", "duo", 10000, "SEK", 3)
	p, _, err := e.svc.period(e.ctx, RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.load(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	// Only c1's transaction ran.
	line, _, err := e.svc.settleOne(e.ctx, p, key{"c1", "SEK"}, pid("c1", "SEK", "2026-05-04"), []string{"a"}, nil)
	if err != nil || line == nil || line.Amount != 4000 {
		t.Fatalf("c1: %+v %v", line, err)
	}
	// Weeks pass; the payment is outside every window now.
	e.clock.Set(t0.AddDate(0, 0, 28))
	rep := e.run(RunRequest{})
	if len(rep.Payouts) != 1 || rep.Payouts[0].CoachID != "c2" || rep.Payouts[0].Amount != 4000 {
		t.Fatalf("later run: %+v", rep.Payouts)
	}
	if rep := e.run(RunRequest{PeriodEnd: "2026-06-01"}); len(rep.Payouts) != 0 {
		t.Fatalf("rerun: %+v", rep.Payouts)
	}
}
