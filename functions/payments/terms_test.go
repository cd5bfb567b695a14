package payments

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// termsOf reads payments/{pi}.programTerms (nil when the payment or the
// field is missing).
func (h *harness) termsOf(pi string) *model.ProgramTerms {
	h.t.Helper()
	var p model.Payment
	if !h.get("payments/"+pi, &p) {
		return nil
	}
	return p.ProgramTerms
}

// programVersion returns the Firestore create and update times of
// programs/{id}.
func (h *harness) programVersion(id string) (created, updated time.Time) {
	h.t.Helper()
	snap, err := h.db.Doc("programs/" + id).Get(context.Background())
	if err != nil {
		h.t.Fatalf("read program %s: %v", id, err)
	}
	return snap.CreateTime.UTC(), snap.UpdateTime.UTC()
}

// checkTerms compares frozen terms with want, ignoring the program's
// create and update times when want leaves them unset, and telling an
// empty list or map from an absent one apart nowhere (Firestore does not).
func checkTerms(t *testing.T, got, want *model.ProgramTerms) {
	t.Helper()
	if got == nil || want == nil {
		if got != want {
			t.Fatalf("programTerms = %+v, want %+v", got, want)
		}
		return
	}
	g := *got
	if want.ProgramCreateTime == nil {
		g.ProgramCreateTime = nil
	}
	if want.ProgramUpdateTime == nil {
		g.ProgramUpdateTime = nil
	}
	if !g.FrozenAt.Equal(want.FrozenAt) {
		t.Errorf("frozenAt = %v, want %v", g.FrozenAt, want.FrozenAt)
	}
	g.FrozenAt = want.FrozenAt
	w := *want
	for _, x := range []*model.ProgramTerms{&g, &w} { // empty and absent alike
		if len(x.CoachIDs) == 0 {
			x.CoachIDs = nil
		}
		if len(x.CoachSplits) == 0 {
			x.CoachSplits = nil
		}
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("programTerms = %+v, want %+v", g, *want)
	}
}

// TestWebhookFreezesProgramTerms: the transaction that first records a
// program payment as paid freezes the program's terms (coaches, splits,
// commission, the program's version) on the payment; a payment that is not
// paid yet, or has no program, carries none; a missing program is frozen
// as such; malformed terms are frozen as rejected values without blocking
// the event; a payment kept pseudonymised after its user's erasure gets
// them too (its coaches are still paid).
func TestWebhookFreezesProgramTerms(t *testing.T) {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	coaches := []string{"coach-1", "coach-2"}
	found := &model.ProgramTerms{ProgramFound: true, CoachIDs: coaches, FrozenAt: testNow}
	cases := []struct {
		name   string
		setup  func(h *harness)
		events [][]byte
		// program is the program whose version the terms must carry ("":
		// none).
		program string
		want    *model.ProgramTerms
	}{
		{"payment_intent.succeeded", nil, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900, u1p, false)),
		}, "prog-1", found},
		{"checkout.session.completed, paid", nil, [][]byte{
			event("evt_t1", "checkout.session.completed", t0, objCheckout("cs_t", "pi_t", "cus_1", "u1", "prog-1", 49900, "paid")),
		}, "prog-1", found},
		{"still processing: no terms yet", nil, [][]byte{
			event("evt_t1", "payment_intent.processing", t0, objPI("pi_t", "cus_1", "processing", 49900, u1p, false)),
		}, "", nil},
		{"processing, then succeeded", nil, [][]byte{
			event("evt_t1", "payment_intent.processing", t0, objPI("pi_t", "cus_1", "processing", 49900, u1p, false)),
			event("evt_t2", "payment_intent.succeeded", t0+60, objPI("pi_t", "cus_1", "succeeded", 49900, u1p, false)),
		}, "prog-1", found},
		{"a refund seen first (no program yet), then the success", nil, [][]byte{
			event("evt_t1", "refund.created", t0+100, objRefund("re_t", "pi_t", "ch_t", 10000, "succeeded", t0+100)),
			event("evt_t2", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900, u1p, false)),
		}, "prog-1", found},
		{"no program", nil, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900, map[string]any{"uid": "u1"}, false)),
		}, "", nil},
		{"program missing when paid", nil, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900,
				map[string]any{"uid": "u1", "programId": "prog-gone"}, false)),
		}, "", &model.ProgramTerms{ProgramFound: false, CoachIDs: []string{}, FrozenAt: testNow}},
		{"program id that cannot be a document id", nil, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900,
				map[string]any{"uid": "u1", "programId": "a/b"}, false)),
		}, "", &model.ProgramTerms{ProgramFound: false, CoachIDs: []string{}, FrozenAt: testNow}},
		{"admin-set split and commission", func(h *harness) {
			h.set("programs/prog-1", map[string]any{"programId": "prog-1", "title": "Calm Mind", "createdBy": []any{"coach-1", "coach-2"},
				"price": 49900, "currency": "SEK", "coachSplits": map[string]any{"coach-1": 7000, "coach-2": 3000}, "commissionBps": 1500})
		}, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900, u1p, false)),
		}, "prog-1", &model.ProgramTerms{ProgramFound: true, CoachIDs: coaches, CoachSplits: map[string]int{"coach-1": 7000, "coach-2": 3000},
			CommissionBps: ptr(1500), FrozenAt: testNow}},
		{"malformed split values and commission are kept as rejected", func(h *harness) {
			h.set("programs/prog-1", map[string]any{"programId": "prog-1", "title": "Calm Mind", "createdBy": []any{"coach-1", 7},
				"coachSplits": map[string]any{"coach-1": "10000"}, "commissionBps": 12.5})
		}, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900, u1p, false)),
		}, "prog-1", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"coach-1"}, CoachSplits: map[string]int{"coach-1": -1},
			CommissionBps: ptr(-1), FrozenAt: testNow}},
		{"splits that are not a map", func(h *harness) {
			h.set("programs/prog-1", map[string]any{"programId": "prog-1", "title": "Calm Mind", "createdBy": []any{"coach-1"},
				"coachSplits": "all to coach-1"})
		}, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "cus_1", "succeeded", 49900, u1p, false)),
		}, "prog-1", &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"coach-1"}, CoachSplitsInvalid: true, FrozenAt: testNow}},
		{"erased user: the payment is held, its coaches' terms are frozen", func(h *harness) {
			h.eraseUser("u1", model.GDPRDone)
		}, [][]byte{
			event("evt_t1", "payment_intent.succeeded", t0, objPI("pi_t", "", "succeeded", 49900, u1p, false)),
		}, "prog-1", found},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			if tc.setup != nil {
				tc.setup(h)
			}
			for _, ev := range tc.events {
				h.mustDeliver(ev)
			}
			want := tc.want
			if tc.program != "" {
				c, u := h.programVersion(tc.program)
				w := *want
				w.ProgramCreateTime, w.ProgramUpdateTime = &c, &u
				want = &w
			}
			checkTerms(t, h.termsOf("pi_t"), want)
		})
	}
}

// TestFrozenTermsSurviveLaterEvents: once a payment's terms are frozen, no
// later event for the payment changes them, although the program changed
// in between (deleted by an admin and created again by another coach with
// other terms): a duplicate delivery, the same event replayed after its
// inbox record expired, a late checkout event, refunds, a dispute lost and
// a full refund.
func TestFrozenTermsSurviveLaterEvents(t *testing.T) {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	paidEvent := event("evt_f1", "payment_intent.succeeded", t0, objPI("pi_f", "cus_1", "succeeded", 49900, u1p, false))
	later := []struct {
		name string
		ev   []byte
		// expire deletes the event's inbox record first (TTL), so that it
		// is applied again.
		expire string
	}{
		{"duplicate delivery", paidEvent, ""},
		{"replay after the inbox record expired", paidEvent, "evt_f1"},
		{"late checkout.session.completed", event("evt_f2", "checkout.session.completed", t0+5,
			objCheckout("cs_f", "pi_f", "cus_1", "u1", "prog-1", 49900, "paid")), ""},
		{"charge.succeeded", event("evt_f3", "charge.succeeded", t0+1, objCharge("ch_f", "pi_f", "cus_1", 49900, 0)), ""},
		{"partial refund", event("evt_f4", "charge.refunded", t0+100, objCharge("ch_f", "pi_f", "cus_1", 49900, 10000)), ""},
		{"refund.updated", event("evt_f5", "refund.updated", t0+160, objRefund("re_f1", "pi_f", "ch_f", 10000, "succeeded", t0+100)), ""},
		{"dispute opened", event("evt_f6", "charge.dispute.created", t0+1000, objDispute("dp_f", "pi_f", "ch_f", 39900, "needs_response")), ""},
		{"dispute lost", event("evt_f7", "charge.dispute.closed", t0+2000, objDispute("dp_f", "pi_f", "ch_f", 39900, "lost")), ""},
		{"full refund", event("evt_f8", "charge.refunded", t0+3000, objCharge("ch_f", "pi_f", "cus_1", 49900, 49900)), ""},
	}
	h := newHarness(t)
	h.seed()
	h.mustDeliver(paidEvent)
	first := h.termsOf("pi_f")
	if first == nil || !first.ProgramFound || !slices.Equal(first.CoachIDs, []string{"coach-1", "coach-2"}) {
		t.Fatalf("terms after the payment = %+v", first)
	}

	// An admin deletes the program; another coach creates it again with
	// other terms.
	if _, err := h.db.Doc("programs/prog-1").Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.set("programs/prog-1", map[string]any{"programId": "prog-1", "title": "Taken", "createdBy": []any{"coach-x"},
		"coachSplits": map[string]any{"coach-x": 10000}, "commissionBps": 0})

	for _, l := range later {
		if l.expire != "" {
			if _, err := h.db.Doc("webhook_events/" + l.expire).Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		h.mustDeliver(l.ev)
		if got := h.termsOf("pi_f"); !reflect.DeepEqual(got, first) {
			t.Errorf("after %s: programTerms = %+v, want %+v", l.name, got, first)
		}
	}
	var p model.Payment
	if !h.get("payments/pi_f", &p) || p.Status != model.PaymentRefunded {
		t.Errorf("payment status %s, want refunded (the later events were applied)", p.Status)
	}
}

// TestTermsFrozenInEveryOrder: whichever of a payment's events comes first,
// the payment ends with the program's terms (the program unchanged).
func TestTermsFrozenInEveryOrder(t *testing.T) {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	events := [][]byte{
		event("evt_o1", "payment_intent.succeeded", t0, objPI("pi_o", "cus_1", "succeeded", 49900, u1p, false)),
		event("evt_o2", "checkout.session.completed", t0, objCheckout("cs_o", "pi_o", "cus_1", "u1", "prog-1", 49900, "paid")),
		event("evt_o3", "refund.created", t0+100, objRefund("re_o", "pi_o", "ch_o", 10000, "succeeded", t0+100)),
		event("evt_o4", "charge.dispute.created", t0+1000, objDispute("dp_o", "pi_o", "ch_o", 39900, "needs_response")),
	}
	permute(len(events), func(order []int) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			for _, i := range order {
				h.mustDeliver(events[i])
			}
			c, u := h.programVersion("prog-1")
			checkTerms(t, h.termsOf("pi_o"), &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"coach-1", "coach-2"},
				ProgramCreateTime: &c, ProgramUpdateTime: &u, FrozenAt: testNow})
		})
	})
}

// TestLegacyPaymentKeepsNoTerms: a payment recorded as paid before terms
// were frozen gets none from a later event (a refund, a redelivered
// success): the program's terms now are not those of the sale, and the
// payouts read the program for it, as before (documented fallback).
func TestLegacyPaymentKeepsNoTerms(t *testing.T) {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	cases := []struct {
		name string
		ev   []byte
	}{
		{"partial refund", event("evt_l1", "charge.refunded", t0+100, objCharge("ch_l", "pi_l", "cus_1", 49900, 10000))},
		{"dispute", event("evt_l2", "charge.dispute.created", t0+1000, objDispute("dp_l", "pi_l", "ch_l", 39900, "needs_response"))},
		{"success delivered again", event("evt_l3", "payment_intent.succeeded", t0, objPI("pi_l", "cus_1", "succeeded", 49900, u1p, false))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			paid := time.Unix(t0, 0).UTC()
			h.set("payments/pi_l", model.Payment{PaymentID: "pi_l", UserID: "u1", Amount: 49900, Currency: "SEK", PaymentDate: paid,
				Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: "pi_l", Description: "Enrollment in Calm Mind",
				ProgramID: ptr("prog-1"), ChargeID: "ch_l", CustomerID: "cus_1", SourceUpdated: paid, CreatedAt: paid, UpdatedAt: paid})
			h.mustDeliver(tc.ev)
			if got := h.termsOf("pi_l"); got != nil {
				t.Errorf("legacy payment got programTerms %+v", got)
			}
		})
	}
}
