package gdpr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/model"
)

// statefulStripe is a Stripe API that remembers deletions, which
// stripe-mock (stateless: every DELETE answers 200 deleted: true) does
// not: DELETE /v1/customers/{id} and /v1/accounts/{id} answer the deleted
// object the first time, and 404 resource_missing "No such customer"
// (account) once it is deleted; an id in down answers 503 (without
// stripe-go's retries).
type statefulStripe struct {
	mu      sync.Mutex
	deleted map[string]bool
	down    map[string]bool
}

func (s *statefulStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Stripe-Should-Retry", "false")
	kind, id, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	object := map[string]string{"customers": "customer", "accounts": "account"}[kind]
	var status int
	var body any
	switch {
	case r.Method != http.MethodDelete || !ok || object == "":
		status, body = http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_request_error", "message": "unexpected " + r.Method + " " + r.URL.Path}}
	case s.down[id]:
		status, body = http.StatusServiceUnavailable, map[string]any{"error": map[string]any{"type": "api_error", "message": "injected"}}
	case s.deleted[id]:
		status, body = http.StatusNotFound, map[string]any{"error": map[string]any{"type": "invalid_request_error",
			"code": "resource_missing", "param": "id", "message": fmt.Sprintf("No such %s: '%s'", object, id)}}
	default:
		s.deleted[id] = true
		status, body = http.StatusOK, map[string]any{"id": id, "object": object, "deleted": true}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// TestStripeStepCountsOnlyDeletions: the Stripe step counts the objects it
// deletes, not those already gone (Stripe's 404 for an object deleted
// before: by an earlier run, or out of band), so its counts are progress
// like every step's: a run that deletes a Stripe object makes progress
// (stalledRuns 0, progressAt now), a rerun that finds gone what an
// earlier run deleted does not (stalledRuns grows). The Stripe step used
// to count every object again on every run, so its counts were kept out of
// progress: a first deletion in a rerun was no progress either.
func TestStripeStepCountsOnlyDeletions(t *testing.T) {
	type run struct {
		down       []string // ids answering 503, %s for the subject's uid
		stripe     int64    // progress "stripe" after the run
		connect    int64    // progress "stripe.connect" after the run
		stalled    int      // stalledRuns after the run
		progressed bool     // progressAt is the run's time
		status     string
	}
	cases := []struct {
		name  string
		setup func(e *env, u string, st *statefulStripe)
		runs  []run
	}{
		{"customers: one more deleted per rerun", func(e *env, u string, _ *statefulStripe) {
			for _, c := range []string{"_b", "_c"} {
				e.set("stripe_customers/cus_"+u+c, model.StripeCustomer{CustomerID: "cus_" + u + c, UserID: u, CreatedAt: e.clock.Now()})
			}
		}, []run{
			// The first run completes the steps before Stripe's: progress anyway.
			{down: []string{"cus_%s_b"}, stripe: 1, stalled: 0, progressed: true, status: StatusRunning},
			// cus_<u> is gone, cus_<u>_b deleted now: progress.
			{down: []string{"cus_%s_c"}, stripe: 2, stalled: 0, progressed: true, status: StatusRunning},
			// Both gone, nothing deleted: no progress.
			{down: []string{"cus_%s_c"}, stripe: 2, stalled: 1, status: StatusRunning},
			{down: []string{"cus_%s_c"}, stripe: 2, stalled: 2, status: StatusRunning},
			{stripe: 3, stalled: 0, progressed: true, status: StatusDone},
		}},
		{"customer deleted out of band, connect account down", func(e *env, u string, st *statefulStripe) {
			st.deleted["cus_"+u] = true
			e.set(model.CoachConnectPath(u), map[string]any{"coachId": u, "stripeAccountId": "acct_" + u})
		}, []run{
			{down: []string{"acct_%s"}, stripe: 0, stalled: 0, progressed: true, status: StatusRunning},
			{down: []string{"acct_%s"}, stripe: 0, stalled: 1, status: StatusRunning},
			{stripe: 0, connect: 1, stalled: 0, progressed: true, status: StatusDone},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			st := &statefulStripe{deleted: map[string]bool{}, down: map[string]bool{}}
			srv := httptest.NewServer(st)
			t.Cleanup(srv.Close)
			api := NewStripeAPI(config.NewSecret("sk_test_123"), srv.URL)
			e.s.Stripe, e.s.StripeAccounts = api, api
			id, u := startErasure(t, e, "stripeprog")
			tc.setup(e, u, st)
			lastProgress := time.Time{}
			for i, want := range tc.runs {
				e.clock.Add(10 * time.Minute)
				st.mu.Lock()
				clear(st.down)
				for _, d := range want.down {
					st.down[fmt.Sprintf(d, u)] = true
				}
				st.mu.Unlock()
				out, err := e.s.Run(e.ctx, id, fmt.Sprint("run-", i))
				got := e.request(id)
				if got.Status != want.status {
					t.Fatalf("run %d: %s, %v; status %s (%q), want %s", i+1, out, err, got.Status, got.Error, want.status)
				}
				if got.ProgressAt != nil {
					if want.progressed != got.ProgressAt.Equal(e.clock.Now()) {
						t.Errorf("run %d: progressAt %s at %s, progressed %v", i+1, got.ProgressAt, e.clock.Now(), want.progressed)
					}
					if !want.progressed && !got.ProgressAt.Equal(lastProgress) {
						t.Errorf("run %d: progressAt %s, want the last progress's %s", i+1, got.ProgressAt, lastProgress)
					}
					lastProgress = *got.ProgressAt
				} else if want.progressed {
					t.Errorf("run %d: no progressAt, want %s", i+1, e.clock.Now())
				}
				if got.Progress["stripe"] != want.stripe || got.Progress["stripe.connect"] != want.connect || got.StalledRuns != want.stalled {
					t.Errorf("run %d: progress stripe %d, stripe.connect %d, stalledRuns %d; want %d, %d, %d",
						i+1, got.Progress["stripe"], got.Progress["stripe.connect"], got.StalledRuns, want.stripe, want.connect, want.stalled)
				}
			}
		})
	}
}
