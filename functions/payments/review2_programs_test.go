package payments

import (
	"testing"

	"cloud.google.com/go/firestore"
)

// stripField deletes one field of the document at path (data from before
// the field was written).
func (h *harness) stripField(path, field string) {
	h.t.Helper()
	if _, err := h.db.Doc(path).Update(h.t.Context(), []firestore.Update{{Path: field, Value: firestore.Delete}}); err != nil {
		h.t.Fatalf("strip %s.%s: %v", path, field, err)
	}
}

// TestReview2LegacyEnrollmentOfRecreatedProgramGoesToNewCreator: an
// enrolment granted before versions were recorded (no programCreated), of
// a program that an admin deleted and a coach created again under the id
// before onProgramWritten handled the delete: the delete event arrives
// late (or is retried) after the create, or the program was re-created
// before onProgramWritten was deployed and `ops programs sync` (which the
// README says to run once after deploying) reaches it. The sync reads the
// program as it is now, takes the legacy enrolment "as of the program's
// current version" and assigns coach-x, who never sold u1 anything, to
// u1: coach-x reads u1's client profile and enrolment. The payment that
// granted the enrolment says which version it was for (its frozen terms).
func TestReview2LegacyEnrollmentOfRecreatedProgramGoesToNewCreator(t *testing.T) {
	for _, via := range []string{"late delete event", "create event", "ops programs sync"} {
		t.Run(via, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			v1, _ := h.programVersion("prog-1")
			buyProg1(h)
			h.stripField("enrollments/u1_prog-1", "programCreated") // granted before versions
			h.recreateProgram()                                     // deleted by an admin, then coach-x's
			switch via {
			case "late delete event":
				h.onProgram(h.programEvent("prog-1", programDoc("prog-1", "coach-1", "coach-2"), nil))
			case "create event":
				h.onProgram(h.programEvent("prog-1", nil, programDoc("prog-1", "coach-x")))
			default:
				if err := h.svc.SyncAllPrograms(t.Context(), nil); err != nil {
					t.Fatal(err)
				}
			}
			wantCoaches(t, h, EnrollmentActive, []string{}, map[string]string{}, []string{})
			if e := h.enrollmentDoc("u1", "prog-1"); e.ProgramCreated != nil && e.ProgramCreated.Equal(h.createTime("programs/prog-1")) {
				t.Errorf("legacy enrolment (payment for version %v) recorded as of the re-created program", v1)
			}
		})
	}
}

// TestReview2LegacyPaymentEventAfterRecreateAssignsNewCreator: u1's
// payment was recorded paid before terms were frozen (a legacy payment:
// no programTerms, no programCreated); its enrolment records version v1
// (granted since, or recorded by `ops programs sync`). An admin deletes
// prog-1 and coach-x creates a program under the id; onProgramWritten
// leaves u1 without coaches. A later event of the legacy payment that
// leaves it granting access (partial refund, dispute opened, a failed
// full refund restoring it) treats it as a payment for the new version,
// moves the enrolment to it and makes coach-x u1's coach. The enrolment
// it granted records which version it was for.
func TestReview2LegacyPaymentEventAfterRecreateAssignsNewCreator(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before [][]byte // delivered before the re-creation
		after  [][]byte
	}{
		{"partial refund", nil, [][]byte{event("evt_r2_pr", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 10000))}},
		{"dispute opened", nil, [][]byte{event("evt_r2_dc", "charge.dispute.created", t0+1000, objDispute("dp_1", "pi_1", "ch_1", 49900, "needs_response"))}},
		{"full refund fails after the re-creation",
			[][]byte{event("evt_r2_rp", "refund.created", t0+100, objRefund("re_1", "pi_1", "ch_1", 49900, "pending", t0+100))},
			[][]byte{event("evt_r2_rf", "refund.updated", t0+200, objRefund("re_1", "pi_1", "ch_1", 49900, "failed", t0+100))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			v1, _ := h.programVersion("prog-1")
			buyProg1(h)
			h.stripField("payments/pi_1", "programTerms") // recorded paid before terms were frozen
			for _, b := range tc.before {
				h.mustDeliver(b)
			}
			recreateByCoachX(h)
			for _, b := range tc.after {
				h.mustDeliver(b)
			}
			st := h.enrollmentOf("u1", "prog-1")
			if _, ok := st.coaches["coach-x"]; ok || len(st.coachIDs) != 0 {
				t.Errorf("after an event of the old version's payment: %+v; coach-x must not get u1", st)
			}
			if e := h.enrollmentDoc("u1", "prog-1"); e.ProgramCreated == nil || !e.ProgramCreated.Equal(v1) {
				t.Errorf("enrolment moved to version %v by an event of the old version's payment (want %v)", e.ProgramCreated, v1)
			}
		})
	}
}

// TestReview2LegacyPaymentKeepsRecreatedProgramAfterRefund: u1 bought
// prog-1 with a legacy payment pi_1 (recorded paid before terms were
// frozen: no version). An admin deletes prog-1, coach-x creates a program
// under the id, and u1 buys it too (pi_2, checkout version v2): the
// enrolment moves to v2 and coach-x becomes u1's coach. u1 gets pi_2
// refunded in full. The revocation looks for another payment of u1 for
// the program that still grants access and takes pi_1 — a payment made
// months before the program it is now counted for existed — so u1 keeps
// the refunded program and coach-x keeps u1 as a client (client profile,
// enrolment). A modern payment of the old version is excluded
// (TestRecreatedSaleKeepsNoAccessAfterOtherRefund); the legacy one says
// no version, but its paymentDate precedes the program's create time.
func TestReview2LegacyPaymentKeepsRecreatedProgramAfterRefund(t *testing.T) {
	h := newHarness(t)
	h.seed()
	buyProg1(h)
	h.stripField("payments/pi_1", "programTerms")
	recreateByCoachX(h)
	v2 := h.createTime("programs/prog-1")
	h.mustDeliver(event("evt_r2_b2", "payment_intent.succeeded", t0+50, withMeta(objPI("pi_2", "cus_1", "succeeded", 49900, nil, false),
		checkoutMeta(v2))))
	wantCoaches(t, h, EnrollmentActive, []string{"coach-x"}, map[string]string{"coach-x": "u1_prog-1"}, []string{"coach-x"})
	h.mustDeliver(event("evt_r2_r2", "charge.refunded", t0+200, objCharge("ch_2", "pi_2", "cus_1", 49900, 49900)))
	wantCoaches(t, h, EnrollmentRevoked, []string{"coach-x"}, map[string]string{}, []string{})
}
