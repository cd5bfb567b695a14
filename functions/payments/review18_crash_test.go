package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/stripe/stripe-go/v76"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Crash-consistency sweep of the Stripe webhook (review 18, RPCs: Firestore
// and Auth): each event is handled once on a fresh database (the
// reference state); then, for every RPC k of that run and each mode of
// r18Modes (killed before the k-th RPC took effect, after it took effect
// but before its answer arrived, or just after its answer; or the k-th
// RPC failing with a transient error while the context lives on), on a
// fresh database, followed by a redelivery of the same event when the webhook
// answered 500 (Stripe retries). The end state must be the reference.

// r18Mode is where the handler is killed relative to the k-th RPC.
type r18Mode string

const (
	r18Before r18Mode = "before" // the RPC never takes effect
	r18Lost   r18Mode = "lost"   // the RPC takes effect, its answer is lost
	r18After  r18Mode = "after"  // the answer arrives, then the context ends
	// r18Error: the RPC fails with a transient error the client does not
	// retry itself, the context lives on.
	r18Error r18Mode = "error"
)

var r18Modes = []r18Mode{r18Before, r18Lost, r18After, r18Error}

// r18Faults counts the RPCs of one handler run and kills the run at the
// at-th (0: never) as mode says, by ending its context.
type r18Faults struct {
	mu     sync.Mutex
	n, at  int
	mode   r18Mode
	cancel context.CancelFunc
	calls  []string
}

// next counts an RPC and reports whether it is the one to fault.
func (f *r18Faults) next(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.calls = append(f.calls, method[strings.LastIndex(method, "/")+1:])
	return f.n == f.at
}

func (f *r18Faults) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		f.cancel()
	}
}

func (f *r18Faults) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

var (
	r18Injected  = status.Error(codes.DeadlineExceeded, "injected crash")
	r18Transient = status.Error(codes.Unknown, "injected transient failure")
)

type r18OwnerCreds struct{}

func (r18OwnerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (r18OwnerCreds) RequireTransportSecurity() bool { return false }

// r18Client returns a Firestore client of the emulator's project whose
// RPCs go through f.
func r18Client(t *testing.T, project string, f *r18Faults) *firestore.Client {
	t.Helper()
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		hit := f.next(method)
		if hit && f.mode == r18Error {
			return r18Transient
		}
		if hit && f.mode == r18Before {
			f.kill()
			return r18Injected
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if hit {
			f.kill()
			if f.mode == r18Lost {
				return r18Injected
			}
		}
		return err
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		hit := f.next(method)
		if hit && f.mode == r18Error {
			return nil, r18Transient
		}
		if hit && f.mode == r18Before {
			f.kill()
			return nil, r18Injected
		}
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || !hit {
			return s, err
		}
		return &r18Stream{ClientStream: s, f: f}, nil
	}
	conn, err := grpc.NewClient(os.Getenv("FIRESTORE_EMULATOR_HOST"),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(r18OwnerCreds{}),
		grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream))
	if err != nil {
		t.Fatal(err)
	}
	c, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// r18Stream faults a streamed RPC at its first answer.
type r18Stream struct {
	grpc.ClientStream
	f    *r18Faults
	done bool
}

func (s *r18Stream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if s.done {
		return err
	}
	s.done = true
	s.f.kill()
	if s.f.mode == r18Lost {
		return r18Injected
	}
	return err
}

// r18Claims passes Auth calls to next, counting them as RPCs of f.
type r18Claims struct {
	next ClaimsClient
	f    *r18Faults
}

func (c *r18Claims) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	hit := c.f.next("auth/GetUser")
	if hit && c.f.mode == r18Error {
		return nil, r18Transient
	}
	if hit && c.f.mode == r18Before {
		c.f.kill()
		return nil, r18Injected
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := c.next.GetUser(ctx, uid)
	if hit {
		c.f.kill()
		if c.f.mode == r18Lost {
			return nil, r18Injected
		}
	}
	return u, err
}

func (c *r18Claims) SetCustomUserClaims(ctx context.Context, uid string, claims map[string]any) error {
	hit := c.f.next("auth/SetCustomUserClaims")
	if hit && c.f.mode == r18Error {
		return r18Transient
	}
	if hit && c.f.mode == r18Before {
		c.f.kill()
		return r18Injected
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.next.SetCustomUserClaims(ctx, uid, claims)
	if hit {
		c.f.kill()
		if c.f.mode == r18Lost {
			return r18Injected
		}
	}
	return err
}

// r18Dump returns every document of the database (path relative to the
// documents root → data), normalised by r18Norm, with drop's fields
// removed (path prefix → field names).
func r18Dump(t *testing.T, c *firestore.Client, drop map[string][]string) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	var walk func(it *firestore.CollectionIterator)
	walk = func(it *firestore.CollectionIterator) {
		for {
			col, err := it.Next()
			if err == iterator.Done {
				return
			}
			if err != nil {
				t.Fatalf("dump: collections: %v", err)
			}
			refs, err := col.DocumentRefs(ctx).GetAll()
			if err != nil {
				t.Fatalf("dump: %s: %v", col.Path, err)
			}
			for _, ref := range refs {
				_, rel, _ := strings.Cut(ref.Path, "/documents/")
				snap, err := ref.Get(ctx)
				if err == nil {
					d := snap.Data()
					for prefix, fields := range drop {
						if strings.HasPrefix(rel, prefix) {
							for _, k := range fields {
								delete(d, k)
							}
						}
					}
					out[rel] = r18Norm(d)
				} else if !strings.Contains(err.Error(), "NotFound") {
					t.Fatalf("dump: %s: %v", rel, err)
				}
				walk(ref.Collections(ctx))
			}
		}
	}
	walk(c.Collections(ctx))
	return out
}

// r18WallStart begins the span of real time of this test process: a time in it is
// a Firestore create/update time (the program's version), which differs
// between two fresh databases, never one of the fixtures' or the injected
// clock's.
var r18WallStart = time.Now().Add(-time.Minute)

func r18Norm(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = r18Norm(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = r18Norm(e)
		}
		return l
	case time.Time:
		if x.After(r18WallStart) && x.Before(time.Now().Add(time.Minute)) {
			return "<wall clock>"
		}
		return x.UTC().Format(time.RFC3339Nano)
	case string:
		if tm, err := time.Parse(time.RFC3339Nano, x); err == nil && tm.After(r18WallStart) && tm.Before(time.Now().Add(time.Minute)) {
			return "<wall clock>"
		}
	}
	return v
}

// r18Diff lists the differences between two dumps, one line a path.
func r18Diff(want, got map[string]any) []string {
	paths := map[string]bool{}
	for p := range want {
		paths[p] = true
	}
	for p := range got {
		paths[p] = true
	}
	var keys []string
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	var out []string
	for _, p := range keys {
		w, wok := want[p]
		g, gok := got[p]
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		switch {
		case !wok:
			out = append(out, fmt.Sprintf("%s: unexpected %s", p, gj))
		case !gok:
			out = append(out, fmt.Sprintf("%s: missing, want %s", p, wj))
		case string(wj) != string(gj):
			out = append(out, fmt.Sprintf("%s:\n     got  %s\n     want %s", p, gj, wj))
		}
	}
	return out
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
	st := r18Dump(t, h.db, map[string][]string{"webhook_events/": {"attempts"}})
	h.claims.mu.Lock()
	defer h.claims.mu.Unlock()
	for uid, c := range h.claims.users {
		st["auth/"+uid] = r18Norm(c)
	}
	return st
}

// r18Crash runs sc's event with the handler killed at RPC at (mode), and
// redelivers it when the webhook would have answered 500. It returns the
// end state, the RPC count, and what happened.
func r18Crash(t *testing.T, sc r18Scenario, at int, mode r18Mode) (map[string]any, int, string) {
	t.Helper()
	h := r18Harness(t)
	for _, p := range sc.pre {
		r18Process(t, h, p)
	}
	f := &r18Faults{at: at, mode: mode}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	plainFS, plainAuth := h.svc.Firestore, h.svc.Auth
	h.svc.Firestore, h.svc.Auth = r18Client(t, h.project, f), &r18Claims{next: plainAuth, f: f}
	res, err := h.svc.Process(ctx, r18Event(t, sc.event))
	h.svc.Firestore, h.svc.Auth = plainFS, plainAuth
	what := fmt.Sprintf("first delivery: %s", res.Status)
	if err != nil {
		what = fmt.Sprintf("first delivery: 500 (%v); redelivered: %s", err, r18Process(t, h, sc.event).Status)
	}
	if at == 0 {
		what += "; RPCs: " + strings.Join(f.calls, " ")
	}
	return r18State(t, h), f.count(), what
}

// TestReview18WebhookCrashPoints is the sweep: for each scenario, every
// RPC of the uninterrupted run, each mode.
func TestReview18WebhookCrashPoints(t *testing.T) {
	for _, sc := range r18Scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			want, n, what := r18Crash(t, sc, 0, "")
			t.Logf("%s: %d RPCs uninterrupted (%s)", sc.name, n, what)
			exercised, redelivered := 0, 0
			for k := 1; k <= n; k++ {
				for _, mode := range r18Modes {
					got, _, what := r18Crash(t, sc, k, mode)
					exercised++
					if strings.Contains(what, "redelivered") {
						redelivered++
					}
					if d := r18Diff(want, got); len(d) > 0 {
						t.Errorf("killed %s RPC %d of %d: %s; end state differs:\n  %s", mode, k, n, what, strings.Join(d, "\n  "))
					}
				}
			}
			t.Logf("%s: %d crash points exercised, %d answered 500 and were redelivered", sc.name, exercised, redelivered)
			if redelivered == 0 {
				t.Error("no crash point failed the delivery: the fault injection does not reach the handler")
			}
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
			if d := r18Diff(want, r18State(t, h)); len(d) > 0 {
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
			if d := r18Diff(ab, ba); len(d) > 0 {
				t.Errorf("reversed order ends elsewhere (got: reversed, want: in order):\n  %s", strings.Join(d, "\n  "))
			}
		})
	}
}
