package rules

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
)

// TestLiveSessionFullOfReflectionsStaysWritable: the rules allowed 1 000
// reflections of 2 000 characters, but the rules engine stops evaluating
// writes to the session at about 1 MB of reflections (PERMISSION_DENIED:
// "maximum memory usage"), about 507 ASCII reflections of 2 000
// characters and 129 of emoji, after which not even the host could mark
// the session completed. The caps (500 reflections, one per participant
// of the largest session; 300 characters, "brief" in the spec) keep the
// fullest session under 0.5 MB with the widest characters: the last
// reflection the rules allow is taken, the next is refused by the cap,
// and the host and the participants can still write.
func TestLiveSessionFullOfReflectionsStaysWritable(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := "live_sessions/ls-carol"
	defer w.restore(t, path)
	at := time.Now().UTC().Truncate(time.Second)
	// The rules count a string's length in UTF-16 units: 300 "語" (3
	// bytes each in UTF-8) are the most bytes a reflection can hold; an
	// emoji counts twice.
	for _, text := range []string{strings.Repeat("語", 300), strings.Repeat("😀", 150), strings.Repeat("ä", 300), strings.Repeat("x", 300)} {
		widest := string([]rune(text)[0])
		t.Run(widest, func(t *testing.T) {
			held := make([]any, 499)
			for i := range held {
				held[i] = doc{"userId": "alice", "text": text, "submittedAt": at}
			}
			if _, err := w.c.Doc(path).Update(ctx, []firestore.Update{{Path: "reflections", Value: held},
				{Path: "reflectionUserIds", Value: []any{"alice"}}, {Path: "status", Value: "live"}}); err != nil {
				t.Fatal(err)
			}
			last := append(append([]any{}, held...), reflection("alice", text))
			if status, body := w.rawCommit(t, w.tokens[owner], update(path, reflects(last, "alice"))); status != http.StatusOK {
				t.Fatalf("reflection 500 of %d %q: HTTP %d %v", len([]rune(text)), widest, status, errMessage(body))
			}
			over := append(append([]any{}, last...), reflection("alice", "One more."))
			if status, _ := w.rawCommit(t, w.tokens[owner], update(path, reflects(append(append([]any{}, held...), reflection("alice", text+"x")), "alice"))); status == http.StatusOK {
				t.Error("a reflection one unit over 300 accepted")
			}
			if status, _ := w.rawCommit(t, w.tokens[owner], update(path, reflects(over, "alice"))); status == http.StatusOK {
				t.Error("reflection 501 accepted")
			}
			if status, body := w.rawCommit(t, w.tokens[coach], update(path, patch("status", "completed"))); status != http.StatusOK {
				t.Errorf("the host completing a full session: HTTP %d %v", status, errMessage(body))
			}
		})
	}
}
