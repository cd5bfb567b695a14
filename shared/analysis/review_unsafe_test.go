package analysis

import (
	"context"
	"strings"
	"testing"
)

// TestUnsafeClaimInsideWords: a medical or therapeutic stem is found
// inside a compound word too (psychotherapy, antidepressant,
// asymptomatic, subclinical, misdiagnosis…), where a rewrite can slip it
// past a check that only looks at the start of words; only the stems that
// occur inside innocent words (cure: secure; medic: comedic; illness:
// stillness) are matched at the start of a word alone. Regression:
// UnsafeClaim matched every stem at the start of a word only, so a rewrite
// recommending psychotherapy or aromatherapy passed, and the template
// test, which it replaced, had matched the stems anywhere.
func TestUnsafeClaimInsideWords(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"Psychotherapy may help you today.", "therap"},
		{"A little aromatherapy could soften the evening.", "therap"},
		{"Think of it as hypnotherapy for the mind.", "therap"},
		{"No antidepressant can do what a walk does.", "depress"},
		{"Even asymptomatic tension may ask for rest.", "symptom"},
		{"A subclinical sadness may pass.", "clinical"},
		{"Avoid a misdiagnosis of your mood.", "diagnos"},
		{"Skip the nonprescription remedies.", "prescri"},
		{"An unhealthy rhythm may be shifting.", "heal"},
		{"Old mistreatment may surface.", "treatment"},
		{"Nothing is unguaranteed.", "guarantee"},
		// Innocent words that contain a stem matched at word starts only.
		{"Stillness may feel secure today.", ""},
		{"A comedic moment may lighten an obscure worry.", ""},
		{"A manicure of the mind: tidy one small thing.", ""},
		// Still found at the start of a word.
		{"Illness is not the topic.", "illness"},
		{"This may cure it.", "cure"},
		{"Medication aside.", "medic"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := UnsafeClaim(tt.text); got != tt.want {
				t.Errorf("UnsafeClaim(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestGeminiRewriteRejectsCompoundClaims: an answer whose claim hides in a
// compound word is asked again and, when every attempt makes it, refused
// (the caller keeps the template wording).
func TestGeminiRewriteRejectsCompoundClaims(t *testing.T) {
	bad := rewritten()
	bad["content"] = "With the Sun in trine to your natal Moon, a little aromatherapy may lift your feelings today."
	r, f := newTestRewriter(t, answer(t, bad))
	out, err := r.Rewrite(context.Background(), rewriteReq)
	if err == nil || !strings.Contains(err.Error(), `"therap"`) {
		t.Fatalf("Rewrite = %+v, %v; want the claim refused", out, err)
	}
	if got := f.calls.Load(); got != 3 {
		t.Errorf("calls = %d, want 3 (asked again within the attempts)", got)
	}
}
