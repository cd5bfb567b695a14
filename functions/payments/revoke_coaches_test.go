package payments

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
)

// setCoaches sets programs/{id}.createdBy (an admin edits the program).
func (h *harness) setCoaches(programID string, coaches ...string) {
	h.t.Helper()
	list := []any{}
	for _, c := range coaches {
		list = append(list, c)
	}
	if _, err := h.db.Doc("programs/"+programID).Update(context.Background(),
		[]firestore.Update{{Path: "createdBy", Value: list}}); err != nil {
		h.t.Fatalf("update createdBy of %s: %v", programID, err)
	}
}

// deleteProgram deletes programs/{id} (an admin).
func (h *harness) deleteProgram(programID string) {
	h.t.Helper()
	if _, err := h.db.Doc("programs/" + programID).Delete(context.Background()); err != nil {
		h.t.Fatalf("delete %s: %v", programID, err)
	}
}

// revokeEvent is a way u1's payment pi_1 loses access.
type revokeEvent struct {
	name   string
	events [][]byte
}

// revokeEvents are the events that end u1's access bought with pi_1: a
// full refund (charge event delivered twice, or refund object) or a lost
// dispute.
func revokeEvents() []revokeEvent {
	refund := event("evt_rc_r", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 49900))
	return []revokeEvent{
		{"full refund", [][]byte{refund, refund}},
		{"refund object", [][]byte{event("evt_rc_ro", "refund.created", t0+100,
			objRefund("re_1", "pi_1", "ch_1", 49900, "succeeded", t0+100))}},
		{"lost dispute", [][]byte{event("evt_rc_l", "charge.dispute.closed", t0+1000, objDispute("dp_1", "pi_1", "ch_1", 49900, "lost"))}},
	}
}

// buyProg1 delivers u1's purchase of prog-1 (coach-1 and coach-2) with
// pi_1 and checks the enrolment it grants.
func buyProg1(h *harness) {
	h.t.Helper()
	h.mustDeliver(event("evt_rc_b1", "payment_intent.succeeded", t0, objPI("pi_1", "cus_1", "succeeded", 49900,
		map[string]any{"uid": "u1", "programId": "prog-1"}, false)))
	st := h.enrollmentOf("u1", "prog-1")
	want := map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-1"}
	if st.status != EnrollmentActive || !maps.Equal(st.coaches, want) {
		h.t.Fatalf("after the purchase: %+v, want active with %v", st, want)
	}
}

// TestRevokeRemovesCoachesNoLongerInProgram: the buyer enrolled in prog-1
// with coach-1 and coach-2; an admin then changed the program's createdBy
// (coach-2 removed, or replaced by coach-3). When the payment loses access,
// the enrolment ends and both assignments it created go, coach-2's
// included: the enrolment recorded the coaches it assigned. Regression:
// revoke looked only at the program's current coaches, so coach-2 kept the
// refunded buyer as a client (and read their client profile).
func TestRevokeRemovesCoachesNoLongerInProgram(t *testing.T) {
	for _, coaches := range [][]string{{"coach-1"}, {"coach-1", "coach-3"}, {}} {
		for _, rv := range revokeEvents() {
			t.Run(rv.name+"/createdBy ["+strings.Join(coaches, ",")+"]", func(t *testing.T) {
				h := newHarness(t)
				h.seed()
				buyProg1(h)
				h.setCoaches("prog-1", coaches...)
				for _, b := range rv.events {
					h.mustDeliver(b)
				}
				st := h.enrollmentOf("u1", "prog-1")
				if st.status != EnrollmentRevoked || st.paymentID != "pi_1" || len(st.coaches) != 0 || len(st.coachIDs) != 0 {
					t.Errorf("enrolment = %+v, want revoked for pi_1 without coach assignments or client profile coachIds", st)
				}
			})
		}
	}
}

// TestRevokeAfterProgramDeleted: an admin deleted prog-1 after the buyer
// enrolled. A refund or lost dispute of the payment still ends the
// enrolment and removes the coach assignments it created. Regression:
// nothing was read or written without the program, so the enrolment
// stayed active and both coaches kept the buyer. A success event after
// that grants nothing (no program), a refund seen before any success
// writes nothing (no coaches to record), and another payment that still
// grants access keeps the enrolment active, as when the program exists.
func TestRevokeAfterProgramDeleted(t *testing.T) {
	for _, rv := range revokeEvents() {
		t.Run(rv.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			buyProg1(h)
			h.deleteProgram("prog-1")
			for _, b := range rv.events {
				h.mustDeliver(b)
			}
			st := h.enrollmentOf("u1", "prog-1")
			if st.status != EnrollmentRevoked || st.paymentID != "pi_1" || len(st.coaches) != 0 || len(st.coachIDs) != 0 {
				t.Errorf("enrolment = %+v, want revoked for pi_1 without coach assignments or client profile coachIds", st)
			}
			// A late (redelivered) success event of the lost payment.
			h.mustDeliver(event("evt_rc_b1", "payment_intent.succeeded", t0, objPI("pi_1", "cus_1", "succeeded", 49900,
				map[string]any{"uid": "u1", "programId": "prog-1"}, false)))
			if st := h.enrollmentOf("u1", "prog-1"); st.status != EnrollmentRevoked || len(st.coaches) != 0 {
				t.Errorf("after a late success: %+v", st)
			}
		})
	}

	t.Run("refund seen before the success", func(t *testing.T) {
		h := newHarness(t)
		h.seed()
		h.deleteProgram("prog-1")
		h.mustDeliver(event("evt_rc_ro", "refund.created", t0+100, objRefund("re_1", "pi_1", "ch_1", 49900, "succeeded", t0+100)))
		h.mustDeliver(event("evt_rc_b1", "payment_intent.succeeded", t0, objPI("pi_1", "cus_1", "succeeded", 49900,
			map[string]any{"uid": "u1", "programId": "prog-1"}, false)))
		var p model.Payment
		if !h.get("payments/pi_1", &p) || p.Status != model.PaymentRefunded {
			t.Errorf("payment = %+v, want refunded", p)
		}
		if st := h.enrollmentOf("u1", "prog-1"); st.status != "" || len(st.coaches) != 0 {
			t.Errorf("enrolment = %+v, want none", st)
		}
	})

	t.Run("another payment still grants access", func(t *testing.T) {
		h := newHarness(t)
		h.seed()
		buyProg1(h)
		h.mustDeliver(event("evt_rc_b2", "payment_intent.succeeded", t0+5, objPI("pi_2", "cus_1", "succeeded", 49900,
			map[string]any{"uid": "u1", "programId": "prog-1"}, false)))
		h.deleteProgram("prog-1")
		h.mustDeliver(event("evt_rc_r", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 49900)))
		want := map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-1"}
		st := h.enrollmentOf("u1", "prog-1")
		if st.status != EnrollmentActive || st.paymentID != "pi_2" || !maps.Equal(st.coaches, want) ||
			!slices.Equal(st.coachIDs, []string{"coach-1", "coach-2"}) {
			t.Errorf("after the refund of pi_1: %+v, want active for pi_2 with both coaches", st)
		}
		h.mustDeliver(event("evt_rc_r2", "charge.refunded", t0+110, objCharge("ch_2", "pi_2", "cus_1", 49900, 49900)))
		if st := h.enrollmentOf("u1", "prog-1"); st.status != EnrollmentRevoked || st.paymentID != "pi_2" || len(st.coaches) != 0 || len(st.coachIDs) != 0 {
			t.Errorf("after the refund of pi_2: %+v, want revoked without coaches", st)
		}
	})
}

// TestRevokeKeepsOtherAssignmentsOfFormerCoach: coach-2 left prog-1 after
// the buyer enrolled, but the buyer also has an active enrolment in prog-2
// (coach-2's), or was assigned coach-2 by an admin. Ending the prog-1
// enrolment removes only what it created and no other active enrolment
// needs: coach-2's assignment is re-pointed to prog-2's enrolment when
// prog-1's created it, left alone when prog-2's or the admin did; coach-1's
// goes.
func TestRevokeKeepsOtherAssignmentsOfFormerCoach(t *testing.T) {
	refund1 := event("evt_rc_r", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 49900))
	for _, tc := range coach2Elsewhere() {
		for _, gone := range []string{"coach-2 removed", "program deleted"} {
			t.Run(tc.name+"/"+gone, func(t *testing.T) {
				h := newHarness(t)
				h.seed()
				tc.setup(h)
				if gone == "program deleted" {
					h.deleteProgram("prog-1")
				} else {
					h.setCoaches("prog-1", "coach-1")
				}
				h.mustDeliver(refund1)
				var e model.Enrollment
				if !h.get("enrollments/u1_prog-1", &e) || e.Status != EnrollmentRevoked {
					t.Errorf("prog-1 enrolment = %+v, want revoked", e)
				}
				st := h.enrollmentOf("u1", "prog-1")
				want := map[string]string{"coach-2": tc.keeper}
				if !maps.Equal(st.coaches, want) || !slices.Equal(st.coachIDs, []string{"coach-2"}) {
					t.Errorf("coach assignments %v, client profile coachIds %v; want %v, [coach-2]", st.coaches, st.coachIDs, want)
				}
			})
		}
	}
}
