package analysis

import (
	"strings"
	"time"
)

// Environment variables read by NewFromEnv.
const (
	// EnvProvider selects the provider: "offline" (default) or "gemini".
	EnvProvider = "ANALYSIS_PROVIDER"
	// EnvGeminiModel names the Gemini model (default DefaultGeminiModel).
	EnvGeminiModel = "GEMINI_MODEL"
	// EnvGeminiAPIKey is the Gemini API key (a secret).
	EnvGeminiAPIKey = "GEMINI_API_KEY"
	// EnvProject and EnvLocation select Vertex AI when there is no API key.
	EnvProject  = "GOOGLE_CLOUD_PROJECT"
	EnvLocation = "GOOGLE_CLOUD_LOCATION"
)

// DefaultGeminiModel is used when EnvGeminiModel is unset.
const DefaultGeminiModel = "gemini-2.5-flash"

// NewFromEnv returns the analyzer the environment asks for: Offline unless
// ANALYSIS_PROVIDER=gemini, then Gemini configured from GEMINI_MODEL,
// GEMINI_API_KEY or GOOGLE_CLOUD_PROJECT + GOOGLE_CLOUD_LOCATION, with the
// offline analyzer as its fallback. getenv is os.Getenv in production. It
// returns a fault.Invalid error for an unknown provider or an incomplete
// Gemini configuration (checked here, at first use, not at init).
func NewFromEnv(getenv func(string) string, now func() time.Time) (Analyzer, error) {
	off := NewOffline(now)
	switch p := strings.ToLower(strings.TrimSpace(getenv(EnvProvider))); p {
	case "", ProviderOffline:
		return off, nil
	case ProviderGemini:
		model := getenv(EnvGeminiModel)
		if model == "" {
			model = DefaultGeminiModel
		}
		return NewGemini(GeminiConfig{
			Model:    model,
			APIKey:   getenv(EnvGeminiAPIKey),
			Project:  getenv(EnvProject),
			Location: getenv(EnvLocation),
		}, off)
	default:
		return nil, invalid("unknown %s %q (offline or gemini)", EnvProvider, p)
	}
}
