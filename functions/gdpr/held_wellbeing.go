package gdpr

import (
	"context"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// HeldWellbeingRepair is what RepairHeldWellbeing found.
type HeldWellbeingRepair struct {
	// Scanned: held (pseudonymised) wellbeing events read.
	Scanned int
	// Rewritten: of those, records in the old shape rewritten (in a dry
	// run: that a run would rewrite).
	Rewritten int
}

// RepairHeldWellbeing is the one-off migration of wellbeing events held
// by erasures that ran before episode ids stopped embedding the uid: they
// were pseudonymised in userId only, so their episodeId is still
// "{uid}:{time}" and their sourceKey may embed a journal entry id holding
// the uid, and no finder reaches them again (userId is the pseudonym).
// It pages by document id through wellbeing_events with pseudonymised ==
// true (one equality query, qWellbeingHeld) and, for each record whose
// episodeId is not in the uid-free format or that still has a sourceKey,
// removes sourceKey and sets episodeId to wellbeing.EpisodeID of the
// event id and its createdAt (legacy episode ids were "{uid}:{time}" of
// the opening event, one event per episode), in a transaction per record that reads it again.
// Deterministic, so a second run changes nothing; dryRun writes nothing
// and counts what a run would rewrite. page is the query's page size.
func RepairHeldWellbeing(ctx context.Context, fs *firestore.Client, dryRun bool, page int) (HeldWellbeingRepair, error) {
	var out HeldWellbeingRepair
	if page < 1 {
		page = 300
	}
	base, err := qWellbeingHeld.Build(fs, true)
	if err != nil {
		return out, fault.Wrap(err, fault.Internal, "gdpr: held wellbeing query")
	}
	base = base.Select("episodeId", "sourceKey", "createdAt")
	err = store.PageByID(ctx, base, page, "", "gdpr: held wellbeing events", func(docs []*firestore.DocumentSnapshot) error {
		for _, d := range docs {
			out.Scanned++
			if heldWellbeingUpdates(d) == nil {
				continue
			}
			if dryRun {
				out.Rewritten++
				continue
			}
			wrote, err := rewriteHeldWellbeing(ctx, fs, d.Ref)
			if err != nil {
				return store.Classify("gdpr: rewrite held wellbeing event", err)
			}
			if wrote {
				out.Rewritten++
			}
		}
		return nil
	})
	return out, err
}

// rewriteHeldWellbeing applies heldWellbeingUpdates to the held wellbeing
// event ref in a transaction that reads it again, and reports whether it
// wrote: not for a record deleted meanwhile (retention), no longer held,
// or already in the new shape.
func rewriteHeldWellbeing(ctx context.Context, fs *firestore.Client, ref *firestore.DocumentRef) (wrote bool, err error) {
	err = fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		wrote = false
		snap, err := tx.Get(ref)
		if store.IsNotFound(err) {
			return nil // deleted meanwhile (retention)
		}
		if err != nil {
			return err
		}
		if v, _ := snap.DataAt("pseudonymised"); v != true {
			return nil
		}
		ups := heldWellbeingUpdates(snap)
		if ups == nil {
			return nil
		}
		wrote = true
		return tx.Update(ref, ups)
	})
	return wrote, err
}

// heldWellbeingUpdates returns what a held wellbeing event in the old
// shape needs (nil when it has none): sourceKey removed, and an episodeId
// that is not in the uid-free format replaced.
func heldWellbeingUpdates(snap *firestore.DocumentSnapshot) []firestore.Update {
	var ups []firestore.Update
	if _, err := snap.DataAt("sourceKey"); err == nil {
		ups = append(ups, firestore.Update{Path: "sourceKey", Value: firestore.Delete})
	}
	if v, err := snap.DataAt("episodeId"); err == nil {
		if ep, _ := v.(string); !wellbeing.IsEpisodeID(ep) {
			ups = append(ups, firestore.Update{Path: "episodeId", Value: wellbeing.EpisodeID(snap.Ref.ID, dateOf(snap, "createdAt"))})
		}
	}
	return ups
}
