// Package reflections analyses journal entries: when a user writes or
// edits the reflection of a user_activations document, the server writes
// log.aiAnalysis (sentiment, themes, mood shift, crisis flag, provider),
// and raises the wellbeing protocol when crisis language is detected.
//
// It acts only when the analysed inputs (log.text, log.moodBefore,
// log.moodAfter, log.rating) differ from those of the stored analysis
// (its contentHash), so its own write, duplicated and reordered events
// change nothing. Entries whose owner has not granted the ai_analysis
// consent are not analysed.
package reflections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
}

// Outcome says what OnUserActivationWritten did, for logs and tests.
type Outcome string

// Outcomes.
const (
	Analyzed     Outcome = "analyzed"
	Unchanged    Outcome = "unchanged"     // inputs equal those of the stored analysis
	NoConsent    Outcome = "no_consent"    // the owner has not granted ai_analysis
	NothingToDo  Outcome = "nothing"       // deleted, or no reflection
	Superseded   Outcome = "superseded"    // the entry changed again meanwhile; its own event follows
	Cleared      Outcome = "cleared"       // reflection emptied: the stale analysis removed
	CrisisRaised Outcome = "crisis_raised" // analysed, and the wellbeing protocol raised
)

// entryOf returns the analysis input of a journal log.
func entryOf(l *model.JournalLog, locale string) analysis.Entry {
	e := analysis.Entry{Lang: langOf(locale)}
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

func langOf(locale string) string {
	if len(locale) >= 2 {
		switch locale[:2] {
		case "sv", "en":
			return locale[:2]
		}
	}
	return ""
}

func empty(e analysis.Entry) bool {
	return e.Text == "" && e.MoodBefore == "" && e.MoodAfter == "" && e.Rating == nil
}

// OnUserActivationWritten handles a write of user_activations/{id}.
func (s *Service) OnUserActivationWritten(ctx context.Context, ev *events.FirestoreEvent) error {
	_, err := s.Handle(ctx, ev)
	return err
}

// Handle is OnUserActivationWritten returning what it did.
func (s *Service) Handle(ctx context.Context, ev *events.FirestoreEvent) (Outcome, error) {
	params, ok := ev.Params("user_activations/{id}")
	if !ok || ev.After == nil {
		return NothingToDo, nil
	}
	var ua model.UserActivation
	if err := ev.After.DataTo(&ua); err != nil {
		return NothingToDo, fault.Invalid("user_activations/%s: %v", params["id"], err)
	}
	entry := entryOf(ua.Log, "")
	hash := entry.ContentHash()
	if ua.Log != nil && ua.Log.AIAnalysis != nil && ua.Log.AIAnalysis.ContentHash == hash {
		return Unchanged, nil // our own write, a duplicate, or an unrelated edit
	}
	if empty(entry) && (ua.Log == nil || ua.Log.AIAnalysis == nil) {
		return NothingToDo, nil
	}
	if ua.UserID == "" {
		return NothingToDo, fault.Invalid("user_activations/%s has no userId", params["id"])
	}
	granted, err := consents.Granted(ctx, s.Firestore, ua.UserID, model.ConsentAIAnalysis)
	if err != nil {
		return NothingToDo, err
	}
	ref := s.Firestore.Collection(model.ColUserActivations).Doc(params["id"])
	if !granted {
		slog.InfoContext(ctx, "reflection not analysed: no ai_analysis consent", "userActivationId", params["id"], "uid", ua.UserID)
		return NoConsent, nil
	}
	var locale string
	if snap, err := s.Firestore.Collection(model.ColUsers).Doc(ua.UserID).Get(ctx); err == nil {
		if v, err := snap.DataAt("locale"); err == nil {
			locale, _ = v.(string)
		}
	} else if !store.IsNotFound(err) {
		return NothingToDo, store.Classify("read user locale", err)
	}
	entry.Lang = langOf(locale)

	var result analysis.Result
	if !empty(entry) {
		result, err = s.Analyzer.Analyze(ctx, entry)
		if err != nil {
			return NothingToDo, err // fault.Invalid: permanent, dropped and logged
		}
	}

	outcome := Analyzed
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
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
			return fmt.Errorf("decode: %w", err)
		}
		if entryOf(cur.Log, locale).ContentHash() != hash {
			outcome = Superseded
			return nil
		}
		if cur.Log != nil && cur.Log.AIAnalysis != nil && cur.Log.AIAnalysis.ContentHash == hash {
			outcome = Unchanged
			return nil
		}
		if empty(entry) {
			outcome = Cleared
			return tx.Update(ref, []firestore.Update{{Path: "log.aiAnalysis", Value: firestore.Delete}})
		}
		if result.Crisis {
			out, err := s.Wellbeing.RaiseIn(ctx, s.Firestore, tx, wellbeing.Signal{
				UserID: ua.UserID, Source: wellbeing.SourceReflection,
				SourceKey: SourceKey(params["id"], hash), Trigger: crisisTrigger(result),
				RuleVersion: ruleVersion(result), Locale: locale,
			})
			if err != nil {
				return err
			}
			wellbeing.LogOutcome(ctx, wellbeing.Signal{UserID: ua.UserID, Source: wellbeing.SourceReflection}, out)
			outcome = CrisisRaised
		}
		result.AnalyzedAt = s.Now().UTC()
		return tx.Update(ref, []firestore.Update{{Path: "log.aiAnalysis", Value: result}})
	})
	if err != nil {
		return NothingToDo, store.Classify("analyse reflection", err)
	}
	slog.InfoContext(ctx, "reflection evaluated", "userActivationId", params["id"], "uid", ua.UserID,
		"outcome", string(outcome), "provider", result.Provider, "label", string(result.Label))
	return outcome, nil
}

// SourceKey returns the wellbeing source key of a journal entry's crisis
// signal: "ua_" + the first 32 hex digits of the SHA-256 of the entry id,
// ":" and the analysed content hash. The same entry with the same content
// gives the same key (a replay never raises twice), and the key stays
// short (< 120 bytes) and free of the entry id (which may embed a uid)
// whatever the id's length.
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
