package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

// fakeGemini is a local stand-in for the Gemini REST API
// (POST /v1beta/models/{model}:generateContent). Each call takes the next
// scripted reply; the last one repeats.
type fakeGemini struct {
	t       *testing.T
	replies []fakeReply
	calls   atomic.Int32
	lastReq atomic.Value // map[string]any
	model   string       // the model the requests must name; "gemini-test" when empty
}

type fakeReply struct {
	status int
	body   string
	delay  time.Duration
}

func (f *fakeGemini) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.calls.Add(1))
	model := f.model
	if model == "" {
		model = "gemini-test"
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/v1beta/models/"+model+":generateContent") {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("x-goog-api-key"); got != "test-key" {
		f.t.Errorf("api key header = %q", got)
	}
	b, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(b, &req); err != nil {
		f.t.Errorf("request body: %v", err)
	}
	f.lastReq.Store(req)
	rep := f.replies[min(n, len(f.replies))-1]
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

// answer wraps the model's JSON text in a generateContent response.
func answer(t *testing.T, out map[string]any) fakeReply {
	t.Helper()
	text, _ := json.Marshal(out)
	body, _ := json.Marshal(map[string]any{
		"candidates": []any{map[string]any{
			"content":      map[string]any{"role": "model", "parts": []any{map[string]any{"text": string(text)}}},
			"finishReason": "STOP",
		}},
		"modelVersion": "gemini-test-001",
	})
	return fakeReply{status: 200, body: string(body)}
}

func newTestGemini(t *testing.T, replies ...fakeReply) (*Gemini, *fakeGemini) {
	t.Helper()
	f := &fakeGemini{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	g, err := NewGemini(GeminiConfig{Model: "gemini-test", APIKey: "test-key", BaseURL: srv.URL,
		Timeout: 2 * time.Second, MaxAttempts: 3}, NewOffline(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	g.sleep = func(context.Context, time.Duration) error { return nil }
	return g, f
}

var okOutput = map[string]any{"sentimentScore": 0.7, "magnitude": 1.2, "label": "positive",
	"keyThemes": []string{"calm", "focus", "not-a-theme"}, "crisis": false}

func TestGeminiSuccess(t *testing.T) {
	g, f := newTestGemini(t, answer(t, okOutput))
	res, err := g.Analyze(context.Background(), Entry{Text: "Felt calm and focused afterwards.", MoodBefore: "stressed", MoodAfter: "calm"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != ProviderGemini || res.ModelVersion != "gemini-test-001" || res.Fallback != "" {
		t.Errorf("provider %q model %q fallback %q", res.Provider, res.ModelVersion, res.Fallback)
	}
	if res.SentimentScore != 0.7 || res.Label != Positive || res.Crisis {
		t.Errorf("result %+v", res)
	}
	if strings.Join(res.KeyThemes, ",") != "calm,focus" {
		t.Errorf("themes %v: unknown ids must be dropped", res.KeyThemes)
	}
	if res.MoodShift.Label != MoodImproved {
		t.Errorf("mood shift %+v", res.MoodShift)
	}
	if !res.AnalyzedAt.Equal(fixedClock()) {
		t.Errorf("analyzedAt %v", res.AnalyzedAt)
	}
	req := f.lastReq.Load().(map[string]any)
	gc, _ := req["generationConfig"].(map[string]any)
	if gc["responseMimeType"] != "application/json" || gc["responseSchema"] == nil {
		t.Errorf("generationConfig = %v, want JSON output with a schema", gc)
	}
	if f.calls.Load() != 1 {
		t.Errorf("calls = %d", f.calls.Load())
	}
}

func TestGeminiRetriesThenSucceeds(t *testing.T) {
	g, f := newTestGemini(t,
		fakeReply{status: 503, body: `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`},
		fakeReply{status: 429, body: `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`},
		answer(t, okOutput))
	res, _ := g.Analyze(context.Background(), Entry{Text: "Good session."})
	if res.Provider != ProviderGemini || f.calls.Load() != 3 {
		t.Errorf("provider %q after %d calls", res.Provider, f.calls.Load())
	}
}

func TestGeminiFallback(t *testing.T) {
	tests := []struct {
		name      string
		replies   []fakeReply
		wantCalls int32
		wantCause string // the log line's cause
	}{
		{"server errors exhaust the attempts", []fakeReply{{status: 500, body: `{"error":{"code":500,"message":"x","status":"INTERNAL"}}`}}, 3, "http 500"},
		{"bad request is not retried", []fakeReply{{status: 400, body: `{"error":{"code":400,"message":"echo: I feel lighter","status":"INVALID_ARGUMENT"}}`}}, 1, "http 400"},
		{"auth error is not retried", []fakeReply{{status: 403, body: `{"error":{"code":403,"message":"x","status":"PERMISSION_DENIED"}}`}}, 1, "http 403"},
		{"malformed answer", []fakeReply{{status: 200, body: `{"candidates":[{"content":{"parts":[{"text":"I feel lighter"}]},"finishReason":"STOP"}]}`}}, 3, "malformed answer"},
		{"no candidates", []fakeReply{{status: 200, body: `{}`}}, 3, "malformed answer"},
		{"timeout", []fakeReply{{status: 200, body: `{}`, delay: 3 * time.Second}}, 3, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			prev := slog.Default()
			slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
			t.Cleanup(func() { slog.SetDefault(prev) })
			g, f := newTestGemini(t, tt.replies...)
			if tt.name == "timeout" {
				g.cfg.Timeout = 30 * time.Millisecond
			}
			res, err := g.Analyze(context.Background(), Entry{Text: "I feel lighter after the breathing session."})
			if err != nil {
				t.Fatal(err)
			}
			if res.Provider != ProviderOffline || res.Fallback != "gemini_error" {
				t.Errorf("provider %q fallback %q, want offline fallback", res.Provider, res.Fallback)
			}
			if res.Label != Positive {
				t.Errorf("fallback label %q", res.Label)
			}
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			// The fallback is logged with its cause, never with the
			// entry's words (which an API message or answer may echo).
			if !strings.Contains(logs.String(), `"cause":"`+tt.wantCause+`"`) || strings.Contains(logs.String(), "lighter") {
				t.Errorf("log = %s, want cause %q and no entry text", logs.String(), tt.wantCause)
			}
		})
	}
}

func TestGeminiSafetyBlockIsCrisis(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"prompt blocked", `{"promptFeedback":{"blockReason":"SAFETY"}}`},
		{"prompt blocked other", `{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}`},
		{"answer stopped for safety", `{"candidates":[{"finishReason":"SAFETY"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, f := newTestGemini(t, fakeReply{status: 200, body: tt.body})
			res, err := g.Analyze(context.Background(), Entry{Text: "Some entry the filter did not like."})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Crisis || res.CrisisDetails == nil || !contains(res.CrisisDetails.Reasons, ReasonProviderSafetyBlock) {
				t.Fatalf("crisis %v details %+v, want provider_safety_block", res.Crisis, res.CrisisDetails)
			}
			if res.Fallback != "gemini_safety_block" || f.calls.Load() != 1 {
				t.Errorf("fallback %q after %d calls", res.Fallback, f.calls.Load())
			}
		})
	}
}

func TestGeminiCrisisIsORed(t *testing.T) {
	// The model misses it; the offline rules do not.
	g, _ := newTestGemini(t, answer(t, map[string]any{"sentimentScore": -0.6, "magnitude": 1, "label": "negative", "keyThemes": []string{}, "crisis": false}))
	res, _ := g.Analyze(context.Background(), Entry{Text: "Everyone would be better off without me."})
	if !res.Crisis || !contains(res.CrisisDetails.Reasons, ReasonRules) {
		t.Errorf("offline rules not ORed in: %+v", res.CrisisDetails)
	}
	// The model flags what the rules miss.
	g, _ = newTestGemini(t, answer(t, map[string]any{"sentimentScore": -0.8, "magnitude": 1, "label": "negative", "keyThemes": []string{"grief"}, "crisis": true}))
	res, _ = g.Analyze(context.Background(), Entry{Text: "I gave my cat to my sister and wrote to everyone one last time."})
	if !res.Crisis || !contains(res.CrisisDetails.Reasons, ReasonProviderFlag) {
		t.Errorf("model flag lost: %+v", res.CrisisDetails)
	}
}

// TestGeminiPartialAnswerFallsBack: every field of the response schema is
// required; an answer that lacks one (or sends null) is malformed: asked
// again, then answered by the offline analyzer (fallback gemini_error).
// Regression: a partial answer used to be stored as a Gemini result, the
// missing score and crisis flag read as 0 and false.
func TestGeminiPartialAnswerFallsBack(t *testing.T) {
	const text = "I feel awful and hopeless today, everything went wrong."
	full := func() map[string]any {
		return map[string]any{"sentimentScore": -0.7, "magnitude": 1.5, "label": "negative",
			"keyThemes": []string{"stress"}, "crisis": false}
	}
	without := func(fields ...string) map[string]any {
		m := full()
		for _, f := range fields {
			delete(m, f)
		}
		return m
	}
	null := func(field string) map[string]any {
		m := full()
		m[field] = nil
		return m
	}
	tests := []struct {
		name   string
		answer map[string]any
	}{
		{"only a label", map[string]any{"label": "neutral"}},
		{"empty object", map[string]any{}},
		{"no sentimentScore", without("sentimentScore")},
		{"no magnitude", without("magnitude")},
		{"no label", without("label")},
		{"no keyThemes", without("keyThemes")},
		{"no crisis", without("crisis")},
		{"null sentimentScore", null("sentimentScore")},
		{"null crisis", null("crisis")},
		{"null keyThemes", null("keyThemes")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, f := newTestGemini(t, answer(t, tt.answer))
			res, err := g.Analyze(context.Background(), Entry{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if res.Provider != ProviderOffline || res.Fallback != "gemini_error" {
				t.Fatalf("partial answer %v taken as provider %q (fallback %q, score %v, label %q)",
					tt.answer, res.Provider, res.Fallback, res.SentimentScore, res.Label)
			}
			if res.Label != Negative || res.SentimentScore >= 0 {
				t.Errorf("fallback label %q score %v, want the offline negative", res.Label, res.SentimentScore)
			}
			if got := f.calls.Load(); got != 3 {
				t.Errorf("calls = %d, want 3 (a malformed answer is asked again)", got)
			}
		})
	}
	// A complete answer with an empty theme list and zero scores is valid.
	g, _ := newTestGemini(t, answer(t, map[string]any{"sentimentScore": 0, "magnitude": 0, "label": "neutral",
		"keyThemes": []string{}, "crisis": false}))
	if res, _ := g.Analyze(context.Background(), Entry{Text: "Went to the shop."}); res.Provider != ProviderGemini {
		t.Errorf("complete zero answer: provider %q fallback %q", res.Provider, res.Fallback)
	}
	// A partial answer followed by a complete one: the retry succeeds.
	g, f := newTestGemini(t, answer(t, without("crisis")), answer(t, full()))
	if res, _ := g.Analyze(context.Background(), Entry{Text: text}); res.Provider != ProviderGemini || f.calls.Load() != 2 {
		t.Errorf("after a partial then a complete answer: provider %q, %d calls", res.Provider, f.calls.Load())
	}
}

// TestGeminiMalformedAnswerKeepsCrisisFlag: an answer that says
// "crisis": true is malformed when another field is missing (keyThemes
// here), so it is asked again and then answered offline, but its crisis
// flag is kept (ReasonProviderFlag) on whatever result is returned. Once
// the model has flagged the text, a later complete "crisis": false does
// not clear it: err on the side of safety. A partial "crisis": false adds
// nothing. The text is one the offline rules do not catch. Regression:
// after d5686a2 such an entry raised no wellbeing protocol.
func TestGeminiMalformedAnswerKeepsCrisisFlag(t *testing.T) {
	const text = "I'm at the bridge now."
	partial := func(crisis any) fakeReply { // keyThemes missing
		return answer(t, map[string]any{"sentimentScore": -0.8, "magnitude": 1, "label": "negative", "crisis": crisis})
	}
	complete := func(crisis bool) fakeReply {
		return answer(t, map[string]any{"sentimentScore": -0.8, "magnitude": 1, "label": "negative",
			"keyThemes": []string{"stress"}, "crisis": crisis})
	}
	badRequest := fakeReply{status: 400, body: `{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT"}}`}
	tests := []struct {
		name         string
		replies      []fakeReply
		wantProvider string
		wantFallback string
		wantCrisis   bool
		wantReasons  []string
		wantCalls    int32
	}{
		{"partial crisis true on every attempt", []fakeReply{partial(true)},
			ProviderOffline, "gemini_error", true, []string{ReasonProviderFlag}, 3},
		{"partial crisis true, then a complete crisis false", []fakeReply{partial(true), complete(false)},
			ProviderGemini, "", true, []string{ReasonProviderFlag}, 2},
		{"partial crisis true, then partial crisis false", []fakeReply{partial(true), partial(false)},
			ProviderOffline, "gemini_error", true, []string{ReasonProviderFlag}, 3},
		{"partial crisis true, then a non-retryable error", []fakeReply{partial(true), badRequest},
			ProviderOffline, "gemini_error", true, []string{ReasonProviderFlag}, 2},
		{"partial crisis true, then a safety block", []fakeReply{partial(true), {status: 200, body: `{"promptFeedback":{"blockReason":"SAFETY"}}`}},
			ProviderOffline, "gemini_safety_block", true, []string{ReasonProviderSafetyBlock, ReasonProviderFlag}, 2},
		{"crisis true beside a field of the wrong type", []fakeReply{answer(t, map[string]any{"sentimentScore": "very low",
			"magnitude": 1, "label": "negative", "keyThemes": []string{}, "crisis": true})},
			ProviderOffline, "gemini_error", true, []string{ReasonProviderFlag}, 3},
		{"partial crisis false", []fakeReply{partial(false)},
			ProviderOffline, "gemini_error", false, nil, 3},
		{"partial crisis null", []fakeReply{partial(nil)},
			ProviderOffline, "gemini_error", false, nil, 3},
		{"partial crisis false, then a complete crisis false", []fakeReply{partial(false), complete(false)},
			ProviderGemini, "", false, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, f := newTestGemini(t, tt.replies...)
			res, err := g.Analyze(context.Background(), Entry{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if res.Provider != tt.wantProvider || res.Fallback != tt.wantFallback {
				t.Errorf("provider %q fallback %q, want %q %q", res.Provider, res.Fallback, tt.wantProvider, tt.wantFallback)
			}
			if res.Crisis != tt.wantCrisis {
				t.Fatalf("crisis %v (details %+v), want %v", res.Crisis, res.CrisisDetails, tt.wantCrisis)
			}
			if tt.wantCrisis {
				if res.CrisisDetails == nil {
					t.Fatal("crisis without details")
				}
				for _, r := range tt.wantReasons {
					if !contains(res.CrisisDetails.Reasons, r) {
						t.Errorf("reasons %v lack %s", res.CrisisDetails.Reasons, r)
					}
				}
				if contains(res.CrisisDetails.Reasons, ReasonRules) {
					t.Errorf("reasons %v: the offline rules caught the text; the test needs one they miss", res.CrisisDetails.Reasons)
				}
			}
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

// TestGeminiGetsDetectedLanguage: the language sent to the model is the
// one detected from the text, not the user's locale hint. Regression: an
// en-SE user's Swedish entry was sent as "language": "en".
func TestGeminiGetsDetectedLanguage(t *testing.T) {
	tests := []struct {
		hint, text, want string
	}{
		{"en-SE", "Jag mår jättebra, känner mig lugn och tacksam efter passet.", "sv"},
		{"sv-SE", "I feel great, calm and grateful after the session today.", "en"},
		{"", "Jag mår jättebra, känner mig lugn och tacksam efter passet.", "sv"},
	}
	for _, tt := range tests {
		t.Run(tt.hint+"/"+tt.want, func(t *testing.T) {
			g, f := newTestGemini(t, answer(t, okOutput))
			res, err := g.Analyze(context.Background(), Entry{Text: tt.text, Lang: tt.hint})
			if err != nil {
				t.Fatal(err)
			}
			if res.Language != tt.want {
				t.Errorf("result language %q, want %q", res.Language, tt.want)
			}
			if got := requestLanguage(t, f); got != tt.want {
				t.Errorf("language sent to the model %q, want %q", got, tt.want)
			}
		})
	}
}

// requestLanguage returns the "language" of the input JSON of the last
// request the fake received.
func requestLanguage(t *testing.T, f *fakeGemini) string {
	t.Helper()
	req, _ := f.lastReq.Load().(map[string]any)
	contents, _ := req["contents"].([]any)
	if len(contents) == 0 {
		t.Fatalf("request without contents: %v", req)
	}
	parts, _ := contents[0].(map[string]any)["parts"].([]any)
	if len(parts) == 0 {
		t.Fatalf("request without parts: %v", contents[0])
	}
	text, _ := parts[0].(map[string]any)["text"].(string)
	var in map[string]any
	if err := json.Unmarshal([]byte(text), &in); err != nil {
		t.Fatalf("request input %q: %v", text, err)
	}
	lang, _ := in["language"].(string)
	return lang
}

func TestGeminiEmptyTextSkipsModel(t *testing.T) {
	g, f := newTestGemini(t, answer(t, okOutput))
	r := 5
	res, err := g.Analyze(context.Background(), Entry{MoodBefore: "tired", MoodAfter: "calm", Rating: &r})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != 0 || res.Provider != ProviderOffline || res.Label != Positive {
		t.Errorf("calls %d provider %q label %q", f.calls.Load(), res.Provider, res.Label)
	}
}

func TestNewGeminiValidation(t *testing.T) {
	for _, cfg := range []GeminiConfig{
		{APIKey: "k"},
		{Model: "m"},
		{Model: "m", Project: "p"},
	} {
		if _, err := NewGemini(cfg, nil); fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("NewGemini(%+v) error %v, want InvalidArgument", cfg, err)
		}
	}
	if _, err := NewGemini(GeminiConfig{Model: "m", Project: "p", Location: "europe-north1"}, nil); err != nil {
		t.Errorf("vertex config: %v", err)
	}
}

func TestGeminiCancelledContext(t *testing.T) {
	g, _ := newTestGemini(t, fakeReply{status: 503, body: `{"error":{"code":503}}`})
	g.sleep = sleepCtx
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := g.Analyze(ctx, Entry{Text: "Calm."})
	if err != nil || res.Fallback != "gemini_error" {
		t.Errorf("res %+v err %v", res, err)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal("context not cancelled")
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
