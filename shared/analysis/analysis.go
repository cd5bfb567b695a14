// Package analysis analyzes journal entries (user_activations.log): the
// sentiment of the reflection text, its key themes, the mood shift from
// moodBefore to moodAfter, and whether it contains crisis language.
//
// Two providers implement Analyzer:
//
//   - Offline (the default): no network. Sentiment from a lexicon and rules
//     (VADER's lexicon as a base, extended for first-person reflective
//     writing in English and Swedish), themes from a documented
//     personal-growth vocabulary, crisis detection from shared/crisis.
//   - Gemini: Google's Gemini through google.golang.org/genai with a JSON
//     response schema, a timeout, bounded retries and a fallback to Offline
//     on any error. A response blocked for safety counts as a possible
//     crisis. The offline crisis detector always runs too and is ORed in.
//
// The Result is stored as user_activations/{id}.log.aiAnalysis.
package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Entry is the input to an analysis: the journal log fields that matter.
type Entry struct {
	// Text is the written reflection (log.text). May be empty.
	Text string
	// MoodBefore and MoodAfter are the user-reported moods (log.moodBefore,
	// log.moodAfter), free strings such as "stressed" or "lugn"; optional.
	MoodBefore string
	MoodAfter  string
	// Rating is the user's rating of the activation (log.rating, 1–5);
	// optional.
	Rating *int
	// Lang is an optional language hint ("en", "sv", or a locale such as
	// "sv-SE" or "en_US", read with LanguageOf), typically the user's app
	// locale. The language is detected from the text; the hint only breaks
	// the tie when the text's evidence is unclear (very short or evenly
	// mixed text). Empty means no hint.
	Lang string
	// Proceed, when set, is asked before every attempt after the first to
	// send the entry to a remote model again (the provider's retries); an
	// error stops the retries and the offline analysis is returned, its
	// Fallback FallbackStopped. Reflections use it to stop sending a
	// journal text once its owner has withdrawn ai_analysis consent. It is
	// not part of what is analysed.
	Proceed func(context.Context) error
}

// MaxTextBytes bounds the text an analyzer accepts.
const MaxTextBytes = 64 << 10

// Validate reports whether the entry can be analyzed: it returns a
// fault.Invalid error for text over MaxTextBytes, a rating outside 0–10 or
// a language hint that is not empty and that LanguageOf does not read as
// "en" or "sv".
func (e Entry) Validate() error {
	if len(e.Text) > MaxTextBytes {
		return invalid("text is longer than %d bytes", MaxTextBytes)
	}
	if e.Rating != nil && (*e.Rating < 0 || *e.Rating > 10) {
		return invalid("rating %d is outside 0–10", *e.Rating)
	}
	if e.Lang != "" && LanguageOf(e.Lang) == "" {
		return invalid("unsupported language %q", e.Lang)
	}
	return nil
}

// ContentHash is a stable hash of the fields that an analysis depends on
// (text, moods, rating). The trigger stores it with the analysis and skips
// re-analysis when it has not changed; the language hint is not part of it.
func (e Entry) ContentHash() string {
	h := sha256.New()
	rating := "-"
	if e.Rating != nil {
		rating = strconv.Itoa(*e.Rating)
	}
	// Length-prefixed fields, so that moving text between fields changes
	// the hash.
	for _, f := range []string{e.Text, e.MoodBefore, e.MoodAfter, rating} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Label is the sentiment class.
type Label string

// Sentiment labels.
const (
	Positive Label = "positive"
	Negative Label = "negative"
	Neutral  Label = "neutral"
)

// Providers.
const (
	ProviderOffline = "offline"
	ProviderGemini  = "gemini"
)

// Crisis reasons, in CrisisDetails.Reasons.
const (
	// ReasonRules: the offline crisis detector matched.
	ReasonRules = "offline_rules"
	// ReasonProviderFlag: the LLM said the text expresses suicidal ideation
	// or self-harm.
	ReasonProviderFlag = "provider_flag"
	// ReasonProviderSafetyBlock: the LLM refused the text for safety; treated
	// as a possible crisis, never as "no crisis".
	ReasonProviderSafetyBlock = "provider_safety_block"
)

// Result is the analysis of one entry, stored as log.aiAnalysis.
type Result struct {
	// SentimentScore is the overall sentiment of the text in −1..1.
	SentimentScore float64 `json:"sentimentScore" firestore:"sentimentScore"`
	// Magnitude is the amount of emotional content, ≥ 0, independent of
	// sign: the sum of the absolute valences of the sentiment-bearing words
	// on VADER's scale divided by 4 (≈ the number of strongly emotional
	// expressions). A mixed text has a score near 0 and a large magnitude.
	Magnitude float64 `json:"magnitude" firestore:"magnitude"`
	// Label is positive, negative or neutral.
	Label Label `json:"label" firestore:"label"`
	// KeyThemes are ids from the theme vocabulary (see Themes), most
	// prominent first, at most MaxThemes; never nil.
	KeyThemes []string `json:"keyThemes" firestore:"keyThemes"`
	// MoodShift compares moodBefore and moodAfter.
	MoodShift MoodShift `json:"moodShift" firestore:"moodShift"`
	// Crisis is true when the text may express suicidal ideation or
	// self-harm; the wellbeing protocol runs when it is set.
	Crisis bool `json:"crisis" firestore:"crisis"`
	// CrisisDetails says why Crisis is set (rule ids, never the text).
	CrisisDetails *CrisisDetails `json:"crisisDetails,omitempty" firestore:"crisisDetails,omitempty"`
	// Language is the language analyzed ("en" or "sv").
	Language string `json:"language" firestore:"language"`
	// Provider is the provider that produced the sentiment and themes.
	Provider string `json:"provider" firestore:"provider"`
	// ModelVersion names the model or rule set version.
	ModelVersion string `json:"modelVersion" firestore:"modelVersion"`
	// Fallback is set when a configured provider failed and the offline
	// analyzer answered instead: "gemini_error" or "gemini_safety_block";
	// or when the provider was not asked because the writer's daily budget
	// of model analyses was spent: FallbackDailyLimit.
	Fallback string `json:"fallback,omitempty" firestore:"fallback,omitempty"`
	// ContentHash is Entry.ContentHash of the analyzed entry.
	ContentHash string `json:"contentHash" firestore:"contentHash"`
	// AnalyzedAt is when the analysis ran (UTC).
	AnalyzedAt time.Time `json:"analyzedAt" firestore:"analyzedAt"`
}

// CrisisDetails explains a crisis flag without repeating the text.
type CrisisDetails struct {
	// Reasons: ReasonRules, ReasonProviderFlag, ReasonProviderSafetyBlock.
	Reasons []string `json:"reasons" firestore:"reasons"`
	// Rules are the matched crisis rule ids (shared/crisis).
	Rules []string `json:"rules,omitempty" firestore:"rules,omitempty"`
	// RuleSetVersion is crisis.RuleSetVersion.
	RuleSetVersion string `json:"ruleSetVersion" firestore:"ruleSetVersion"`
}

// Analyzer analyzes journal entries.
type Analyzer interface {
	// Analyze returns the analysis of e. It fails only for invalid input
	// (a fault.Invalid error, see Entry.Validate); provider failures are
	// handled inside (fallback), never returned.
	Analyze(ctx context.Context, e Entry) (Result, error)
}

// FallbackDailyLimit is Result.Fallback of an entry analysed offline
// because its writer's daily budget of model analyses was spent
// (functions/reflections).
const FallbackDailyLimit = "daily_limit"

// FallbackStopped is Result.Fallback of an entry analysed offline because
// Entry.Proceed stopped the provider's retries.
const FallbackStopped = "stopped"

// Metered is an Analyzer whose Analyze calls a paid external model
// (Gemini) with the offline analyzer as its fallback. A caller whose
// analyses are set off by untrusted writes (every edit of a journal
// entry) budgets the model's calls and uses AnalyzeOffline past the
// budget.
type Metered interface {
	Analyzer
	// CallsModel reports whether Analyze(e) would call the model (an
	// entry with text to read).
	CallsModel(e Entry) bool
	// AnalyzeOffline analyses e with the offline fallback alone, the
	// result's Fallback set to reason when the model would have been
	// called. It fails only for invalid input, as Analyze.
	AnalyzeOffline(ctx context.Context, e Entry, reason string) (Result, error)
}
