package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/innerjourney/functions/shared/analysis"
)

func init() {
	register(&command{
		name:    "analyze",
		summary: "analyze journal text (sentiment, themes, mood shift, crisis); --batch, --eval",
		run:     runAnalyze,
	})
}

// analyzeInput is one line of --batch input; only text is required.
type analyzeInput struct {
	ID         string `json:"id,omitempty"`
	Text       string `json:"text"`
	MoodBefore string `json:"moodBefore,omitempty"`
	MoodAfter  string `json:"moodAfter,omitempty"`
	Rating     *int   `json:"rating,omitempty"`
	Lang       string `json:"lang,omitempty"`
}

// analyzeOutput is one line of output: the three evaluation fields, or the
// whole analysis with --full.
type analyzeOutput struct {
	ID             string           `json:"id,omitempty"`
	SentimentScore float64          `json:"sentimentScore"`
	Label          analysis.Label   `json:"label"`
	Crisis         bool             `json:"crisis"`
	Analysis       *analysis.Result `json:"analysis,omitempty"`
	Error          string           `json:"error,omitempty"`
}

func runAnalyze(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "analyze", `analyze (--text "…" | --batch < in.jsonl | --eval DIR) [flags]`)
	text := fs.String("text", "", "analyze this one text")
	batch := fs.Bool("batch", false, `read JSON lines {"text": …} (optional id, moodBefore, moodAfter, rating, lang) on stdin; write one JSON line per input`)
	evalDir := fs.String("eval", "", "evaluate against plain VADER on the labelled sets in DIR (shared/analysis/testdata/eval): sentiment_*.jsonl and every crisis*.jsonl (a blind set crisis-blind.jsonl included)")
	skipCrisis := fs.String("skip-crisis", "", "with --eval: comma-separated crisis splits not to read; a split is skipped when its name contains one of them (e.g. blind)")
	provider := fs.String("provider", "", "offline or gemini (default: $ANALYSIS_PROVIDER, else offline; gemini reads GEMINI_MODEL, GEMINI_API_KEY or GOOGLE_CLOUD_PROJECT + GOOGLE_CLOUD_LOCATION)")
	full := fs.Bool("full", false, "print the whole analysis (themes, mood shift, crisis details) as well")
	lang := fs.String("lang", "", "language hint for --text: en or sv (default: detect)")
	moodBefore := fs.String("mood-before", "", "moodBefore for --text")
	moodAfter := fs.String("mood-after", "", "moodAfter for --text")
	rating := fs.Int("rating", 0, "rating (1–5) for --text; 0 = none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	modes := 0
	for _, on := range []bool{*text != "", *batch, *evalDir != ""} {
		if on {
			modes++
		}
	}
	if modes != 1 || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("give exactly one of --text, --batch or --eval")
	}
	getenv := os.Getenv
	if *provider != "" {
		getenv = func(k string) string {
			if k == analysis.EnvProvider {
				return *provider
			}
			return os.Getenv(k)
		}
	}
	a, err := analysis.NewFromEnv(getenv, time.Now)
	if err != nil {
		return err
	}
	switch {
	case *evalDir != "":
		start := time.Now()
		var opts analysis.EvalOptions
		for _, s := range strings.Split(*skipCrisis, ",") {
			if s = strings.TrimSpace(s); s != "" {
				opts.SkipCrisis = append(opts.SkipCrisis, s)
			}
		}
		rep, err := analysis.EvaluateWith(ctx, *evalDir, a, opts)
		if err != nil {
			return err
		}
		rep.WriteTable(env.stdout)
		fmt.Fprintf(env.stderr, "evaluated in %s\n", time.Since(start).Round(time.Millisecond))
		return nil
	case *batch:
		return analyzeBatch(ctx, a, env.stdin, env.stdout, *full)
	default:
		in := analyzeInput{Text: *text, MoodBefore: *moodBefore, MoodAfter: *moodAfter, Lang: *lang}
		if *rating != 0 {
			in.Rating = rating
		}
		out := analyzeOne(ctx, a, in, *full)
		if out.Error != "" {
			return errors.New(out.Error)
		}
		return json.NewEncoder(env.stdout).Encode(out)
	}
}

// analyzeBatch analyzes JSON lines from r and writes one JSON line per
// non-empty input line to w, in order; a bad line yields {"error": …}.
func analyzeBatch(ctx context.Context, a analysis.Analyzer, r io.Reader, w io.Writer, full bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), analysis.MaxTextBytes*2)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	enc := json.NewEncoder(bw)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var in analyzeInput
		out := analyzeOutput{}
		if err := json.Unmarshal([]byte(line), &in); err != nil {
			out.Error = "bad JSON line: " + err.Error()
		} else {
			out = analyzeOne(ctx, a, in, full)
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	return sc.Err()
}

func analyzeOne(ctx context.Context, a analysis.Analyzer, in analyzeInput, full bool) analyzeOutput {
	res, err := a.Analyze(ctx, analysis.Entry{Text: in.Text, MoodBefore: in.MoodBefore,
		MoodAfter: in.MoodAfter, Rating: in.Rating, Lang: in.Lang})
	if err != nil {
		return analyzeOutput{ID: in.ID, Error: err.Error()}
	}
	out := analyzeOutput{ID: in.ID, SentimentScore: res.SentimentScore, Label: res.Label, Crisis: res.Crisis}
	if full {
		out.Analysis = &res
	}
	return out
}
