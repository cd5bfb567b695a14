package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jonreiter/govader"

	"github.com/innerjourney/functions/shared/crisis"
	"github.com/innerjourney/functions/shared/jsonl"
)

// VADER baseline thresholds: the usual compound cut-offs for labels, and,
// because plain VADER has no crisis detector, a sentiment threshold that
// stands in for one in the comparison.
const (
	VaderPositive = 0.05
	VaderNegative = -0.05
	VaderCrisis   = -0.5
)

// SentimentItem is one labelled sentiment example (a line of
// testdata/eval/sentiment_*.jsonl).
type SentimentItem struct {
	Text   string `json:"text"`
	Label  Label  `json:"label"`
	Lang   string `json:"lang"`
	Source string `json:"source"`
	// Split is "dev" (rules may be tuned on it) or "test" (held out).
	Split string `json:"split"`
}

// CrisisItem is one labelled crisis example (testdata/eval/crisis*.jsonl;
// the split is the file name after "crisis_" or "crisis-", so
// crisis_test.jsonl is "test" and crisis_indep1.jsonl is "indep1"; a
// blind set for an evaluator who did not write the detector is named
// crisis-blind.jsonl, split "blind").
type CrisisItem struct {
	Text   string `json:"text"`
	Crisis bool   `json:"crisis"`
	Lang   string `json:"lang"`
	Kind   string `json:"kind"`
}

// SentimentRow is the sentiment comparison on one subset.
type SentimentRow struct {
	Set                string
	N                  int
	VaderAcc, VaderF1  float64
	Acc, F1            float64
	VaderNeutral, Neut int // how many items each labelled neutral
}

// CrisisRow is the crisis comparison on one subset.
type CrisisRow struct {
	Set                   string
	Pos, Neg              int
	VaderRecall, VaderFPR float64
	Recall, FPR           float64
}

// EvalReport holds the results of Evaluate.
type EvalReport struct {
	Sentiment []SentimentRow
	Crisis    []CrisisRow
}

// SentimentRowFor returns the row of a set by name.
func (r *EvalReport) SentimentRowFor(set string) (SentimentRow, bool) {
	for _, x := range r.Sentiment {
		if x.Set == set {
			return x, true
		}
	}
	return SentimentRow{}, false
}

// CrisisRowFor returns the row of a set by name.
func (r *EvalReport) CrisisRowFor(set string) (CrisisRow, bool) {
	for _, x := range r.Crisis {
		if x.Set == set {
			return x, true
		}
	}
	return CrisisRow{}, false
}

// LoadSentimentSet reads every sentiment_*.jsonl file of dir.
func LoadSentimentSet(dir string) ([]SentimentItem, error) {
	var out []SentimentItem
	files, _ := filepath.Glob(filepath.Join(dir, "sentiment_*.jsonl"))
	sort.Strings(files)
	for _, f := range files {
		err := jsonl.Read(f, func(b []byte) error {
			var it SentimentItem
			if err := json.Unmarshal(b, &it); err != nil {
				return err
			}
			switch it.Label {
			case Positive, Negative, Neutral:
			default:
				return fmt.Errorf("bad label %q", it.Label)
			}
			out = append(out, it)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("analysis: load %s: %w", f, err)
		}
	}
	if len(out) == 0 {
		return nil, invalid("no sentiment_*.jsonl items in %s", dir)
	}
	return out, nil
}

// LoadCrisisSets reads every crisis_<split>.jsonl and crisis-<split>.jsonl
// file of dir, by split.
func LoadCrisisSets(dir string) (map[string][]CrisisItem, error) {
	return LoadCrisisSetsExcept(dir, nil)
}

// LoadCrisisSetsExcept is LoadCrisisSets without the splits for which skip
// returns true; a skipped file is never opened (crisis.LoadSets reads
// them).
func LoadCrisisSetsExcept(dir string, skip func(split string) bool) (map[string][]CrisisItem, error) {
	ex, err := crisis.LoadSets(dir, skip)
	if err != nil {
		return nil, fmt.Errorf("analysis: %w", err)
	}
	out := map[string][]CrisisItem{}
	for _, e := range ex {
		out[e.Group] = append(out[e.Group], CrisisItem{Text: e.Text, Crisis: e.Crisis, Lang: e.Lang, Kind: e.Kind})
	}
	if len(out) == 0 {
		return nil, invalid("no crisis*.jsonl items in %s", dir)
	}
	return out, nil
}

// VaderLabel is the plain-VADER label of a text.
func VaderLabel(v *govader.SentimentIntensityAnalyzer, text string) (Label, float64) {
	c := v.PolarityScores(text).Compound
	switch {
	case c >= VaderPositive:
		return Positive, c
	case c <= VaderNegative:
		return Negative, c
	}
	return Neutral, c
}

// EvalOptions narrows an evaluation.
type EvalOptions struct {
	// SkipCrisis lists crisis splits not to load at all: a split is
	// skipped when its name contains one of these strings (e.g. "blind"
	// skips crisis-blind.jsonl and crisis_blind2.jsonl, so that a
	// development run never reads a blind set).
	SkipCrisis []string
}

// Evaluate runs the analyzer a and plain VADER over the labelled sets in
// dir and compares them: sentiment accuracy and macro-F1 per subset (all
// items, the held-out "test" split, and each source/language), crisis
// recall and false-positive rate per crisis split (every crisis*.jsonl
// file). Macro-F1 averages the F1 of the classes present in the subset's
// gold labels. It fails only when dir has no sets or a file is malformed.
func Evaluate(ctx context.Context, dir string, a Analyzer) (*EvalReport, error) {
	return EvaluateWith(ctx, dir, a, EvalOptions{})
}

// EvaluateWith is Evaluate with options.
func EvaluateWith(ctx context.Context, dir string, a Analyzer, opts EvalOptions) (*EvalReport, error) {
	sents, err := LoadSentimentSet(dir)
	if err != nil {
		return nil, err
	}
	crises, err := LoadCrisisSetsExcept(dir, func(split string) bool {
		for _, s := range opts.SkipCrisis {
			if s != "" && strings.Contains(split, s) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	v := govader.NewSentimentIntensityAnalyzer()
	rep := &EvalReport{}

	type pair struct{ gold, vader, ours Label }
	groups := map[string][]pair{}
	var order []string
	addTo := func(set string, p pair) {
		if _, ok := groups[set]; !ok {
			order = append(order, set)
		}
		groups[set] = append(groups[set], p)
	}
	for _, it := range sents {
		vl, _ := VaderLabel(v, it.Text)
		res, err := a.Analyze(ctx, Entry{Text: it.Text})
		if err != nil {
			return nil, fmt.Errorf("analysis: evaluate: %w", err)
		}
		p := pair{it.Label, vl, res.Label}
		sub := subsetName(it)
		addTo("all", p)
		addTo("all/"+it.Split, p)
		addTo(sub+"/"+it.Split, p)
	}
	sort.SliceStable(order, func(i, j int) bool { return setRank(order[i]) < setRank(order[j]) })
	for _, set := range order {
		ps := groups[set]
		var gold, vl, ol []Label
		row := SentimentRow{Set: set, N: len(ps)}
		for _, p := range ps {
			gold, vl, ol = append(gold, p.gold), append(vl, p.vader), append(ol, p.ours)
			if p.vader == Neutral {
				row.VaderNeutral++
			}
			if p.ours == Neutral {
				row.Neut++
			}
		}
		row.VaderAcc, row.VaderF1 = accuracy(gold, vl), macroF1(gold, vl)
		row.Acc, row.F1 = accuracy(gold, ol), macroF1(gold, ol)
		rep.Sentiment = append(rep.Sentiment, row)
	}

	splits := make([]string, 0, len(crises))
	for s := range crises {
		splits = append(splits, s)
	}
	sort.Slice(splits, func(i, j int) bool {
		if ri, rj := crisisRank(splits[i]), crisisRank(splits[j]); ri != rj {
			return ri < rj
		}
		return splits[i] < splits[j]
	})
	for _, split := range splits {
		byLang := map[string]*[4]int{} // vader tp, vader fp, ours tp, ours fp
		rows := map[string]*CrisisRow{}
		get := func(name string) (*CrisisRow, *[4]int) {
			if rows[name] == nil {
				rows[name] = &CrisisRow{Set: name}
				byLang[name] = &[4]int{}
			}
			return rows[name], byLang[name]
		}
		for _, it := range crises[split] {
			_, vc := VaderLabel(v, it.Text)
			vFlag := vc <= VaderCrisis
			res, err := a.Analyze(ctx, Entry{Text: it.Text})
			if err != nil {
				return nil, fmt.Errorf("analysis: evaluate: %w", err)
			}
			for _, name := range []string{"crisis/" + split, "crisis/" + split + "/" + it.Lang} {
				r, c := get(name)
				if it.Crisis {
					r.Pos++
					if vFlag {
						c[0]++
					}
					if res.Crisis {
						c[2]++
					}
				} else {
					r.Neg++
					if vFlag {
						c[1]++
					}
					if res.Crisis {
						c[3]++
					}
				}
			}
		}
		names := make([]string, 0, len(rows))
		for n := range rows {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			r, c := rows[n], byLang[n]
			r.VaderRecall, r.Recall = ratio(c[0], r.Pos), ratio(c[2], r.Pos)
			r.VaderFPR, r.FPR = ratio(c[1], r.Neg), ratio(c[3], r.Neg)
			rep.Crisis = append(rep.Crisis, *r)
		}
	}
	return rep, nil
}

func subsetName(it SentimentItem) string {
	if strings.HasPrefix(it.Source, "uci") {
		return "uci"
	}
	return "reflective-" + it.Lang
}

func setRank(s string) int {
	switch {
	case s == "all":
		return 0
	case strings.HasPrefix(s, "all/"):
		return 1
	case strings.HasSuffix(s, "/test"):
		return 2
	}
	return 3
}

func crisisRank(s string) int {
	switch {
	case s == "test":
		return 0
	case s == "dev":
		return 1
	case s == "adversarial" || strings.HasPrefix(s, "holdout"):
		return 2
	case strings.HasPrefix(s, "probe"):
		return 3
	case strings.HasPrefix(s, "indep"):
		return 5
	case strings.Contains(s, "blind"):
		return 6
	}
	return 4
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func accuracy(gold, pred []Label) float64 {
	ok := 0
	for i := range gold {
		if gold[i] == pred[i] {
			ok++
		}
	}
	return ratio(ok, len(gold))
}

// macroF1 averages per-class F1 over the classes present in gold.
func macroF1(gold, pred []Label) float64 {
	classes := map[Label]bool{}
	for _, g := range gold {
		classes[g] = true
	}
	sum := 0.0
	for c := range classes {
		tp, fp, fn := 0, 0, 0
		for i := range gold {
			switch {
			case gold[i] == c && pred[i] == c:
				tp++
			case pred[i] == c:
				fp++
			case gold[i] == c:
				fn++
			}
		}
		if tp > 0 {
			p, r := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
			sum += 2 * p * r / (p + r)
		}
	}
	return sum / float64(len(classes))
}

// WriteTable prints the report as two Markdown tables.
func (r *EvalReport) WriteTable(w io.Writer) {
	fmt.Fprintln(w, "Sentiment (3 labels; VADER: compound ≥ 0.05 positive, ≤ −0.05 negative)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| set | n | VADER acc | offline acc | Δ acc | VADER macro-F1 | offline macro-F1 | neutral (VADER/offline) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, x := range r.Sentiment {
		fmt.Fprintf(w, "| %s | %d | %.1f %% | %.1f %% | %+.1f | %.3f | %.3f | %d / %d |\n",
			x.Set, x.N, 100*x.VaderAcc, 100*x.Acc, 100*(x.Acc-x.VaderAcc), x.VaderF1, x.F1, x.VaderNeutral, x.Neut)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Crisis (VADER has no detector: its column flags compound ≤ %.1f)\n\n", VaderCrisis)
	fmt.Fprintln(w, "| set | positives | negatives | VADER recall | VADER FPR | detector recall | detector FPR |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, x := range r.Crisis {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f %% | %.1f %% | %.1f %% | %.1f %% |\n",
			x.Set, x.Pos, x.Neg, 100*x.VaderRecall, 100*x.VaderFPR, 100*x.Recall, 100*x.FPR)
	}
}
