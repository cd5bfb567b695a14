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
	col := s.Firestore.Collection(model.ColLiveSessions)
	changed, cursor := 0, ""
	for {
		q := col.OrderBy(firestore.DocumentID, firestore.Asc).Select("reflections", "reflectionUserIds").Limit(backfillPage)
		if cursor != "" {
			q = q.StartAfter(cursor)
		}
		docs, err := q.Documents(ctx).GetAll()
		if err != nil {
			return changed, store.Classify("gdpr: backfill reflectionUserIds", err)
		}
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
				return changed, store.Classify("gdpr: backfill reflectionUserIds", err)
			}
			jobs = append(jobs, j)
		}
		bw.End()
		for _, j := range jobs {
			if _, err := j.Results(); err != nil {
				if benign(err) {
					continue // deleted meanwhile
				}
				return changed, store.Classify("gdpr: backfill reflectionUserIds", err)
			}
			changed++
		}
		if len(docs) < backfillPage {
			return changed, nil
		}
		cursor = docs[len(docs)-1].Ref.ID
	}
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
