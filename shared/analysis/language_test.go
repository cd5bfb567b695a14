package analysis

import (
	"context"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

func TestLanguageOf(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"sv", "sv"},
		{"en", "en"},
		{"SV", "sv"},
		{"En", "en"},
		{"sv-SE", "sv"},
		{"sv-FI", "sv"},
		{"en-GB", "en"},
		{"en-SE", "en"},
		{"en-us", "en"},
		{"EN-US", "en"},
		{"en_US", "en"},
		{"sv_SE", "sv"},
		{"SV_se", "sv"},
		{"en_GB.UTF-8", "en"},
		{"en-Latn-US", "en"},
		{"", ""},
		{"de", ""},
		{"de-DE", ""},
		{"fi_FI", ""},
		{"english", ""},
		{"svenska", ""},
		{"eng", ""},
		{"se", ""},
		{"e", ""},
		{" en", ""},
		{"en ", ""},
		{"en.US", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := LanguageOf(tt.in); got != tt.want {
				t.Errorf("LanguageOf(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestLocaleHintForms: the analyzer reads Entry.Lang with LanguageOf, so an
// underscore locale is a valid hint that breaks a tie (regression: "en_US"
// and "sv_SE" were refused by Validate and were no hint to the language
// detector), and a hint LanguageOf does not read is refused.
func TestLocaleHintForms(t *testing.T) {
	tests := []struct {
		hint, text string
		wantLang   string // "" = refused as invalid
	}{
		{"sv_SE", "Ok.", "sv"},
		{"SV_se", "Ok.", "sv"},
		{"en_US", "Ok.", "en"},
		{"sv-SE", "Ok.", "sv"},
		{"", "Ok.", "en"},
		// The text decides when it is clear, whatever the hint.
		{"en_US", "Jag är så trött och ledsen idag, allt kändes tungt.", "sv"},
		{"sv_SE", "I feel great, calm and grateful after the session today.", "en"},
		{"english", "Ok.", ""},
		{"de_DE", "Ok.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.hint+"/"+tt.text, func(t *testing.T) {
			res, err := NewOffline(fixedClock).Analyze(context.Background(), Entry{Text: tt.text, Lang: tt.hint})
			if tt.wantLang == "" {
				if fault.CodeOf(err) != fault.InvalidArgument {
					t.Errorf("error %v, want InvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if res.Language != tt.wantLang {
				t.Errorf("language %s, want %s", res.Language, tt.wantLang)
			}
		})
	}
}
