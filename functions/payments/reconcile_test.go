package payments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// TestReconcileAgainstStripeMock runs the daily job against stripe-mock
// (which lists one fixed plan.created event): the listing asks for events
// since the checkpoint (at most 30 days back), the event missing from the
// inbox is replayed (recorded as ignored), the checkpoint is stored, and a
// second run finds the event present.
func TestReconcileAgainstStripeMock(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.Reconcile(t.Context(), &events.PubSubMessage{ID: "m1", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// One list per day of the window, contiguous, the last one open.
	lists := h.rec.find("GET", "/v1/events")
	if want := int(ReconcileWindow / reconcileSlice); len(lists) != want {
		t.Fatalf("%d list requests, want %d", len(lists), want)
	}
	floor := testNow.Add(-ReconcileWindow).Unix()
	if got := lists[0].Form.Get("created[gte]"); got != strconv.FormatInt(floor, 10) {
		t.Errorf("created[gte] = %s, want %d (30 days back)", got, floor)
	}
	for i := 1; i < len(lists); i++ {
		if lists[i].Form.Get("created[gte]") != lists[i-1].Form.Get("created[lt]") {
			t.Errorf("list %d starts at %s, the previous one ends at %s", i, lists[i].Form.Get("created[gte]"), lists[i-1].Form.Get("created[lt]"))
		}
	}
	if lt := lists[len(lists)-1].Form.Get("created[lt]"); lt != "" {
		t.Errorf("last list ends at %s, want open", lt)
	}
	if n := h.count("webhook_events"); n != 1 {
		t.Errorf("%d inbox records after replay, want 1", n)
	}
	var j model.Job
	if !h.get("jobs/"+ReconcileJob, &j) {
		t.Fatal("no checkpoint")
	}
	cp, _ := j.Checkpoint["since"].(time.Time)
	if !cp.Equal(testNow.Add(-time.Hour)) {
		t.Errorf("checkpoint = %v", j.Checkpoint)
	}
	rep, err := h.svc.Replay(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Listed != 1 || rep.Present != 1 || rep.Replayed != 0 || !rep.Since.Equal(cp) || !rep.Done {
		t.Errorf("second run = %+v", rep)
	}
	if err := h.svc.Reconcile(t.Context(), &events.PubSubMessage{ID: "m2", Data: []byte(`{"since": 5}`)}); err == nil {
		t.Error("malformed body accepted")
	}
}

// fakeEventList serves GET /v1/events as Stripe does: newest first, the
// created[gte] and created[lt] filters, limit and starting_after. It
// records each request's query.
type fakeEventList struct {
	mu      sync.Mutex
	events  []map[string]any // newest first
	queries []url.Values
}

func (f *fakeEventList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/v1/events" {
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"not faked"}}`, http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	bound := func(k string) (int64, bool) {
		v := q.Get(k)
		n, err := strconv.ParseInt(v, 10, 64)
		return n, v != "" && err == nil
	}
	limit, ok := bound("limit")
	if !ok {
		limit = 10
	}
	var page []map[string]any
	more := false
	after := q.Get("starting_after")
	skipping := after != ""
	for _, ev := range f.events {
		c := ev["created"].(int64)
		if gte, ok := bound("created[gte]"); ok && c < gte {
			continue
		}
		if lt, ok := bound("created[lt]"); ok && c >= lt {
			continue
		}
		if skipping {
			skipping = ev["id"] != after
			continue
		}
		if int64(len(page)) == limit {
			more = true
			break
		}
		page = append(page, ev)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "url": "/v1/events", "has_more": more, "data": page})
}

// TestReplayBudgetResumesAtCheckpoint replays 40 missing events (pairs
// sharing a second, spread over three days) with a run budget of a few
// events: each run stops early, stores a checkpoint later than the last
// one, and the next run resumes there, until a run gets through the
// window. Every event is taken into effect once (one inbox attempt each):
// none skipped, none replayed twice; what a run lists again (the events of
// the second it stopped in) is found in the inbox.
func TestReplayBudgetResumesAtCheckpoint(t *testing.T) {
	h := newHarness(t)
	const n = 40
	fake := &fakeEventList{}
	base := testNow.Add(-72 * time.Hour).Unix()
	for i := n - 1; i >= 0; i-- {
		id := fmt.Sprintf("evt_budget_%02d", i)
		raw := event(id, "plan.created", base+int64(i/2)*12600, map[string]any{"id": fmt.Sprintf("plan_%02d", i), "object": "plan"})
		var ev map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&ev); err != nil {
			t.Fatal(err)
		}
		created, _ := ev["created"].(json.Number).Int64()
		ev["created"] = created
		fake.events = append(fake.events, ev)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	h.svc.Stripe = NewStripe("sk_test_123", srv.URL, nil)
	// Each reading of the clock is a second later.
	var ticks atomic.Int64
	h.svc.Now = func() time.Time { return testNow.Add(time.Duration(ticks.Add(1)) * time.Second) }

	var total ReplayReport
	prev := time.Time{}
	runs := 0
	for ; runs < 3*n; runs++ {
		start := h.svc.Now()
		rep, err := h.svc.replayWithin(t.Context(), time.Time{}, 5*time.Second)
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		if runs > 0 && !rep.Since.Equal(prev) {
			t.Errorf("run %d started at %v, want the checkpoint %v", runs, rep.Since, prev)
		}
		total.Listed += rep.Listed
		total.Present += rep.Present
		total.Replayed += rep.Replayed
		total.Skipped += rep.Skipped
		total.Failed += rep.Failed
		var j model.Job
		if !h.get("jobs/"+ReconcileJob, &j) {
			t.Fatalf("run %d stored no checkpoint", runs)
		}
		cp, _ := j.Checkpoint["since"].(time.Time)
		if !cp.Equal(rep.Checkpoint) {
			t.Errorf("run %d: stored checkpoint %v, reported %v", runs, cp, rep.Checkpoint)
		}
		if rep.Done {
			if want := start.Add(-reconcileOverlap); cp.Before(want.Add(-time.Second)) || cp.After(want.Add(time.Second)) {
				t.Errorf("last run's checkpoint %v, want about %v", cp, want)
			}
			break
		}
		if !cp.After(rep.Since) {
			t.Fatalf("run %d stopped early without advancing: since %v, checkpoint %v", runs, rep.Since, cp)
		}
		prev = cp
	}
	t.Logf("%d runs, %d list requests, %+v", runs+1, len(fake.queries), total)
	if runs < 3 {
		t.Errorf("%d runs: the budget did not stop any run early", runs+1)
	}
	if total.Replayed != n || total.Skipped != 0 || total.Failed != 0 || total.Present+total.Replayed != total.Listed {
		t.Errorf("over %d runs: %+v, want %d replayed", runs+1, total, n)
	}
	if got := h.count("webhook_events"); got != n {
		t.Errorf("%d inbox records, want %d", got, n)
	}
	for _, ev := range fake.events {
		var rec model.WebhookEvent
		if !h.get("webhook_events/"+ev["id"].(string), &rec) {
			t.Errorf("%s never replayed", ev["id"])
			continue
		}
		if rec.Attempts != 1 || rec.Status != StatusIgnored {
			t.Errorf("%s: status %s after %d attempts, want ignored after 1", ev["id"], rec.Status, rec.Attempts)
		}
	}
}

// TestReplayProcessesMissingEvents: events missing from the inbox are
// taken into effect, present ones are skipped, events of another mode or
// API version are not touched.
func TestReplayProcessesMissingEvents(t *testing.T) {
	h := newHarness(t)
	h.seed()
	parse := func(b []byte) *stripe.Event {
		var ev stripe.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		return &ev
	}
	present := event("evt_r1", "payment_intent.succeeded", t0, objPI("pi_r1", "cus_1", "succeeded", 500, nil, false))
	if code, _ := h.deliver(present); code != 200 {
		t.Fatal("setup delivery failed")
	}
	evs := []*stripe.Event{
		parse(present),
		parse(event("evt_r2", "payment_intent.succeeded", t0, objPI("pi_r2", "cus_1", "succeeded", 700, nil, false))),
		parse(eventWith("evt_r3", "payment_intent.succeeded", t0, objPI("pi_r3", "cus_1", "succeeded", 700, nil, false), map[string]any{"livemode": true})),
		parse(eventWith("evt_r4", "payment_intent.succeeded", t0, objPI("pi_r4", "cus_1", "succeeded", 700, nil, false), map[string]any{"api_version": "2020-08-27"})),
	}
	var rep ReplayReport
	var oldest time.Time
	h.svc.replay(t.Context(), evs, &rep, &oldest, nil)
	if rep.Listed != 4 || rep.Present != 1 || rep.Replayed != 1 || rep.Skipped != 2 || rep.Failed != 0 {
		t.Errorf("report = %+v", rep)
	}
	var p model.Payment
	if !h.get("payments/pi_r2", &p) || p.Amount != 700 {
		t.Errorf("replayed payment = %+v", p)
	}
	for _, id := range []string{"pi_r3", "pi_r4"} {
		if h.get("payments/"+id, &p) {
			t.Errorf("%s written", id)
		}
	}
}

// TestMergePaymentOrderIndependent folds the facts of a payment's events
// in every order and expects one result.
func TestMergePaymentOrderIndependent(t *testing.T) {
	at := func(d int64) time.Time { return time.Unix(t0+d, 0).UTC() }
	facts := []paymentFacts{
		{docID: "pi", piID: "pi", base: model.PaymentFailed, at: at(0), amount: 1000, currency: "sek", customerID: "cus", uid: "u"},
		{docID: "pi", piID: "pi", base: model.PaymentPending, at: at(5), amount: 1000, currency: "sek", programID: "p"},
		{docID: "pi", piID: "pi", base: model.PaymentSucceeded, at: at(10), paidAt: at(9), amount: 1000, chargeID: "ch"},
		{docID: "pi", piID: "pi", base: model.PaymentSucceeded, at: at(50), stub: true,
			refunds: []model.Refund{{RefundID: "re1", Amount: 300, Status: "pending", CreatedAt: at(50)}}},
		{docID: "pi", piID: "pi", base: model.PaymentSucceeded, at: at(60), stub: true,
			refunds: []model.Refund{{RefundID: "re1", Amount: 300, Status: "succeeded", CreatedAt: at(50)}}},
		{docID: "pi", piID: "pi", base: model.PaymentSucceeded, at: at(70), paidAt: at(9), reportedRefund: 300, chargeID: "ch"},
		{docID: "pi", piID: "pi", base: model.PaymentSucceeded, at: at(80), stub: true,
			dispute: &model.Dispute{DisputeID: "dp", Amount: 700, Status: "needs_response", Open: true, CreatedAt: at(80)}},
	}
	var want string
	n := 0
	permute(len(facts), func(order []int) {
		var cur *model.Payment
		for _, i := range order {
			p := mergePayment(cur, facts[i], "u")
			cur = &p
		}
		got := store.Hash(*cur)
		if n == 0 {
			want = got
			if cur.Status != model.PaymentPartiallyRefunded || !cur.PaymentDate.Equal(at(9)) || cur.RefundDetails.AmountRefunded != 300 {
				t.Errorf("merged = %+v", *cur)
			}
		} else if got != want {
			t.Fatalf("order %v gives %+v %+v %+v", order, *cur, cur.RefundDetails, cur.Dispute)
		}
		n++
	})
}

// permute calls f with every permutation of 0..n-1 (Heap's algorithm).
func permute(n int, f func([]int)) {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	c := make([]int, n)
	f(a)
	for i := 0; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				a[0], a[i] = a[i], a[0]
			} else {
				a[c[i]], a[i] = a[i], a[c[i]]
			}
			f(a)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}
