package analysis

import (
	"context"
	"math"
	"time"

	"github.com/innerjourney/functions/shared/crisis"
)

// OfflineModelVersion names the offline rules; it changes whenever the
// lexicons, weights or theme vocabulary change.
const OfflineModelVersion = "offline-lexicon-2026.11.2"

// Offline is the default analyzer: lexicon and rules, no network. The zero
// value is not usable; create it with NewOffline. Safe for concurrent use.
type Offline struct {
	// Now is the clock (UTC is taken of it).
	Now    func() time.Time
	crisis *crisis.Detector
}

// NewOffline returns the offline analyzer with the given clock (time.Now
// when nil). It loads the lexicons once per process.
func NewOffline(now func() time.Time) *Offline {
	if now == nil {
		now = time.Now
	}
	loadLexicons()
	loadThemes()
	return &Offline{Now: now, crisis: crisis.New()}
}

// Analyze implements Analyzer. It fails only for invalid input (see
// Entry.Validate).
func (o *Offline) Analyze(_ context.Context, e Entry) (Result, error) {
	if err := e.Validate(); err != nil {
		return Result{}, err
	}
	toks := tokenize(e.Text)
	lang, clear := detectLanguageConf(e.Text, toks, e.Lang)
	st := scoreText(toks, lang)
	if !clear {
		// Short or mixed text: take the language whose lexicon finds more;
		// on equal hits the first guess stays (the hint's language when
		// there is one, see detectLanguageConf).
		other := "sv"
		if lang == "sv" {
			other = "en"
		}
		if alt := scoreText(toks, other); alt.hits > st.hits {
			lang, st = other, alt
		}
	}
	res := Result{
		SentimentScore: round3(st.compound),
		Magnitude:      st.magnitude,
		Label:          st.label,
		KeyThemes:      extractThemes(toks),
		MoodShift:      moodShift(e.MoodBefore, e.MoodAfter),
		Language:       lang,
		Provider:       ProviderOffline,
		ModelVersion:   OfflineModelVersion,
		ContentHash:    e.ContentHash(),
		AnalyzedAt:     o.Now().UTC(),
	}
	// An entry with no sentiment-bearing text takes its sentiment from the
	// rating (1 → −1 … 3 → 0 … 5 → +1).
	if st.hits == 0 && e.Rating != nil && *e.Rating >= 1 && *e.Rating <= 5 {
		s := float64(*e.Rating-3) / 2
		res.SentimentScore = s
		res.Label = labelOf(s)
		res.Magnitude = math.Abs(s)
	}
	o.applyCrisis(&res, e.Text)
	return res, nil
}

// applyCrisis ORs the offline crisis detector into res.
func (o *Offline) applyCrisis(res *Result, text string) {
	c := o.crisis.Detect(text)
	if !c.Crisis {
		return
	}
	res.Crisis = true
	d := res.CrisisDetails
	if d == nil {
		d = &CrisisDetails{RuleSetVersion: c.Version}
		res.CrisisDetails = d
	}
	d.Reasons = appendUnique(d.Reasons, ReasonRules)
	d.Rules = c.Rules
	d.RuleSetVersion = c.Version
}

// markCrisis sets the crisis flag with a provider reason.
func markCrisis(res *Result, reason string) {
	res.Crisis = true
	if res.CrisisDetails == nil {
		res.CrisisDetails = &CrisisDetails{RuleSetVersion: crisis.RuleSetVersion}
	}
	res.CrisisDetails.Reasons = appendUnique(res.CrisisDetails.Reasons, reason)
}

func appendUnique(xs []string, x string) []string {
	for _, v := range xs {
		if v == x {
			return xs
		}
	}
	return append(xs, x)
}
