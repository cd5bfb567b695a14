package gdpr

import (
	"context"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// backfillPage is how many live sessions BackfillReflectionUserIDs reads
// per query.
const backfillPage = 300

// BackfillReflectionUserIDs adds the author of every reflection of every
// live session to the session's reflectionUserIds, and returns how many
// sessions it changed. It is the one-off migration for sessions written
// before the field existed: the finder live_sessions.reflectionUserIds
// cannot see their reflections once the author has left. A migration, not
// a finder: it reads the whole collection once, paged by document id
// (reflections and reflectionUserIds only). Idempotent, and safe while
// clients write: arrayUnion commutes with their appends (which add their
// own uid the same way), so no write is lost and none needs a guard.
func (s *Service) BackfillReflectionUserIDs(ctx context.Context) (int, error) {
	const op = "gdpr: backfill reflectionUserIds"
	changed := 0
	q := s.Firestore.Collection(model.ColLiveSessions).Select("reflections", "reflectionUserIds")
	err := store.PageByID(ctx, q, backfillPage, "", op, func(docs []*firestore.DocumentSnapshot) error {
		bw := s.Firestore.BulkWriter(ctx)
		var jobs []*firestore.BulkWriterJob
		for _, d := range docs {
			missing := missingReflectionUserIDs(d)
			if len(missing) == 0 {
				continue
			}
			j, err := bw.Update(d.Ref, []firestore.Update{{Path: "reflectionUserIds", Value: firestore.ArrayUnion(missing...)}})
			if err != nil {
				bw.End()
				return store.Classify(op, err)
			}
			jobs = append(jobs, j)
		}
		bw.End()
		for _, j := range jobs {
			if _, err := j.Results(); err != nil {
				if benign(err) {
					continue // deleted meanwhile
				}
				return store.Classify(op, err)
			}
			changed++
		}
		return nil
	})
	return changed, err
}

// missingReflectionUserIDs returns the authors of a live session's
// reflections that its reflectionUserIds lacks, each once.
func missingReflectionUserIDs(snap *firestore.DocumentSnapshot) []any {
	have := map[string]bool{}
	if v, err := snap.DataAt("reflectionUserIds"); err == nil {
		list, _ := v.([]any)
		for _, u := range list {
			if s, ok := u.(string); ok {
				have[s] = true
			}
		}
	}
	var out []any
	refl, _ := snap.DataAt("reflections")
	list, _ := refl.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if u, ok := m["userId"].(string); ok && u != "" && !have[u] {
			have[u] = true
			out = append(out, u)
		}
	}
	return out
}
