package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// syncPage is how many active enrolments SyncProgramCoaches reads a page.
const syncPage = 300

// SyncStats counts what SyncProgramCoaches did.
type SyncStats struct {
	// Enrollments is the number of active enrolments of the program read.
	Enrollments int `json:"enrollments"`
	// Changed enrolments had their coaches (or recorded version) brought
	// in step; Failed ones could not be (a retry finishes them).
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
}

// OnProgramWritten keeps the coaches of a program's active enrolments in
// step with the program (function onProgramWritten): when an admin
// changes createdBy, a coach who left stops being the enrolled users'
// coach and a coach who joined becomes it; when the program is deleted (or
// deleted and created again under the same id: another version), its
// enrolments keep no coach. Edits that leave createdBy alone are ignored.
// It reads the program as it is now, not the event's copy, so duplicated,
// late and reordered events converge. Errors: SyncProgramCoaches's; a
// retryable one (some enrolments failed transiently) makes the event
// retried, and the retry skips the enrolments already in step.
func (s *Service) OnProgramWritten(ctx context.Context, ev *events.FirestoreEvent) error {
	params, ok := ev.Params("programs/{programId}")
	if !ok {
		return nil
	}
	if ev.Op() == events.OpUpdate && !ev.Changed("createdBy") {
		return nil // title, price, content: the coaches are the same
	}
	id := params["programId"]
	if !model.ValidDocID(id) {
		return nil // an id no enrolment can have: nothing to keep in step
	}
	st, err := s.SyncProgramCoaches(ctx, id)
	slog.InfoContext(ctx, "program coaches synced", "programId", id,
		"enrollments", st.Enrollments, "changed", st.Changed, "failed", st.Failed)
	return err // retried when retryable (events.FirestoreHandler)
}

// SyncProgramCoaches brings every active enrolment of programID in step
// with the program: the coach assignments an enrolment created, its
// coachIds and the client profile's coachIds become the program's current
// coaches (createdBy; never the user, never an erased coach's reference)
// when the enrolment is for the program's current version, and none when
// the program no longer exists or was created again since the enrolment
// (model.Enrollment.ProgramCreated). An assignment another active
// enrolment of the user still lists is handed to it rather than deleted;
// one an admin or a live session made is left alone. An enrolment granted
// before versions were recorded gets one recorded: its payment's
// (paymentVersion), else the program's current version, or goneVersion
// when the program no longer exists. Each enrolment changes in its own transaction, which
// reads it again; an enrolment in step costs no transaction, so a rerun
// is cheap and changes nothing. Errors: fault.Invalid for an id that
// cannot be a document id; otherwise the first failure, classified (the
// others are still done).
func (s *Service) SyncProgramCoaches(ctx context.Context, programID string) (SyncStats, error) {
	var st SyncStats
	if !model.ValidDocID(programID) {
		return st, fault.Invalid("program id %q cannot be a document id", programID)
	}
	prog, err := s.currentProgram(ctx, programID)
	if err != nil {
		return st, store.Classify("sync program coaches: read program", err)
	}
	var first error
	q := indexes.MustLookup(indexes.QEnrollmentsByProgram).MustBuild(s.Firestore, programID, EnrollmentActive)
	err = store.PageByID(ctx, q, syncPage, "", "sync program coaches: list enrolments", func(snaps []*firestore.DocumentSnapshot) error {
		for _, snap := range snaps {
			st.Enrollments++
			var en model.Enrollment
			if err := snap.DataTo(&en); err != nil || snap.Ref.ID != EnrollmentID(en.UserID, programID) ||
				inStep(&en, prog) {
				continue // server-owned; one that does not decode or match its id is left for an admin
			}
			// One at a time: each transaction queries the user's active
			// enrolments, and the emulator locks such queries coarsely
			// (parallel ones time out on their locks).
			switch changed, err := s.syncEnrollment(ctx, en.UserID, programID); {
			case err != nil:
				st.Failed++
				if first == nil {
					first = store.Classify("sync program coaches", err)
				}
			case changed:
				st.Changed++
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	return st, first
}

// currentProgram reads programs/{id} (nil: it does not exist).
func (s *Service) currentProgram(ctx context.Context, id string) (*programInfo, error) {
	snap, err := s.Firestore.Collection(model.ColPrograms).Doc(id).Get(ctx)
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return readProgramInfo(snap), nil
}

// inStep reports, from the enrolment and the program read outside a
// transaction, whether the enrolment already lists the coaches it should
// and records the program's version; the transaction checks the
// assignments themselves.
func inStep(en *model.Enrollment, prog *programInfo) bool {
	e := &enrollmentTx{uid: en.UserID, program: prog, old: en, coaches: programCoaches(prog, en.UserID)}
	return slices.Equal(slices.Sorted(slices.Values(en.CoachIDs)), e.syncTarget()) && !e.needsVersion()
}

// syncEnrollment brings uid's active enrolment in programID in step with
// the program in one transaction and reports whether it wrote.
func (s *Service) syncEnrollment(ctx context.Context, uid, programID string) (bool, error) {
	var changed bool
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		changed = false
		e, err := s.readEnrollment(tx, uid, programID)
		if err != nil {
			return err
		}
		if e.ref == nil || !e.active() {
			return nil // ended or gone meanwhile (a refund, an erasure)
		}
		record := e.needsVersion()
		if record {
			// A legacy enrolment is for the version its payment was for
			// (its checkout's, or its frozen terms'), not for a program
			// created under the id since; the current version only when
			// the payment does not say.
			version := e.versionToRecord()
			if e.program != nil {
				v, err := s.paymentVersionOf(tx, e.old.PaymentID)
				if err != nil {
					return err
				}
				if v != nil {
					version = *v
				}
			}
			e.old.ProgramCreated = &version
		}
		target := e.syncTarget()
		gone := len(e.createdOutside(target)) > 0
		missing := false
		for _, c := range target {
			missing = missing || e.assigned[c] == nil
		}
		listed := slices.Sorted(slices.Values(e.old.CoachIDs))
		if !gone && !missing && slices.Equal(listed, target) && !record {
			return nil
		}
		if gone {
			if err := e.readKeepers(tx); err != nil {
				return err
			}
		}
		up := []firestore.Update{{Path: "coachIds", Value: append([]string{}, target...)}, {Path: "updatedAt", Value: s.now()}}
		if record {
			up = append(up, firestore.Update{Path: "programCreated", Value: *e.old.ProgramCreated})
		}
		if err := tx.Update(e.ref, up); err != nil {
			return err
		}
		changed = true
		return e.setCoaches(tx, target, s.now())
	})
	if err != nil {
		return false, fmt.Errorf("enrolment %s: %w", EnrollmentID(uid, programID), err)
	}
	return changed, nil
}

// paymentVersionOf reads payments/{paymentID} inside tx and returns the
// version of the program it was for (paymentVersion); nil when unknown or
// there is no such payment (a free enrolment).
func (s *Service) paymentVersionOf(tx *firestore.Transaction, paymentID string) (*time.Time, error) {
	if !model.ValidDocID(paymentID) {
		return nil, nil
	}
	snap, err := tx.Get(s.Firestore.Collection(model.ColPayments).Doc(paymentID))
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p model.Payment
	if err := snap.DataTo(&p); err != nil {
		return nil, nil // server-owned; one that does not decode says nothing
	}
	return paymentVersion(p), nil
}

// syncTarget returns the coaches an active enrolment should have now: the
// program's current coaches, none when the program does not exist or the
// enrolment is of an older version of it (stale).
func (e *enrollmentTx) syncTarget() []string {
	if e.program == nil || e.stale() {
		return []string{}
	}
	return append([]string{}, e.coaches...)
}

// needsVersion reports whether the enrolment records no version yet
// (granted before versions were recorded) and one can be recorded.
func (e *enrollmentTx) needsVersion() bool {
	return e.old != nil && e.old.ProgramCreated == nil && (e.program == nil || e.program.terms.ProgramCreateTime != nil)
}

// versionToRecord is the version to record on such an enrolment when its
// payment names none: the program's current one, goneVersion without a
// program.
func (e *enrollmentTx) versionToRecord() time.Time {
	if e.program == nil {
		return goneVersion
	}
	return *e.program.terms.ProgramCreateTime
}

// SyncAllPrograms runs SyncProgramCoaches for every program and for every
// program id an active enrolment names whose program no longer exists
// (ops programs sync). Errors: the first failure (the other programs are
// still done); progress reports each program done.
func (s *Service) SyncAllPrograms(ctx context.Context, progress func(programID string, st SyncStats, err error)) error {
	ids := map[string]bool{}
	it := s.Firestore.Collection(model.ColPrograms).DocumentRefs(ctx)
	for {
		ref, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return store.Classify("sync programs: list programs", err)
		}
		ids[ref.ID] = true
	}
	en := indexes.MustLookup(indexes.QEnrollmentsActive).MustBuild(s.Firestore, EnrollmentActive).Select("programId").Documents(ctx)
	for {
		snap, err := en.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return store.Classify("sync programs: list enrolments", err)
		}
		if id, ok := snap.Data()["programId"].(string); ok && model.ValidDocID(id) {
			ids[id] = true
		}
	}
	var first error
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		st, err := s.SyncProgramCoaches(ctx, id)
		if progress != nil {
			progress(id, st, err)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
