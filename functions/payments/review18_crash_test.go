package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"firebase.google.com/go/v4/auth"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/testenv"
)

// Crash-consistency sweep of the Stripe webhook (review 18, RPCs: Firestore
// and Auth): each event is handled once on a fresh database (the reference
// state); then, for every RPC k of that run and each mode of
// testenv.CrashModes (killed before the k-th RPC took effect, after it took
// effect but before its answer arrived, or just after its answer; or the
// k-th RPC failing with a transient error while the context lives on), on a
// fresh database, followed by a redelivery of the same event when the
// webhook answered 500 (Stripe retries). The end state must be the
// reference.

// r18Claims passes Auth calls to next, counting and faulting them as RPCs
// of f.
type r18Claims struct {
	next ClaimsClient
	f    *testenv.Faults
}

func (c *r18Claims) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	var u *auth.UserRecord
	err := c.f.Call(ctx, "auth/GetUser", func(ctx context.Context) (err error) {
		u, err = c.next.GetUser(ctx, uid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (c *r18Claims) SetCustomUserClaims(ctx context.Context, uid string, claims map[string]any) error {
	return c.f.Call(ctx, "auth/SetCustomUserClaims", func(ctx context.Context) error {
		return c.next.SetCustomUserClaims(ctx, uid, claims)
	})
}

// r18Scenario is one event (payload) delivered after pre, the events
// that make its starting state, each delivered once uninterrupted.
type r18Scenario struct {
	name  string
	pre   [][]byte
	event []byte
}

func r18Scenarios() []r18Scenario {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	checkout := event("evt_r18_co", "checkout.session.completed", t0, objCheckout("cs_r", "pi_r", "cus_1", "u1", "prog-1", 49900, "paid"))
	subCreated := event("evt_r18_sc", "customer.subscription.created", t0, objSub("sub_r", "cus_1", "active", []string{"price_premium"}, t0+30*86400, nil))
	return []r18Scenario{
		{name: "checkout.session.completed", event: checkout},
		{name: "payment_intent.succeeded", event: event("evt_r18_pi", "payment_intent.succeeded", t0, objPI("pi_r", "cus_1", "succeeded", 49900, u1p, false))},
		{name: "invoice.paid", pre: [][]byte{subCreated},
			event: event("evt_r18_inv", "invoice.paid", t0+10, objInvoice("in_r", "sub_r", "cus_1", "pi_inv", 9900, t0+10, true))},
		{name: "customer.subscription.created", event: subCreated},
		{name: "customer.subscription.updated", pre: [][]byte{subCreated},
			event: event("evt_r18_su", "customer.subscription.updated", t0+60, objSub("sub_r", "cus_1", "active", []string{"price_premium", "price_journal"}, t0+30*86400, nil))},
		{name: "customer.subscription.deleted", pre: [][]byte{subCreated},
			event: event("evt_r18_sd", "customer.subscription.deleted", t0+120, objSub("sub_r", "cus_1", "canceled", []string{"price_premium"}, t0+120, nil))},
		{name: "charge.refunded (full)", pre: [][]byte{checkout},
			event: event("evt_r18_rf", "charge.refunded", t0+500, objCharge("ch_r", "pi_r", "cus_1", 49900, 49900))},
		{name: "charge.dispute.closed (lost)", pre: [][]byte{checkout},
			event: event("evt_r18_dl", "charge.dispute.closed", t0+2000, objDispute("dp_r", "pi_r", "ch_r", 49900, "lost"))},
		{name: "charge.dispute.created", pre: [][]byte{checkout},
			event: event("evt_r18_dc", "charge.dispute.created", t0+1000, objDispute("dp_r", "pi_r", "ch_r", 49900, "needs_response"))},
		{name: "account.updated", event: event("evt_r18_acct", "account.updated", t0+10, objAccount("acct_1", "coach-1", true, true, nil, ""))},
	}
}

// r18Event decodes a payload as the webhook's verification does.
func r18Event(t *testing.T, payload []byte) *stripe.Event {
	t.Helper()
	var ev stripe.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		t.Fatal("event without data.object")
	}
	return &ev
}

// r18Harness is a fresh seeded database whose Auth knows u1, who has
// onboarded.
func r18Harness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.seed()
	h.claims.users["u1"] = map[string]any{"coach": false}
	// Onboarding wrote the client profile (functions/profile) before any
	// purchase.
	h.set("client_profiles/u1", map[string]any{"userId": "u1", "displayName": "Ada", "coachIds": []string{}})
	return h
}

// r18Process takes payload into effect uninterrupted and fails the test
// on an error.
func r18Process(t *testing.T, h *harness, payload []byte) Result {
	t.Helper()
	res, err := h.svc.Process(context.Background(), r18Event(t, payload))
	if err != nil {
		t.Fatalf("process: %v", err)
	}
	return res
}

// r18State is the end state compared: every document, the inbox
// attempts (1 uninterrupted, 2 after a redelivery) and the fields written
// from the wall clock left out, and the custom claims.
func r18State(t *testing.T, h *harness) map[string]any {
	t.Helper()
	st := testenv.DumpDatabase(t, h.db, map[string][]string{"webhook_events/": {"attempts"}})
	h.claims.mu.Lock()
	defer h.claims.mu.Unlock()
	for uid, c := range h.claims.users {
		st["auth/"+uid] = testenv.NormalizeWallClock(c)
	}
	return st
}

// r18Crash runs sc's event with the handler killed at RPC at (mode), and
// redelivers it when the webhook would have answered 500. It returns the
// end state, the RPC count, and what happened.
func r18Crash(t *testing.T, sc r18Scenario, at int, mode testenv.CrashMode) (map[string]any, int, string) {
	t.Helper()
	h := r18Harness(t)
	for _, p := range sc.pre {
		r18Process(t, h, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &testenv.Faults{At: at, Mode: mode, Cancel: cancel}
	plainFS, plainAuth := h.svc.Firestore, h.svc.Auth
	h.svc.Firestore, h.svc.Auth = f.FirestoreClient(t, h.fs, h.project), &r18Claims{next: plainAuth, f: f}
	res, err := h.svc.Process(ctx, r18Event(t, sc.event))
	h.svc.Firestore, h.svc.Auth = plainFS, plainAuth
	what := fmt.Sprintf("first delivery: %s", res.Status)
	if err != nil {
		what = fmt.Sprintf("first delivery: 500 (%v); redelivered: %s", err, r18Process(t, h, sc.event).Status)
	}
	if at == 0 {
		what += "; RPCs: " + strings.Join(f.Calls(), " ")
	}
	return r18State(t, h), f.Count(), what
}

// TestReview18WebhookCrashPoints is the sweep: for each scenario, every
// RPC of the uninterrupted run, each mode.
func TestReview18WebhookCrashPoints(t *testing.T) {
	for _, sc := range r18Scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			want, n, what := r18Crash(t, sc, 0, "")
			t.Logf("%s: %d RPCs uninterrupted (%s)", sc.name, n, what)
			testenv.SweepCrashPoints(t, n, want, func(k int, mode testenv.CrashMode) (map[string]any, string, bool) {
				got, _, what := r18Crash(t, sc, k, mode)
				return got, what, strings.Contains(what, "redelivered")
			})
		})
	}
}

// TestReview18WebhookTwice delivers each scenario's event twice: the
// second is a duplicate and changes nothing.
func TestReview18WebhookTwice(t *testing.T) {
	for _, sc := range r18Scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			want, _, _ := r18Crash(t, sc, 0, "")
			h := r18Harness(t)
			for _, p := range sc.pre {
				r18Process(t, h, p)
			}
			r18Process(t, h, sc.event)
			if res := r18Process(t, h, sc.event); res.Status != StatusDuplicate {
				t.Errorf("second delivery: %s, want duplicate", res.Status)
			}
			if d := testenv.DiffDumps(want, r18State(t, h)); len(d) > 0 {
				t.Errorf("end state differs:\n  %s", strings.Join(d, "\n  "))
			}
		})
	}
}

// TestReview18WebhookPairOrders delivers pairs of events in both orders:
// the end states must be the same.
func TestReview18WebhookPairOrders(t *testing.T) {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	checkout := event("evt_r18_co", "checkout.session.completed", t0, objCheckout("cs_r", "pi_r", "cus_1", "u1", "prog-1", 49900, "paid"))
	pairs := []struct {
		name string
		a, b []byte
	}{
		{"subscription created / updated",
			event("evt_r18_sc", "customer.subscription.created", t0, objSub("sub_r", "cus_1", "incomplete", []string{"price_premium"}, t0+30*86400, nil)),
			event("evt_r18_su", "customer.subscription.updated", t0+60, objSub("sub_r", "cus_1", "active", []string{"price_premium"}, t0+30*86400, nil))},
		{"subscription updated / deleted",
			event("evt_r18_su", "customer.subscription.updated", t0+60, objSub("sub_r", "cus_1", "active", []string{"price_premium"}, t0+30*86400, nil)),
			event("evt_r18_sd", "customer.subscription.deleted", t0+120, objSub("sub_r", "cus_1", "canceled", []string{"price_premium"}, t0+120, nil))},
		{"subscription created / invoice paid",
			event("evt_r18_sc", "customer.subscription.created", t0, objSub("sub_r", "cus_1", "active", []string{"price_premium"}, t0+30*86400, nil)),
			event("evt_r18_inv", "invoice.paid", t0+10, objInvoice("in_r", "sub_r", "cus_1", "pi_inv", 9900, t0+10, true))},
		{"payment / full refund", checkout,
			event("evt_r18_rf", "charge.refunded", t0+500, objCharge("ch_r", "pi_r", "cus_1", 49900, 49900))},
		{"payment intent / full refund",
			event("evt_r18_pi", "payment_intent.succeeded", t0, objPI("pi_r", "cus_1", "succeeded", 49900, u1p, false)),
			event("evt_r18_rf", "charge.refunded", t0+500, objCharge("ch_r", "pi_r", "cus_1", 49900, 49900))},
		{"payment / dispute lost", checkout,
			event("evt_r18_dl", "charge.dispute.closed", t0+2000, objDispute("dp_r", "pi_r", "ch_r", 49900, "lost"))},
		{"dispute created / closed won",
			event("evt_r18_dc", "charge.dispute.created", t0+1000, objDispute("dp_r", "pi_r", "ch_r", 49900, "needs_response")),
			event("evt_r18_dw", "charge.dispute.closed", t0+2000, objDispute("dp_r", "pi_r", "ch_r", 49900, "won"))},
		{"subscription created / deleted",
			event("evt_r18_sc", "customer.subscription.created", t0, objSub("sub_r", "cus_1", "active", []string{"price_premium"}, t0+30*86400, nil)),
			event("evt_r18_sd", "customer.subscription.deleted", t0+120, objSub("sub_r", "cus_1", "canceled", []string{"price_premium"}, t0+120, nil))},
		{"invoice payment failed / paid",
			event("evt_r18_if", "invoice.payment_failed", t0+10, objInvoice("in_r", "sub_r", "cus_1", "pi_inv", 9900, t0+10, false)),
			event("evt_r18_inv", "invoice.paid", t0+20, objInvoice("in_r", "sub_r", "cus_1", "pi_inv", 9900, t0+10, true))},
		{"payment / partial refund", checkout,
			event("evt_r18_pr", "charge.refunded", t0+500, objCharge("ch_r", "pi_r", "cus_1", 49900, 10000))},
		{"payment / refund object", checkout,
			event("evt_r18_ro", "refund.created", t0+500, objRefund("re_r", "pi_r", "ch_r", 49900, "succeeded", t0+500))},
		{"dispute created / closed lost",
			event("evt_r18_dc", "charge.dispute.created", t0+1000, objDispute("dp_r", "pi_r", "ch_r", 49900, "needs_response")),
			event("evt_r18_dl", "charge.dispute.closed", t0+2000, objDispute("dp_r", "pi_r", "ch_r", 49900, "lost"))},
		{"account updated twice",
			event("evt_r18_a1", "account.updated", t0+10, objAccount("acct_1", "coach-1", false, true, []string{"external_account"}, "requirements.past_due")),
			event("evt_r18_a2", "account.updated", t0+20, objAccount("acct_1", "coach-1", true, true, nil, ""))},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			run := func(first, second []byte) map[string]any {
				h := r18Harness(t)
				if strings.HasPrefix(p.name, "dispute created") {
					r18Process(t, h, checkout)
				}
				r18Process(t, h, first)
				r18Process(t, h, second)
				st := r18State(t, h)
				for k := range st {
					if strings.HasPrefix(k, "webhook_events/") {
						delete(st, k) // the inbox says what each delivery did, which depends on the order
					}
				}
				return st
			}
			ab, ba := run(p.a, p.b), run(p.b, p.a)
			if d := testenv.DiffDumps(ab, ba); len(d) > 0 {
				t.Errorf("reversed order ends elsewhere (got: reversed, want: in order):\n  %s", strings.Join(d, "\n  "))
			}
		})
	}
}
