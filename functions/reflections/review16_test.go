package reflections_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/model"
)

// review16Gemini is a local stand-in for the Gemini REST API that counts
// generateContent calls per request and always answers a valid analysis.
type review16Gemini struct{ calls atomic.Int32 }

func (g *review16Gemini) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	g.calls.Add(1)
	text, _ := json.Marshal(map[string]any{"sentimentScore": 0.4, "magnitude": 1.0, "label": "positive",
		"keyThemes": []string{}, "crisis": false})
	body, _ := json.Marshal(map[string]any{
		"candidates": []any{map[string]any{
			"content":      map[string]any{"role": "model", "parts": []any{map[string]any{"text": string(text)}}},
			"finishReason": "STOP",
		}},
		"modelVersion": "gemini-test-001",
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// TestReview16GeminiCallsPerUserAreBounded: every edit of a journal text
// by an ordinary signed-in user (a cheap client write the rules allow at
// will, on as many entries as they like) made onUserActivationWritten call
// Gemini, a paid third-party model, with up to 10 000 characters: no
// per-user rate or budget, so one account could run up the project's LLM
// bill and exhaust its quota for every other user. A user's Gemini
// analyses are now limited per UTC day (reflections.DefaultModelDailyLimit,
// 100); past the limit an edit is still analysed, by the offline analyzer
// (crisis detection included), and another user, or the same user the
// next day, is not affected.
func TestReview16GeminiCallsPerUserAreBounded(t *testing.T) {
	f := newFixture(t)
	fake := &review16Gemini{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	g, err := analysis.NewGemini(analysis.GeminiConfig{Model: "gemini-test", APIKey: "test-key", BaseURL: srv.URL,
		Timeout: 5 * time.Second, MaxAttempts: 1}, analysis.NewOffline(clock))
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	f.svc.Analyzer = g
	f.svc.Now = func() time.Time { return now }
	f.consent("attacker", model.ConsentGranted)
	f.consent("victim", model.ConsentGranted)

	const limit = 100 // reflections.DefaultModelDailyLimit
	const edits = limit + 20
	before := map[string]any(nil)
	for i := range edits {
		after := f.entry("e1", "attacker", fmt.Sprintf("Edit %d: felt calm and grateful after the walk today.", i))
		if out := f.handle(f.event("e1", before, after)); out != reflections.Analyzed {
			t.Fatalf("edit %d: %s", i, out)
		}
		before = f.current("e1")
	}
	if n := int(fake.calls.Load()); n > limit {
		t.Fatalf("one user's %d edits in a day made %d Gemini calls; want at most %d", edits, n, limit)
	}
	// Past the limit the entry is still analysed, offline.
	a := analysisOf(t, f.current("e1"))
	if a["provider"] != analysis.ProviderOffline || a["label"] != "positive" {
		t.Errorf("analysis past the limit = %v", a)
	}
	// Crisis language past the limit is still detected.
	after := f.entry("e1", "attacker", "I have decided to kill myself tonight, I have the pills ready.")
	if out := f.handle(f.event("e1", before, after)); out != reflections.CrisisRaised {
		t.Errorf("crisis past the limit: %s", out)
	}
	// Another user still gets Gemini.
	calls := fake.calls.Load()
	v := f.entry("v1", "victim", "Felt calm and grateful after the walk today.")
	if out := f.handle(f.event("v1", nil, v)); out != reflections.Analyzed {
		t.Fatalf("victim: %s", out)
	}
	if fake.calls.Load() != calls+1 || analysisOf(t, f.current("v1"))["provider"] != analysis.ProviderGemini {
		t.Errorf("another user's entry was not analysed by Gemini: %v", analysisOf(t, f.current("v1")))
	}
	// The next UTC day the user has a new budget.
	now = t0.Add(24 * time.Hour)
	before = f.current("e1")
	after = f.entry("e1", "attacker", "A new day: felt calm and grateful after the walk.")
	if out := f.handle(f.event("e1", before, after)); out != reflections.Analyzed {
		t.Fatalf("next day: %s", out)
	}
	if analysisOf(t, f.current("e1"))["provider"] != analysis.ProviderGemini {
		t.Errorf("next day not analysed by Gemini: %v", analysisOf(t, f.current("e1")))
	}
}
