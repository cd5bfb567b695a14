package reflections_test

import (
	"context"
	"testing"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/model"
)

// moodEntry writes user_activations/id owned by uid holding only moods (no
// text): the kind of entry two users easily write identically.
func (f *fixture) review8MoodEntry(id, uid string) map[string]any {
	f.t.Helper()
	doc := map[string]any{"userActivationId": id, "userId": uid, "activationId": "a1", "status": "completed",
		"startedAt": t0, "log": map[string]any{"moodBefore": "stressed", "moodAfter": "calm"}}
	if _, err := f.fs.Doc("user_activations/"+id).Set(context.Background(), doc); err != nil {
		f.t.Fatal(err)
	}
	return doc
}

// TestReview8LateEventAnalysesAnotherOwnersEntry: the create event of A's
// entry (A granted ai_analysis) is delivered late, after A deleted the entry
// and B (no consent) created one at the same id with the same inputs. The
// commit re-reads the entry and checks its inputs but not its owner, and it
// re-reads A's consent, not B's: B's entry gets an analysis B never
// consented to, and no later event removes it (B never revokes; A's
// revocation only lists A's entries).
func TestReview8LateEventAnalysesAnotherOwnersEntry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.consent("alice", model.ConsentGranted)
	f.consent("bob", model.ConsentRevoked)
	late := f.event("x", nil, f.review8MoodEntry("x", "alice"))
	if _, err := f.fs.Doc("user_activations/x").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	bobs := f.review8MoodEntry("x", "bob")
	if out := f.handle(f.event("x", nil, bobs)); out != reflections.NoConsent {
		t.Fatalf("bob's create: %s", out)
	}
	out := f.handle(late)
	if a := analysisOf(t, f.current("x")); a != nil {
		t.Fatalf("late event of alice's deleted entry (outcome %s) analysed bob's entry without bob's consent: %v", out, a)
	}
}
