package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

// newTestRewriter returns a rewriter of the fake Gemini API serving
// replies, with MaxAttempts 3 and no waits between attempts.
func newTestRewriter(t *testing.T, replies ...fakeReply) (*GeminiRewriter, *fakeGemini) {
	t.Helper()
	f := &fakeGemini{t: t, replies: replies}
	srv := newFakeServer(t, f)
	r, err := NewGeminiRewriter(GeminiConfig{Model: "gemini-test", APIKey: "test-key", BaseURL: srv,
		Timeout: 2 * time.Second, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	r.sleep = func(context.Context, time.Duration) error { return nil }
	return r, f
}

// newFakeServer serves f on a local port for the test's duration and
// returns its base URL.
func newFakeServer(t *testing.T, f *fakeGemini) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

var rewriteReq = RewriteRequest{
	Headline:      "Easy light",
	Content:       "The Sun forms a trine to your natal Moon, a gentle current that may make your feelings a little lighter.",
	Intention:     "Follow what feels natural and kind.",
	Affirmation:   "I let the day be lighter.",
	JournalPrompt: "What felt easy today?",
	Language:      "en",
}

// rewritten is a valid answer to rewriteReq.
func rewritten() map[string]any {
	return map[string]any{
		"headline":      "A lighter kind of day",
		"content":       "With the Sun in trine to your natal Moon, a soft current may let your feelings rest a little lighter today.",
		"intention":     "Move with what feels natural and kind.",
		"affirmation":   "I allow today to feel lighter.",
		"journalPrompt": "Where did something come easily today?",
	}
}

func TestGeminiRewriteSuccess(t *testing.T) {
	r, f := newTestRewriter(t, answer(t, rewritten()))
	out, err := r.Rewrite(context.Background(), rewriteReq)
	if err != nil {
		t.Fatal(err)
	}
	want := RewriteResponse{Headline: "A lighter kind of day",
		Content:   "With the Sun in trine to your natal Moon, a soft current may let your feelings rest a little lighter today.",
		Intention: "Move with what feels natural and kind.", Affirmation: "I allow today to feel lighter.",
		JournalPrompt: "Where did something come easily today?", ModelVersion: "gemini-test-001"}
	if out != want {
		t.Errorf("Rewrite = %+v, want %+v", out, want)
	}
	if r.Model() != "gemini-test" || f.calls.Load() != 1 {
		t.Errorf("model %q, %d calls", r.Model(), f.calls.Load())
	}

	req := f.lastReq.Load().(map[string]any)
	// The request is the prompt, the texts and the generation settings:
	// nothing else.
	var keys []string
	for k := range req {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "contents,generationConfig,systemInstruction" {
		t.Errorf("request fields %v", keys)
	}
	gc, _ := req["generationConfig"].(map[string]any)
	schema, _ := gc["responseSchema"].(map[string]any)
	if gc["responseMimeType"] != "application/json" || schema == nil {
		t.Fatalf("generationConfig = %v, want JSON output with a schema", gc)
	}
	props, _ := schema["properties"].(map[string]any)
	required, _ := schema["required"].([]any)
	if len(props) != 5 || len(required) != 5 {
		t.Errorf("schema properties %v required %v, want the five texts, all required", props, required)
	}
	for _, f := range rewriteFields {
		if props[f] == nil || !slices.Contains(required, any(f)) {
			t.Errorf("schema lacks the required field %s", f)
		}
	}
	sys, _ := json.Marshal(req["systemInstruction"])
	for _, rule := range []string{"meaning", "tentative", "no medical", "new facts", "as long as the original", "language"} {
		if !strings.Contains(strings.ToLower(string(sys)), rule) {
			t.Errorf("system prompt lacks %q", rule)
		}
	}
	in := requestInput(t, f)
	wantIn := map[string]any{"language": "en", "headline": rewriteReq.Headline, "content": rewriteReq.Content,
		"intention": rewriteReq.Intention, "affirmation": rewriteReq.Affirmation, "journalPrompt": rewriteReq.JournalPrompt}
	if len(in) != len(wantIn) {
		t.Errorf("input %v, want exactly %v", in, wantIn)
	}
	for k, v := range wantIn {
		if in[k] != v {
			t.Errorf("input %s = %v, want %v", k, in[k], v)
		}
	}
}

// requestInput returns the input JSON of the last request's user message.
func requestInput(t *testing.T, f *fakeGemini) map[string]any {
	t.Helper()
	req, _ := f.lastReq.Load().(map[string]any)
	contents, _ := req["contents"].([]any)
	if len(contents) != 1 {
		t.Fatalf("request contents %v, want one message", req["contents"])
	}
	parts, _ := contents[0].(map[string]any)["parts"].([]any)
	if len(parts) != 1 {
		t.Fatalf("request parts %v, want one", contents[0])
	}
	text, _ := parts[0].(map[string]any)["text"].(string)
	var in map[string]any
	if err := json.Unmarshal([]byte(text), &in); err != nil {
		t.Fatalf("request input %q: %v", text, err)
	}
	return in
}

func TestGeminiRewriteRetriesThenSucceeds(t *testing.T) {
	r, f := newTestRewriter(t,
		fakeReply{status: 503, body: `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`},
		fakeReply{status: 429, body: `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`},
		answer(t, rewritten()))
	out, err := r.Rewrite(context.Background(), rewriteReq)
	if err != nil || out.Headline != "A lighter kind of day" || f.calls.Load() != 3 {
		t.Errorf("Rewrite = %+v, %v after %d calls", out, err, f.calls.Load())
	}
}

// TestGeminiRewriteErrors: every failure is an error (the caller keeps the
// template wording), after as many calls as the retry policy allows; an
// error never quotes the texts.
func TestGeminiRewriteErrors(t *testing.T) {
	with := func(field string, v any) fakeReply {
		m := rewritten()
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
		return answer(t, m)
	}
	null := answer(t, map[string]any{"headline": nil, "content": "x", "intention": "x", "affirmation": "x", "journalPrompt": "x"})
	tests := []struct {
		name      string
		replies   []fakeReply
		wantCalls int32
		wantErr   string // in the message
		blocked   bool
	}{
		{"prompt blocked", []fakeReply{{status: 200, body: `{"promptFeedback":{"blockReason":"SAFETY"}}`}}, 1, "blocked", true},
		{"answer stopped for safety", []fakeReply{{status: 200, body: `{"candidates":[{"finishReason":"SAFETY"}]}`}}, 1, "blocked", true},
		{"blocked after a malformed answer", []fakeReply{{status: 200, body: `{"candidates":[{"content":{"parts":[{"text":"{"}]},"finishReason":"STOP"}]}`},
			{status: 200, body: `{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}`}}, 2, "blocked", true},
		{"malformed JSON", []fakeReply{{status: 200, body: `{"candidates":[{"content":{"parts":[{"text":"Here is a rewrite!"}]},"finishReason":"STOP"}]}`}}, 3, "malformed", false},
		{"no candidates", []fakeReply{{status: 200, body: `{}`}}, 3, "empty response", false},
		{"missing field", []fakeReply{with("affirmation", nil)}, 3, "missing required affirmation", false},
		{"null field", []fakeReply{null}, 3, "missing required headline", false},
		{"wrong type", []fakeReply{with("content", 42)}, 3, "malformed", false},
		{"blank field", []fakeReply{with("intention", "  ")}, 3, "intention is empty", false},
		{"medical claim", []fakeReply{with("content", "This transit may heal old wounds.")}, 3, `"heal"`, false},
		{"therapy", []fakeReply{with("journalPrompt", "What would you tell your therapist?")}, 3, `"therap"`, false},
		{"certainty", []fakeReply{with("affirmation", "Good things will happen to me today.")}, 3, `"will happen"`, false},
		{"server errors exhaust the attempts", []fakeReply{{status: 500, body: `{"error":{"code":500,"message":"x","status":"INTERNAL"}}`}}, 3, "attempt 3", false},
		{"bad request is not retried", []fakeReply{{status: 400, body: `{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT"}}`}}, 1, "attempt 1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, f := newTestRewriter(t, tt.replies...)
			out, err := r.Rewrite(context.Background(), rewriteReq)
			if err == nil {
				t.Fatalf("Rewrite = %+v, want an error", out)
			}
			if out != (RewriteResponse{}) {
				t.Errorf("Rewrite returned %+v with its error", out)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %s", err, tt.wantErr)
			}
			if errors.Is(err, ErrRewriteBlocked) != tt.blocked {
				t.Errorf("errors.Is(%v, ErrRewriteBlocked) = %v", err, !tt.blocked)
			}
			for _, text := range []string{rewriteReq.Content, "heal old wounds", "therapist", "Good things"} {
				if strings.Contains(err.Error(), text) {
					t.Errorf("error %q quotes a text", err)
				}
			}
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

// TestGeminiRewriteClaimThenClean: a rejected answer is asked again, and
// a clean second answer is used.
func TestGeminiRewriteClaimThenClean(t *testing.T) {
	bad := rewritten()
	bad["headline"] = "A day to heal"
	r, f := newTestRewriter(t, answer(t, bad), answer(t, rewritten()))
	out, err := r.Rewrite(context.Background(), rewriteReq)
	if err != nil || out.Headline != "A lighter kind of day" || f.calls.Load() != 2 {
		t.Errorf("Rewrite = %+v, %v after %d calls", out, err, f.calls.Load())
	}
}

// TestGeminiRewriteEmptyOriginal: a text that is empty in the request is
// empty in the answer, whatever the model wrote for it.
func TestGeminiRewriteEmptyOriginal(t *testing.T) {
	req := rewriteReq
	req.JournalPrompt = ""
	m := rewritten()
	m["journalPrompt"] = ""
	r, _ := newTestRewriter(t, answer(t, rewritten()))
	out, err := r.Rewrite(context.Background(), req)
	if err != nil || out.JournalPrompt != "" || out.Headline == "" {
		t.Errorf("Rewrite = %+v, %v: want an empty journal prompt", out, err)
	}
	r, _ = newTestRewriter(t, answer(t, m))
	if out, err := r.Rewrite(context.Background(), req); err != nil || out.JournalPrompt != "" {
		t.Errorf("Rewrite = %+v, %v", out, err)
	}
}

func TestGeminiRewriteInvalidRequest(t *testing.T) {
	r, f := newTestRewriter(t, answer(t, rewritten()))
	for _, req := range []RewriteRequest{{Content: "x"}, {Headline: "x"}, {Headline: " ", Content: "x"}} {
		if _, err := r.Rewrite(context.Background(), req); fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("Rewrite(%+v) error %v, want InvalidArgument", req, err)
		}
	}
	if f.calls.Load() != 0 {
		t.Errorf("%d calls for invalid requests", f.calls.Load())
	}
}

func TestNewGeminiRewriterValidation(t *testing.T) {
	for _, cfg := range []GeminiConfig{{APIKey: "k"}, {Model: "m"}, {Model: "m", Project: "p"}} {
		if _, err := NewGeminiRewriter(cfg); fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("NewGeminiRewriter(%+v) error %v, want InvalidArgument", cfg, err)
		}
	}
	r, err := NewGeminiRewriter(GeminiConfig{Model: "m", Project: "p", Location: "europe-north1"})
	if err != nil {
		t.Fatalf("vertex config: %v", err)
	}
	if r.cfg.Timeout != 20*time.Second || r.cfg.MaxAttempts != 3 {
		t.Errorf("defaults not filled in: %+v", r.cfg)
	}
}

func TestGeminiRewriteCancelledContext(t *testing.T) {
	r, f := newTestRewriter(t, fakeReply{status: 503, body: `{"error":{"code":503}}`})
	r.sleep = sleepCtx
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Rewrite(ctx, rewriteReq); err == nil {
		t.Fatal("Rewrite with a cancelled context succeeded")
	}
	if f.calls.Load() > 1 {
		t.Errorf("%d calls after cancellation", f.calls.Load())
	}
}

func TestUnsafeClaim(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"A gentle day to rest.", ""},
		{"Healing comes slowly.", "heal"},
		{"Good for your health.", "heal"},
		{"Feel secure and curious.", ""},
		{"Wealth of ideas.", ""},
		{"This may CURE the blues.", "cure"},
		{"Talk to a therapist.", "therap"},
		{"Not a diagnosis.", "diagnos"},
		{"Meditation and medication.", "medic"},
		{"A depressing forecast.", "depress"},
		{"Great things will happen.", "will happen"},
		{"Guaranteed calm.", "guarantee"},
		{"No symptoms here.", "symptom"},
		{"(treatment)", "treatment"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := UnsafeClaim(tt.text); got != tt.want {
			t.Errorf("UnsafeClaim(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestGeminiRewriteThinking: a rewrite on a Flash model asks for no
// thinking (thinkingBudget 0); on another model it leaves the model's
// default (no thinkingConfig).
func TestGeminiRewriteThinking(t *testing.T) {
	for _, tt := range []struct {
		model    string
		wantZero bool
	}{
		{"gemini-2.5-flash", true},
		{"gemini-2.5-flash-lite", true},
		{"gemini-2.5-pro", false},
	} {
		t.Run(tt.model, func(t *testing.T) {
			f := &fakeGemini{t: t, replies: []fakeReply{answer(t, rewritten())}, model: tt.model}
			r, err := NewGeminiRewriter(GeminiConfig{Model: tt.model, APIKey: "test-key", BaseURL: newFakeServer(t, f),
				Timeout: 2 * time.Second, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Rewrite(context.Background(), rewriteReq); err != nil {
				t.Fatal(err)
			}
			gc, _ := f.lastReq.Load().(map[string]any)["generationConfig"].(map[string]any)
			tc, has := gc["thinkingConfig"].(map[string]any)
			if tt.wantZero && (!has || tc["thinkingBudget"] != float64(0)) {
				t.Errorf("thinkingConfig %v, want thinkingBudget 0", gc["thinkingConfig"])
			}
			if !tt.wantZero && has {
				t.Errorf("thinkingConfig %v, want the model's default (none)", tc)
			}
		})
	}
}
