package payments

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// scenario is a set of events whose final state is known, whatever the
// order and number of their deliveries.
type scenario struct {
	name   string
	events [][]byte
	// ignored counts the events expected to be recorded as ignored.
	check func(t *testing.T, h *harness)
}

func scenarios() []scenario {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	return []scenario{
		{
			// A purchase, a partial refund (reported by the charge and by
			// the refund object), a dispute opened and won.
			name: "purchase, partial refund, dispute won",
			events: [][]byte{
				event("evt_a1", "checkout.session.completed", t0, objCheckout("cs_a", "pi_a", "cus_1", "u1", "prog-1", 49900, "paid")),
				event("evt_a2", "payment_intent.succeeded", t0+1, objPI("pi_a", "cus_1", "succeeded", 49900, u1p, false)),
				event("evt_a3", "charge.succeeded", t0+1, objCharge("ch_a", "pi_a", "cus_1", 49900, 0)),
				event("evt_a4", "refund.created", t0+100, objRefund("re_a1", "pi_a", "ch_a", 10000, "pending", t0+100)),
				event("evt_a5", "charge.refunded", t0+100, objCharge("ch_a", "pi_a", "cus_1", 49900, 10000)),
				event("evt_a6", "refund.updated", t0+160, objRefund("re_a1", "pi_a", "ch_a", 10000, "succeeded", t0+100)),
				event("evt_a7", "charge.dispute.created", t0+1000, objDispute("dp_a", "pi_a", "ch_a", 39900, "needs_response")),
				event("evt_a8", "charge.dispute.updated", t0+1100, objDispute("dp_a", "pi_a", "ch_a", 39900, "under_review")),
				event("evt_a9", "charge.dispute.closed", t0+2000, objDispute("dp_a", "pi_a", "ch_a", 39900, "won")),
			},
			check: func(t *testing.T, h *harness) {
				var p model.Payment
				if !h.get("payments/pi_a", &p) {
					t.Fatal("payment missing")
				}
				want := model.Payment{PaymentID: "pi_a", UserID: "u1", Amount: 49900, Currency: "SEK", Status: model.PaymentPartiallyRefunded,
					Processor: "stripe", ProcessorPaymentID: "pi_a", ChargeID: "ch_a", CustomerID: "cus_1",
					PaymentDate: time.Unix(t0, 0).UTC(), SourceUpdated: time.Unix(t0+2000, 0).UTC(), Description: "Enrollment in Calm Mind"}
				if p.UserID != want.UserID || p.Amount != want.Amount || p.Currency != want.Currency || p.Status != want.Status ||
					p.ChargeID != want.ChargeID || p.CustomerID != want.CustomerID || !p.PaymentDate.Equal(want.PaymentDate) ||
					!p.SourceUpdated.Equal(want.SourceUpdated) || deref(p.ProgramID) != "prog-1" || p.Description != want.Description {
					t.Errorf("payment = %+v", p)
				}
				if rd := p.RefundDetails; rd == nil || rd.AmountRefunded != 10000 || len(rd.Refunds) != 1 || rd.Refunds[0].Status != "succeeded" {
					t.Errorf("refund details = %+v", rd)
				}
				if d := p.Dispute; d == nil || d.Status != "won" || d.Open || d.Lost || d.ClosedAt == nil || !d.ClosedAt.Equal(time.Unix(t0+2000, 0)) {
					t.Errorf("dispute = %+v", d)
				}
				var e model.Enrollment
				if !h.get("enrollments/u1_prog-1", &e) || e.Status != EnrollmentActive || e.PaymentID != "pi_a" {
					t.Errorf("enrollment = %+v", e)
				}
				if n := h.count("users/u1/coaches"); n != 2 {
					t.Errorf("%d coach assignments, want 2", n)
				}
			},
		},
		{
			// A failed attempt, a success, then a full refund: access ends.
			name: "failed attempt, success, full refund",
			events: [][]byte{
				event("evt_b1", "payment_intent.payment_failed", t0, objPI("pi_b", "cus_1", "requires_payment_method", 49900, u1p, true)),
				event("evt_b2", "payment_intent.processing", t0+30, objPI("pi_b", "cus_1", "processing", 49900, u1p, false)),
				event("evt_b3", "payment_intent.succeeded", t0+60, objPI("pi_b", "cus_1", "succeeded", 49900, u1p, false)),
				event("evt_b4", "checkout.session.completed", t0+60, objCheckout("cs_b", "pi_b", "cus_1", "u1", "prog-1", 49900, "paid")),
				event("evt_b5", "charge.refunded", t0+500, objCharge("ch_b", "pi_b", "cus_1", 49900, 49900)),
				event("evt_b6", "refund.created", t0+500, objRefund("re_b1", "pi_b", "ch_b", 49900, "succeeded", t0+500)),
			},
			check: func(t *testing.T, h *harness) {
				var p model.Payment
				if !h.get("payments/pi_b", &p) || p.Status != model.PaymentRefunded || p.RefundDetails == nil ||
					p.RefundDetails.AmountRefunded != 49900 || len(p.RefundDetails.Refunds) != 1 {
					t.Errorf("payment = %+v %+v", p, p.RefundDetails)
				}
				if !p.PaymentDate.Equal(time.Unix(t0, 0)) { // the charge's own time
					t.Errorf("paymentDate = %v", p.PaymentDate)
				}
				var e model.Enrollment
				if !h.get("enrollments/u1_prog-1", &e) || e.Status != EnrollmentRevoked {
					t.Errorf("enrollment = %+v", e)
				}
				if n := h.count("users/u1/coaches"); n != 0 {
					t.Errorf("%d coach assignments left after the refund", n)
				}
			},
		},
		{
			// A full refund that fails: the money stays with us and so
			// does the user's access.
			name: "success, full refund failed",
			events: [][]byte{
				event("evt_e1", "payment_intent.succeeded", t0+1, objPI("pi_e", "cus_1", "succeeded", 49900, u1p, false)),
				event("evt_e2", "refund.created", t0+100, objRefund("re_e", "pi_e", "ch_e", 49900, "pending", t0+100)),
				event("evt_e3", "refund.updated", t0+200, objRefund("re_e", "pi_e", "ch_e", 49900, "failed", t0+100)),
			},
			check: func(t *testing.T, h *harness) {
				var p model.Payment
				if !h.get("payments/pi_e", &p) || p.Status != model.PaymentSucceeded || p.RefundDetails == nil || p.RefundDetails.AmountRefunded != 0 {
					t.Errorf("payment = %+v %+v", p, p.RefundDetails)
				}
				var e model.Enrollment
				if !h.get("enrollments/u1_prog-1", &e) || e.Status != EnrollmentActive || e.PaymentID != "pi_e" {
					t.Errorf("enrollment = %+v", e)
				}
				if n := h.count("users/u1/coaches"); n != 2 {
					t.Errorf("%d coach assignments, want 2", n)
				}
			},
		},
		{
			// Two payments for one program, one of them refunded: the
			// other keeps the user enrolled.
			name: "duplicate payment, one refunded",
			events: [][]byte{
				event("evt_f1", "payment_intent.succeeded", t0, objPI("pi_f1", "cus_1", "succeeded", 49900, u1p, false)),
				event("evt_f2", "payment_intent.succeeded", t0+5, objPI("pi_f2", "cus_1", "succeeded", 49900, u1p, false)),
				event("evt_f3", "charge.refunded", t0+100, objCharge("ch_f1", "pi_f1", "cus_1", 49900, 49900)),
			},
			check: func(t *testing.T, h *harness) {
				var e model.Enrollment
				if !h.get("enrollments/u1_prog-1", &e) || e.Status != EnrollmentActive || e.PaymentID != "pi_f2" {
					t.Errorf("enrollment = %+v", e)
				}
				if n := h.count("users/u1/coaches"); n != 2 {
					t.Errorf("%d coach assignments, want 2", n)
				}
			},
		},
		{
			// Two subscriptions: one incomplete → active → renewed (with a
			// failed then paid first invoice), one active then canceled.
			name: "subscriptions and entitlements",
			events: [][]byte{
				event("evt_c1", "customer.subscription.created", t0, objSub("sub_1", "cus_1", "incomplete", []string{"price_premium"}, t0+30*86400, nil)),
				event("evt_c2", "invoice.payment_failed", t0+5, objInvoice("in_1", "sub_1", "cus_1", "pi_in1", 9900, t0, false)),
				event("evt_c3", "invoice.paid", t0+60, objInvoice("in_1", "sub_1", "cus_1", "pi_in1", 9900, t0, true)),
				event("evt_c4", "customer.subscription.updated", t0+60, objSub("sub_1", "cus_1", "active", []string{"price_premium"}, t0+30*86400, nil)),
				event("evt_c5", "invoice.paid", t0+30*86400+60, objInvoice("in_2", "sub_1", "cus_1", "pi_in2", 9900, t0+30*86400, true)),
				event("evt_c6", "customer.subscription.updated", t0+30*86400+60, objSub("sub_1", "cus_1", "active", []string{"price_premium"}, t0+60*86400, nil)),
				event("evt_c7", "customer.subscription.created", t0, objSub("sub_2", "cus_1", "active", []string{"price_journal"}, t0+30*86400, nil)),
				event("evt_c8", "customer.subscription.deleted", t0+86400, objSub("sub_2", "cus_1", "canceled", []string{"price_journal"}, t0+30*86400, nil)),
				event("evt_c9", "customer.subscription.updated", t0+3600, objSub("sub_2", "cus_1", "past_due", []string{"price_journal"}, t0+30*86400, nil)),
			},
			check: func(t *testing.T, h *harness) {
				var s1, s2 model.Subscription
				h.get("subscriptions/sub_1", &s1)
				h.get("subscriptions/sub_2", &s2)
				if s1.Status != "active" || !s1.CurrentPeriodEnd.Equal(time.Unix(t0+60*86400, 0)) || s1.LatestInvoiceID != "in_2" ||
					s1.LatestInvoiceState != "paid" || !slices.Equal(s1.Entitlements, []string{"premium"}) || s1.UserID != "u1" {
					t.Errorf("sub_1 = %+v", s1)
				}
				if s2.Status != "canceled" || s2.CanceledAt == nil {
					t.Errorf("sub_2 = %+v", s2)
				}
				var p1, p2 model.Payment
				if !h.get("payments/pi_in1", &p1) || p1.Status != model.PaymentSucceeded || deref(p1.SubscriptionID) != "sub_1" || p1.InvoiceURL == "" {
					t.Errorf("first invoice payment = %+v", p1)
				}
				if !h.get("payments/pi_in2", &p2) || p2.Status != model.PaymentSucceeded || p2.Amount != 9900 {
					t.Errorf("renewal payment = %+v", p2)
				}
				got := h.claims.users["u1"]
				ents, _ := got["entitlements"].([]string)
				if got["admin"] != true || !slices.Equal(ents, []string{"premium"}) {
					t.Errorf("claims = %v", got)
				}
			},
		},
		{
			// Connect onboarding and two payouts (one paid, one reversed).
			name: "connect account and payouts",
			events: [][]byte{
				event("evt_d1", "account.updated", t0, objAccount("acct_1", "coach-1", false, false, []string{"individual.dob.day"}, "requirements.past_due")),
				event("evt_d2", "account.updated", t0+100, objAccount("acct_1", "coach-1", false, true, []string{"external_account"}, "")),
				event("evt_d3", "account.updated", t0+200, objAccount("acct_1", "coach-1", true, true, nil, "")),
				event("evt_d4", "transfer.created", t0+300, objTransfer("tr_1", "po-1", 30000, 0)),
				event("evt_d5", "payout.paid", t0+90000, objPayout("po_1", "po-1", "paid", "")),
				event("evt_d6", "transfer.created", t0+300, objTransfer("tr_2", "po-2", 20000, 0)),
				event("evt_d7", "transfer.reversed", t0+400, objTransfer("tr_2", "po-2", 20000, 20000)),
			},
			check: func(t *testing.T, h *harness) {
				var cc model.CoachConnect
				if !h.get("coach_profiles/coach-1/private/connect", &cc) || !cc.PayoutsEnabled || cc.PayoutsReason != "" || cc.AccountUpdated == nil ||
					!cc.AccountUpdated.Equal(time.Unix(t0+200, 0)) {
					t.Errorf("connect state = %+v", cc)
				}
				var p1, p2 model.Payout
				h.get("payouts/po-1", &p1)
				h.get("payouts/po-2", &p2)
				if p1.Status != model.PayoutCompleted || p1.SourceUpdated == nil || !p1.SourceUpdated.Equal(time.Unix(t0+90000, 0)) {
					t.Errorf("po-1 = %+v", p1)
				}
				if p2.Status != model.PayoutFailed || p2.Reason != "transfer_reversed" {
					t.Errorf("po-2 = %+v", p2)
				}
			},
		},
	}
}

// TestWebhookShuffledRedelivery delivers every event of each scenario five
// times in a shuffled order (two seeds, and once concurrently): each event
// takes effect exactly once (one inbox record, one attempt) and the final
// state is the same.
func TestWebhookShuffledRedelivery(t *testing.T) {
	for _, sc := range scenarios() {
		for _, seed := range []uint64{1, 2, 0} {
			concurrent := seed == 0
			name := fmt.Sprintf("%s/seed%d", sc.name, seed)
			if concurrent {
				name = sc.name + "/concurrent"
			}
			t.Run(name, func(t *testing.T) {
				h := newHarness(t)
				h.seed()
				h.claims.users["u1"] = map[string]any{"admin": true}
				var deliveries [][]byte
				for _, e := range sc.events {
					for i := 0; i < 5; i++ {
						deliveries = append(deliveries, e)
					}
				}
				rng := rand.New(rand.NewPCG(seed, 42))
				rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
				failed := deliverAll(t, h, deliveries, concurrent)
				sc.check(t, h)
				if n := h.count("webhook_events"); n != len(sc.events) {
					t.Errorf("%d inbox records, want %d", n, len(sc.events))
				}
				docs, _ := h.db.Collection("webhook_events").Documents(t.Context()).GetAll()
				for _, d := range docs {
					var in model.WebhookEvent
					_ = d.DataTo(&in)
					// One attempt, plus at most one per delivery that
					// failed transiently (concurrent deliveries: the
					// emulator's lock timeouts), whose transaction wrote
					// nothing (a failure after another copy was processed
					// is not counted).
					if in.Attempts < 1 || in.Attempts > 1+failed[in.EventID] || in.Status != StatusProcessed {
						t.Errorf("inbox %s: status %s attempts %d (%d deliveries failed)", in.EventID, in.Status, in.Attempts, failed[in.EventID])
					}
				}
			})
		}
	}
}

// deliverAll posts the deliveries in order, or from 6 goroutines at once;
// a 500 (contention) is redelivered as Stripe would. It returns the number
// of failed deliveries per event id.
func deliverAll(t *testing.T, h *harness, deliveries [][]byte, concurrent bool) map[string]int {
	t.Helper()
	var mu sync.Mutex
	failed := map[string]int{}
	send := func(b []byte) {
		for attempt := 0; attempt < 5; attempt++ {
			code, body := h.deliver(b)
			if code == http.StatusOK {
				return
			}
			if code != http.StatusInternalServerError {
				t.Errorf("delivery: %d %v", code, body)
				return
			}
			var ev struct{ ID string }
			_ = json.Unmarshal(b, &ev)
			mu.Lock()
			failed[ev.ID]++
			mu.Unlock()
		}
		t.Errorf("delivery failed 5 times")
	}
	if !concurrent {
		for _, b := range deliveries {
			send(b)
		}
		return failed
	}
	ch := make(chan []byte)
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				send(b)
			}
		}()
	}
	for _, b := range deliveries {
		ch <- b
	}
	close(ch)
	wg.Wait()
	return failed
}
