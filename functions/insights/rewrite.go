package insights

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/crisis"
	"github.com/innerjourney/functions/shared/model"
)

// Rewriter optionally rewrites an insight's texts in a more personal voice
// (an LLM provider: NewGeminiRewriter adapts shared/analysis's
// GeminiRewriter). It is off by default (Service.Rewriter nil, or
// NoRewriter).
//
// Contract: Rewrite gets the generated insight (texts filled from
// templates) and returns new texts; it must send nothing of the insight
// but its texts to a third party (no uid, date, focus area, name, birth
// data or journal text). It is asked only for users who grant the
// ai_analysis consent now and whose insight of the date was not delivered
// yet (see Service.generate). Any error, an empty field, a field more
// than MaxRewriteGrowth times longer than the original, or a field that
// analysis.UnsafeClaim rejects (medical or therapeutic claims, promises)
// makes the worker keep the template wording for the whole insight
// (fallback); an error is never fatal.
type Rewriter interface {
	// Name is stored in DailyInsight.RewrittenBy ("gemini-2.5-flash").
	Name() string
	Rewrite(ctx context.Context, in *model.DailyInsight) (Rewrite, error)
}

// Rewrite is a rewritten set of texts.
type Rewrite struct {
	Headline, Content, Intention, Affirmation, JournalPrompt string
}

// NoRewriter keeps the template wording (the default).
type NoRewriter struct{}

// Name implements Rewriter.
func (NoRewriter) Name() string { return "" }

// Rewrite implements Rewriter: it returns the texts unchanged.
func (NoRewriter) Rewrite(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
	return Rewrite{in.Headline, in.Content, in.Intention, in.Affirmation, in.JournalPrompt}, nil
}

// Language is the language of the insight templates (and so of every
// insight, rewritten or not).
const Language = "en"

// NewGeminiRewriter adapts g to Rewriter: Name is g's model, and Rewrite
// sends the insight's five texts and Language, nothing else of it (see
// analysis.RewriteRequest). Errors are g's, wrapped.
func NewGeminiRewriter(g *analysis.GeminiRewriter) Rewriter { return geminiRewriter{g} }

type geminiRewriter struct{ g *analysis.GeminiRewriter }

func (r geminiRewriter) Name() string { return r.g.Model() }

func (r geminiRewriter) Rewrite(ctx context.Context, in *model.DailyInsight) (Rewrite, error) {
	out, err := r.g.Rewrite(ctx, analysis.RewriteRequest{Headline: in.Headline, Content: in.Content,
		Intention: in.Intention, Affirmation: in.Affirmation, JournalPrompt: in.JournalPrompt, Language: Language})
	if err != nil {
		return Rewrite{}, fmt.Errorf("insights rewrite: %w", err)
	}
	return Rewrite{out.Headline, out.Content, out.Intention, out.Affirmation, out.JournalPrompt}, nil
}

// MaxRewriteGrowth bounds how much longer than the template text a
// rewritten field may be.
const MaxRewriteGrowth = 3

// RewriteTimeout bounds one Rewrite call (a provider's retries included:
// the Gemini budget of wire_insights.go fits it); RewriteConcurrency the
// calls in flight per shard.
const (
	RewriteTimeout     = 15 * time.Second
	RewriteConcurrency = 8
)

// WorkerTimeout is the timeout of the insightsWorker function (one shard).
// DefaultRewriteBudget is how long a shard may spend rewriting: no rewrite
// starts after it, and the ones in flight are cancelled at it (their
// users keep the template wording), so that a shard of DefaultShardSize
// users whose every rewrite takes RewriteTimeout (⌈250 / 8⌉ × 15 s = 480 s)
// still leaves the reads, the writes and their rare paths WorkerMargin
// within WorkerTimeout. TestRewriteBudgetFitsWorkerTimeout keeps them in
// step.
const (
	WorkerTimeout        = 300 * time.Second
	DefaultRewriteBudget = 150 * time.Second
	WorkerMargin         = 120 * time.Second
)

// rewriteStats counts a shard's rewrites for rewriteAll's log line.
type rewriteStats struct {
	asked, used, fellBack, notStarted int
}

// rewriteAll applies r to every target with bounded concurrency
// (RewriteConcurrency), each call bounded by RewriteTimeout and all of
// them by budget: once it has passed, no rewrite starts and those in
// flight are cancelled. A target whose rewrite fails, or that was not
// started, keeps the template texts. It logs the counts (no uid, no text).
func rewriteAll(ctx context.Context, r Rewriter, targets []*target, budget time.Duration) {
	var st rewriteStats
	if len(targets) == 0 {
		return
	}
	bctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	sem := make(chan struct{}, RewriteConcurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, t := range targets {
		select {
		case sem <- struct{}{}:
		case <-bctx.Done():
		}
		if bctx.Err() != nil {
			st.notStarted = len(targets) - i
			break
		}
		st.asked++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ok := applyRewrite(bctx, r, &t.doc)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				st.used++
			} else {
				st.fellBack++
			}
		}()
	}
	wg.Wait()
	lvl := slog.LevelInfo
	if st.fellBack > 0 || st.notStarted > 0 {
		lvl = slog.LevelWarn
	}
	slog.Log(ctx, lvl, "insights: rewrites", "rewriter", r.Name(), "asked", st.asked, "used", st.used,
		"fellBack", st.fellBack, "notStarted", st.notStarted)
}

// applyRewrite rewrites doc in place and reports success; on any failure
// doc is unchanged.
func applyRewrite(ctx context.Context, r Rewriter, doc *model.DailyInsight) bool {
	ctx, cancel := context.WithTimeout(ctx, RewriteTimeout)
	defer cancel()
	out, err := r.Rewrite(ctx, doc)
	if err != nil {
		return false
	}
	pairs := [5][2]string{{doc.Headline, out.Headline}, {doc.Content, out.Content}, {doc.Intention, out.Intention},
		{doc.Affirmation, out.Affirmation}, {doc.JournalPrompt, out.JournalPrompt}}
	for i, p := range pairs {
		if p[0] == "" {
			continue
		}
		if strings.TrimSpace(p[1]) == "" || !utf8.ValidString(p[1]) || len(p[1]) > MaxRewriteGrowth*len(p[0])+80 ||
			analysis.UnsafeClaim(p[1]) != "" || readerUnsafe(i, p[0], p[1]) != "" {
			return false
		}
	}
	if doc.JournalPrompt == "" && out.JournalPrompt != "" {
		out.JournalPrompt = ""
	}
	doc.Headline, doc.Content, doc.Intention = out.Headline, out.Content, out.Intention
	doc.Affirmation, doc.JournalPrompt = out.Affirmation, out.JournalPrompt
	doc.RewrittenBy = r.Name()
	return true
}

// Fields of applyRewrite's pairs that are read on their own: the headline
// (the notification's title), the intention (its body) and the
// affirmation.
var rewriteAlone = [5]bool{true, false, true, true, false}

func termsOf(pats ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(pats))
	for i, p := range pats {
		out[i] = regexp.MustCompile(`(?i)` + p)
	}
	return out
}

// atRiskTerms are words a reader at risk (wellbeingFlags, an open
// wellbeing episode: generation does not know) can read literally, never
// in any text of an insight; atRiskAlone are also kept out of the lines
// read on their own, where "letting go" or "release" has no object but the
// one the reader brings. The templates are held to the same lists
// (TestReview21ContentNoEndingsOrLettingGo).
var (
	atRiskTerms = termsOf(`\b(death|deaths|die|dies|dying|dead)\b`, `\bendings?\b`, `\b(rebirth|reborn)\b`,
		`\bburden(s|some)?\b`, `\bharm\b`, `\bsuicid\w*`, `\bkill\w*`, `\b(disappear|vanish)\w*`, `\b(goodbye|farewell)s?\b`)
	atRiskAlone = append(termsOf(`\b(end|ends|ended)\b`, `\blet(s|ting)?\s+(\w+\s+){0,3}go\b`, `\b(release[sd]?|releasing)\b`,
		`\b(give|gives|giving|gave|given)\s+(\w+\s+)?up\b`, `\bgrip\b`, `\bno longer\b`, `\bsurrender\w*`, `\bfinal\b`), atRiskTerms...)
	// certainty marks a statement of what will happen: "will"/"'ll" not
	// after "I" or "we" (a resolution), "going to", and words of
	// certainty.
	certainty = regexp.MustCompile(`(?i)(\b\w+\s+(will|won't)\b|\b\w+'ll\b|\bgoing to\b|\b(definitely|certainly|surely|destined|inevitabl\w*|bound to|for sure|without (a )?doubt|no doubt)\b)`)
	firstWill = regexp.MustCompile(`(?i)^(i|we)('ll|\s+(will|won't))$`)
	// crisisRules are shared/crisis's phrase, concept and broad rules
	// (the detector of journal entries, without its learned tier, which
	// scores many benign second-person sentences as crisis).
	crisisRules = sync.OnceValue(crisis.NewRulesOnly)
)

// sentences splits text into sentences, each with its closing
// punctuation.
var sentences = regexp.MustCompile(`[^.!?]+[.!?]*`)

// certainties counts the predictions in s: not in a question (a journal
// prompt's "What will you notice?" predicts nothing), and with a
// typographic apostrophe read as a straight one ("you’ll", "won’t").
func certainties(s string) int {
	s = strings.NewReplacer("\u2019", "'", "\u02bc", "'").Replace(s)
	n := 0
	for _, sent := range sentences.FindAllString(s, -1) {
		if strings.HasSuffix(strings.TrimSpace(sent), "?") {
			continue
		}
		for _, m := range certainty.FindAllString(sent, -1) {
			if !firstWill.MatchString(strings.Join(strings.Fields(m), " ")) {
				n++
			}
		}
	}
	return n
}

// readerUnsafe returns why the rewrite s of field i (original orig) must
// not reach a reader who may be at risk, or "": crisis language the
// journal detector's rules find; a word of death, endings, burden or harm
// (and, in a line read on its own, of ending, letting go, releasing or
// giving up) that the original does not have; or a prediction the
// original does not make (README: tentative tone, no certainty).
func readerUnsafe(i int, orig, s string) string {
	if r := crisisRules().Detect(s); r.Crisis {
		return "crisis language"
	}
	terms := atRiskTerms
	if rewriteAlone[i] {
		terms = atRiskAlone
	}
	for _, re := range terms {
		if re.MatchString(s) && !re.MatchString(orig) {
			return re.String()
		}
	}
	if certainties(s) > certainties(orig) {
		return "certainty"
	}
	return ""
}
