package payments

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/innerjourney/functions/shared/model"
)

// enrollmentState is what the enrolment tests check of a user's access to
// a program: the enrolment, the user's coach assignments (coach → sourceId)
// and client_profiles/{uid}.coachIds.
type enrollmentState struct {
	status    string
	paymentID string
	coaches   map[string]string
	coachIDs  []string
}

// enrollmentOf reads the enrolment of uid in programID and the user's coach
// assignments.
func (h *harness) enrollmentOf(uid, programID string) enrollmentState {
	h.t.Helper()
	var st enrollmentState
	var e model.Enrollment
	if h.get("enrollments/"+EnrollmentID(uid, programID), &e) {
		st.status, st.paymentID = e.Status, e.PaymentID
	}
	st.coaches = map[string]string{}
	docs, err := h.db.Collection("users").Doc(uid).Collection("coaches").Documents(h.t.Context()).GetAll()
	if err != nil {
		h.t.Fatalf("list coach assignments: %v", err)
	}
	for _, d := range docs {
		var a model.CoachAssignment
		if err := d.DataTo(&a); err != nil {
			h.t.Fatalf("decode coach assignment %s: %v", d.Ref.ID, err)
		}
		st.coaches[d.Ref.ID] = a.SourceID
	}
	var cp model.ClientProfile
	if h.get("client_profiles/"+uid, &cp) {
		st.coachIDs = slices.Sorted(slices.Values(cp.CoachIDs))
	}
	return st
}

// TestFailedRefundRestoresAccessInEveryOrder: a full refund that fails or
// is canceled gives the money back to us, so the payment is succeeded again
// and the user keeps (or gets back) access, whatever the order of the
// payment's and the refund's events, each delivered twice.
func TestFailedRefundRestoresAccessInEveryOrder(t *testing.T) {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	for _, outcome := range []string{"failed", "canceled"} {
		events := [][]byte{
			event("evt_fr1", "payment_intent.succeeded", t0+1, objPI("pi_r", "cus_1", "succeeded", 49900, u1p, false)),
			event("evt_fr2", "refund.created", t0+100, objRefund("re_r", "pi_r", "ch_r", 49900, "pending", t0+100)),
			event("evt_fr3", "refund.updated", t0+200, objRefund("re_r", "pi_r", "ch_r", 49900, outcome, t0+100)),
		}
		permute(len(events), func(order []int) {
			t.Run(fmt.Sprintf("%s/%v", outcome, order), func(t *testing.T) {
				h := newHarness(t)
				h.seed()
				for _, i := range order {
					h.mustDeliver(events[i])
					h.mustDeliver(events[i])
				}
				var p model.Payment
				if !h.get("payments/pi_r", &p) || p.Status != model.PaymentSucceeded || p.RefundDetails == nil ||
					p.RefundDetails.AmountRefunded != 0 || len(p.RefundDetails.Refunds) != 1 || p.RefundDetails.Refunds[0].Status != outcome {
					t.Errorf("payment = %+v refunds %+v", p, p.RefundDetails)
				}
				st := h.enrollmentOf("u1", "prog-1")
				want := map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-1"}
				if st.status != EnrollmentActive || st.paymentID != "pi_r" || !maps.Equal(st.coaches, want) ||
					!slices.Equal(st.coachIDs, []string{"coach-1", "coach-2"}) {
					t.Errorf("enrolment = %+v, want active for pi_r with both coaches", st)
				}
			})
		})
	}
}

// TestRefundOfDuplicatePaymentKeepsAccess: a user who paid twice for one
// program keeps access while at least one of the payments still grants it;
// the enrolment's paymentId names a payment that does.
func TestRefundOfDuplicatePaymentKeepsAccess(t *testing.T) {
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	succA := event("evt_dup_a", "payment_intent.succeeded", t0, objPI("pi_A", "cus_1", "succeeded", 49900, u1p, false))
	succB := event("evt_dup_b", "payment_intent.succeeded", t0+5, objPI("pi_B", "cus_1", "succeeded", 49900, u1p, false))
	refundA := event("evt_dup_ra", "charge.refunded", t0+100, objCharge("ch_A", "pi_A", "cus_1", 49900, 49900))
	refundB := event("evt_dup_rb", "charge.refunded", t0+110, objCharge("ch_B", "pi_B", "cus_1", 49900, 49900))
	lostA := event("evt_dup_la", "charge.dispute.closed", t0+2000, objDispute("dp_A", "pi_A", "ch_A", 49900, "lost"))
	both := map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-1"}
	tests := []struct {
		name       string
		events     [][]byte
		wantStatus string
		wantPay    string
		wantCoach  map[string]string
	}{
		{"refund of the payment that granted", [][]byte{succA, succB, refundA}, EnrollmentActive, "pi_B", both},
		{"refund of the other payment", [][]byte{succA, succB, refundB}, EnrollmentActive, "pi_A", both},
		{"refund before the duplicate succeeds", [][]byte{succA, refundA, succB}, EnrollmentActive, "pi_B", both},
		{"refund seen before either success", [][]byte{refundA, succB, succA}, EnrollmentActive, "pi_B", both},
		{"lost dispute on the payment that granted", [][]byte{succA, succB, lostA}, EnrollmentActive, "pi_B", both},
		{"both refunded", [][]byte{succA, succB, refundA, refundB}, EnrollmentRevoked, "pi_B", map[string]string{}},
		{"both refunded, the other first", [][]byte{succA, succB, refundB, refundA}, EnrollmentRevoked, "pi_A", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			for _, b := range tc.events {
				h.mustDeliver(b)
			}
			st := h.enrollmentOf("u1", "prog-1")
			if st.status != tc.wantStatus || st.paymentID != tc.wantPay || !maps.Equal(st.coaches, tc.wantCoach) {
				t.Errorf("enrolment = %+v, want %s for %s with coaches %v", st, tc.wantStatus, tc.wantPay, tc.wantCoach)
			}
		})
	}
}

// TestRevokeKeepsCoachSharedWithActiveEnrollment: two programs share
// coach-1; ending one enrolment keeps the coach assignment the other
// active enrolment still needs (re-pointed to it) and removes only the
// coaches no active enrolment lists.
func TestRevokeKeepsCoachSharedWithActiveEnrollment(t *testing.T) {
	buy1 := event("evt_sh1", "payment_intent.succeeded", t0, objPI("pi_1", "cus_1", "succeeded", 49900,
		map[string]any{"uid": "u1", "programId": "prog-1"}, false))
	buy2 := event("evt_sh2", "payment_intent.succeeded", t0+5, objPI("pi_2", "cus_1", "succeeded", 19900,
		map[string]any{"uid": "u1", "programId": "prog-2"}, false))
	refund1 := event("evt_sh3", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 49900))
	refund2 := event("evt_sh4", "charge.refunded", t0+110, objCharge("ch_2", "pi_2", "cus_1", 19900, 19900))
	tests := []struct {
		name        string
		events      [][]byte
		wantCoaches map[string]string
		wantIDs     []string
	}{
		{"prog-1 bought first, refunded", [][]byte{buy1, buy2, refund1},
			map[string]string{"coach-1": "u1_prog-2"}, []string{"coach-1"}},
		{"prog-2 bought first, prog-1 refunded", [][]byte{buy2, buy1, refund1},
			map[string]string{"coach-1": "u1_prog-2"}, []string{"coach-1"}},
		{"prog-2 refunded", [][]byte{buy1, buy2, refund2},
			map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-1"}, []string{"coach-1", "coach-2"}},
		{"prog-2 bought first and refunded", [][]byte{buy2, buy1, refund2},
			map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-1"}, []string{"coach-1", "coach-2"}},
		{"both refunded", [][]byte{buy1, buy2, refund1, refund2}, map[string]string{}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			price, cur := int64(19900), "SEK"
			h.set("programs/prog-2", model.Program{ProgramID: "prog-2", Title: "Focus", CreatedBy: []string{"coach-1"},
				Price: &price, Currency: &cur, Difficulty: model.DifficultyBeginner})
			for _, b := range tc.events {
				h.mustDeliver(b)
			}
			st := h.enrollmentOf("u1", "prog-1")
			if !maps.Equal(st.coaches, tc.wantCoaches) || !slices.Equal(st.coachIDs, tc.wantIDs) {
				t.Errorf("coach assignments %v, client profile coachIds %v; want %v, %v", st.coaches, st.coachIDs, tc.wantCoaches, tc.wantIDs)
			}
		})
	}
}

// TestMalformedProgramDoesNotBlockPaymentEvents: a program document with a
// malformed field the webhook does not use (the rules bound only the size
// of tags and modules) neither blocks a purchase nor its refund; only
// createdBy's string elements are taken as coaches, and an unreadable
// title gives the generic description.
func TestMalformedProgramDoesNotBlockPaymentEvents(t *testing.T) {
	program := func(override map[string]any) map[string]any {
		p := map[string]any{"programId": "prog-1", "title": "Calm Mind", "description": "", "durationWeeks": 4,
			"createdBy": []any{"coach-1", "coach-2"}, "difficulty": "beginner", "category": "c", "tags": []any{"calm"},
			"price": 49900, "currency": "SEK"}
		for k, v := range override {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name        string
		doc         map[string]any
		wantDesc    string
		wantCoaches []string
	}{
		{"tags of numbers", program(map[string]any{"tags": []any{1}}), "Enrollment in Calm Mind", []string{"coach-1", "coach-2"}},
		{"module of the wrong shape", program(map[string]any{"modules": []any{"intro", map[string]any{"moduleId": 7, "activations": "x"}}}),
			"Enrollment in Calm Mind", []string{"coach-1", "coach-2"}},
		{"durationWeeks a string", program(map[string]any{"durationWeeks": "four"}), "Enrollment in Calm Mind", []string{"coach-1", "coach-2"}},
		{"title a number", program(map[string]any{"title": 42}), "Program purchase", []string{"coach-1", "coach-2"}},
		{"createdBy with a number", program(map[string]any{"createdBy": []any{"coach-1", 7}}), "Enrollment in Calm Mind", []string{"coach-1"}},
		{"createdBy not a list", program(map[string]any{"createdBy": "coach-1"}), "Enrollment in Calm Mind", nil},
	}
	u1p := map[string]any{"uid": "u1", "programId": "prog-1"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			h.set("programs/prog-1", tc.doc)
			h.mustDeliver(event("evt_m1", "payment_intent.succeeded", t0, objPI("pi_m", "cus_1", "succeeded", 49900, u1p, false)))
			var p model.Payment
			h.get("payments/pi_m", &p)
			st := h.enrollmentOf("u1", "prog-1")
			coaches := slices.Sorted(maps.Keys(st.coaches))
			if p.Description != tc.wantDesc || st.status != EnrollmentActive || !slices.Equal(coaches, tc.wantCoaches) {
				t.Errorf("after the purchase: description %q, enrolment %+v; want %q, active, coaches %v", p.Description, st, tc.wantDesc, tc.wantCoaches)
			}
			refund := event("evt_m2", "charge.refunded", t0+100, objCharge("ch_m", "pi_m", "cus_1", 49900, 49900))
			if code, body := h.deliver(refund); code != http.StatusOK {
				t.Fatalf("refund: %d %v", code, body)
			}
			h.get("payments/pi_m", &p)
			st = h.enrollmentOf("u1", "prog-1")
			if p.Status != model.PaymentRefunded || st.status != EnrollmentRevoked || len(st.coaches) != 0 {
				t.Errorf("after the refund: payment %s, enrolment %+v; want refunded, revoked, no coaches", p.Status, st)
			}
		})
	}
}
