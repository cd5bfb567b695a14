package payments

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// Enrollment statuses.
const (
	EnrollmentActive  = "active"
	EnrollmentRevoked = "revoked"
)

// EnrollmentID is the id of enrollments/{uid}_{programId}.
func EnrollmentID(uid, programID string) string { return uid + "_" + programID }

// enrollmentTx is a user's enrolment in one program as read inside a
// transaction: the program (nil when it does not exist), the enrolment
// (nil when none; read also when the program does not exist), and the
// user's assignment to each of the program's current coaches and of the
// coaches the enrolment recorded (nil when absent). readRevocation adds
// what a revocation needs to know about the user's other payments and
// enrolments.
type enrollmentTx struct {
	s         *Service
	uid       string
	programID string
	program   *programInfo
	// programRead is set when programs/{programID} was read (program nil:
	// it does not exist); a user id that cannot be a document id reads
	// nothing.
	programRead bool
	// recreated is set when the payment's checkout was for another
	// version of the program (payments.programCreated differs from the
	// program's create time): it was deleted and created again since, so
	// the payment grants no access to it and assigns none of its coaches.
	recreated bool
	// ref is the enrolment's document; nil when uid or programID cannot
	// be a document id (nothing is read or written).
	ref *firestore.DocumentRef
	old *model.Enrollment
	// coaches are the program's current coaches (createdBy), the ones a
	// grant assigns and records; none when the program does not exist.
	coaches []string
	// revocable are coaches together with the enrolment's recorded
	// coachIds (the coaches it assigned when granted, who may have left
	// the program's createdBy since, or whose program was deleted),
	// sorted: the coaches whose assignment a revocation may remove.
	revocable []string
	// assigned holds the user's assignment to each coach in revocable.
	assigned map[string]*model.CoachAssignment
	// altPayment is another payment of the user for the program that
	// still grants access ("" when none), read by readRevocation.
	altPayment string
	// keepers maps a coach whose assignment this enrolment created to
	// another active enrolment of the user that lists the coach, read by
	// readRevocation.
	keepers map[string]string
}

// programInfo is what enrolments, payment descriptions and
// createCheckoutSession need of programs/{id}. It is read field by field
// (readProgramInfo) because the program is written by its coaches and the
// rules bound only the size of some fields: a malformed field the payments
// do not use (tags, modules, …) must not block payment, refund and
// dispute events, nor make checkout fail.
type programInfo struct {
	title string
	// free: price absent, null or 0 (enrolment without payment).
	free bool
	// price is the price in minor units; nil when the field holds
	// something other than an integer (no valid price, never free).
	price    *int64
	currency string
	// terms are the program's coaches, splits and commission with the
	// document's create and update times, what a payment recorded as paid
	// freezes (payments.programTerms, model.ProgramTerms).
	terms model.ProgramTerms
}

// readProgramInfo takes the title, the price, the currency and the payout
// terms (model.ProgramTermsOf: the coach ids of createdBy, coachSplits,
// commissionBps, and the document's create and update times) of a program document, ignoring every other field. A price
// of the wrong type (a string, a float) is no valid price, not a free
// program; a title or currency of the wrong type is treated as absent.
func readProgramInfo(snap *firestore.DocumentSnapshot) *programInfo {
	data := snap.Data()
	p := &programInfo{terms: model.ProgramTermsOf(data)}
	if !snap.CreateTime.IsZero() {
		p.terms.ProgramCreateTime = ptr(snap.CreateTime.UTC())
	}
	if !snap.UpdateTime.IsZero() {
		p.terms.ProgramUpdateTime = ptr(snap.UpdateTime.UTC())
	}
	p.title, _ = data["title"].(string)
	switch v := data["price"].(type) {
	case nil:
		p.free = true
	case int64:
		p.free, p.price = v == 0, &v
	}
	p.currency, _ = data["currency"].(string)
	return p
}

// readEnrollment does the reads of an enrolment change: the program, the
// enrolment (also when the program does not exist, so that a revocation
// can end it), and the user's assignments to the program's current coaches
// and to the coaches the enrolment recorded.
func (s *Service) readEnrollment(tx *firestore.Transaction, uid, programID string) (*enrollmentTx, error) {
	e := &enrollmentTx{s: s, uid: uid, programID: programID, assigned: map[string]*model.CoachAssignment{}}
	if !model.ValidDocID(uid) {
		return e, nil
	}
	prog, err := s.readProgram(tx, programID)
	if err != nil {
		return nil, err
	}
	e.programRead = true
	if !model.ValidDocID(programID) {
		return e, nil
	}
	e.program = prog
	e.ref = s.Firestore.Collection(model.ColEnrollments).Doc(EnrollmentID(uid, programID))
	snap, err := tx.Get(e.ref)
	switch {
	case err == nil:
		var old model.Enrollment
		if err := snap.DataTo(&old); err != nil {
			return nil, fmt.Errorf("decode enrollment: %w", err)
		}
		e.old = &old
	case !store.IsNotFound(err):
		return nil, err
	}
	e.coaches = programCoaches(e.program, uid)
	seen := map[string]bool{}
	for _, c := range e.coaches {
		seen[c] = true
	}
	e.revocable = append([]string{}, e.coaches...)
	if e.old != nil {
		for _, c := range e.old.CoachIDs {
			// erased-user too: an enrolment granted before it was excluded
			// may hold an assignment to it, which must be releasable.
			if !model.ValidDocID(c) || c == uid || seen[c] {
				continue
			}
			seen[c] = true
			e.revocable = append(e.revocable, c)
		}
		sort.Strings(e.revocable)
	}
	for _, c := range e.revocable {
		snap, err := tx.Get(s.coachRef(uid, c))
		switch {
		case err == nil:
			var a model.CoachAssignment
			if err := snap.DataTo(&a); err != nil {
				return nil, fmt.Errorf("decode coach assignment: %w", err)
			}
			e.assigned[c] = &a
		case store.IsNotFound(err):
			e.assigned[c] = nil
		default:
			return nil, err
		}
	}
	if e.ref != nil && (!e.active() || e.stale()) && len(e.createdOutside(e.coaches)) > 0 {
		// A grant would release these (setCoaches): an active enrolment
		// of an older version moving to this one, or a revoked one whose
		// assignments to coaches who left outlived its revocation.
		if err := e.readKeepers(tx); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// programCoaches returns the coaches of prog to assign to uid, sorted:
// those of createdBy that are coaches to assign (coachID), once each; none
// when prog is nil.
func programCoaches(prog *programInfo, uid string) []string {
	var out []string
	if prog != nil {
		for _, c := range prog.terms.CoachIDs {
			if coachID(c, uid) && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// coachID reports whether c, listed as a coach of uid's program or
// enrolment, is a coach to assign: a document id, not the user, and not
// the reference GDPR erasure leaves for an erased coach.
func coachID(c, uid string) bool {
	return model.ValidDocID(c) && c != uid && c != model.ErasedRef
}

// readRevocation does the further reads of a revocation for paymentID,
// before any write of the transaction: whether another payment of the user
// for the program still grants access (altPayment), and, when the
// enrolment will end, which of the coach assignments it created another
// active enrolment of the user still needs (keepers). When the program
// does not exist, only an active enrolment can change (revoke), so nothing
// more is read for an inactive one or none.
func (e *enrollmentTx) readRevocation(tx *firestore.Transaction, paymentID string) error {
	if e.ref == nil || (e.program == nil && !e.active()) {
		return nil
	}
	fs := e.s.Firestore
	snaps, err := tx.Documents(indexes.MustLookup(indexes.QUserProgramPayments).MustBuild(fs, e.uid, e.programID)).GetAll()
	if err != nil {
		return fmt.Errorf("read the user's payments for the program: %w", err)
	}
	var alts []string
	for _, snap := range snaps {
		if snap.Ref.ID == paymentID {
			continue
		}
		var p model.Payment
		if err := snap.DataTo(&p); err != nil {
			// Server-owned; a document that does not decode grants nothing.
			continue
		}
		// A payment for another version of the program (deleted and
		// created again since its checkout) grants nothing by itself, so
		// it does not keep the user enrolled either.
		// A payment that names no version (a legacy one) but was made
		// before this version was created is for an older one too.
		if hasAccess(p) && !otherVersion(e.program, paymentVersion(p)) && !paidBefore(e.program, p) {
			alts = append(alts, snap.Ref.ID)
		}
	}
	if len(alts) > 0 {
		sort.Strings(alts)
		e.altPayment = alts[0]
		return nil
	}
	if !e.active() || e.old.PaymentID != paymentID || len(e.createdAssignments()) == 0 {
		return nil
	}
	return e.readKeepers(tx)
}

// readKeepers reads the user's other active enrolments into keepers (each
// coach they list → the first of them by document id), which release
// needs; once per transaction.
func (e *enrollmentTx) readKeepers(tx *firestore.Transaction) error {
	if e.keepers != nil {
		return nil
	}
	q := indexes.MustLookup(indexes.QUserActiveEnrollments).MustBuild(e.s.Firestore, e.uid, EnrollmentActive)
	snaps, err := tx.Documents(q).GetAll()
	if err != nil {
		return fmt.Errorf("read the user's active enrolments: %w", err)
	}
	e.keepers = map[string]string{}
	for _, snap := range snaps { // ordered by document id
		if snap.Ref.ID == e.ref.ID {
			continue
		}
		list, _ := snap.Data()["coachIds"].([]any)
		for _, v := range list {
			if c, ok := v.(string); ok && e.keepers[c] == "" {
				e.keepers[c] = snap.Ref.ID
			}
		}
	}
	return nil
}

// createdAssignments returns the coaches whose assignment this enrolment
// created (source enrollment, sourceId the enrolment), among the program's
// current coaches and the coaches the enrolment recorded (revocable).
func (e *enrollmentTx) createdAssignments() []string {
	var out []string
	for _, c := range e.revocable {
		if a := e.assigned[c]; a != nil && a.Source == model.AssignedByEnrollment && a.SourceID == e.ref.ID {
			out = append(out, c)
		}
	}
	return out
}

// createdOutside returns the coaches whose assignment this enrolment
// created (createdAssignments) that are not in target: those setCoaches
// releases.
func (e *enrollmentTx) createdOutside(target []string) []string {
	var out []string
	for _, c := range e.createdAssignments() {
		if !slices.Contains(target, c) {
			out = append(out, c)
		}
	}
	return out
}

func (s *Service) coachRef(uid, coach string) *firestore.DocumentRef {
	return s.Firestore.Collection(model.ColUsers).Doc(uid).Collection(model.SubColCoaches).Doc(coach)
}

// active reports whether the user is enrolled now.
func (e *enrollmentTx) active() bool { return e.old != nil && e.old.Status == EnrollmentActive }

// stale reports whether the enrolment was granted for another version of
// the program than the one read (it was deleted and created again since):
// its recorded programCreated differs from the program's create time. An
// enrolment without one (granted before it was recorded) counts as for
// the version read.
func (e *enrollmentTx) stale() bool {
	return e.old != nil && otherVersion(e.program, e.old.ProgramCreated)
}

// grant makes the enrolment active for paymentID ("" for a free program)
// and assigns every coach of the program to the user
// (users/{uid}/coaches/{coach}, mirrored in client_profiles/{uid}.coachIds),
// recording the program's version (programCreated). It writes nothing when
// the user is already enrolled in this version of the program; an active
// enrolment of an older version (stale) moves to this one. The caller does
// not grant for a payment whose checkout was for another version of the
// program (recreated); paymentID is always one for this version. It
// requires the program to exist.
//
// The caller grants only for a payment that grants access (hasAccess of
// the merged payment), so the enrolment follows the payment both ways: an
// enrolment revoked by this very payment is granted again when the payment
// grants access again (a failed or canceled refund), while a payment that
// is refunded or lost a dispute never reaches grant, so its late success
// event does not grant.
func (e *enrollmentTx) grant(tx *firestore.Transaction, paymentID string, now time.Time) error {
	if e.program == nil || (e.active() && !e.stale()) {
		return nil
	}
	en := model.Enrollment{
		UserID: e.uid, ProgramID: e.programID, CoachIDs: append([]string{}, e.coaches...), PaymentID: paymentID,
		Status: EnrollmentActive, CreatedAt: now, UpdatedAt: now, ProgramCreated: e.program.terms.ProgramCreateTime,
	}
	if e.old != nil {
		en.CreatedAt = e.old.CreatedAt
	}
	if err := tx.Set(e.ref, en); err != nil {
		return err
	}
	// An active enrolment of an older version of the program (deleted and
	// created again) moves to this one: the old version's coaches it
	// assigned go (readEnrollment read the keepers).
	return e.setCoaches(tx, e.coaches, now)
}

// setCoaches makes the coach assignments this enrolment holds those of
// target: it assigns each coach of target the user has no assignment to
// (users/{uid}/coaches/{coach}, source this enrolment, mirrored in
// client_profiles/{uid}.coachIds) and releases the assignments it created
// for coaches not in target (release). It needs readKeepers's read when
// some are released.
func (e *enrollmentTx) setCoaches(tx *firestore.Transaction, target []string, now time.Time) error {
	if err := e.release(tx, e.createdOutside(target)); err != nil {
		return err
	}
	var added []any
	for _, c := range target {
		if e.assigned[c] != nil {
			continue
		}
		a := model.CoachAssignment{CoachID: c, UserID: e.uid, Source: model.AssignedByEnrollment,
			SourceID: e.ref.ID, CreatedAt: now}
		if err := tx.Create(e.s.coachRef(e.uid, c), a); err != nil {
			return err
		}
		added = append(added, c)
	}
	if len(added) > 0 {
		return tx.Set(e.s.Firestore.Collection(model.ColClientProfiles).Doc(e.uid),
			map[string]any{"userId": e.uid, "coachIds": firestore.ArrayUnion(added...)}, firestore.MergeAll)
	}
	return nil
}

// release removes the user's assignments to coaches, which this enrolment
// created: an assignment another active enrolment of the user still lists
// (keepers) is re-pointed to it instead of deleted. The coaches deleted
// leave client_profiles/{uid}.coachIds.
func (e *enrollmentTx) release(tx *firestore.Transaction, coaches []string) error {
	var removed []any
	for _, c := range coaches {
		if keeper := e.keepers[c]; keeper != "" {
			if err := tx.Update(e.s.coachRef(e.uid, c), []firestore.Update{{Path: "sourceId", Value: keeper}}); err != nil {
				return err
			}
			continue
		}
		if err := tx.Delete(e.s.coachRef(e.uid, c)); err != nil {
			return err
		}
		removed = append(removed, c)
	}
	if len(removed) > 0 {
		return tx.Set(e.s.Firestore.Collection(model.ColClientProfiles).Doc(e.uid),
			map[string]any{"coachIds": firestore.ArrayRemove(removed...)}, firestore.MergeAll)
	}
	return nil
}

// revoke ends an enrolment that paymentID granted (full refund, lost
// dispute), removing the coach assignments this enrolment created: those
// of the coaches it recorded when granted and of the program's current
// coaches, so a coach who left the program since does not keep the user.
// It does so also when the program has been deleted since. It needs
// readRevocation's reads.
//
// When another payment of the user for the program still grants access
// (altPayment), the enrolment stays active and its paymentId moves to that
// payment (or, if it is not active, it is granted for that payment). A
// coach assignment that another active enrolment of the user still lists
// is kept and re-pointed to that enrolment instead of being deleted.
//
// When the user has no enrolment yet (the refund's event came before the
// payment's), a revoked one is recorded, so that every order of events
// ends in the same state and a late success event does not grant access;
// not when the program does not exist (there are no coaches to record,
// and no grant can follow without it).
func (e *enrollmentTx) revoke(tx *firestore.Transaction, paymentID string, now time.Time) error {
	if e.ref == nil {
		return nil
	}
	if alt := e.altPayment; alt != "" {
		switch {
		case !e.active():
			return e.grant(tx, alt, now)
		case e.old.PaymentID == paymentID:
			return tx.Update(e.ref, []firestore.Update{
				{Path: "paymentId", Value: alt}, {Path: "updatedAt", Value: now},
			})
		}
		return nil
	}
	if e.old == nil {
		if e.program == nil {
			return nil
		}
		if e.recreated {
			// The payment never grants this program, so no order of its
			// events needs the revoked record; it would list the new
			// program's coaches, who can read it, and tell them the buyer.
			return nil
		}
		return tx.Create(e.ref, model.Enrollment{
			UserID: e.uid, ProgramID: e.programID, CoachIDs: append([]string{}, e.coaches...), PaymentID: paymentID,
			Status: EnrollmentRevoked, CreatedAt: now, UpdatedAt: now, ProgramCreated: e.program.terms.ProgramCreateTime,
		})
	}
	if !e.active() || e.old.PaymentID != paymentID {
		return nil
	}
	if err := tx.Update(e.ref, []firestore.Update{
		{Path: "status", Value: EnrollmentRevoked}, {Path: "updatedAt", Value: now},
	}); err != nil {
		return err
	}
	return e.release(tx, e.createdAssignments())
}

// paymentVersion is the version of the program p was for
// (paymentVersion); when p does not say (a legacy payment, recorded paid
// before terms were frozen and without a checkout version) and it is the
// payment this enrolment was granted for, the version the enrolment
// records: a late event of it is not a purchase of a program created
// under the id since.
func (e *enrollmentTx) paymentVersion(p model.Payment) *time.Time {
	if v := paymentVersion(p); v != nil || e.old == nil || e.old.PaymentID != p.PaymentID {
		return v
	}
	return e.old.ProgramCreated
}

// forOtherVersion reports whether payment p was for another version of
// the program than the one read, so that it grants nothing in it
// (recreated): its version says so (paymentVersion), or it names none and
// was paid before the program was created while the enrolment it would
// move to this version is of an older one.
func (e *enrollmentTx) forOtherVersion(p model.Payment) bool {
	return otherVersion(e.program, e.paymentVersion(p)) || (e.active() && e.stale() && paidBefore(e.program, p))
}

// paidBefore reports whether p, a payment that names no version of its
// program (paymentVersion nil: recorded paid before terms were frozen),
// was made before prog was created: it was for an older version.
func paidBefore(prog *programInfo, p model.Payment) bool {
	if prog == nil || prog.terms.ProgramCreateTime == nil || paymentVersion(p) != nil || p.PaymentDate.IsZero() {
		return false
	}
	return p.PaymentDate.Before(*prog.terms.ProgramCreateTime)
}

// otherVersion reports whether the checkout of a payment (its
// payments.programCreated, nil when unknown) was for another version of
// prog than the one read: the program was deleted and created again since.
func otherVersion(prog *programInfo, checkout *time.Time) bool {
	return prog != nil && checkout != nil && !sameTime(prog.terms.ProgramCreateTime, *checkout)
}
