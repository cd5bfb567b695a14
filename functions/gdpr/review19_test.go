package gdpr

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// partlyDownStripe deletes every customer and Connect account but one,
// which fails retryably (a 503) forever.
type partlyDownStripe struct {
	mu      sync.Mutex
	down    string
	deleted map[string]int
}

func (f *partlyDownStripe) del(id string) (gone bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == f.down {
		return false, fault.New(fault.Unavailable, "injected: stripe 503")
	}
	if f.deleted == nil {
		f.deleted = map[string]int{}
	}
	f.deleted[id]++ // a second delete is Stripe's 404: already gone
	return f.deleted[id] > 1, nil
}

func (f *partlyDownStripe) Delete(_ context.Context, id string) (bool, error) {
	return f.del(id)
}

func (f *partlyDownStripe) DeleteAccount(_ context.Context, id string) (bool, error) {
	return f.del(id)
}

// TestReview19StripeRedeleteIsNoProgress: the Stripe step reads its ids
// from documents that stay until later rules run, so every rerun deletes
// again the customers it deleted before (Stripe's 404: already gone, not
// counted). When one Stripe object fails retryably forever, nothing
// advances from run to run; the request must still
// fail "too many attempts" (MaxAttempts runs without progress and none for
// GiveUpAfter), not stay running until its due date and beyond.
func TestReview19StripeRedeleteIsNoProgress(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env, u string) (down string)
	}{
		{"second customer down", func(e *env, u string) string {
			// Sorted after cus_<u> (the stripe_customers mapping).
			e.set("users/"+u+"/private/billing", model.BillingAccount{StripeCustomerID: "cus_" + u + "_z", CreatedAt: e.clock.Now()})
			return "cus_" + u + "_z"
		}},
		{"connect account down", func(e *env, u string) string {
			e.set(model.CoachConnectPath(u), map[string]any{"coachId": u, "stripeAccountId": "acct_" + u})
			return "acct_" + u
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			fake := &partlyDownStripe{}
			e.s.Stripe, e.s.StripeAccounts = fake, fake
			id, u := startErasure(t, e, "r19stripe")
			fake.down = tc.setup(e, u)
			start := e.clock.Now()
			runs := redeliver(t, e, id, 400)
			got := e.request(id)
			elapsed := e.clock.Now().Sub(start)
			if got.Status != StatusFailed || got.Error != "too many attempts" {
				t.Fatalf("after %d runs over %s, every one failing at the same Stripe object: status %s, error %q, "+
					"stalledRuns %d, progress %v; want failed, \"too many attempts\" (about %s after the last real progress)",
					runs, elapsed.Round(time.Minute), got.Status, got.Error, got.StalledRuns, got.Progress, GiveUpAfter)
			}
			if elapsed > GiveUpAfter+time.Hour {
				t.Errorf("failed only after %s", elapsed)
			}
		})
	}
}
