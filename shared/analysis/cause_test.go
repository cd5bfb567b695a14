package analysis

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genai"
)

// TestGeminiCause: the log's cause of a fallback is told by the error's
// identity, never by its text.
func TestGeminiCause(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"api error", fmt.Errorf("gemini: %w", genai.APIError{Code: 429}), "http 429"},
		{"timeout", fmt.Errorf("gemini: %w", context.DeadlineExceeded), "timeout"},
		{"malformed", fmt.Errorf("gemini: %w: missing required sentiment", errMalformed), "malformed answer"},
		{"text alone is not the kind", errors.New("proxy: malformed answer from upstream"), "UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := geminiCause(tt.err); got != tt.want {
				t.Errorf("geminiCause(%v) = %q; want %q", tt.err, got, tt.want)
			}
		})
	}
}
