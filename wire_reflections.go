package functions

import (
	"context"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// newAnalyzer returns the offline analyzer, or Gemini (falling back to it)
// when a Gemini API key or Vertex project is configured.
func newAnalyzer(cfg *config.Config) (analysis.Analyzer, error) {
	off := analysis.NewOffline(now)
	if cfg.GeminiAPIKey == "" && cfg.GeminiVertexProject == "" {
		return off, nil
	}
	return analysis.NewGemini(analysis.GeminiConfig{
		Model: cfg.GeminiModel, APIKey: cfg.GeminiAPIKey.Reveal(),
		Project: cfg.GeminiVertexProject, Location: cfg.GeminiVertexLocation, BaseURL: cfg.GeminiBaseURL,
	}, off)
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
	f.Doc = "Analyses a journal reflection (sentiment, themes, mood shift, crisis language) into log.aiAnalysis when its text, moods or rating change; raises the wellbeing protocol on crisis language."
	return []Function{f}
}
