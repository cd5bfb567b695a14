package functions

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/insights"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// loadConfig loads the configuration from env alone.
func loadConfig(t *testing.T, env map[string]string) (*config.Config, error) {
	t.Helper()
	return config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// TestInsightsRewriterConfig: INSIGHTS_REWRITE is off by default (no
// rewriter); gemini needs the Gemini configuration of reflection analysis
// and fails with a configuration error naming the variables (never a
// value) without it; another value is refused when the configuration is
// loaded.
func TestInsightsRewriterConfig(t *testing.T) {
	const key = "AIza-test-secret-value"
	tests := []struct {
		name      string
		env       map[string]string
		wantName  string // "" : no rewriter
		wantErr   string // in a FailedPrecondition error
		wantLoad  bool   // the error comes from config.Load
		wantNoErr bool
	}{
		{name: "unset", env: map[string]string{}, wantNoErr: true},
		{name: "off", env: map[string]string{"INSIGHTS_REWRITE": "off"}, wantNoErr: true},
		{name: "off with a Gemini key", env: map[string]string{"INSIGHTS_REWRITE": "OFF", "GEMINI_API_KEY": key}, wantNoErr: true},
		{name: "gemini without configuration", env: map[string]string{"INSIGHTS_REWRITE": "gemini"},
			wantErr: "GEMINI_API_KEY or GEMINI_VERTEX_PROJECT"},
		{name: "gemini with an API key", env: map[string]string{"INSIGHTS_REWRITE": "gemini", "GEMINI_API_KEY": key},
			wantName: "gemini-2.5-flash", wantNoErr: true},
		{name: "gemini with a model", env: map[string]string{"INSIGHTS_REWRITE": "Gemini", "GEMINI_API_KEY": key, "GEMINI_MODEL": "gemini-x"},
			wantName: "gemini-x", wantNoErr: true},
		{name: "gemini on Vertex AI", env: map[string]string{"INSIGHTS_REWRITE": "gemini", "GEMINI_VERTEX_PROJECT": "p"},
			wantName: "gemini-2.5-flash", wantNoErr: true},
		{name: "unknown value", env: map[string]string{"INSIGHTS_REWRITE": "gpt", "GEMINI_API_KEY": key},
			wantErr: "INSIGHTS_REWRITE", wantLoad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tt.env)
			if tt.wantLoad {
				if err == nil || fault.CodeOf(err) != fault.FailedPrecondition || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("config.Load error %v, want a FailedPrecondition naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rw, err := NewInsightsRewriter(cfg)
			if tt.wantNoErr != (err == nil) {
				t.Fatalf("NewInsightsRewriter error %v", err)
			}
			if err != nil {
				if fault.CodeOf(err) != fault.FailedPrecondition || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want a FailedPrecondition naming %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), key) {
					t.Errorf("error %q reveals the key", err)
				}
				return
			}
			if (rw == nil) != (tt.wantName == "") {
				t.Fatalf("rewriter %v, want one named %q", rw, tt.wantName)
			}
			if rw != nil && rw.Name() != tt.wantName {
				t.Errorf("Name() = %q, want %q", rw.Name(), tt.wantName)
			}
		})
	}
}

// TestInsightsRewriterUsesGeminiConfig: the rewriter INSIGHTS_REWRITE=gemini
// builds talks to GEMINI_BASE_URL with GEMINI_API_KEY and GEMINI_MODEL.
func TestInsightsRewriterUsesGeminiConfig(t *testing.T) {
	var path, apiKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, apiKey = r.URL.Path, r.Header.Get("x-goog-api-key")
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":`+
			`"{\"headline\":\"New light\",\"content\":\"A softer day may open.\",\"intention\":\"Stay open.\",`+
			`\"affirmation\":\"I am open.\",\"journalPrompt\":\"\"}"}]},"finishReason":"STOP"}]}`)
	}))
	t.Cleanup(srv.Close)
	cfg, err := loadConfig(t, map[string]string{"INSIGHTS_REWRITE": "gemini", "GEMINI_API_KEY": "test-key",
		"GEMINI_MODEL": "gemini-test", "GEMINI_BASE_URL": srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	rw, err := NewInsightsRewriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rw.Rewrite(context.Background(), &model.DailyInsight{Headline: "Easy light", Content: "A gentle day.",
		Intention: "Be kind.", Affirmation: "I am kind."})
	if err != nil || out.Headline != "New light" || out.JournalPrompt != "" {
		t.Fatalf("Rewrite = %+v, %v", out, err)
	}
	if path != "/v1beta/models/gemini-test:generateContent" || apiKey != "test-key" {
		t.Errorf("request to %s with key %q", path, apiKey)
	}
}

// TestInsightsServices: the worker's service has the configured rewriter
// (none by default) and fails to build, before making any client, with
// the configuration error when rewriting is asked for without Gemini; the
// fan-out's service never has one.
func TestInsightsServices(t *testing.T) {
	// Clients of emulators that are never called: made without
	// credentials, connecting on first use only.
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
	t.Setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1")
	build := func(t *testing.T, worker bool, env map[string]string) (*insights.Service, error) {
		t.Helper()
		cfg, err := loadConfig(t, env)
		if err != nil {
			t.Fatal(err)
		}
		c := cloud.New(func() (*config.Config, error) { return cfg, nil })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := newInsightsService(worker)(ctx, c, cfg)
		if s != nil {
			t.Cleanup(func() { s.Firestore.Close() })
		}
		return s, err
	}
	project := map[string]string{"GOOGLE_CLOUD_PROJECT": "demo-wire"}
	s, err := build(t, true, project)
	if err != nil {
		t.Fatalf("worker service: %v", err)
	}
	if s.Rewriter != nil {
		t.Errorf("INSIGHTS_REWRITE unset: the worker has the rewriter %T", s.Rewriter)
	}

	// No project either: the configuration error comes before any client.
	_, err = build(t, true, map[string]string{"INSIGHTS_REWRITE": "gemini"})
	if fault.CodeOf(err) != fault.FailedPrecondition || !strings.Contains(err.Error(), "GEMINI_API_KEY") {
		t.Errorf("INSIGHTS_REWRITE=gemini without Gemini: %v, want the configuration error", err)
	}

	gemini := map[string]string{"GOOGLE_CLOUD_PROJECT": "demo-wire", "INSIGHTS_REWRITE": "gemini", "GEMINI_API_KEY": "k"}
	if s, err := build(t, true, gemini); err != nil || s.Rewriter == nil || s.Rewriter.Name() != "gemini-2.5-flash" {
		t.Errorf("worker with INSIGHTS_REWRITE=gemini: %+v, %v", s, err)
	}
	if s, err := build(t, false, gemini); err != nil || s.Rewriter != nil {
		t.Errorf("fan-out with INSIGHTS_REWRITE=gemini: %+v, %v: want no rewriter", s, err)
	}
	if _, err := build(t, false, map[string]string{"GOOGLE_CLOUD_PROJECT": "demo-wire", "INSIGHTS_REWRITE": "gemini"}); err != nil {
		t.Errorf("fan-out with INSIGHTS_REWRITE=gemini and no key: %v; it does not rewrite", err)
	}
}

// TestInsightsRewriteBudget keeps the Gemini budget of one rewrite, the
// per-insight timeout, the shard's rewrite budget and the worker's
// timeout in step (as TestReflectionsTimeoutCoversGemini does for
// reflection analysis): one Gemini rewrite, retries included, fits
// insights.RewriteTimeout; the worker runs for insights.WorkerTimeout,
// which leaves insights.WorkerMargin after the shard's rewrite budget; it
// mounts the Gemini key (optional) and the fan-out does not.
func TestInsightsRewriteBudget(t *testing.T) {
	worst := insightsRewriteBudget.WorstCase()
	if want := 2*6*time.Second + 625*time.Millisecond; worst != want {
		t.Errorf("rewrite worst case %s, want %s (2 × 6 s + 0.625 s)", worst, want)
	}
	if worst > insights.RewriteTimeout {
		t.Errorf("a Gemini rewrite may take %s, more than insights.RewriteTimeout (%s)", worst, insights.RewriteTimeout)
	}
	byName := map[string]Function{}
	for _, f := range Registry() {
		byName[f.Name] = f
	}
	work, fan := byName["insightsWorker"], byName["insightsFanout"]
	tests := []struct {
		name string
		ok   bool
	}{
		{"worker timeout is insights.WorkerTimeout", work.Timeout == insights.WorkerTimeout},
		{"worker timeout covers the rewrite budget and the margin", work.Timeout >= insights.DefaultRewriteBudget+insights.WorkerMargin},
		{"worker timeout within the 540 s limit", work.Timeout <= 540*time.Second},
		{"worker mounts GEMINI_API_KEY", slices.Contains(work.Secrets, "GEMINI_API_KEY")},
		{"fan-out mounts no Gemini key", !slices.Contains(fan.Secrets, "GEMINI_API_KEY")},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: worker %+v", tt.name, work)
		}
	}
}
