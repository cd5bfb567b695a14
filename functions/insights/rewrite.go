package insights

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/innerjourney/functions/shared/model"
)

// Rewriter optionally rewrites an insight's texts in a more personal voice
// (an LLM provider, e.g. the Gemini client of shared/analysis, behind an
// adapter). It is off by default (Service.Rewriter nil, or NoRewriter).
//
// Contract: Rewrite gets the generated insight (texts filled from
// templates; no name, birth data or journal text) and returns new texts.
// Any error, an empty field, or a field more than MaxRewriteGrowth times
// longer than the original makes the worker keep the template wording for
// the whole insight (fallback); an error is never fatal. A rewrite must
// not add medical claims; the provider's prompt says so.
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

// MaxRewriteGrowth bounds how much longer than the template text a
// rewritten field may be.
const MaxRewriteGrowth = 3

// RewriteTimeout bounds one Rewrite call; RewriteConcurrency the calls in
// flight per shard.
const (
	RewriteTimeout     = 10 * time.Second
	RewriteConcurrency = 8
)

// rewriteAll applies r to every target with bounded concurrency, keeping
// the template texts where it fails.
func rewriteAll(ctx context.Context, r Rewriter, targets []*target) {
	if _, off := r.(NoRewriter); off {
		return
	}
	sem := make(chan struct{}, RewriteConcurrency)
	var wg sync.WaitGroup
	var failed int
	var mu sync.Mutex
	for _, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if !applyRewrite(ctx, r, &t.doc) {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed > 0 {
		slog.WarnContext(ctx, "insights: rewrites fell back to templates", "rewriter", r.Name(), "count", failed)
	}
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
	for _, p := range pairs {
		if p[0] == "" {
			continue
		}
		if strings.TrimSpace(p[1]) == "" || !utf8.ValidString(p[1]) || len(p[1]) > MaxRewriteGrowth*len(p[0])+80 {
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
