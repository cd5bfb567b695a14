package payments

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// TestRefundOfRecreatedSaleShowsNothingToImpostor: a payment whose
// checkout was for a program since deleted and created again enrols the
// buyer in nothing; the README's remedy is a refund by an admin. That
// refund (or a lost dispute), in either order with the success, must not
// write an enrolment of the buyer in the new program naming its coach:
// enrolments are readable by the coaches they list (firestore.rules), so
// the impostor would learn who bought the program. Regression: revoke
// recorded a revoked enrolment with the new program's coachIds.
func TestRefundOfRecreatedSaleShowsNothingToImpostor(t *testing.T) {
	type step func(h *harness, meta map[string]any)
	succeed := func(h *harness, meta map[string]any) {
		h.mustDeliver(event("evt_i2", "payment_intent.succeeded", t0+60, objPI("pi_i", "cus_1", "succeeded", 49900, meta, false)))
	}
	refund := func(h *harness, _ map[string]any) {
		h.mustDeliver(event("evt_i3", "charge.refunded", t0+100, objCharge("ch_i", "pi_i", "cus_1", 49900, 49900)))
	}
	refundFirst := func(h *harness, _ map[string]any) {
		h.mustDeliver(event("evt_i3", "refund.created", t0+100, objRefund("re_i", "pi_i", "ch_i", 49900, "succeeded", t0+100)))
	}
	lost := func(h *harness, _ map[string]any) {
		h.mustDeliver(event("evt_i4", "charge.dispute.closed", t0+1000, objDispute("dp_i", "pi_i", "ch_i", 49900, "lost")))
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"success, then full refund", []step{succeed, refund}},
		{"refund seen before the success", []step{refundFirst, succeed}},
		{"success, then lost dispute", []step{succeed, lost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			created, _ := h.programVersion("prog-1")
			meta := checkoutMeta(created)
			h.recreateProgram() // after the checkout, before anything is recorded
			for _, s := range tc.steps {
				s(h, meta)
			}
			var p model.Payment
			if !h.get("payments/pi_i", &p) || p.ProgramTerms == nil || !p.ProgramTerms.RecreatedAfterCheckout {
				t.Fatalf("payment %+v: want terms re-created after checkout", p)
			}
			var en model.Enrollment
			if h.get("enrollments/"+EnrollmentID("u1", "prog-1"), &en) {
				t.Errorf("enrolment written for a sale of a re-created program: %+v (coach-x reads it: %v)",
					en, slices.Contains(en.CoachIDs, "coach-x"))
			}
			if st := h.enrollmentOf("u1", "prog-1"); len(st.coaches) != 0 || len(st.coachIDs) != 0 {
				t.Errorf("coach assignments %+v", st)
			}
		})
	}
}

// TestRecreatedSaleKeepsNoAccessAfterOtherRefund: the buyer paid pi_old
// for the program as it was at checkout (deleted and created again by
// coach-x before the payment was recorded: it enrols in nothing), then
// bought the new program (pi_new). When pi_new is refunded in full or lost
// in a dispute, the enrolment ends: pi_old, which grants nothing by itself,
// must not keep the buyer in coach-x's program as "another payment that
// still grants access". Regression: the enrolment stayed active, moved to
// pi_old, and coach-x kept the buyer as a client. A failed refund of pi_new
// gives access back (for pi_new).
func TestRecreatedSaleKeepsNoAccessAfterOtherRefund(t *testing.T) {
	for _, tc := range []struct {
		name   string
		end    func(h *harness)
		failed bool
	}{
		{"full refund of the new sale", func(h *harness) {
			h.mustDeliver(event("evt_o4", "charge.refunded", t0+300, objCharge("ch_new", "pi_new", "cus_1", 49900, 49900)))
		}, false},
		{"lost dispute on the new sale", func(h *harness) {
			h.mustDeliver(event("evt_o4", "charge.dispute.closed", t0+1000, objDispute("dp_new", "pi_new", "ch_new", 49900, "lost")))
		}, false},
		{"refund of the new sale, then it fails", func(h *harness) {
			h.mustDeliver(event("evt_o4", "refund.created", t0+300, objRefund("re_new", "pi_new", "ch_new", 49900, "pending", t0+300)))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			v1, _ := h.programVersion("prog-1")
			h.mustDeliver(event("evt_o1", "payment_intent.processing", t0, objPI("pi_old", "cus_1", "processing", 49900, checkoutMeta(v1), false)))
			h.recreateProgram()
			h.mustDeliver(event("evt_o2", "payment_intent.succeeded", t0+60, objPI("pi_old", "cus_1", "succeeded", 49900, checkoutMeta(v1), false)))
			if st := h.enrollmentOf("u1", "prog-1"); st.status != "" {
				t.Fatalf("the re-created sale enrolled: %+v", st)
			}
			v2, _ := h.programVersion("prog-1")
			h.mustDeliver(event("evt_o3", "payment_intent.succeeded", t0+200, objPI("pi_new", "cus_1", "succeeded", 49900, checkoutMeta(v2), false)))
			if st := h.enrollmentOf("u1", "prog-1"); st.status != EnrollmentActive || st.paymentID != "pi_new" {
				t.Fatalf("the new sale did not enrol: %+v", st)
			}
			tc.end(h)
			st := h.enrollmentOf("u1", "prog-1")
			if !tc.failed {
				if st.status != EnrollmentRevoked || len(st.coaches) != 0 || len(st.coachIDs) != 0 {
					t.Errorf("enrolment = %+v, want revoked without coaches (pi_old grants nothing)", st)
				}
				return
			}
			h.mustDeliver(event("evt_o5", "refund.updated", t0+400, objRefund("re_new", "pi_new", "ch_new", 49900, "failed", t0+300)))
			st = h.enrollmentOf("u1", "prog-1")
			if st.status != EnrollmentActive || st.paymentID != "pi_new" || !maps.Equal(st.coaches, map[string]string{"coach-x": "u1_prog-1"}) {
				t.Errorf("after the failed refund: enrolment = %+v, want active for pi_new with coach-x", st)
			}
		})
	}
}

// TestVersionAfterFrozenTermsChangesNothing: terms frozen without a
// version (an object without programCreated recorded the success) are
// settled; an object naming a version later (metadata edited by hand)
// must not make the payment "re-created" after the fact: the payouts pay
// it by its frozen terms, so it still grants access, also again after a
// failed refund. Regression: the late version was stored, the payment
// counted as re-created and the failed refund did not enrol the buyer
// again (TestTermsOfProgramRecreatedAfterCheckout's "which then changes
// nothing" did not hold).
func TestVersionAfterFrozenTermsChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.seed()
	created, _ := h.programVersion("prog-1")
	noVersion := checkoutMeta(created)
	delete(noVersion, "programCreated")
	h.mustDeliver(event("evt_l1", "payment_intent.succeeded", t0, objPI("pi_l", "cus_1", "succeeded", 49900, noVersion, false)))
	if tm := h.termsOf("pi_l"); tm == nil || !tm.ProgramFound {
		t.Fatalf("terms %+v, want the program's", tm)
	}
	late := checkoutMeta(created.Add(1e9)) // another version
	h.mustDeliver(event("evt_l2", "payment_intent.succeeded", t0+50, objPI("pi_l", "cus_1", "succeeded", 49900, late, false)))
	var p model.Payment
	if h.get("payments/pi_l", &p); p.ProgramCreated != nil {
		t.Errorf("programCreated %v taken after the terms were frozen without it", p.ProgramCreated)
	}
	h.mustDeliver(event("evt_l3", "refund.created", t0+100, objRefund("re_l", "pi_l", "ch_l", 49900, "pending", t0+100)))
	if st := h.enrollmentOf("u1", "prog-1"); st.status != EnrollmentRevoked {
		t.Fatalf("after the refund: %+v", st)
	}
	h.mustDeliver(event("evt_l4", "refund.updated", t0+200, objRefund("re_l", "pi_l", "ch_l", 49900, "failed", t0+100)))
	if st := h.enrollmentOf("u1", "prog-1"); st.status != EnrollmentActive || st.paymentID != "pi_l" {
		t.Errorf("after the failed refund: enrolment = %+v, want active for pi_l", st)
	}
}

// TestMergeProgramCreatedNotAfterFrozenTerms: the version is not taken
// once the payment's terms are frozen (with or without one).
func TestMergeProgramCreatedNotAfterFrozenTerms(t *testing.T) {
	v := time.Date(2026, 1, 5, 8, 0, 0, 123456000, time.UTC)
	old := &model.Payment{ProgramID: ptr("p"), Status: model.PaymentSucceeded,
		ProgramTerms: &model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"c"}}}
	if got := mergePayment(old, paymentFacts{docID: "pi_m", programID: "p", programCreated: &v}, "u1").ProgramCreated; got != nil {
		t.Errorf("programCreated = %v after frozen terms, want none", got)
	}
	if got := mergePayment(&model.Payment{ProgramID: ptr("p")}, paymentFacts{docID: "pi_m", programID: "p", programCreated: &v}, "u1").ProgramCreated; !sameVersion(got, &v) {
		t.Errorf("programCreated = %v before the terms are frozen, want %v", got, v)
	}
}
