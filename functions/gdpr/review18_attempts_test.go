package gdpr

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// The worker counted every run of a request as an attempt (acquire added
// one each time) and failed the request "too many attempts" at
// MaxAttempts (25), whatever the runs did: the continuations of a large
// erasure (each run saves its checkpoint and publishes the next), and the
// redeliveries of a few hours' outage of Firestore, Storage, Auth or
// Stripe, used the 25 up, and the user's erasure or export ended failed
// for an operator to restart although nothing was wrong with it. The
// limit is now on the runs in a row that made no progress, and only once
// there has been none for GiveUpAfter (by the service clock).

// flakyStripe answers Delete with err while down reports true (always
// when down is nil), and deletes as fakeStripe otherwise.
type flakyStripe struct {
	fakeStripe
	err  error
	down func() bool
}

func (f *flakyStripe) Delete(ctx context.Context, id string) (gone bool, err error) {
	if f.down == nil || f.down() {
		return false, f.err
	}
	return f.fakeStripe.Delete(ctx, id)
}

// flakyAuth is an Auth admin client whose GetUser fails (as a network
// error does) while down reports true.
type flakyAuth struct {
	AuthAdmin
	down func() bool
}

func (f flakyAuth) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	if f.down() {
		return nil, errors.New("injected: auth unavailable")
	}
	return f.AuthAdmin.GetUser(ctx, uid)
}

// redelivery is Pub/Sub's backoff before redelivering a message the worker
// failed for the n-th time in a row (from 0): 10 s doubling to 600 s.
func redelivery(n int) time.Duration {
	d := 10 * time.Second
	for i := 0; i < n && d < 600*time.Second; i++ {
		d *= 2
	}
	return min(d, 600*time.Second)
}

// startErasure opens the erasure of a new subject with an Auth account
// and a Stripe customer, and returns the request id.
func startErasure(t *testing.T, e *env, prefix string) (id, subject string) {
	t.Helper()
	u := uid(prefix)
	now := e.clock.Now()
	e.set("users/"+u, model.User{UserID: u, DisplayName: "R", CreatedAt: now})
	e.set("stripe_customers/cus_"+u, model.StripeCustomer{CustomerID: "cus_" + u, UserID: u, CreatedAt: now})
	e.set("user_activations/"+u+"_j1", model.UserActivation{UserActivationID: u + "_j1", UserID: u, ActivationID: "a1",
		Status: model.StatusCompleted, Log: &model.JournalLog{Text: "journal"}})
	e.createAccount(u)
	req, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true)
	if err != nil {
		t.Fatal(err)
	}
	e.pub.Messages = nil
	return req.RequestID, u
}

// redeliver runs request id as Pub/Sub does while the worker returns a
// retryable error (redelivery after each failure) until it is no longer
// open or max runs, and returns the runs.
func redeliver(t *testing.T, e *env, id string, max int) int {
	t.Helper()
	failed := 0
	runs := 0
	for runs < max && open(e.request(id).Status) {
		out, err := e.s.Run(e.ctx, id, fmt.Sprint("redelivery-", runs))
		runs++
		switch {
		case err != nil && !fault.Retryable(err):
			t.Fatalf("run %d: %s, %v (a permanent error is recorded, not returned)", runs, out, err)
		case err != nil:
			e.clock.Add(redelivery(failed))
			failed++
		case out != OutcomeDone && out != OutcomeFailed:
			t.Fatalf("run %d: %s", runs, out)
		}
	}
	return runs
}

// TestReview18ContinuationsAreNotAttempts: an erasure whose every run
// completes one step and then yields (the run budget used: checkpoint
// saved, continuation published) or crashes (nothing more written; the
// lease expires and the message comes again) needs more runs than
// MaxAttempts; each made progress, so it ends done. The runs are an hour
// apart, so they also span more than GiveUpAfter.
func TestReview18ContinuationsAreNotAttempts(t *testing.T) {
	steps := len(erasureSteps())
	if steps <= MaxAttempts+1 {
		t.Fatalf("the erasure has %d steps; the test needs more runs than MaxAttempts (%d)", steps, MaxAttempts)
	}
	for _, how := range []string{"yield", "crash"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, true)
			id, _ := startErasure(t, e, "r18long")
			runs := 0
			for ; runs < 3*steps && open(e.request(id).Status); runs++ {
				e.clock.Add(time.Hour)
				ctx, cancel := context.WithCancel(e.ctx)
				e.s.runBudget = 0
				e.s.OnProgress = func(*model.GDPRRequest) {
					// A step is done and its checkpoint saved.
					if how == "yield" {
						e.s.runBudget = time.Nanosecond // the 7 minutes are used up
					} else {
						cancel()
					}
				}
				out, err := e.s.Run(ctx, id, fmt.Sprint(how, "-", runs))
				cancel()
				if how == "yield" && err != nil || out == OutcomeFailed {
					t.Logf("run %d: %s, %v", runs+1, out, err)
				}
			}
			e.s.OnProgress, e.s.runBudget = nil, 0
			got := e.request(id)
			if got.Status != StatusDone {
				t.Fatalf("after %d runs (%s after each completed step): status %s, error %q, attempts %d, checkpoint %v; want done",
					runs, how, got.Status, got.Error, got.Attempts, got.Checkpoint["step"])
			}
			if runs <= MaxAttempts {
				t.Errorf("done in %d runs: the test needs more than MaxAttempts (%d)", runs, MaxAttempts)
			}
			t.Logf("done in %d runs over %s", runs, time.Duration(runs)*time.Hour)
		})
	}
}

// TestReview18OutageIsNotAttempts: a dependency unavailable for six hours
// (Stripe for an erasure, Auth for an export) makes every run fail with a
// retryable error; Pub/Sub redelivers (10 s doubling to 600 s), far more
// than MaxAttempts times. When the dependency is back the request
// completes: it must not have been failed meanwhile.
func TestReview18OutageIsNotAttempts(t *testing.T) {
	const outage = 6 * time.Hour
	for _, kind := range []string{KindErasure, KindExport} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, true)
			end := e.clock.Now().Add(outage)
			down := func() bool { return e.clock.Now().Before(end) }
			var id string
			switch kind {
			case KindErasure:
				e.s.Stripe = &flakyStripe{err: fault.New(fault.Unavailable, "injected: stripe 503"), down: down}
				id, _ = startErasure(t, e, "r18out")
			case KindExport:
				u := uid("r18out")
				e.set("users/"+u, model.User{UserID: u, DisplayName: "R", CreatedAt: e.clock.Now()})
				e.createAccount(u)
				e.s.Auth = flakyAuth{AuthAdmin: e.auth.Client, down: down}
				r, _, err := e.s.CreateExport(e.ctx, u, u, SourceUser)
				if err != nil {
					t.Fatal(err)
				}
				id = r.RequestID
			}
			runs := redeliver(t, e, id, 200)
			got := e.request(id)
			if got.Status != StatusDone {
				t.Fatalf("after a %s outage and %d runs: status %s, error %q, attempts %d; want done once the outage is over",
					outage, runs, got.Status, got.Error, got.Attempts)
			}
			if runs <= MaxAttempts+1 {
				t.Errorf("%d runs: the outage was too short for the test", runs)
			}
			t.Logf("done after %d runs", runs)
		})
	}
}

// TestReview18StuckRequestStillFails: a step that fails retryably forever
// still ends the request failed "too many attempts", with the alert, once
// it has had MaxAttempts runs in a row without progress and none for
// GiveUpAfter (not hours into an outage); a permanent error fails it at
// the first run.
func TestReview18StuckRequestStillFails(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		maxRuns  int
		runs     func(n int) bool
		elapsed  func(d time.Duration) bool
		errorMsg string
	}{
		{name: "retryable forever", err: fault.New(fault.Unavailable, "injected: stripe 503"), maxRuns: 400,
			runs: func(n int) bool { return n > MaxAttempts },
			// Redeliveries are at most 600 s apart.
			elapsed:  func(d time.Duration) bool { return d >= GiveUpAfter && d <= GiveUpAfter+15*time.Minute },
			errorMsg: "too many attempts"},
		{name: "permanent", err: fault.New(fault.FailedPrecondition, "injected: key of the wrong mode"), maxRuns: 5,
			runs:     func(n int) bool { return n == 1 },
			elapsed:  func(d time.Duration) bool { return d == 0 },
			errorMsg: "stripe: injected: key of the wrong mode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := testenv.CaptureLogs(t)
			e := newEnv(t, true)
			e.s.Stripe = &flakyStripe{err: tc.err}
			id, _ := startErasure(t, e, "r18stuck")
			start := e.clock.Now()
			runs := redeliver(t, e, id, tc.maxRuns)
			got := e.request(id)
			elapsed := got.UpdatedAt.Sub(start)
			if got.Status != StatusFailed || got.Error != tc.errorMsg {
				t.Fatalf("after %d runs over %s: status %s, error %q; want failed, %q", runs, elapsed, got.Status, got.Error, tc.errorMsg)
			}
			if !tc.runs(runs) || !tc.elapsed(elapsed) {
				t.Errorf("failed after %d runs over %s (attempts %d, stalledRuns %d)", runs, elapsed, got.Attempts, got.StalledRuns)
			}
			if got.Error == "too many attempts" && got.StalledRuns < MaxAttempts {
				t.Errorf("failed with stalledRuns %d < MaxAttempts", got.StalledRuns)
			}
			alerts := 0
			for _, rec := range logs.Records("alert", "gdpr_request_failed") {
				if rec["requestId"] == id {
					alerts++
				}
			}
			if alerts != 1 {
				t.Errorf("%d gdpr_request_failed alerts, want 1", alerts)
			}
		})
	}
}
