package payments

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// programEvent is the Firestore event of a write of programs/{id} from
// before to after (nil: absent).
func (h *harness) programEvent(id string, before, after map[string]any) *events.FirestoreEvent {
	h.t.Helper()
	ce := eventstest.MustFirestoreCloudEvent(h.t, eventstest.EmulatorBase64, events.TypeWritten, h.project, "programs/"+id, before, after)
	ev, err := events.DecodeFirestore(ce)
	if err != nil {
		h.t.Fatalf("decode program event: %v", err)
	}
	return ev
}

// onProgram runs OnProgramWritten for ev and fails the test on an error.
func (h *harness) onProgram(ev *events.FirestoreEvent) {
	h.t.Helper()
	if err := h.svc.OnProgramWritten(h.t.Context(), ev); err != nil {
		h.t.Fatalf("OnProgramWritten %s: %v", ev.Path, err)
	}
}

// programDoc is a program document's fields as an event carries them.
func programDoc(id string, coaches ...string) map[string]any {
	list := []any{}
	for _, c := range coaches {
		list = append(list, c)
	}
	return map[string]any{"programId": id, "title": "Calm Mind", "createdBy": list, "price": 49900, "currency": "SEK"}
}

// enrollmentDoc reads enrollments/{uid}_{programId}.
func (h *harness) enrollmentDoc(uid, programID string) model.Enrollment {
	h.t.Helper()
	var e model.Enrollment
	if !h.get("enrollments/"+EnrollmentID(uid, programID), &e) {
		h.t.Fatalf("no enrolment %s", EnrollmentID(uid, programID))
	}
	return e
}

// wantCoaches checks u1's prog-1 enrolment: its status, its coachIds, the
// user's coach assignments (coach → sourceId) and the client profile's
// coachIds.
func wantCoaches(t *testing.T, h *harness, status string, listed []string, assigned map[string]string, profile []string) {
	t.Helper()
	st := h.enrollmentOf("u1", "prog-1")
	e := h.enrollmentDoc("u1", "prog-1")
	if st.status != status || !slices.Equal(slices.Sorted(slices.Values(e.CoachIDs)), listed) ||
		!maps.Equal(st.coaches, assigned) || !slices.Equal(st.coachIDs, profile) {
		t.Errorf("enrolment %s coachIds %v, assignments %v, client profile %v; want %s %v, %v, %v",
			st.status, e.CoachIDs, st.coaches, st.coachIDs, status, listed, assigned, profile)
	}
}

// TestProgramCoachChangeMovesEnrolledUsers: an admin changes prog-1's
// createdBy after u1 enrolled (coach-1 and coach-2). The coach who left
// loses u1 (assignment, client profile, enrolment's coachIds: the rules
// let a listed coach read the enrolment), the coach who joined gets u1, and
// the enrolment stays active. The event delivered twice, or an older event
// delivered after it, changes nothing more: the handler reads the program
// as it is. Regression: no trigger watched programs, so a removed coach kept
// the buyer (and read their client profile) until access ended.
func TestProgramCoachChangeMovesEnrolledUsers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		coaches  []string
		listed   []string
		assigned map[string]string
	}{
		{"coach-2 removed", []string{"coach-1"}, []string{"coach-1"}, map[string]string{"coach-1": "u1_prog-1"}},
		{"coach-2 replaced by coach-3", []string{"coach-3", "coach-1"}, []string{"coach-1", "coach-3"},
			map[string]string{"coach-1": "u1_prog-1", "coach-3": "u1_prog-1"}},
		{"every coach removed", nil, []string{}, map[string]string{}},
		{"the buyer listed, twice, beside an erased coach", []string{"coach-1", "u1", "erased-user", "coach-1"},
			[]string{"coach-1"}, map[string]string{"coach-1": "u1_prog-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			buyProg1(h)
			first := h.programEvent("prog-1", programDoc("prog-1", "coach-1"), programDoc("prog-1", "coach-1", "coach-2"))
			h.setCoaches("prog-1", tc.coaches...)
			ev := h.programEvent("prog-1", programDoc("prog-1", "coach-1", "coach-2"), programDoc("prog-1", tc.coaches...))
			profile := slices.Sorted(maps.Keys(tc.assigned))
			for _, e := range []*events.FirestoreEvent{ev, ev, first} {
				h.onProgram(e)
				wantCoaches(t, h, EnrollmentActive, tc.listed, tc.assigned, profile)
			}
			// A refund afterwards removes what the enrolment holds now.
			h.mustDeliver(event("evt_pc_r", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 49900)))
			wantCoaches(t, h, EnrollmentRevoked, tc.listed, map[string]string{}, []string{})
		})
	}
}

// TestProgramDeletedOrRecreatedDropsCoaches: an admin deletes prog-1 after
// u1 enrolled; its coaches lose u1 and the enrolment lists none (it stays
// active: the payment stands). When a coach then creates a program under
// the same id, that is another version: u1's enrolment, granted for the
// old one, gets none of its coaches — until u1 buys the new version, which
// moves the enrolment to it.
func TestProgramDeletedOrRecreatedDropsCoaches(t *testing.T) {
	h := newHarness(t)
	h.seed()
	buyProg1(h)
	if e := h.enrollmentDoc("u1", "prog-1"); e.ProgramCreated == nil || !e.ProgramCreated.Equal(h.createTime("programs/prog-1")) {
		t.Fatalf("enrolment programCreated = %v, want the program's create time", e.ProgramCreated)
	}
	before := programDoc("prog-1", "coach-1", "coach-2")
	h.deleteProgram("prog-1")
	deleted := h.programEvent("prog-1", before, nil)
	h.onProgram(deleted)
	wantCoaches(t, h, EnrollmentActive, []string{}, map[string]string{}, []string{})

	h.recreateProgram() // coach-x's
	created := h.programEvent("prog-1", nil, programDoc("prog-1", "coach-x"))
	for _, ev := range []*events.FirestoreEvent{created, deleted, created} {
		h.onProgram(ev)
		wantCoaches(t, h, EnrollmentActive, []string{}, map[string]string{}, []string{})
	}

	// u1 buys the new version.
	v2 := h.createTime("programs/prog-1")
	h.mustDeliver(event("evt_pc_b2", "payment_intent.succeeded", t0+50, withMeta(objPI("pi_2", "cus_1", "succeeded", 49900, nil, false),
		checkoutMeta(v2))))
	wantCoaches(t, h, EnrollmentActive, []string{"coach-x"}, map[string]string{"coach-x": "u1_prog-1"}, []string{"coach-x"})
	if e := h.enrollmentDoc("u1", "prog-1"); e.PaymentID != "pi_2" || e.ProgramCreated == nil || !e.ProgramCreated.Equal(v2) {
		t.Errorf("enrolment payment %s, programCreated %v; want pi_2, %v", e.PaymentID, e.ProgramCreated, v2)
	}
	h.onProgram(created)
	wantCoaches(t, h, EnrollmentActive, []string{"coach-x"}, map[string]string{"coach-x": "u1_prog-1"}, []string{"coach-x"})
	// The refund of the old version's payment leaves the new one alone.
	h.mustDeliver(event("evt_pc_r1", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 49900)))
	wantCoaches(t, h, EnrollmentActive, []string{"coach-x"}, map[string]string{"coach-x": "u1_prog-1"}, []string{"coach-x"})
}

// createTime returns the create time of the document at path.
func (h *harness) createTime(path string) time.Time {
	h.t.Helper()
	snap, err := h.db.Doc(path).Get(h.t.Context())
	if err != nil {
		h.t.Fatalf("get %s: %v", path, err)
	}
	return snap.CreateTime
}

// TestProgramCoachChangeKeepsOtherAssignments: coach-2 leaves prog-1, but
// u1 is also enrolled in prog-2 (coach-2's), or an admin assigned coach-2.
// The assignment prog-1's enrolment created is handed to prog-2's
// enrolment; one another enrolment or the admin made is left alone; the
// client profile keeps coach-2 either way.
func TestProgramCoachChangeKeepsOtherAssignments(t *testing.T) {
	for _, tc := range coach2Elsewhere() {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			tc.setup(h)
			h.setCoaches("prog-1", "coach-1")
			h.onProgram(h.programEvent("prog-1", programDoc("prog-1", "coach-1", "coach-2"), programDoc("prog-1", "coach-1")))
			wantCoaches(t, h, EnrollmentActive, []string{"coach-1"},
				map[string]string{"coach-1": "u1_prog-1", "coach-2": tc.keeper}, []string{"coach-1", "coach-2"})
		})
	}
}

// elsewhere is a way u1 holds coach-2 besides the prog-1 enrolment, and
// the sourceId coach-2's assignment has once prog-1's enrolment no longer
// lists coach-2.
type elsewhere struct {
	name   string
	setup  func(h *harness) // after h.seed(): prog-2 (coach-2's) exists, u1 bought prog-1 (pi_1)
	keeper string
}

// coach2Elsewhere are the ways u1 keeps coach-2 when prog-1's enrolment
// lets coach-2 go: an active enrolment in prog-2 (coach-2's), bought after
// or before prog-1 (the assignment then made by prog-1's or prog-2's
// enrolment), or an admin's assignment.
func coach2Elsewhere() []elsewhere {
	buy1 := event("evt_rc_b1", "payment_intent.succeeded", t0, objPI("pi_1", "cus_1", "succeeded", 49900,
		map[string]any{"uid": "u1", "programId": "prog-1"}, false))
	buy2 := event("evt_rc_b2", "payment_intent.succeeded", t0+5, objPI("pi_2", "cus_1", "succeeded", 19900,
		map[string]any{"uid": "u1", "programId": "prog-2"}, false))
	prog2 := func(h *harness) {
		h.t.Helper()
		price, cur := int64(19900), "SEK"
		h.set("programs/prog-2", model.Program{ProgramID: "prog-2", Title: "Focus", CreatedBy: []string{"coach-2"},
			Price: &price, Currency: &cur, Difficulty: model.DifficultyBeginner})
	}
	return []elsewhere{
		{"prog-1 bought first", func(h *harness) { prog2(h); h.mustDeliver(buy1); h.mustDeliver(buy2) }, "u1_prog-2"},
		{"prog-2 bought first", func(h *harness) { prog2(h); h.mustDeliver(buy2); h.mustDeliver(buy1) }, "u1_prog-2"},
		{"coach-2 assigned by an admin", func(h *harness) {
			prog2(h)
			h.set("users/u1/coaches/coach-2", model.CoachAssignment{CoachID: "coach-2", UserID: "u1",
				Source: model.AssignedByAdmin, SourceID: "admin-1", CreatedAt: time.Unix(t0-100, 0)})
			h.set("client_profiles/u1", map[string]any{"userId": "u1", "coachIds": []any{"coach-2"}})
			h.mustDeliver(buy1)
		}, "admin-1"},
	}
}

// TestProgramEditsThatKeepCoachesWriteNothing: an edit of the title or
// price (createdBy unchanged) is ignored, a revoked enrolment is left as it
// is, and an enrolment already in step is not written again (its update
// time stays).
func TestProgramEditsThatKeepCoachesWriteNothing(t *testing.T) {
	h := newHarness(t)
	h.seed()
	buyProg1(h)
	h.set("enrollments/u2_prog-1", model.Enrollment{UserID: "u2", ProgramID: "prog-1", CoachIDs: []string{"coach-1", "coach-2"},
		PaymentID: "pi_9", Status: EnrollmentRevoked, CreatedAt: testNow, UpdatedAt: testNow})
	updated := func(path string) time.Time {
		t.Helper()
		snap, err := h.db.Doc(path).Get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return snap.UpdateTime
	}
	paths := []string{"enrollments/u1_prog-1", "enrollments/u2_prog-1", "users/u1/coaches/coach-1", "client_profiles/u1"}
	was := map[string]time.Time{}
	for _, p := range paths {
		was[p] = updated(p)
	}
	retitled := programDoc("prog-1", "coach-1", "coach-2")
	retitled["title"] = "Calmer Mind"
	h.setCoaches("prog-1", "coach-1") // the document changed; the event below only retitles
	h.onProgram(h.programEvent("prog-1", programDoc("prog-1", "coach-1", "coach-2"), retitled))
	h.setCoaches("prog-1", "coach-1", "coach-2")
	h.onProgram(h.programEvent("prog-1", programDoc("prog-1", "coach-1"), programDoc("prog-1", "coach-1", "coach-2")))
	for _, p := range paths {
		if now := updated(p); !now.Equal(was[p]) {
			t.Errorf("%s written (update time %v → %v)", p, was[p], now)
		}
	}
	if e := h.enrollmentDoc("u2", "prog-1"); e.Status != EnrollmentRevoked || len(e.CoachIDs) != 2 {
		t.Errorf("revoked enrolment = %+v, want left alone", e)
	}
}

// TestSyncProgramCoachesPagesAndRecordsVersion: a program with more
// enrolments than a page (some granted before versions were recorded, one
// with another program's id shape) gets every active one in step, records
// the version on the old ones, and a second run changes nothing.
// SyncAllPrograms also reaches a deleted program's enrolments.
func TestSyncProgramCoachesPagesAndRecordsVersion(t *testing.T) {
	h := newHarness(t)
	h.seed()
	n := 2*syncPage + 3
	bw := h.db.BulkWriter(t.Context())
	for i := range n {
		uid := fmt.Sprintf("user-%04d", i)
		en := model.Enrollment{UserID: uid, ProgramID: "prog-1", CoachIDs: []string{"coach-1", "coach-2"},
			Status: EnrollmentActive, CreatedAt: testNow, UpdatedAt: testNow}
		if _, err := bw.Set(h.db.Doc("enrollments/"+EnrollmentID(uid, "prog-1")), en); err != nil {
			t.Fatal(err)
		}
		for _, c := range en.CoachIDs {
			if _, err := bw.Set(h.db.Doc("users/"+uid+"/coaches/"+c), model.CoachAssignment{CoachID: c, UserID: uid,
				Source: model.AssignedByEnrollment, SourceID: EnrollmentID(uid, "prog-1"), CreatedAt: testNow}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A deleted program's enrolment, granted before versions were recorded.
	if _, err := bw.Set(h.db.Doc("enrollments/u9_prog-gone"), model.Enrollment{UserID: "u9", ProgramID: "prog-gone",
		CoachIDs: []string{"coach-7"}, Status: EnrollmentActive, CreatedAt: testNow, UpdatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := bw.Set(h.db.Doc("users/u9/coaches/coach-7"), model.CoachAssignment{CoachID: "coach-7", UserID: "u9",
		Source: model.AssignedByEnrollment, SourceID: "u9_prog-gone", CreatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	bw.End()
	h.setCoaches("prog-1", "coach-1")

	st, err := h.svc.SyncProgramCoaches(t.Context(), "prog-1")
	if err != nil || st.Enrollments != n || st.Changed != n || st.Failed != 0 {
		t.Fatalf("first sync: %+v, %v; want %d enrolments changed", st, err, n)
	}
	version := h.createTime("programs/prog-1")
	for _, i := range []int{0, syncPage, n - 1} {
		uid := fmt.Sprintf("user-%04d", i)
		e := h.enrollmentDoc(uid, "prog-1")
		st := h.enrollmentOf(uid, "prog-1")
		if !slices.Equal(e.CoachIDs, []string{"coach-1"}) || e.ProgramCreated == nil || !e.ProgramCreated.Equal(version) ||
			!maps.Equal(st.coaches, map[string]string{"coach-1": uid + "_prog-1"}) {
			t.Errorf("%s: coachIds %v, programCreated %v, assignments %v", uid, e.CoachIDs, e.ProgramCreated, st.coaches)
		}
	}
	if st, err := h.svc.SyncProgramCoaches(t.Context(), "prog-1"); err != nil || st.Changed != 0 || st.Enrollments != n {
		t.Errorf("second sync: %+v, %v; want nothing changed", st, err)
	}

	done := map[string]SyncStats{}
	if err := h.svc.SyncAllPrograms(t.Context(), func(id string, st SyncStats, err error) {
		if err != nil {
			t.Errorf("sync %s: %v", id, err)
		}
		done[id] = st
	}); err != nil {
		t.Fatal(err)
	}
	if done["prog-gone"].Changed != 1 || done["prog-1"].Changed != 0 || len(done) != 3 { // prog-1, prog-free, prog-gone
		t.Errorf("SyncAllPrograms: %+v", done)
	}
	if st := h.enrollmentOf("u9", "prog-gone"); len(st.coaches) != 0 {
		t.Errorf("deleted program's enrolment keeps coaches %v", st.coaches)
	}
	if _, err := h.svc.SyncProgramCoaches(t.Context(), "a/b"); err == nil {
		t.Error("a program id with a slash: want an invalid-argument error")
	}
}

// TestOnProgramWrittenIgnoresOtherPaths: an event for another document
// (a misrouted trigger) or with a malformed program id does nothing.
func TestOnProgramWrittenIgnoresOtherPaths(t *testing.T) {
	h := newHarness(t)
	h.seed()
	buyProg1(h)
	h.setCoaches("prog-1")
	ce := eventstest.MustFirestoreCloudEvent(t, eventstest.EmulatorBase64, events.TypeWritten, h.project, "programs/prog-1/modules/m1",
		nil, map[string]any{"title": "x"})
	ev, err := events.DecodeFirestore(ce)
	if err != nil {
		t.Fatal(err)
	}
	h.onProgram(ev)
	wantCoaches(t, h, EnrollmentActive, []string{"coach-1", "coach-2"},
		map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-1"}, []string{"coach-1", "coach-2"})
}

// TestRegrantReadsWhoStillNeedsAnAssignment: u1's revoked prog-1 enrolment
// left an assignment to coach-2 behind (the revocation before coaches who
// left the program were released), which u1's active prog-2 enrolment
// relies on (its grant found coach-2 assigned and created none). When u1
// buys prog-1 again (coach-1's only now), the grant releases coach-2's
// assignment, which must go to prog-2's enrolment, not be deleted.
// Regression: the grant released without reading the user's other active
// enrolments, so u1 lost coach-2.
func TestRegrantReadsWhoStillNeedsAnAssignment(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.setCoaches("prog-1", "coach-1")
	price, cur := int64(19900), "SEK"
	h.set("programs/prog-2", model.Program{ProgramID: "prog-2", Title: "Focus", CreatedBy: []string{"coach-2"},
		Price: &price, Currency: &cur, Difficulty: model.DifficultyBeginner})
	h.set("enrollments/u1_prog-1", model.Enrollment{UserID: "u1", ProgramID: "prog-1", CoachIDs: []string{"coach-1", "coach-2"},
		PaymentID: "pi_0", Status: EnrollmentRevoked, CreatedAt: testNow, UpdatedAt: testNow})
	h.set("enrollments/u1_prog-2", model.Enrollment{UserID: "u1", ProgramID: "prog-2", CoachIDs: []string{"coach-2"},
		PaymentID: "pi_2", Status: EnrollmentActive, CreatedAt: testNow, UpdatedAt: testNow})
	h.set("users/u1/coaches/coach-2", model.CoachAssignment{CoachID: "coach-2", UserID: "u1",
		Source: model.AssignedByEnrollment, SourceID: "u1_prog-1", CreatedAt: testNow})
	h.set("client_profiles/u1", map[string]any{"userId": "u1", "coachIds": []any{"coach-2"}})
	h.mustDeliver(event("evt_rg_b1", "payment_intent.succeeded", t0, objPI("pi_1", "cus_1", "succeeded", 49900,
		map[string]any{"uid": "u1", "programId": "prog-1"}, false)))
	wantCoaches(t, h, EnrollmentActive, []string{"coach-1"},
		map[string]string{"coach-1": "u1_prog-1", "coach-2": "u1_prog-2"}, []string{"coach-1", "coach-2"})
}

// TestPaymentForMissingProgramGrantsNoLaterProgram: u1's payment (a
// checkout from before versions were sent) was first recorded paid while
// prog-1 did not exist (deleted between checkout and payment): its terms
// say the program was not found, and nothing was granted. coach-x then
// creates a program under the id. A later event of the payment (partial
// refund, dispute opened, late charge.succeeded) grants nothing either:
// the payment was for a version that is gone. Regression: the payment's
// version was unknown, so the later event enrolled u1 in coach-x's program
// and made coach-x u1's coach.
func TestPaymentForMissingProgramGrantsNoLaterProgram(t *testing.T) {
	for _, tc := range laterEventsOfPi1("evt_mp") {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			h.deleteProgram("prog-1")
			h.mustDeliver(event("evt_rc_b1", "payment_intent.succeeded", t0, objPI("pi_1", "cus_1", "succeeded", 49900,
				map[string]any{"uid": "u1", "programId": "prog-1"}, false)))
			var p model.Payment
			if !h.get("payments/pi_1", &p) || p.ProgramTerms == nil || p.ProgramTerms.ProgramFound {
				t.Fatalf("pi_1 terms %+v, want frozen with the program not found", p.ProgramTerms)
			}
			h.recreateProgram() // coach-x's
			h.mustDeliver(tc.ev)
			if st := h.enrollmentOf("u1", "prog-1"); st.status != "" || len(st.coaches) != 0 || len(st.coachIDs) != 0 {
				t.Errorf("enrolment %+v: want none, and no coach", st)
			}
		})
	}
}

// TestFreeEnrolmentChecksTheProgramItRead: the free enrolment's
// transaction enrols only in the version of the program the callable read,
// and only while it is free. A program given a price, or deleted and
// created again (by another coach) between the callable's read and its
// transaction, enrols nobody and assigns no coach. Regression: the
// transaction granted whatever program sat at the id, so a paid program
// could be joined for free and its creator got the user.
func TestFreeEnrolmentChecksTheProgramItRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(h *harness)
		code   string
	}{
		{"given a price", func(h *harness) {
			if _, err := h.db.Doc("programs/prog-free").Update(h.t.Context(), []firestore.Update{{Path: "price", Value: 9900},
				{Path: "currency", Value: "SEK"}}); err != nil {
				h.t.Fatal(err)
			}
		}, "FAILED_PRECONDITION"},
		{"re-created by another coach", func(h *harness) {
			h.deleteProgram("prog-free")
			h.set("programs/prog-free", map[string]any{"programId": "prog-free", "title": "Intro", "createdBy": []any{"coach-x"}})
		}, "FAILED_PRECONDITION"},
		{"deleted", func(h *harness) { h.deleteProgram("prog-free") }, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			read := h.createTime("programs/prog-free")
			tc.change(h)
			if _, err := h.svc.enrollFree(t.Context(), "u1", "prog-free", read); string(fault.CodeOf(err)) != tc.code {
				t.Errorf("enrollFree: %v, want %s", err, tc.code)
			}
			if st := h.enrollmentOf("u1", "prog-free"); st.status != "" || len(st.coaches) != 0 {
				t.Errorf("enrolment %+v, want none", st)
			}
		})
	}
	h := newHarness(t)
	h.seed()
	if _, err := h.svc.enrollFree(t.Context(), "u1", "prog-free", h.createTime("programs/prog-free")); err != nil {
		t.Fatal(err)
	}
	if st := h.enrollmentOf("u1", "prog-free"); st.status != EnrollmentActive || st.coaches["coach-1"] != "u1_prog-free" {
		t.Errorf("unchanged free program: enrolment %+v", st)
	}
}

// laterEvent is a late event of u1's payment pi_1 that leaves it granting
// access.
type laterEvent struct {
	name string
	ev   []byte
}

// laterEventsOfPi1 are the late events of pi_1 that leave it granting
// access (a partial refund, a dispute opened, a late charge.succeeded),
// with event ids starting with prefix.
func laterEventsOfPi1(prefix string) []laterEvent {
	return []laterEvent{
		{"partial refund", event(prefix+"_pr", "charge.refunded", t0+100, objCharge("ch_1", "pi_1", "cus_1", 49900, 10000))},
		{"dispute opened", event(prefix+"_dc", "charge.dispute.created", t0+1000, objDispute("dp_1", "pi_1", "ch_1", 49900, "needs_response"))},
		{"late charge.succeeded", event(prefix+"_cs", "charge.succeeded", t0+1, objCharge("ch_1", "pi_1", "cus_1", 49900, 0))},
	}
}

// TestSecondLegacyPaymentDoesNotMoveEnrolment: u1 paid prog-1 twice before
// versions or terms were recorded (pi_1, which the enrolment was granted
// for, and pi_0). prog-1 is deleted and re-created by coach-x. A late
// event of pi_0, made months before the new program existed, does not
// move u1's enrolment into it: coach-x does not get u1.
func TestSecondLegacyPaymentDoesNotMoveEnrolment(t *testing.T) {
	h := newHarness(t)
	h.seed()
	v1 := h.createTime("programs/prog-1")
	buyProg1(h)
	h.mustDeliver(event("evt_sl_b0", "payment_intent.succeeded", t0-50, objPI("pi_0", "cus_1", "succeeded", 49900,
		map[string]any{"uid": "u1", "programId": "prog-1"}, false)))
	for _, pi := range []string{"payments/pi_0", "payments/pi_1"} {
		h.stripField(pi, "programTerms") // recorded paid before terms were frozen
	}
	recreateByCoachX(h)
	h.mustDeliver(event("evt_sl_pr", "charge.refunded", t0+100, objCharge("ch_0", "pi_0", "cus_1", 49900, 10000)))
	if st := h.enrollmentOf("u1", "prog-1"); len(st.coaches) != 0 || len(st.coachIDs) != 0 {
		t.Errorf("after a late event of pi_0: %+v; coach-x must not get u1", st)
	}
	if e := h.enrollmentDoc("u1", "prog-1"); e.ProgramCreated == nil || !e.ProgramCreated.Equal(v1) {
		t.Errorf("enrolment moved to version %v (want %v)", e.ProgramCreated, v1)
	}
}
