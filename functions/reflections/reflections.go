// Package reflections analyses journal entries: when a user writes or
// edits the reflection of a user_activations document, the server writes
// log.aiAnalysis (sentiment, themes, mood shift, crisis flag, provider),
// and raises the wellbeing protocol when crisis language is detected.
//
// It acts only when the analysed inputs (log.text, log.moodBefore,
// log.moodAfter, log.rating) differ from those of the stored analysis
// (its contentHash), so its own write, duplicated and reordered events
// change nothing. Entries whose owner has not granted the ai_analysis
// consent are not analysed, and a stored analysis that no longer matches
// the entry is removed from them; when the consent is revoked,
// AIAnalysisChanged removes the analyses of all the owner's entries.
package reflections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Service is the reflection area's handler and its dependencies.
type Service struct {
	Firestore *firestore.Client
	Analyzer  analysis.Analyzer
	Wellbeing *wellbeing.Protocol
	Now       func() time.Time
	// ModelDailyLimit is how many of a user's entries a metered analyzer
	// (analysis.Metered: Gemini) may analyse per UTC day; past it entries
	// are analysed offline (crisis detection included). 0:
	// DefaultModelDailyLimit.
	ModelDailyLimit int
}

// DefaultModelDailyLimit is the default of Service.ModelDailyLimit: far
// above a journaling day (a few entries, each edited a few times), far
// below what a script editing entries in a loop would send to the model.
const DefaultModelDailyLimit = 100

// BudgetDoc is users/{uid}/private/{BudgetDoc} (server-only): the UTC day
// and how many of the user's analyses that day were sent to the model
// (budget). Deleted with users/{uid} by an erasure.
const BudgetDoc = "analysis"

// budget is the BudgetDoc document.
type budget struct {
	Day        string    `firestore:"day"`
	ModelCalls int       `firestore:"modelCalls"`
	UpdatedAt  time.Time `firestore:"updatedAt"`
}

// Outcome says what OnUserActivationWritten did, for logs and tests.
type Outcome string

// Outcomes.
const (
	Analyzed Outcome = "analyzed"
	// Unchanged: the inputs equal those of the stored analysis, or, for
	// an entry without an analysis, those of the entry before the write
	// (not an edit of the reflection: a write of another field, or the
	// removal of the analysis itself).
	Unchanged   Outcome = "unchanged"
	NoConsent   Outcome = "no_consent" // the owner has not granted ai_analysis; nothing stored to remove
	NothingToDo Outcome = "nothing"    // deleted, or no reflection
	Superseded  Outcome = "superseded" // the entry changed again meanwhile; its own event follows
	Cleared     Outcome = "cleared"    // reflection emptied: the stale analysis removed
	// Withdrawn: the owner has not granted ai_analysis and the inputs
	// changed: the analysis of the old inputs removed, nothing analysed.
	Withdrawn    Outcome = "withdrawn"
	CrisisRaised Outcome = "crisis_raised" // analysed, and the wellbeing protocol raised
)

// entryOf returns the analysis input of a journal log, without a language
// hint.
func entryOf(l *model.JournalLog) analysis.Entry {
	var e analysis.Entry
	if l == nil {
		return e
	}
	e.Text = l.Text
	if l.MoodBefore != nil {
		e.MoodBefore = *l.MoodBefore
	}
	if l.MoodAfter != nil {
		e.MoodAfter = *l.MoodAfter
	}
	e.Rating = l.Rating
	return e
}

func empty(e analysis.Entry) bool {
	return e.Text == "" && e.MoodBefore == "" && e.MoodAfter == "" && e.Rating == nil
}

// OnUserActivationWritten handles a write of user_activations/{id}. It
// returns an error only when a retry can help (Firestore unavailable,
// contention); an invalid entry is reported as fault.Invalid, which the
// platform wrapper logs and drops.
func (s *Service) OnUserActivationWritten(ctx context.Context, ev *events.FirestoreEvent) error {
	_, err := s.Handle(ctx, ev)
	return err
}

// Handle is OnUserActivationWritten returning what it did.
//
// With the owner's ai_analysis consent it analyses changed inputs and
// stores the result; without it, it analyses nothing and removes a stored
// analysis that no longer matches the inputs (edited or emptied entry),
// since the owner cannot remove it (the rules keep log.aiAnalysis
// server-owned). Either write happens in a transaction that re-reads the
// entry and the consent, so a newer edit or a revocation in between wins.
func (s *Service) Handle(ctx context.Context, ev *events.FirestoreEvent) (Outcome, error) {
	params, ok := ev.Params("user_activations/{id}")
	if !ok || ev.After == nil {
		return NothingToDo, nil
	}
	var ua model.UserActivation
	if err := ev.After.DataTo(&ua); err != nil {
		return NothingToDo, fault.Invalid("user_activations/%s: %v", params["id"], err)
	}
	entry := entryOf(ua.Log)
	hash := entry.ContentHash()
	stored := ua.Log != nil && ua.Log.AIAnalysis != nil
	if stored && ua.Log.AIAnalysis.ContentHash == hash {
		return Unchanged, nil // our own write, a duplicate, or an unrelated edit
	}
	if empty(entry) && !stored {
		return NothingToDo, nil
	}
	if !stored && sameInputsBefore(ev, hash) {
		// Not an edit: another field, or the removal of the analysis (after
		// a revocation). A grant alone analyses nothing; the next edit does.
		return Unchanged, nil
	}
	if ua.UserID == "" {
		return NothingToDo, fault.Invalid("user_activations/%s has no userId", params["id"])
	}
	granted, err := consents.Granted(ctx, s.Firestore, ua.UserID, model.ConsentAIAnalysis)
	if err != nil {
		return NothingToDo, err
	}
	if !granted && !stored {
		slog.InfoContext(ctx, "reflection not analysed: no ai_analysis consent", "userActivationId", params["id"], "uid", ua.UserID)
		return NoConsent, nil
	}
	var locale string
	var result *analysis.Result
	if granted && !empty(entry) {
		// The user's locale, and the entry as it is now, in one read: a
		// late event of an entry deleted or rewritten since sends nothing
		// to the analyzer (Gemini, when configured, is a third party);
		// the entry's own later event analyses what it holds now.
		snaps, err := s.Firestore.GetAll(ctx, []*firestore.DocumentRef{
			s.Firestore.Collection(model.ColUsers).Doc(ua.UserID),
			s.Firestore.Collection(model.ColUserActivations).Doc(params["id"]),
		})
		if err != nil {
			return NothingToDo, store.Classify("read user locale and entry", err)
		}
		if snaps[0].Exists() {
			if v, err := snaps[0].DataAt("locale"); err == nil {
				locale, _ = v.(string)
			}
		}
		if !snaps[1].Exists() {
			return NothingToDo, nil
		}
		var cur model.UserActivation
		if err := snaps[1].DataTo(&cur); err != nil || superseded(&cur, ua.UserID, hash) {
			return Superseded, nil
		}
		// The locale is a hint only: the language is detected from the
		// text, the locale breaks the tie when the text is unclear.
		entry.Lang = analysis.LanguageOf(locale)
		r, out, err := s.analyze(ctx, params["id"], ua.UserID, hash, entry)
		if err != nil {
			return NothingToDo, err // fault.Invalid: permanent, dropped and logged
		}
		if out != "" {
			return out, nil
		}
		result = &r
	}
	outcome, err := s.commit(ctx, params["id"], ua.UserID, hash, empty(entry), result, locale)
	if err != nil {
		return NothingToDo, store.Classify("analyse reflection", err)
	}
	attrs := []any{"userActivationId", params["id"], "uid", ua.UserID, "outcome", string(outcome)}
	if result != nil && (outcome == Analyzed || outcome == CrisisRaised) {
		// Only of a stored analysis: the label of one discarded (the
		// consent withdrawn meanwhile) must not outlive it in the logs.
		attrs = append(attrs, "provider", result.Provider, "label", string(result.Label))
	}
	slog.InfoContext(ctx, "reflection evaluated", attrs...)
	return outcome, nil
}

// analyze analyses entry (user_activations/id of uid, inputs hashing to
// hash). An analyzer that calls a paid model (analysis.Metered) is used
// only while the user's budget of the day allows (spendModelCall);
// otherwise the entry is analysed offline, Fallback
// analysis.FallbackDailyLimit. A non-empty Outcome means the entry is gone
// or changed meanwhile and nothing was analysed.
func (s *Service) analyze(ctx context.Context, id, uid, hash string, entry analysis.Entry) (analysis.Result, Outcome, error) {
	m, ok := s.Analyzer.(analysis.Metered)
	if !ok || !m.CallsModel(entry) {
		r, err := s.Analyzer.Analyze(ctx, entry)
		return r, "", err
	}
	allowed, out, err := s.spendModelCall(ctx, id, uid, hash)
	if err != nil {
		return analysis.Result{}, "", store.Classify("analysis budget", err)
	}
	if out != "" {
		return analysis.Result{}, out, nil
	}
	if !allowed {
		slog.WarnContext(ctx, "reflection analysed offline: the user's daily model budget is spent",
			"userActivationId", id, "uid", uid, "limit", s.modelDailyLimit())
		r, err := m.AnalyzeOffline(ctx, entry, analysis.FallbackDailyLimit)
		return r, "", err
	}
	// The provider's retries send the text again; they stop once the owner
	// has withdrawn the consent (a read error lets them go on: the
	// transaction that writes reads the consent again in any case).
	entry.Proceed = func(ctx context.Context) error {
		if granted, err := consents.Granted(ctx, s.Firestore, uid, model.ConsentAIAnalysis); err == nil && !granted {
			return errConsentWithdrawn
		}
		return nil
	}
	r, err := m.Analyze(ctx, entry)
	return r, "", err
}

// errConsentWithdrawn stops a provider's retries (analysis.Entry.Proceed).
var errConsentWithdrawn = errors.New("reflections: ai_analysis consent withdrawn")

func (s *Service) modelDailyLimit() int {
	if s.ModelDailyLimit > 0 {
		return s.ModelDailyLimit
	}
	return DefaultModelDailyLimit
}

// spendModelCall takes one model analysis from uid's budget of the day
// (users/{uid}/private/BudgetDoc) and reports whether there was one left.
// It runs in a transaction that reads the entry too, and writes the budget
// only while the entry still holds the inputs hashing to hash (otherwise
// the Outcome, NothingToDo or Superseded, and nothing is spent): the
// document is never created for an entry an erasure has deleted (it
// deletes the entries before users/{uid} and its subtree).
func (s *Service) spendModelCall(ctx context.Context, id, uid, hash string) (bool, Outcome, error) {
	entryRef := s.Firestore.Collection(model.ColUserActivations).Doc(id)
	ref := s.Firestore.Collection(model.ColUsers).Doc(uid).Collection(model.SubColPrivate).Doc(BudgetDoc)
	limit := s.modelDailyLimit()
	var allowed bool
	var out Outcome
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		allowed, out = false, ""
		snaps, err := tx.GetAll([]*firestore.DocumentRef{entryRef, ref})
		if err != nil {
			return err
		}
		if !snaps[0].Exists() {
			out = NothingToDo
			return nil
		}
		var cur model.UserActivation
		if err := snaps[0].DataTo(&cur); err != nil || superseded(&cur, uid, hash) {
			out = Superseded
			return nil
		}
		now := s.Now().UTC()
		day := now.Format(time.DateOnly)
		var b budget
		if snaps[1].Exists() && snaps[1].DataTo(&b) != nil {
			b = budget{} // only the server writes it; a bad one starts over
		}
		if b.Day != day {
			b = budget{Day: day}
		}
		if b.ModelCalls >= limit {
			return nil
		}
		b.ModelCalls++
		b.UpdatedAt = now
		allowed = true
		return tx.Set(ref, b)
	})
	return allowed, out, err
}

// commit writes the outcome for the entry whose inputs hash to hash, in a
// transaction that re-reads the entry and the owner's consent: a result
// (nil when nothing was analysed) is stored only when the inputs are
// still those analysed and the consent is still granted; otherwise a
// stored analysis that does not match the inputs is removed.
func (s *Service) commit(ctx context.Context, id, uid, hash string, emptied bool, result *analysis.Result, locale string) (Outcome, error) {
	ref := s.Firestore.Collection(model.ColUserActivations).Doc(id)
	outcome := Analyzed
	var raised *wellbeing.Outcome // what the protocol did in the attempt that committed
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		raised = nil
		snap, err := tx.Get(ref)
		if store.IsNotFound(err) {
			outcome = NothingToDo
			return nil
		}
		if err != nil {
			return err
		}
		var cur model.UserActivation
		if err := snap.DataTo(&cur); err != nil {
			return fault.Permanent(fmt.Errorf("decode: %w", err))
		}
		if superseded(&cur, uid, hash) {
			outcome = Superseded
			return nil
		}
		stored := cur.Log != nil && cur.Log.AIAnalysis != nil
		if stored && cur.Log.AIAnalysis.ContentHash == hash {
			outcome = Unchanged
			return nil
		}
		if !stored && emptied {
			outcome = NothingToDo // nothing to analyse, nothing to remove: the consent does not matter
			return nil
		}
		granted, err := grantedIn(ctx, tx, s.Firestore, uid)
		if err != nil {
			return err
		}
		if emptied || !granted || result == nil {
			switch {
			case !stored:
				outcome = NoConsent
				return nil
			case emptied:
				outcome = Cleared
			default:
				outcome = Withdrawn
			}
			return tx.Update(ref, []firestore.Update{{Path: "log.aiAnalysis", Value: firestore.Delete}})
		}
		res := *result
		if res.Crisis {
			out, err := s.Wellbeing.RaiseIn(ctx, s.Firestore, tx, wellbeing.Signal{
				UserID: uid, Source: wellbeing.SourceReflection,
				SourceKey: SourceKey(id, hash), Trigger: crisisTrigger(res),
				RuleVersion: ruleVersion(res), Locale: locale,
			})
			if err != nil {
				return err
			}
			raised = &out
			outcome = CrisisRaised
		} else {
			outcome = Analyzed
		}
		res.AnalyzedAt = s.Now().UTC()
		return tx.Update(ref, []firestore.Update{{Path: "log.aiAnalysis", Value: res}})
	})
	if err == nil && raised != nil {
		// Logged once the transaction committed: a retried or failed
		// attempt's outcome was never stored.
		wellbeing.LogOutcome(ctx, wellbeing.Signal{UserID: uid, Source: wellbeing.SourceReflection}, *raised)
	}
	return outcome, err
}

// superseded reports whether the entry as read now is not the one an
// event of uid's entry with inputs hashing to hash was about: another
// owner's (deleted and created again at the id) or other inputs. Its own
// event follows, read under its own owner's consent.
func superseded(cur *model.UserActivation, uid, hash string) bool {
	return cur.UserID != uid || entryOf(cur.Log).ContentHash() != hash
}

// sameInputsBefore reports whether the event's document had, before the
// write, inputs hashing to hash (a write that did not edit the reflection).
// A create, or a before-image that does not decode, is an edit.
func sameInputsBefore(ev *events.FirestoreEvent, hash string) bool {
	if ev.Before == nil {
		return false
	}
	var before model.UserActivation
	if err := ev.Before.DataTo(&before); err != nil {
		return false
	}
	return entryOf(before.Log).ContentHash() == hash
}

// grantedIn reads consents/{uid} in tx and reports whether ai_analysis is
// granted now (model.Consents.Granted), the document read as
// model.ConsentsOf reads it: a missing document grants nothing, and so
// does one that does not decode (fail closed, no error: a retry cannot
// fix it; logged with the uid and alert model.AlertConsentsUndecodable).
// A read error is returned as Firestore gave it, for the transaction and
// the caller's store.Classify. Reading it in the transaction orders the
// write after or before a revocation, never across it.
func grantedIn(ctx context.Context, tx *firestore.Transaction, c *firestore.Client, uid string) (bool, error) {
	snap, err := tx.Get(c.Collection(model.ColConsents).Doc(uid))
	cs, err := model.ConsentsOf(ctx, snap, err)
	if err != nil {
		return false, err
	}
	return cs.Granted(model.ConsentAIAnalysis), nil
}

// SourceKey returns the wellbeing source key of a journal entry's crisis
// signal: "ua_" + the first 32 hex digits of the SHA-256 of the entry id,
// ":" and the analysed content hash. The same entry with the same content
// gives the same key, and the protocol treats a reflection key it has seen
// in any episode, even one acknowledged or expired, as a duplicate
// (wellbeing.SourceReflection never reopens; only screening does), so a
// replay never raises twice: not a redelivered event, and not one that
// arrives after an ai_analysis revocation removed the stored analysis. The
// key stays short (< 120 bytes) and free of the entry id (which may embed
// a uid) whatever the id's length.
func SourceKey(entryID, contentHash string) string {
	sum := sha256.Sum256([]byte(entryID))
	return "ua_" + hex.EncodeToString(sum[:16]) + ":" + contentHash
}

// crisisTrigger describes why the crisis flag is set: rule ids and
// reasons, never the text.
func crisisTrigger(r analysis.Result) map[string]any {
	t := map[string]any{"detector": "reflection_analysis", "provider": r.Provider}
	if d := r.CrisisDetails; d != nil {
		reasons := make([]any, len(d.Reasons))
		for i, x := range d.Reasons {
			reasons[i] = x
		}
		rules := make([]any, len(d.Rules))
		for i, x := range d.Rules {
			rules[i] = x
		}
		t["reasons"], t["rules"] = reasons, rules
	}
	return t
}

func ruleVersion(r analysis.Result) string {
	if r.CrisisDetails != nil && r.CrisisDetails.RuleSetVersion != "" {
		return r.CrisisDetails.RuleSetVersion
	}
	return r.ModelVersion
}
