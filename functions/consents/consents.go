// Package consents keeps the server's view of each user's consents: the
// client appends entries to consents/{uid}.consentsGiven (the rules allow
// only appends), and this function maintains consents/{uid}.current, the
// last entry per consent type in list order (what the user did last),
// which processing that depends on a consent (reflection analysis,
// marketing) reads. When the sensitive_data consent changes it has the
// user's profile recomputed (ProfileRecomputer), so that screening results
// appear on a grant and are removed on a revocation at once; when the
// ai_analysis consent changes it has the AI analyses of the user's journal
// entries removed if it is no longer granted (AnalysisRemover).
package consents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// ProfileRecomputer recomputes a user's profile after their sensitive_data
// consent changed (functions/profile.Service is one). It must be
// idempotent (a redelivered event calls it again) and must not write
// consents/{uid}; it returns a retryable error (fault.Retryable) only when
// a retry can help.
type ProfileRecomputer interface {
	SensitiveDataChanged(ctx context.Context, uid string) error
}

// AnalysisRemover removes the AI analyses of a user's journal entries
// after their ai_analysis consent changed (functions/reflections.Service is
// one). It re-reads the consent itself and removes only when it is not
// granted now, so a late or reordered event after a re-grant removes
// nothing. It must be idempotent and resumable (a redelivered event calls
// it again and finds nothing left), must not write consents/{uid}, and
// returns a retryable error (fault.Retryable) only when a retry can help.
type AnalysisRemover interface {
	AIAnalysisChanged(ctx context.Context, uid string) error
}

// Service is the consents area's handlers and their dependencies.
type Service struct {
	Firestore *firestore.Client
	// Profiles is told when a user's sensitive_data consent changes; nil
	// tells no one.
	Profiles ProfileRecomputer
	// Analyses is told when a user's ai_analysis consent changes; nil
	// tells no one.
	Analyses AnalysisRemover
	Now      func() time.Time
}

// Current returns the last valid entry per type of history, in list order.
// Entries with an unknown type or status are ignored.
//
// List order decides, not agreedAt: the history is append-only (the rules
// allow no rewrite or delete), so the last entry is what the user did
// last, whereas agreedAt comes from the client's clock and need not
// increase along the list (the rules check only that it is within minutes
// of the write), so a revocation can be dated before the grant it revoked.
func Current(history []model.ConsentEntry) map[string]model.ConsentEntry {
	cur := map[string]model.ConsentEntry{}
	for _, e := range history {
		if e.Type.Valid() && e.Status.Valid() {
			cur[string(e.Type)] = e
		}
	}
	return cur
}

// OnConsentsWritten handles a write of consents/{uid}. It recomputes
// current from the document as it is now, inside a transaction, so
// duplicated and reordered events converge on the same state; it writes
// only when current would change, so its own write ends the chain.
//
// When the write changed whether sensitive_data is granted, it then calls
// Profiles.SensitiveDataChanged: the profile re-reads the consent itself
// and is a no-op when its stored input hash already reflects it, so
// duplicated and reordered events are harmless, and it writes only
// users/{uid} and client_profiles/{uid}, never consents/{uid}, so no chain
// comes back here. A retryable failure is returned (the event is
// redelivered; current is then already written and the recompute is tried
// again); any other is logged and dropped.
//
// Likewise, when the write changed whether ai_analysis is granted, it
// calls Analyses.AIAnalysisChanged, which removes log.aiAnalysis from the
// user's entries when the consent is no longer granted; it writes only
// user_activations, never consents/{uid}. Both dependencies are called
// even when one fails; a retryable failure of either is returned.
func (s *Service) OnConsentsWritten(ctx context.Context, ev *events.FirestoreEvent) error {
	params, ok := ev.Params("consents/{uid}")
	if !ok || ev.After == nil {
		// Deleted: only an erasure deletes consents (the rules let no
		// client), and it deletes the profile with the user document; a
		// recompute would race it and could recreate client_profiles/{uid}.
		return nil
	}
	uid := params["uid"]
	if ev.Before != nil && !ev.Changed("consentsGiven") && decodes(ev.Before) && decodes(ev.After) {
		// Our own write of current, or an unrelated field: the history,
		// and so every grant (Consents.Granted reads only it), is the
		// same. A write of another field that makes the document
		// undecodable takes every consent away (model.ConsentsOf), so the
		// dependencies must hear of it.
		return nil
	}
	wrote, err := RecomputeCurrent(ctx, s.Firestore, uid)
	if err != nil {
		return store.Classify("OnConsentsWritten", err)
	}
	slog.InfoContext(ctx, "consents evaluated", "uid", uid, "updated", wrote)
	return errors.Join(s.sensitiveDataChanged(ctx, ev, uid), s.aiAnalysisChanged(ctx, ev, uid))
}

// sensitiveDataChanged calls Profiles when ev changed whether
// sensitive_data is granted (see OnConsentsWritten).
func (s *Service) sensitiveDataChanged(ctx context.Context, ev *events.FirestoreEvent, uid string) error {
	if s.Profiles == nil || !SensitiveDataChanged(ev) {
		return nil
	}
	return dependencyResult(ctx, uid, "recompute profile", "profile not recomputed after a sensitive_data consent change (dropped)",
		s.Profiles.SensitiveDataChanged(ctx, uid))
}

// aiAnalysisChanged calls Analyses when ev changed whether ai_analysis is
// granted (see OnConsentsWritten).
func (s *Service) aiAnalysisChanged(ctx context.Context, ev *events.FirestoreEvent, uid string) error {
	if s.Analyses == nil || !AIAnalysisChanged(ev) {
		return nil
	}
	return dependencyResult(ctx, uid, "remove AI analyses", "AI analyses not removed after an ai_analysis consent change (dropped)",
		s.Analyses.AIAnalysisChanged(ctx, uid))
}

// dependencyResult returns err wrapped with op when it is retryable (the
// event is redelivered), and logs and drops any other.
func dependencyResult(ctx context.Context, uid, op, dropped string, err error) error {
	switch {
	case err == nil:
		return nil
	case fault.Retryable(err):
		return fmt.Errorf("OnConsentsWritten: %s: %w", op, err)
	}
	slog.ErrorContext(ctx, dropped, "uid", uid, "code", string(fault.CodeOf(err)))
	return nil
}

// SensitiveDataChanged reports whether the write of ev changed whether
// sensitive_data is granted (model.Consents.Granted: the last entry of the
// type in list order), a missing document granting nothing. A side that
// does not decode counts as a change: the recompute it causes is
// idempotent, so when in doubt it runs.
func SensitiveDataChanged(ev *events.FirestoreEvent) bool {
	return grantChanged(ev, model.ConsentSensitiveData)
}

// AIAnalysisChanged reports whether the write of ev changed whether
// ai_analysis is granted, as SensitiveDataChanged does for sensitive_data
// (a side that does not decode counts as a change: the removal re-reads
// the consent and is idempotent).
func AIAnalysisChanged(ev *events.FirestoreEvent) bool {
	return grantChanged(ev, model.ConsentAIAnalysis)
}

// decodes reports whether d decodes as a consents document.
func decodes(d *events.Document) bool {
	var c model.Consents
	return d.DataTo(&c) == nil
}

func grantChanged(ev *events.FirestoreEvent, t model.ConsentType) bool {
	granted := func(d *events.Document) (bool, bool) {
		if d == nil {
			return false, true
		}
		var c model.Consents
		if err := d.DataTo(&c); err != nil {
			return false, false
		}
		return c.Granted(t), true
	}
	before, okB := granted(ev.Before)
	after, okA := granted(ev.After)
	return !okB || !okA || before != after
}

// CurrentUpToDate reports whether c.Current is Current(c.ConsentsGiven),
// what onConsentsWritten keeps it.
func CurrentUpToDate(c *model.Consents) bool {
	return equalCurrent(Current(c.ConsentsGiven), c.Current)
}

// RecomputeCurrent brings consents/{uid}.current in step with the history
// (Current), as onConsentsWritten does: in a transaction that re-reads the
// document, writing current only when it would change. It reports whether
// it wrote; a missing document writes nothing. It writes current alone, so
// the onConsentsWritten its write causes changes nothing (consentsGiven
// did not change). A document that does not decode is read as
// model.ConsentsOf reads it (logged, granting nothing) and left as it is: a
// retry cannot fix it. Errors are Firestore's, unclassified.
func RecomputeCurrent(ctx context.Context, fs *firestore.Client, uid string) (bool, error) {
	ref := fs.Collection(model.ColConsents).Doc(uid)
	var wrote bool
	err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		wrote = false
		// Missing (erased since) or undecodable (logged, granting
		// nothing): an empty history, whose current is up to date, so
		// nothing is written.
		snap, err := tx.Get(ref)
		c, err := model.ConsentsOf(ctx, snap, err)
		if err != nil {
			return err
		}
		if CurrentUpToDate(&c) {
			return nil
		}
		wrote = true
		return tx.Update(ref, []firestore.Update{{Path: "current", Value: Current(c.ConsentsGiven)}})
	})
	return wrote, err
}

func equalCurrent(a, b map[string]model.ConsentEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.Status != y.Status || x.Version != y.Version || !x.AgreedAt.Equal(y.AgreedAt) {
			return false
		}
	}
	return true
}

// Granted reads consents/{uid} and reports whether consent t is granted
// now (model.Consents.Granted). The document is read as model.ConsentsOf
// reads it: a missing document grants nothing, and so does one that does
// not decode (fail closed, with a nil error: a retry cannot fix it; logged
// with the uid and alert model.AlertConsentsUndecodable). A read error is
// classified with store.Classify as "consents.Granted", so a transient one
// is retryable (fault.Retryable).
func Granted(ctx context.Context, c *firestore.Client, uid string, t model.ConsentType) (bool, error) {
	snap, err := c.Collection(model.ColConsents).Doc(uid).Get(ctx)
	cs, err := model.ConsentsOf(ctx, snap, err)
	if err != nil {
		return false, store.Classify("consents.Granted", err)
	}
	return cs.Granted(t), nil
}
