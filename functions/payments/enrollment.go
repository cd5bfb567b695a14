package payments

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

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
// (nil when none), and the user's assignment to each of the program's
// coaches (nil when absent).
type enrollmentTx struct {
	s         *Service
	uid       string
	programID string
	program   *model.Program
	ref       *firestore.DocumentRef
	old       *model.Enrollment
	coaches   []string
	assigned  map[string]*model.CoachAssignment
}

// readEnrollment does the reads of an enrolment change.
func (s *Service) readEnrollment(tx *firestore.Transaction, uid, programID string) (*enrollmentTx, error) {
	e := &enrollmentTx{s: s, uid: uid, programID: programID, assigned: map[string]*model.CoachAssignment{}}
	if !validID(uid) || !validID(programID) {
		return e, nil
	}
	snap, err := tx.Get(s.Firestore.Collection(model.ColPrograms).Doc(programID))
	if store.IsNotFound(err) {
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	var prog model.Program
	if err := snap.DataTo(&prog); err != nil {
		return nil, fmt.Errorf("decode program: %w", err)
	}
	e.program = &prog
	e.ref = s.Firestore.Collection(model.ColEnrollments).Doc(EnrollmentID(uid, programID))
	snap, err = tx.Get(e.ref)
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
	seen := map[string]bool{}
	for _, c := range prog.CreatedBy {
		if !validID(c) || c == uid || seen[c] {
			continue
		}
		seen[c] = true
		e.coaches = append(e.coaches, c)
	}
	sort.Strings(e.coaches)
	for _, c := range e.coaches {
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
	return e, nil
}

func (s *Service) coachRef(uid, coach string) *firestore.DocumentRef {
	return s.Firestore.Collection(model.ColUsers).Doc(uid).Collection(model.SubColCoaches).Doc(coach)
}

// active reports whether the user is enrolled now.
func (e *enrollmentTx) active() bool { return e.old != nil && e.old.Status == EnrollmentActive }

// grant makes the enrolment active for paymentID ("" for a free program)
// and assigns every coach of the program to the user
// (users/{uid}/coaches/{coach}, mirrored in client_profiles/{uid}.coachIds).
// It writes nothing when the user is already enrolled, or when the
// enrolment was revoked for this very payment.
func (e *enrollmentTx) grant(tx *firestore.Transaction, paymentID string, now time.Time) error {
	if e.program == nil || e.active() {
		return nil
	}
	if e.old != nil && paymentID != "" && e.old.PaymentID == paymentID {
		return nil
	}
	en := model.Enrollment{
		UserID: e.uid, ProgramID: e.programID, CoachIDs: append([]string{}, e.coaches...), PaymentID: paymentID,
		Status: EnrollmentActive, CreatedAt: now, UpdatedAt: now,
	}
	if e.old != nil {
		en.CreatedAt = e.old.CreatedAt
	}
	if err := tx.Set(e.ref, en); err != nil {
		return err
	}
	var added []any
	for _, c := range e.coaches {
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

// revoke ends an enrolment that paymentID granted (full refund, lost
// dispute), removing the coach assignments this enrolment created.
//
// When the user has no enrolment yet (the refund's event came before the
// payment's), a revoked one is recorded, so that every order of events
// ends in the same state and a late success event does not grant access.
func (e *enrollmentTx) revoke(tx *firestore.Transaction, paymentID string, now time.Time) error {
	if e.program == nil {
		return nil
	}
	if e.old == nil {
		return tx.Create(e.ref, model.Enrollment{
			UserID: e.uid, ProgramID: e.programID, CoachIDs: append([]string{}, e.coaches...), PaymentID: paymentID,
			Status: EnrollmentRevoked, CreatedAt: now, UpdatedAt: now,
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
	var removed []any
	for _, c := range e.coaches {
		a := e.assigned[c]
		if a == nil || a.Source != model.AssignedByEnrollment || a.SourceID != e.ref.ID {
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

// validID reports whether s can be a document id.
func validID(s string) bool {
	return s != "" && len(s) <= 128 && !strings.Contains(s, "/") && s != "." && s != ".." && !strings.HasPrefix(s, "__")
}
