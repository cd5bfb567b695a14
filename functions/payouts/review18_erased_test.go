package payouts

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/testenv"
)

// The alert and the reason of a payout held because its coach was erased,
// spelled out (not the package's constants) so that these tests compile
// and fail on the code before the hold existed.
const (
	review18AlertErased  = "payout_coach_erased"
	review18ReasonPrefix = "coach erased"
)

// review18CoachErased is the run report's transfers.coachErased as
// `ops payouts run` prints it (JSON), nil when the report has no such
// count.
func review18CoachErased(t *testing.T, rep *RunReport) any {
	t.Helper()
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Transfers map[string]any `json:"transfers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m.Transfers["coachErased"]
}

// review18Pending writes a pending Stripe Connect payout of coach (8 000
// SEK), as a run writes it and an erasure (pseudonymised: a hold) leaves it.
func review18Pending(e *env, id, coach string, pseudonymised bool, mods ...func(*model.Payout)) {
	e.t.Helper()
	po := model.Payout{PayoutID: id, CoachID: coach, Amount: 8000, Currency: "SEK", PayoutDate: t0,
		Status: model.PayoutPending, Processor: ProcessorStripeConnect, RelatedPaymentIDs: []string{"pay18"},
		Reason: ReasonNoAccount, CreatedAt: t0, UpdatedAt: t0}
	if pseudonymised {
		hold := pseudonym.BookkeepingHoldUntil(t0)
		po.Pseudonymised, po.LegalHoldUntil = true, &hold
	}
	for _, m := range mods {
		m(&po)
	}
	e.set("payouts/"+id, po)
}

// TestReview18ErasedCoachPayoutHeld: a pending payout whose coach was
// erased (coachId the erased coach's pseudonym, as the erasure or a later
// run writes it, or erased-user, who takes an erased coach's shares of
// sales not yet allocated) can never be transferred: nobody has a Connect
// account under that name. The run must not retry it every week as if the
// coach might still onboard: it moves it once to a final state (failed,
// reason "coach erased…"), logs one alert without personal data (payout
// id, amount, currency), counts it in the report (transfers.coachErased),
// keeps its legal hold, and never asks Stripe to transfer it. A transfer
// an earlier attempt may have made is looked up first: found, it is
// recorded (the money reached the coach's account before the erasure);
// when Stripe cannot answer, the payout waits for the next run. A live
// coach without a Connect account still waits (the control).
func TestReview18ErasedCoachPayoutHeld(t *testing.T) {
	ps := pseudonym.Of(testKey, "coach18-erased")
	id := "po_" + ps + "_sek_20260504"
	started := func(p *model.Payout) { at := t0.Add(-time.Hour); p.TransferStartedAt = &at }
	tests := []struct {
		name       string
		setup      func(e *env, ft *fakeTransfers) string // returns the payout id
		noStripe   bool
		wantStatus model.PayoutStatus
		laterRuns  model.PayoutStatus // status after runs 2 and 3 (default wantStatus)
		wantHeld   bool               // failed with the coach-erased reason, alerted, counted
		wantReason string
	}{
		{name: "pseudonymised by the erasure", setup: func(e *env, _ *fakeTransfers) string {
			review18Pending(e, id, ps, true)
			return id
		}, wantStatus: model.PayoutFailed, wantHeld: true},
		{name: "pseudonym without the flag", setup: func(e *env, _ *fakeTransfers) string {
			review18Pending(e, id, ps, false)
			return id
		}, wantStatus: model.PayoutFailed, wantHeld: true},
		{name: "erased-user's share of sales not yet allocated", setup: func(e *env, _ *fakeTransfers) string {
			eid := pid(model.ErasedRef, "SEK", "2026-05-04")
			review18Pending(e, eid, model.ErasedRef, false)
			return eid
		}, wantStatus: model.PayoutFailed, wantHeld: true},
		{name: "Stripe not configured", noStripe: true, setup: func(e *env, _ *fakeTransfers) string {
			review18Pending(e, id, ps, true)
			return id
		}, wantStatus: model.PayoutFailed, wantHeld: true},
		{name: "transfer started, not on Stripe", setup: func(e *env, _ *fakeTransfers) string {
			review18Pending(e, id, ps, true, started)
			return id
		}, wantStatus: model.PayoutFailed, wantHeld: true},
		{name: "transfer started before the erasure, found on Stripe", setup: func(e *env, ft *fakeTransfers) string {
			review18Pending(e, id, ps, true, started)
			ft.existing[id] = &stripe.Transfer{ID: "tr_18", Amount: 8000, TransferGroup: id}
			return id
		}, wantStatus: model.PayoutProcessing, laterRuns: model.PayoutCompleted},
		{name: "transfer started, Stripe cannot answer", setup: func(e *env, ft *fakeTransfers) string {
			review18Pending(e, id, ps, true, started)
			ft.findErr = errors.New("stripe down")
			return id
		}, wantStatus: model.PayoutPending},
		{name: "live coach without an account (control)", setup: func(e *env, _ *fakeTransfers) string {
			lid := pid("coach18-live", "SEK", "2026-05-04")
			review18Pending(e, lid, "coach18-live", false)
			return lid
		}, wantStatus: model.PayoutPending, wantReason: ReasonNoAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			logs := testenv.CaptureLogs(t)
			ft := &fakeTransfers{existing: map[string]*stripe.Transfer{}}
			if !tt.noStripe {
				e.svc.Transfers = ft
			}
			poID := tt.setup(e, ft)
			before := e.payout(poID)

			for run := 1; run <= 3; run++ {
				e.clock.Add(7 * 24 * time.Hour)
				rep := e.run(RunRequest{Scheduled: true})
				po := e.payout(poID)
				wantCount := 0
				if tt.wantHeld && run == 1 {
					wantCount = 1
				}
				if got := review18CoachErased(t, rep); got != float64(wantCount) {
					t.Errorf("run %d: report transfers.coachErased = %v, want %d (transfers %+v)", run, got, wantCount, rep.Transfers)
				}
				want := tt.wantStatus
				if run > 1 && tt.laterRuns != "" {
					want = tt.laterRuns // confirmed from the transfer found
				}
				if po.Status != want {
					t.Errorf("run %d: payout status %s (reason %q), want %s", run, po.Status, po.Reason, want)
				}
				if tt.wantHeld && !strings.HasPrefix(po.Reason, review18ReasonPrefix) {
					t.Errorf("run %d: payout reason %q, want it to start with %q", run, po.Reason, review18ReasonPrefix)
				}
				if tt.wantReason != "" && po.Reason != tt.wantReason {
					t.Errorf("run %d: payout reason %q, want %q", run, po.Reason, tt.wantReason)
				}
				if po.Pseudonymised != before.Pseudonymised || fmt.Sprint(po.LegalHoldUntil) != fmt.Sprint(before.LegalHoldUntil) ||
					po.Amount != before.Amount || po.CoachID != before.CoachID {
					t.Errorf("run %d: payout changed beyond its status: pseudonymised %v→%v, legalHoldUntil %v→%v, amount %d→%d, coach %s→%s",
						run, before.Pseudonymised, po.Pseudonymised, before.LegalHoldUntil, po.LegalHoldUntil, before.Amount, po.Amount,
						before.CoachID, po.CoachID)
				}
				if tt.wantHeld && po.ProcessorPayoutID != nil {
					t.Errorf("run %d: held payout records transfer %s", run, *po.ProcessorPayoutID)
				}
			}
			if n := ft.creates[poID]; n != 0 && tt.wantHeld {
				t.Errorf("Stripe was asked %d times to transfer the held payout", n)
			}
			alerts := logs.Records("alert", review18AlertErased)
			wantAlerts := 0
			if tt.wantHeld {
				wantAlerts = 1
			}
			if len(alerts) != wantAlerts {
				t.Fatalf("%d %q alerts over three runs, want %d:\n%s", len(alerts), review18AlertErased, wantAlerts, logs)
			}
			for _, a := range alerts {
				if a["payoutId"] != poID || a["amount"] != float64(8000) || a["currency"] != "SEK" {
					t.Errorf("alert %v: want payoutId %s, amount 8000, currency SEK", a, poID)
				}
				for _, k := range []string{"coachId", "uid", "coach"} {
					if _, ok := a[k]; ok {
						t.Errorf("alert names the coach (%s): %v", k, a)
					}
				}
			}
		})
	}
}

// TestReview18ErasedCoachMoneyFlaggedAfterErasure: the whole path. A coach
// without a Connect account has a pending payout (their December sale)
// and a sale not yet allocated when they are erased (functions/gdpr): the
// erasure pseudonymises the payout and gives the unallocated sale's share
// to erased-user. The next run allocates that sale to erased-user; both
// payouts then go final once (failed, "coach erased…"), with two alerts
// naming neither the coach's uid nor their pseudonym's owner, and the
// report counts 2. Later runs change nothing and alert no more; Stripe is
// never asked to transfer either; the pseudonymised payout keeps its
// legal hold.
func TestReview18ErasedCoachMoneyFlaggedAfterErasure(t *testing.T) {
	e := newEnv(t)
	ft := &fakeTransfers{existing: map[string]*stripe.Transfer{}}
	e.svc.Transfers = ft
	c := fmt.Sprintf("coach18-%d", time.Now().UnixNano())
	ps := pseudonym.Of(testKey, c)
	terms := func(p *model.Payment) {
		p.ProgramTerms = &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{c}}
	}
	e.program("p18", []string{c}, nil, nil)
	e.payment("s1", "p18", 10000, "SEK", 3, terms)

	rep := e.run(RunRequest{}) // 2026-05-04
	held := pid(c, "SEK", "2026-05-04")
	if po := e.payout(held); po.Status != model.PayoutPending || po.Reason != ReasonNoAccount {
		t.Fatalf("before the erasure: payout %+v (report %+v), want pending without an account", po, rep.Transfers)
	}
	// A second sale, after the period, not yet allocated at the erasure.
	e.payment("s2", "p18", 5000, "SEK", -3, terms)
	e.clock.Set(time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC))
	eraseCoach(t, e, c)
	if po := e.payout(held); po.CoachID != ps || !po.Pseudonymised || po.LegalHoldUntil == nil {
		t.Fatalf("the erasure did not pseudonymise the pending payout: %+v", po)
	}
	hold := *e.payout(held).LegalHoldUntil
	logs := testenv.CaptureLogs(t) // the payouts' logs from here on

	e.clock.Set(time.Date(2026, 5, 18, 4, 0, 0, 0, time.UTC))
	rep = e.run(RunRequest{Scheduled: true})
	erasedID := pid(model.ErasedRef, "SEK", "2026-05-18")
	if got := review18CoachErased(t, rep); got != float64(2) {
		t.Errorf("run after the erasure: report transfers.coachErased = %v, want 2 (transfers %+v, payouts %+v)", got, rep.Transfers, rep.Payouts)
	}
	for _, id := range []string{held, erasedID} {
		po := e.payout(id)
		if po.Status != model.PayoutFailed || !strings.HasPrefix(po.Reason, review18ReasonPrefix) {
			t.Errorf("payout %s of the erased coach (coach %s): status %s reason %q, want failed, %q…", id, po.CoachID, po.Status, po.Reason, review18ReasonPrefix)
		}
	}
	if po := e.payout(erasedID); po.CoachID != model.ErasedRef || po.Amount != 4000 {
		t.Errorf("erased-user's payout: coach %s amount %d, want %s 4000", po.CoachID, po.Amount, model.ErasedRef)
	}
	if po := e.payout(held); !po.Pseudonymised || po.LegalHoldUntil == nil || !po.LegalHoldUntil.Equal(hold) {
		t.Errorf("held payout lost its legal hold: pseudonymised %v legalHoldUntil %v, want %s", po.Pseudonymised, po.LegalHoldUntil, hold)
	}

	// `ops payouts retry` cannot pay it to anyone either.
	if _, err := e.svc.ReleaseFailed(e.ctx, held, ReleaseOptions{By: "ops:review18"}); err == nil || !strings.Contains(err.Error(), "erased") {
		t.Errorf("release of the held payout: %v, want a refusal naming the erasure", err)
	}

	for _, at := range []time.Time{time.Date(2026, 5, 25, 4, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 4, 0, 0, 0, time.UTC)} {
		e.clock.Set(at)
		rep = e.run(RunRequest{Scheduled: true})
		if got := review18CoachErased(t, rep); got != float64(0) {
			t.Errorf("run on %s: report transfers.coachErased = %v, want 0 (flagged before)", at.Format(time.DateOnly), got)
		}
		if rep.Transfers.Waiting != 0 {
			t.Errorf("run on %s: %d payouts still waiting for a Connect account", at.Format(time.DateOnly), rep.Transfers.Waiting)
		}
	}
	for id, n := range ft.creates {
		t.Errorf("Stripe was asked %d times to transfer %s", n, id)
	}
	got := logs.Alerts(t, review18AlertErased, "payoutId", c)
	if len(got) != 2 || !((got[0] == held && got[1] == erasedID) || (got[0] == erasedID && got[1] == held)) {
		t.Errorf("alerts name payouts %v, want %s and %s once each", got, held, erasedID)
	}
}

// TestReview18ErasedCoachPayoutHeldOnceUnderConcurrentRuns: five runs
// (the weekly one, an operator's, redeliveries) reach the same pending
// payout of an erased coach at once: it is held once, with one alert, and
// counted by one run only.
func TestReview18ErasedCoachPayoutHeldOnceUnderConcurrentRuns(t *testing.T) {
	e := newEnv(t)
	logs := testenv.CaptureLogs(t)
	ft := &fakeTransfers{existing: map[string]*stripe.Transfer{}}
	e.svc.Transfers = ft
	id := "po_" + pseudonym.Of(testKey, "coach18-race") + "_sek_20260504"
	review18Pending(e, id, pseudonym.Of(testKey, "coach18-race"), true)

	const runs = 5
	reps := make([]TransferReport, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = e.svc.ExecuteTransfers(e.ctx)
		}()
	}
	wg.Wait()
	total := 0
	for i := range runs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		raw, _ := json.Marshal(reps[i])
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		if n, ok := m["coachErased"].(float64); ok {
			total += int(n)
		}
	}
	if total != 1 {
		t.Errorf("%d concurrent runs counted %d held payouts, want 1 (%+v)", runs, total, reps)
	}
	if po := e.payout(id); po.Status != model.PayoutFailed || !strings.HasPrefix(po.Reason, review18ReasonPrefix) {
		t.Errorf("payout status %s reason %q, want failed, %q…", po.Status, po.Reason, review18ReasonPrefix)
	}
	if a := logs.Records("alert", review18AlertErased); len(a) != 1 {
		t.Errorf("%d alerts, want 1:\n%s", len(a), logs)
	}
	if len(ft.creates) != 0 {
		t.Errorf("Stripe asked to transfer: %v", ft.creates)
	}
}
