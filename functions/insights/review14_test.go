package insights

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// TestReview14RevocationDuringRewriteStoresTemplates: a user who revokes
// ai_analysis while the worker is rewriting their insight (the shard's
// consents were read before; rewriting a shard may take up to
// RewriteBudget) gets the template wording, as a reflection analysis
// computed while the consent is being revoked is not stored
// (functions/reflections). Regression: the consent read at the start of
// the shard decided, so the model's wording was stored, with rewrittenBy,
// after the user had withdrawn the consent for it.
func TestReview14RevocationDuringRewriteStoresTemplates(t *testing.T) {
	h := newHarness(t)
	r := &fakeRewriter{}
	r.rewrite = func(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
		h.consent("revoking", model.ConsentGranted, model.ConsentRevoked) // while the model answers
		return fresh(in), nil
	}
	h.s.Rewriter, h.s.ShardSize = r, 10
	h.put("revoking", dueUser("1990-05-15"))
	h.consent("revoking", model.ConsentGranted)
	st, err := h.worker(h.fanoutOne(), time.Minute)
	if err != nil || st.Created != 1 {
		t.Fatalf("worker: %+v %v, want 1 created", st, err)
	}
	if r.calls.Load() != 1 {
		t.Fatalf("rewriter called %d times, want once (the user granted when the shard was read)", r.calls.Load())
	}
	in, note := h.insight("revoking")
	if in.RewrittenBy != "" || strings.Contains(in.Headline+in.Content+in.Intention+note.Title+note.Body, "Fresh: ") {
		t.Errorf("insight stored with the model's wording after the consent was revoked: rewrittenBy %q, headline %q, notification %q",
			in.RewrittenBy, in.Headline, note.Title)
	}
	if st.Rewritten != 0 {
		t.Errorf("stats count %d rewritten, want 0", st.Rewritten)
	}
}
