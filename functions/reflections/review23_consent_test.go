package reflections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// r23Gemini is a local Gemini REST stand-in. Its first request appends a
// revocation of ai_analysis to the owner's history (the user withdraws
// while the provider is being called) and fails with 503, so the
// provider's own retry policy asks again; every later request is answered.
// It records what reached "Gemini" after the withdrawal.
type r23Gemini struct {
	fs        *firestore.Client
	uid, text string
	failFirst int // how many first requests fail with 503
	// noWithdrawal: the first request does not revoke the consent.
	noWithdrawal bool

	mu              sync.Mutex
	calls           int
	afterWithdrawal int
	textAfter       int
	withdrawn       bool
}

func (g *r23Gemini) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.calls++
	n := g.calls
	if g.withdrawn {
		g.afterWithdrawal++
		// The JSON body escapes some characters; the test text has none.
		if bytes.Contains(body, []byte(g.text)) {
			g.textAfter++
		}
	}
	g.mu.Unlock()
	if n == 1 && !g.noWithdrawal {
		e := map[string]any{"type": string(model.ConsentAIAnalysis), "version": "v1",
			"agreedAt": time.Now().UTC(), "status": string(model.ConsentRevoked)}
		if _, err := g.fs.Doc("consents/"+g.uid).Update(context.Background(),
			[]firestore.Update{{Path: "consentsGiven", Value: firestore.ArrayUnion(e)}}); err == nil {
			g.mu.Lock()
			g.withdrawn = true
			g.mu.Unlock()
		}
	}
	if n <= g.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`))
		return
	}
	text, _ := json.Marshal(map[string]any{"sentimentScore": -0.4, "magnitude": 1.0, "label": "negative",
		"keyThemes": []string{"relationships"}, "crisis": false})
	out, _ := json.Marshal(map[string]any{
		"candidates": []any{map[string]any{
			"content":      map[string]any{"role": "model", "parts": []any{map[string]any{"text": string(text)}}},
			"finishReason": "STOP",
		}},
		"modelVersion": "gemini-test-001",
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// useGemini serves fake and makes f's analyzer the Gemini provider on it,
// with three attempts and no real wait between them.
func useGemini(t *testing.T, f *fixture, fake http.Handler) {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	g, err := analysis.NewGemini(analysis.GeminiConfig{Model: "gemini-test", APIKey: "k", BaseURL: srv.URL,
		Timeout: 5 * time.Second, MaxAttempts: 3, Backoff: time.Millisecond}, analysis.NewOffline(clock))
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Analyzer = g
}

// TestReview23GeminiRetriesStopAtWithdrawal: the user withdraws ai_analysis
// while the provider is being called for their entry, and the provider's
// retry policy would send the journal text again (503s). The retries stop
// at the withdrawal: no request after it carries the text, nothing is
// stored, and the log line of the discarded result names no label.
func TestReview23GeminiRetriesStopAtWithdrawal(t *testing.T) {
	f := newFixture(t)
	const uid, id = "u-gem", "e-gem"
	const text = "My partner and I argued again and I feel ashamed and lonely tonight"
	f.setConsent(uid, model.ConsentGranted)
	fake := &r23Gemini{fs: f.fs, uid: uid, text: text, failFirst: 2}
	useGemini(t, f, fake)
	logs := testenv.CaptureLogs(t)
	out := f.handle(f.event(id, nil, f.entry(id, uid, text)))
	if !fake.withdrawn {
		t.Fatal("the revocation was not written during the provider call")
	}
	if out != reflections.NoConsent {
		t.Errorf("outcome %s, want %s", out, reflections.NoConsent)
	}
	if a := analysisOf(t, f.current(id)); a != nil {
		t.Errorf("analysis stored after the withdrawal: %v", a)
	}
	if fake.textAfter != 0 {
		t.Errorf("%d requests carrying the journal text reached the provider after the withdrawal (of %d in all)", fake.textAfter, fake.calls)
	}
	for _, rec := range logs.Records("outcome", string(reflections.NoConsent)) {
		if rec["label"] != nil || rec["provider"] != nil {
			t.Errorf("log line %q of a discarded result keeps provider=%v label=%v", rec["msg"], rec["provider"], rec["label"])
		}
	}
}

// TestReview23GeminiRetriesGoOnWhileGranted: the same 503s without a
// withdrawal: the retries go on and the model's analysis is stored.
func TestReview23GeminiRetriesGoOnWhileGranted(t *testing.T) {
	f := newFixture(t)
	const uid, id = "u-gem2", "e-gem2"
	const text = "A calm walk by the water helped me think about work"
	f.setConsent(uid, model.ConsentGranted)
	fake := &r23Gemini{fs: f.fs, uid: uid, text: text, failFirst: 2, noWithdrawal: true}
	useGemini(t, f, fake)
	if out := f.handle(f.event(id, nil, f.entry(id, uid, text))); out != reflections.Analyzed {
		t.Fatalf("outcome %s, want %s", out, reflections.Analyzed)
	}
	if fake.calls != 3 {
		t.Errorf("%d requests, want 3 (two 503s, then the answer)", fake.calls)
	}
	a := analysisOf(t, f.current(id))
	if a == nil || a["provider"] != analysis.ProviderGemini {
		t.Errorf("stored analysis %v, want Gemini's", a)
	}
}
