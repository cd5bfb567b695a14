package reflections

import (
	"context"
	"fmt"
	"log/slog"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// revocationPageSize is how many of a user's entries AIAnalysisChanged
// reads per page, and at most how many it clears per transaction, so that
// each transaction stays short beside the user's own writes to the entries.
const revocationPageSize = 200

var _ consents.AnalysisRemover = (*Service)(nil)

// AIAnalysisChanged implements consents.AnalysisRemover: called after a
// write changed whether uid's ai_analysis consent is granted, it re-reads
// the consent and, when it is not granted, deletes log.aiAnalysis from
// every user_activations entry of uid that has one, crisis-flagged
// analyses included (the wellbeing events raised from them are separate
// safety records and stay). When the consent is granted it does nothing:
// a grant analyses nothing by itself; each entry is analysed again at its
// next edit.
//
// It pages through the entries by document id (the GDPR finder of
// user_activations by userId) and clears each page in a transaction that
// re-reads the consent and the entries, so an analysis written after a
// re-grant is never removed and a concurrent edit is not lost. It is
// idempotent and resumable: a redelivered or retried call finds the
// cleared entries without an analysis and skips them. A consents document
// that does not decode grants nothing (model.ConsentsOf), so the analyses
// are removed. It returns a retryable error (fault.Retryable) when
// Firestore fails transiently, and a permanent one otherwise.
func (s *Service) AIAnalysisChanged(ctx context.Context, uid string) error {
	granted, err := consents.Granted(ctx, s.Firestore, uid, model.ConsentAIAnalysis)
	if err != nil {
		return fmt.Errorf("remove AI analyses: %w", err)
	}
	if granted {
		return nil
	}
	base, err := indexes.MustLookup(indexes.QGDPRUserActivations).Build(s.Firestore, uid)
	if err != nil {
		return fault.Permanent(fmt.Errorf("remove AI analyses: %w", err))
	}
	// Only the analysis is read, never the journal text.
	base = base.Select("log.aiAnalysis")
	removed, regranted := 0, false
	err = store.PageByID(ctx, base, revocationPageSize, "", "remove AI analyses: list entries", func(snaps []*firestore.DocumentSnapshot) error {
		var refs []*firestore.DocumentRef
		for _, snap := range snaps {
			if v, err := snap.DataAt("log.aiAnalysis"); err == nil && v != nil {
				refs = append(refs, snap.Ref)
			}
		}
		if len(refs) == 0 {
			return nil
		}
		n, again, err := s.removeAnalyses(ctx, uid, refs)
		removed += n
		if err != nil {
			return store.Classify("remove AI analyses", err)
		}
		if again {
			regranted = true
			return iterator.Done
		}
		return nil
	})
	if err != nil {
		return err
	}
	if regranted {
		slog.InfoContext(ctx, "AI analysis removal stopped: ai_analysis granted again", "uid", uid, "removed", removed)
		return nil
	}
	slog.InfoContext(ctx, "AI analyses removed after ai_analysis revocation", "uid", uid, "removed", removed)
	return nil
}

// removeAnalyses deletes log.aiAnalysis from the entries of refs that still
// have one, in one transaction that first re-reads uid's consent: when
// ai_analysis is granted again it removes nothing and reports regranted.
func (s *Service) removeAnalyses(ctx context.Context, uid string, refs []*firestore.DocumentRef) (removed int, regranted bool, err error) {
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		removed, regranted = 0, false
		granted, err := grantedIn(ctx, tx, s.Firestore, uid)
		if err != nil {
			return err
		}
		if granted {
			regranted = true
			return nil
		}
		snaps, err := tx.GetAll(refs)
		if err != nil {
			return err
		}
		for _, snap := range snaps {
			if !snap.Exists() {
				continue
			}
			owner, _ := snap.DataAt("userId")
			if v, err := snap.DataAt("log.aiAnalysis"); err != nil || v == nil || owner != uid {
				continue
			}
			if err := tx.Update(snap.Ref, []firestore.Update{{Path: "log.aiAnalysis", Value: firestore.Delete}}); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	return removed, regranted, err
}
