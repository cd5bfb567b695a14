package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
)

// erasedUID is a user whose GDPR erasure has finished; distinctive, so that
// scanning the database for it finds only what the webhook wrote back.
const erasedUID = "gone-user-41f7"

// eraseUser leaves the state a finished erasure of uid leaves:
// gdpr_requests/{erasure id} done under the pseudonym, and no customer
// mapping, enrolment or raw-uid payment (the fixtures add none for uid).
// status lets a test leave the erasure open instead.
func (h *harness) eraseUser(uid, status string) {
	h.t.Helper()
	ps := pseudonym.Of([]byte(testPseudonymKey), uid)
	id := pseudonym.ErasureRequestID([]byte(testPseudonymKey), uid)
	h.set("gdpr_requests/"+id, map[string]any{"requestId": id, "userId": ps, "kind": "erasure", "status": status,
		"subjectHash": ps, "requestedBy": ps, "receivedAt": testNow.Add(-48 * time.Hour), "updatedAt": testNow})
}

// heldPayment writes payments/{pi} as the erasure leaves a succeeded
// program payment of uid: pseudonymised, under legal hold.
func (h *harness) heldPayment(uid, pi, cus string) {
	h.t.Helper()
	key := []byte(testPseudonymKey)
	paid := time.Unix(t0, 0).UTC()
	hold := pseudonym.BookkeepingHoldUntil(paid)
	h.set("payments/"+pi, model.Payment{PaymentID: pi, UserID: pseudonym.Of(key, uid), Amount: 49900, Currency: "SEK",
		PaymentDate: paid, Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: pi,
		Description: "Enrollment in Calm Mind", ProgramID: ptr("prog-1"), ChargeID: "ch_" + strings.TrimPrefix(pi, "pi_"),
		CustomerID: pseudonym.Of(key, cus), SourceUpdated: paid, CreatedAt: paid, UpdatedAt: paid,
		Pseudonymised: true, LegalHoldUntil: &hold})
}

// rawMentions lists every document (at any depth) whose id or data
// mentions s: what would make the erased user findable again.
func (h *harness) rawMentions(s string) []string {
	h.t.Helper()
	ctx := context.Background()
	var out []string
	var walk func(cols []*firestore.CollectionRef)
	walk = func(cols []*firestore.CollectionRef) {
		for _, col := range cols {
			refs, err := col.DocumentRefs(ctx).GetAll()
			if err != nil {
				h.t.Fatalf("list %s: %v", col.Path, err)
			}
			for _, ref := range refs {
				snap, err := ref.Get(ctx)
				switch {
				case err == nil && strings.Contains(fmt.Sprint(snap.Data()), s):
					out = append(out, ref.Path)
				case err != nil && !strings.Contains(err.Error(), "NotFound"):
					h.t.Fatalf("get %s: %v", ref.Path, err)
				case strings.Contains(ref.ID, s):
					out = append(out, ref.Path)
				}
				subs, err := ref.Collections(ctx).GetAll()
				if err != nil {
					h.t.Fatalf("list collections of %s: %v", ref.Path, err)
				}
				walk(subs)
			}
		}
	}
	cols, err := h.db.Collections(ctx).GetAll()
	if err != nil {
		h.t.Fatalf("collections: %v", err)
	}
	walk(cols)
	return out
}

// checkHeld fails unless payments/{pi} is kept as the erasure keeps it:
// userId and customerId the pseudonyms, pseudonymised, legalHoldUntil,
// no invoiceUrl, with the given status and amount.
func (h *harness) checkHeld(uid, pi, cus string, status model.PaymentStatus, refunded int64) {
	h.t.Helper()
	key := []byte(testPseudonymKey)
	var p model.Payment
	if !h.get("payments/"+pi, &p) {
		h.t.Fatalf("payments/%s missing: the books need it", pi)
	}
	want := pseudonym.BookkeepingHoldUntil(time.Unix(t0, 0))
	switch {
	case p.UserID != pseudonym.Of(key, uid):
		h.t.Errorf("userId = %q, want the pseudonym %q", p.UserID, pseudonym.Of(key, uid))
	case !p.Pseudonymised:
		h.t.Errorf("pseudonymised = false")
	case p.LegalHoldUntil == nil || !p.LegalHoldUntil.Equal(want):
		h.t.Errorf("legalHoldUntil = %v, want %v", p.LegalHoldUntil, want)
	case p.InvoiceURL != "":
		h.t.Errorf("invoiceUrl = %q, want none", p.InvoiceURL)
	case cus != "" && p.CustomerID != pseudonym.Of(key, cus):
		h.t.Errorf("customerId = %q, want the pseudonym %q", p.CustomerID, pseudonym.Of(key, cus))
	case p.Status != status:
		h.t.Errorf("status = %q, want %q", p.Status, status)
	case refunded > 0 && (p.RefundDetails == nil || p.RefundDetails.AmountRefunded != refunded):
		h.t.Errorf("refundDetails = %+v, want %d refunded", p.RefundDetails, refunded)
	}
}

// TestLateEventsAfterErasureWriteNoPersonalData: after a user's erasure
// has finished, a late or redelivered Stripe event still carrying the uid
// (metadata.uid, client_reference_id) writes no customer mapping, no
// raw-uid payment, no enrolment, coach assignment, subscription or claim;
// a payment is kept for the books, pseudonymised as the erasure leaves it,
// and a held payment stays held when refunds update it. Every event is
// answered 200 and delivered twice.
func TestLateEventsAfterErasureWriteNoPersonalData(t *testing.T) {
	meta := map[string]any{"uid": erasedUID, "programId": "prog-1"}
	withMeta := func(o map[string]any) map[string]any { o["metadata"] = meta; return o }
	subMeta := map[string]any{"uid": erasedUID, "planId": "premium"}
	invoice := objInvoice("in_g", "sub_g", "cus_g", "pi_gi", 9900, t0, true)
	invoice["subscription_details"] = map[string]any{"metadata": subMeta}
	subCheckout := objCheckout("cs_gs", "", "cus_g", erasedUID, "", 0, "paid")
	subCheckout["mode"], subCheckout["payment_intent"] = "subscription", nil

	tests := []struct {
		name   string
		held   bool // the erasure already pseudonymised payments/pi_g
		events [][]byte
		// payment: the held payment expected afterwards ("" when none).
		payment, cus string
		status       model.PaymentStatus
		refunded     int64
		reason       string
	}{
		{name: "payment_intent.succeeded", events: [][]byte{
			event("evt_g1", "payment_intent.succeeded", t0, objPI("pi_g", "cus_g", "succeeded", 49900, meta, false))},
			payment: "pi_g", cus: "cus_g", status: model.PaymentSucceeded, reason: string(heldResult.Reason)},
		{name: "checkout.session.completed", events: [][]byte{
			event("evt_g2", "checkout.session.completed", t0, objCheckout("cs_g", "pi_g", "cus_g", erasedUID, "prog-1", 49900, "paid"))},
			payment: "pi_g", cus: "cus_g", status: model.PaymentSucceeded, reason: string(heldResult.Reason)},
		{name: "checkout.session.completed, subscription mode", events: [][]byte{
			event("evt_g3", "checkout.session.completed", t0, subCheckout)},
			reason: reasonErased},
		{name: "charge.refunded of a held payment", held: true, events: [][]byte{
			event("evt_g4", "charge.refunded", t0+100, withMeta(objCharge("ch_g", "pi_g", "cus_g", 49900, 49900)))},
			payment: "pi_g", cus: "cus_g", status: model.PaymentRefunded, refunded: 49900, reason: string(heldResult.Reason)},
		{name: "charge.refund.updated of a held payment", held: true, events: [][]byte{
			event("evt_g5", "charge.refund.updated", t0+100, objRefund("re_g", "pi_g", "ch_g", 10000, "succeeded", t0+100))},
			payment: "pi_g", cus: "cus_g", status: model.PaymentPartiallyRefunded, refunded: 10000, reason: string(heldResult.Reason)},
		{name: "refund then late payment_intent.succeeded", events: [][]byte{
			event("evt_g6", "refund.created", t0+100, objRefund("re_g", "pi_g", "ch_g", 49900, "succeeded", t0+100)),
			event("evt_g7", "payment_intent.succeeded", t0, objPI("pi_g", "cus_g", "succeeded", 49900, meta, false))},
			payment: "pi_g", cus: "cus_g", status: model.PaymentRefunded, refunded: 49900, reason: string(heldResult.Reason)},
		{name: "customer.subscription.created", events: [][]byte{
			event("evt_g8", "customer.subscription.created", t0, objSub("sub_g", "cus_g", "active", []string{"price_premium"}, t0+30*86400, subMeta))},
			reason: reasonErased},
		{name: "invoice.paid", events: [][]byte{event("evt_g9", "invoice.paid", t0, invoice)},
			payment: "pi_gi", cus: "cus_g", status: model.PaymentSucceeded, reason: string(heldResult.Reason)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			h.eraseUser(erasedUID, model.GDPRDone)
			if tc.held {
				h.heldPayment(erasedUID, "pi_g", "cus_g")
			}
			for round := 0; round < 2; round++ {
				for _, ev := range tc.events {
					if code, body := h.deliver(ev); code != http.StatusOK {
						t.Fatalf("round %d: %d %v", round, code, body)
					}
				}
			}
			if got := h.rawMentions(erasedUID); len(got) > 0 {
				t.Errorf("documents mention the erased uid: %v", got)
			}
			if got := h.rawMentions("cus_g"); len(got) > 0 {
				t.Errorf("documents mention the erased user's customer id: %v", got)
			}
			if n := h.count("enrollments"); n != 0 {
				t.Errorf("%d enrolments written, want none", n)
			}
			if n := h.count("subscriptions"); n != 0 {
				t.Errorf("%d subscriptions written, want none", n)
			}
			if h.claims.sets != 0 {
				t.Errorf("%d claim writes, want none", h.claims.sets)
			}
			if tc.payment != "" {
				h.checkHeld(erasedUID, tc.payment, tc.cus, tc.status, tc.refunded)
			} else if n := h.count("payments"); n != 0 {
				t.Errorf("%d payments written, want none", n)
			}
			var inbox model.WebhookEvent
			if !h.get("webhook_events/"+eventID(t, tc.events[len(tc.events)-1]), &inbox) || inbox.Reason != tc.reason {
				t.Errorf("inbox = %+v, want reason %q", inbox, tc.reason)
			}
		})
	}
}

// eventID returns the id of an event's JSON.
func eventID(t *testing.T, ev []byte) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(ev, &v); err != nil || v.ID == "" {
		t.Fatalf("event id: %v", err)
	}
	return v.ID
}

// TestErasureCheckLeavesOtherUsersAlone: a user without an erasure, and a
// user whose erasure is still open (it erases what arrives meanwhile),
// get the usual mapping, payment and enrolment.
func TestErasureCheckLeavesOtherUsersAlone(t *testing.T) {
	tests := []struct {
		name    string
		erasure string // the user's erasure status, "" for none
	}{
		{name: "no erasure"},
		{name: "erasure running", erasure: "running"},
		{name: "erasure failed", erasure: "failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			h.eraseUser(erasedUID, model.GDPRDone) // another user's finished erasure
			if tc.erasure != "" {
				h.eraseUser("u2", tc.erasure)
			}
			meta := map[string]any{"uid": "u2", "programId": "prog-1"}
			h.mustDeliver(event("evt_n1", "payment_intent.succeeded", t0, objPI("pi_n", "cus_2", "succeeded", 49900, meta, false)))
			var m model.StripeCustomer
			if !h.get("stripe_customers/cus_2", &m) || m.UserID != "u2" {
				t.Errorf("stripe_customers/cus_2 = %+v, want → u2", m)
			}
			var p model.Payment
			if !h.get("payments/pi_n", &p) || p.UserID != "u2" || p.Pseudonymised || p.LegalHoldUntil != nil || p.CustomerID != "cus_2" {
				t.Errorf("payment = %+v, want u2's own, not pseudonymised", p)
			}
			if st := h.enrollmentOf("u2", "prog-1"); st.status != EnrollmentActive || len(st.coaches) != 2 {
				t.Errorf("enrolment = %+v, want active with 2 coaches", st)
			}
		})
	}
}

// TestWebhookWithoutPseudonymKeyRetries: without the pseudonym key the
// erasure cannot be checked, so an event about a user fails (500, Stripe
// retries) and writes nothing but the failed attempt.
func TestWebhookWithoutPseudonymKeyRetries(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.svc.PseudonymKey = nil
	meta := map[string]any{"uid": "u2", "programId": "prog-1"}
	ev := event("evt_k1", "payment_intent.succeeded", t0, objPI("pi_k", "cus_2", "succeeded", 49900, meta, false))
	if code, body := h.deliver(ev); code != http.StatusInternalServerError {
		t.Fatalf("delivery: %d %v, want 500", code, body)
	}
	var p model.Payment
	if h.get("payments/pi_k", &p) || h.get("stripe_customers/cus_2", &model.StripeCustomer{}) {
		t.Errorf("written without the key: payment %+v", p)
	}
	var inbox model.WebhookEvent
	if !h.get("webhook_events/evt_k1", &inbox) || inbox.Status != StatusFailed {
		t.Errorf("inbox = %+v, want failed", inbox)
	}
}
