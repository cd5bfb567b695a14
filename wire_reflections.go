package functions

import (
	"context"
	"time"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// geminiBudget is the Gemini call budget of reflection analysis, stated
// here (rather than left to the provider's defaults) so that the
// function's timeout is checked against its WorstCase: see
// reflectionsTimeout.
var geminiBudget = analysis.GeminiConfig{Timeout: 20 * time.Second, MaxAttempts: 3, Backoff: 500 * time.Millisecond}

// reflectionsTimeout is onUserActivationWritten's timeout: the Gemini
// worst case (≈ 62 s) plus ample room for the offline analysis, the
// consent and locale reads and the transaction that commits the analysis
// and raises the wellbeing protocol. The platform default (60 s) is below
// the Gemini worst case and would kill the delivery before the offline
// crisis result is committed.
const reflectionsTimeout = 180 * time.Second

// newAnalyzer returns the offline analyzer, or Gemini (falling back to it)
// when a Gemini API key or Vertex project is configured.
func newAnalyzer(cfg *config.Config) (analysis.Analyzer, error) {
	off := analysis.NewOffline(now)
	gc, ok := geminiConfig(cfg, geminiBudget)
	if !ok {
		return off, nil
	}
	return analysis.NewGemini(gc, off)
}

// geminiConfig is the Gemini configuration of cfg (GEMINI_MODEL,
// GEMINI_API_KEY, GEMINI_VERTEX_PROJECT and _LOCATION, GEMINI_BASE_URL)
// with the call budget of budget (Timeout, MaxAttempts, Backoff), for
// reflection analysis and insight rewriting alike; ok is false when
// neither an API key nor a Vertex project is configured.
func geminiConfig(cfg *config.Config, budget analysis.GeminiConfig) (gc analysis.GeminiConfig, ok bool) {
	if cfg.GeminiAPIKey.IsZero() && cfg.GeminiVertexProject == "" {
		return analysis.GeminiConfig{}, false
	}
	return analysis.GeminiConfig{
		Model: cfg.GeminiModel, APIKey: cfg.GeminiAPIKey.Reveal(),
		Project: cfg.GeminiVertexProject, Location: cfg.GeminiVertexLocation, BaseURL: cfg.GeminiBaseURL,
		Timeout: budget.Timeout, MaxAttempts: budget.MaxAttempts, Backoff: budget.Backoff,
	}, true
}

var reflectionsService = service(func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*reflections.Service, error) {
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	an, err := newAnalyzer(cfg)
	if err != nil {
		return nil, err
	}
	return &reflections.Service{Firestore: fs, Analyzer: an, Wellbeing: &wellbeing.Protocol{Now: now}, Now: now}, nil
})

func reflectionFunctions() []Function {
	f := onFirestore("onUserActivationWritten", reflectionsService, (*reflections.Service).OnUserActivationWritten)
	f.EventType, f.Document = DocumentWritten, "user_activations/{id}"
	f.Secrets = []string{"GEMINI_API_KEY"}
	f.Timeout = reflectionsTimeout
	f.Doc = "Analyses a journal reflection (sentiment, themes, mood shift, crisis language) into log.aiAnalysis when its text, moods or rating change; raises the wellbeing protocol on crisis language."
	return []Function{f}
}
