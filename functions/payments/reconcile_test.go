package payments

import (
	"encoding/json"
	"strconv"
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
	lists := h.rec.find("GET", "/v1/events")
	if len(lists) != 1 {
		t.Fatalf("%d list requests", len(lists))
	}
	floor := testNow.Add(-ReconcileWindow).Unix()
	if got := lists[0].Form.Get("created[gte]"); got != strconv.FormatInt(floor, 10) {
		t.Errorf("created[gte] = %s, want %d (30 days back)", got, floor)
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
	if rep.Listed != 1 || rep.Present != 1 || rep.Replayed != 0 || !rep.Since.Equal(cp) {
		t.Errorf("second run = %+v", rep)
	}
	if err := h.svc.Reconcile(t.Context(), &events.PubSubMessage{ID: "m2", Data: []byte(`{"since": 5}`)}); err == nil {
		t.Error("malformed body accepted")
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
	h.svc.replay(t.Context(), evs, &rep, &oldest)
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
