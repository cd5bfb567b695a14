package reflections_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/model"
)

// TestEntryLanguageWinsOverLocale: the entry is analysed in the language it
// is written in; the owner's locale only breaks the tie when the text does
// not tell. Regression: the locale was a hint that always won, so an
// en-SE user's Swedish entry was scored with the English lexicon and
// stored as language en, neutral 0.
func TestEntryLanguageWinsOverLocale(t *testing.T) {
	const (
		sv = "Jag mår jättebra, känner mig lugn och tacksam efter passet."
		en = "I feel great, calm and grateful after the session today."
	)
	tests := []struct {
		name      string
		locale    string // "" = no users document
		text      string
		wantLang  string
		wantLabel string // "" = not checked
	}{
		{"Swedish entry, en-SE locale", "en-SE", sv, "sv", "positive"},
		{"Swedish entry, en-GB locale", "en-GB", sv, "sv", "positive"},
		{"Swedish entry, sv-SE locale", "sv-SE", sv, "sv", "positive"},
		{"Swedish entry, no locale", "", sv, "sv", "positive"},
		{"Swedish entry, de-DE locale", "de-DE", sv, "sv", "positive"},
		{"English entry, sv-SE locale", "sv-SE", en, "en", "positive"},
		{"English entry, en-US locale", "en-US", en, "en", "positive"},
		{"negative Swedish entry, en-SE locale", "en-SE", "Jag är så trött och ledsen idag, allt kändes tungt.", "sv", "negative"},
		{"short Swedish entry, en-SE locale", "en-SE", "Bra dag.", "sv", "positive"},
		{"mixed, mostly Swedish, en-SE locale", "en-SE", "Jag känner mig lugn och glad idag, men work was busy.", "sv", ""},
		{"mixed, mostly English, sv-SE locale", "sv-SE", "I felt calm and happy after the walk, men det var kallt.", "en", ""},
		{"no evidence, sv-SE locale breaks the tie", "sv-SE", "Ok.", "sv", ""},
		{"no evidence, en-SE locale breaks the tie", "en-SE", "Ok.", "en", ""},
		// The locale is read with analysis.LanguageOf, as the analyzer reads
		// hints: "_" as well as "-", and only the language code itself.
		{"Swedish entry, en_US locale", "en_US", sv, "sv", "positive"},
		{"English entry, sv_SE locale", "sv_SE", en, "en", "positive"},
		{"no evidence, sv_SE locale breaks the tie", "sv_SE", "Ok.", "sv", ""},
		{"no evidence, EN_us locale breaks the tie", "EN_us", "Ok.", "en", ""},
		{"no evidence, \"svenska\" is no locale", "svenska", "Ok.", "en", ""},
	}
	f := newFixture(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid, id := fmt.Sprintf("u%d", i), fmt.Sprintf("e%d", i)
			f.consent(uid, model.ConsentGranted)
			if tt.locale != "" {
				if _, err := f.fs.Doc("users/"+uid).Set(context.Background(), map[string]any{"userId": uid, "locale": tt.locale}); err != nil {
					t.Fatal(err)
				}
			}
			doc := f.entry(id, uid, tt.text)
			if out := f.handle(f.event(id, nil, doc)); out != reflections.Analyzed {
				t.Fatalf("outcome %s", out)
			}
			a := analysisOf(t, f.current(id))
			if a["language"] != tt.wantLang {
				t.Errorf("language %v, want %s (label %v, score %v)", a["language"], tt.wantLang, a["label"], a["sentimentScore"])
			}
			if tt.wantLabel != "" && a["label"] != tt.wantLabel {
				t.Errorf("label %v (score %v), want %s", a["label"], a["sentimentScore"], tt.wantLabel)
			}
		})
	}
}
