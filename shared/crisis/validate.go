package crisis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/innerjourney/functions/shared/jsonl"
)

// SetSplit returns the split of a labelled crisis file name: the part
// after "crisis_" or "crisis-" and before ".jsonl" ("crisis_test.jsonl" →
// "test", "crisis-blind.jsonl" → "blind"), or "" for any other name.
func SetSplit(file string) string {
	b := filepath.Base(file)
	if !strings.HasPrefix(b, "crisis") || !strings.HasSuffix(b, ".jsonl") {
		return ""
	}
	s := strings.TrimSuffix(strings.TrimPrefix(b, "crisis"), ".jsonl")
	if len(s) < 2 || (s[0] != '_' && s[0] != '-') {
		return ""
	}
	return s[1:]
}

// LoadSets reads the labelled crisis sets of dir: every crisis_<split>.jsonl
// and crisis-<split>.jsonl ({"text", "crisis", "lang", "kind"} per line),
// Group = split, in file-name order, without the splits for which skip
// (when not nil) reports true; a skipped file is never opened. It fails on
// an unreadable or malformed file or a line without a crisis label; a dir
// without sets gives no examples and no error.
func LoadSets(dir string, skip func(split string) bool) ([]Example, error) {
	files, err := filepath.Glob(filepath.Join(dir, "crisis*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("crisis: load sets: %w", err)
	}
	sort.Strings(files)
	var out []Example
	for _, f := range files {
		split := SetSplit(f)
		if split == "" || (skip != nil && skip(split)) {
			continue
		}
		if err := readExamples(f, split, &out); err != nil {
			return nil, fmt.Errorf("crisis: load sets: %s: %w", filepath.Base(f), err)
		}
	}
	return out, nil
}

// LoadExamples is LoadSets without the blind sets: a split whose name
// contains "blind" is never opened, as blind sets are for an evaluator who
// did not build the detector. It also fails when dir has no set.
func LoadExamples(dir string) ([]Example, error) {
	out, err := LoadSets(dir, func(split string) bool { return strings.Contains(split, "blind") })
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("crisis: load examples: no crisis*.jsonl in %s", dir)
	}
	return out, nil
}

func readExamples(path, group string, out *[]Example) error {
	return jsonl.Read(path, func(b []byte) error {
		var it struct {
			Text   string `json:"text"`
			Crisis *bool  `json:"crisis"`
			Lang   string `json:"lang"`
			Kind   string `json:"kind"`
		}
		if err := json.Unmarshal(b, &it); err != nil {
			return err
		}
		if it.Crisis == nil {
			return errors.New("no crisis label")
		}
		*out = append(*out, Example{Text: it.Text, Crisis: *it.Crisis, Group: group, Lang: it.Lang, Kind: it.Kind})
		return nil
	})
}

// cells formats an operating point as two Markdown table cells,
// "recall (TP/Pos) | FPR (FP/Neg)".
func cells(op OperatingPoint) string {
	return fmt.Sprintf("%.1f %% (%d/%d) | %.1f %% (%d/%d)", 100*op.Recall, op.TP, op.Pos, 100*op.FPR, op.FP, op.Neg)
}

// pool adds op's counts to p and recomputes p's rates.
func (p *OperatingPoint) pool(op OperatingPoint) {
	p.TP, p.FP, p.Pos, p.Neg = p.TP+op.TP, p.FP+op.FP, p.Pos+op.Pos, p.Neg+op.Neg
	p.setRates()
}

// authorOf names the author of a group: the first analysis helper (dev,
// test, adversarial, holdout2–4), the second (probe1–5) or the
// independent one (indep*).
func authorOf(g string) string {
	switch {
	case IndependentGroup(g):
		return g // each independent set has its own author
	case strings.HasPrefix(g, "probe"):
		return "second helper"
	}
	return "first helper"
}

// IndependentGroup reports whether a group (split) was written by an
// independent author (crisis_indep*.jsonl) rather than by the authors of
// the rules.
func IndependentGroup(g string) bool { return strings.HasPrefix(g, "indep") }

// Validate runs the validation protocol of shared/analysis/README.md on ex and
// writes Markdown tables to w:
//
//  1. the rules alone (no model) on the rule authors' sets R and on the
//     independent sets I;
//  2. train on R, threshold by leave-one-file-out CV inside R, evaluate
//     once on I (each decision rule);
//  3. the reverse: train on I (threshold by 5-fold CV inside I), evaluate
//     on R;
//  4. nested leave-one-file-out CV over R ∪ I: each file is scored by a
//     model trained on the other files, with the threshold chosen by
//     leave-one-file-out CV among those; per file and pooled;
//     then leave one author out (every author of authorOf in turn);
//  5. the recall/false-positive trade-off of the out-of-file scores of 4
//     at fixed thresholds.
//
// It takes ~30 s per decision rule on one core. It fails when ex lacks a
// group of either kind.
func Validate(w io.Writer, ex []Example, cfg TrainConfig, combines []Combine) error {
	cfg = cfg.withDefaults()
	items := prepare(ex, cfg.Features, cfg.Bits)
	R := subset(items, func(p prepared) bool { return !IndependentGroup(p.group) })
	I := subset(items, func(p prepared) bool { return IndependentGroup(p.group) })
	if len(R) == 0 || len(I) == 0 {
		return fmt.Errorf("crisis: validate: need both rule-author (R) and independent (I) sets")
	}
	fmt.Fprintf(w, "Config: bits %d, features %05b, epochs %d, lambda %g, eta0 %g, rule dropout %g, seed %d; threshold: recall ≥ %.2f, else FPR ≤ %.2f\n\n",
		cfg.Bits, cfg.Features, cfg.Epochs, cfg.Lambda, cfg.Eta0, cfg.RuleDropout, cfg.Seed, cfg.TargetRecall, cfg.MaxFPR)

	fmt.Fprintln(w, "1. Rules alone (recall | FPR)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| set | any rule: recall | FPR | phrase/concept only: recall | FPR |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	zeroR, zeroI := make([]float64, len(R)), make([]float64, len(I))
	fmt.Fprintf(w, "| R (%d files) | %s | %s |\n", len(groups(R)), cells(evalAt(R, zeroR, CombineAll, 1)), cells(evalAt(R, zeroR, CombineStrong, 1)))
	fmt.Fprintf(w, "| I | %s | %s |\n\n", cells(evalAt(I, zeroI, CombineAll, 1)), cells(evalAt(I, zeroI, CombineStrong, 1)))

	for _, c := range combines {
		cc := cfg
		cc.Combine = c
		fmt.Fprintf(w, "Decision rule: %s\n\n", c)
		// 2. R → I
		mR := fit(R, cc)
		tR := chooseThreshold(R, thresholdCVScores(R, cc), cc)
		sI := mR.scoreAll(I)
		// 3. I → R
		mI := fit(I, cc)
		tI := chooseThreshold(I, groupCVScores(I, cc), cc)
		sR := mI.scoreAll(R)
		fmt.Fprintln(w, "| protocol | threshold (chosen inside the training group) | recall | FPR |")
		fmt.Fprintln(w, "|---|---:|---|---|")
		fmt.Fprintf(w, "| train R → test I | %.3f | %s |\n", tR, cells(evalAt(I, sI, c, tR)))
		fmt.Fprintf(w, "| train I → test R | %.3f | %s |\n", tI, cells(evalAt(R, sR, c, tI)))

		// 4. nested leave-one-file-out over R ∪ I
		gs := groups(items)
		oof := make([]float64, len(items))
		perFile := map[string]OperatingPoint{}
		var pooled OperatingPoint
		for _, g := range gs {
			train := subset(items, func(p prepared) bool { return p.group != g })
			test := subset(items, func(p prepared) bool { return p.group == g })
			m := fit(train, cc)
			t := chooseThreshold(train, thresholdCVScores(train, cc), cc)
			sc := m.scoreAll(test)
			op := evalAt(test, sc, c, t)
			perFile[g] = op
			pooled.pool(op)
			k := 0
			for i := range items {
				if items[i].group == g {
					oof[i] = sc[k]
					k++
				}
			}
		}
		fmt.Fprintf(w, "| nested leave-one-file-out, R ∪ I pooled | per file | %s |\n", cells(pooled))
		for _, g := range gs {
			op := perFile[g]
			fmt.Fprintf(w, "| … held-out file %s | %.3f | %s |\n", g, op.Threshold, cells(op))
		}
		// 4b. leave one author out
		var authors []string
		seen := map[string]bool{}
		for _, g := range gs {
			if a := authorOf(g); !seen[a] {
				seen[a] = true
				authors = append(authors, a)
			}
		}
		for _, a := range authors {
			train := subset(items, func(p prepared) bool { return authorOf(p.group) != a })
			test := subset(items, func(p prepared) bool { return authorOf(p.group) == a })
			m := fit(train, cc)
			t := chooseThreshold(train, thresholdCVScores(train, cc), cc)
			fmt.Fprintf(w, "| leave one author out: %s | %.3f | %s |\n", a, t, cells(evalAt(test, m.scoreAll(test), c, t)))
		}
		fmt.Fprintln(w)
		// 5. trade-off on the out-of-file scores
		fmt.Fprintln(w, "Trade-off, out-of-file scores (recall | FPR):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| threshold | R ∪ I pooled: recall | FPR | I (model trained on R only): recall | FPR |")
		fmt.Fprintln(w, "|---:|---|---|---|---|")
		for _, t := range []float64{0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8} {
			fmt.Fprintf(w, "| %.2f | %s | %s |\n", t, cells(evalAt(items, oof, c, t)), cells(evalAt(I, sI, c, t)))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// CrossValidate writes the leave-one-file-out cross-validation of ex
// (grouped by Group) for decision rule c: per file at the threshold chosen
// on all out-of-file scores, and the trade-off at fixed thresholds. Used
// to tune the configuration inside one author group.
func CrossValidate(w io.Writer, ex []Example, cfg TrainConfig, c Combine) {
	cfg = cfg.withDefaults()
	cfg.Combine = c
	items := prepare(ex, cfg.Features, cfg.Bits)
	oof := groupCVScores(items, cfg)
	t := chooseThreshold(items, oof, cfg)
	fmt.Fprintf(w, "Leave-one-file-out CV, %s, lambda %g, dropout %g, features %05b: chosen threshold %.3f\n\n", c, cfg.Lambda, cfg.RuleDropout, cfg.Features, t)
	fmt.Fprintln(w, "| set | recall | FPR |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| pooled | %s |\n", cells(evalAt(items, oof, c, t)))
	for _, g := range groups(items) {
		var sub []prepared
		var sc []float64
		for i, it := range items {
			if it.group == g {
				sub, sc = append(sub, it), append(sc, oof[i])
			}
		}
		fmt.Fprintf(w, "| %s | %s |\n", g, cells(evalAt(sub, sc, c, t)))
	}
	for _, x := range []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8} {
		fmt.Fprintf(w, "| t=%.1f | %s |\n", x, cells(evalAt(items, oof, c, x)))
	}
	fmt.Fprintln(w)
}

// Curve writes the recall/false-positive trade-off of model m (with its
// own decision rule) on ex at the thresholds ts, overall and per language,
// then recall or false-positive rate per kind at m's threshold. Used for a
// first run of a shipped model on a new author's set.
func Curve(w io.Writer, ex []Example, m *Model, ts []float64) {
	items := prepare(ex, m.Features, m.Bits)
	scores := m.scoreAll(items)
	sub := func(keep func(Example) bool) ([]prepared, []float64) {
		var it []prepared
		var sc []float64
		for i, e := range ex {
			if keep(e) {
				it, sc = append(it, items[i]), append(sc, scores[i])
			}
		}
		return it, sc
	}
	langs := []string{"en", "sv"}
	fmt.Fprintf(w, "Decision rule: %s; model threshold %.3f\n\n", m.Combine, m.Threshold)
	fmt.Fprintln(w, "| threshold | all: recall | FPR | en: recall | FPR | sv: recall | FPR |")
	fmt.Fprintln(w, "|---:|---|---|---|---|---|---|")
	for _, t := range ts {
		fmt.Fprintf(w, "| %.3f | %s", t, cells(evalAt(items, scores, m.Combine, t)))
		for _, l := range langs {
			it, sc := sub(func(e Example) bool { return e.Lang == l })
			fmt.Fprintf(w, " | %s", cells(evalAt(it, sc, m.Combine, t)))
		}
		fmt.Fprintln(w, " |")
	}
	fmt.Fprintln(w)
	kinds := map[string]bool{}
	var names []string
	for _, e := range ex {
		k := fmt.Sprintf("%v|%s", e.Crisis, e.Kind)
		if !kinds[k] {
			kinds[k] = true
			names = append(names, k)
		}
	}
	sort.Strings(names)
	fmt.Fprintf(w, "Per kind at the model threshold %.3f (positives: recall; negatives: false-positive rate)\n\n", m.Threshold)
	fmt.Fprintln(w, "| crisis | kind | n | flagged | rate | en | sv |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	for _, k := range names {
		p := strings.SplitN(k, "|", 2)
		rate := func(l string) string {
			it, sc := sub(func(e Example) bool {
				return fmt.Sprintf("%v|%s", e.Crisis, e.Kind) == k && (l == "" || e.Lang == l)
			})
			op := evalAt(it, sc, m.Combine, float64(m.Threshold))
			n, f := op.Pos+op.Neg, op.TP+op.FP
			if n == 0 {
				return "—"
			}
			return fmt.Sprintf("%.1f %% (%d/%d)", 100*float64(f)/float64(n), f, n)
		}
		it, sc := sub(func(e Example) bool { return fmt.Sprintf("%v|%s", e.Crisis, e.Kind) == k })
		op := evalAt(it, sc, m.Combine, float64(m.Threshold))
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %s |\n", p[0], p[1], op.Pos+op.Neg, op.TP+op.FP, rate(""), rate("en"), rate("sv"))
	}
	fmt.Fprintln(w)
}

// ValidateAuthors is the leave-one-author-out protocol for the independent
// authors: every independent set (crisis_indep*.jsonl) is its own author
// and is held out in turn. A model is trained on every other author's
// sets, its threshold chosen inside that training data by TrainConfig's
// rule (out-of-author scores, grouped by authorOf), and it is evaluated
// once on the held-out author. It writes one row per held-out author, the
// pooled and the mean figure, the same at other false-positive caps of
// the threshold rule (the held-out scores do not depend on the cap), and
// the trade-off at fixed thresholds. The folds run on two goroutines; the
// output is deterministic. It fails when ex has no independent set.
func ValidateAuthors(w io.Writer, ex []Example, cfg TrainConfig) error {
	cfg = cfg.withDefaults()
	items := prepare(ex, cfg.Features, cfg.Bits)
	var held []string
	for _, g := range groups(items) {
		if IndependentGroup(g) {
			held = append(held, g)
		}
	}
	if len(held) == 0 {
		return fmt.Errorf("crisis: validate authors: no independent set")
	}
	type fold struct {
		train, test []prepared
		cv, sc      []float64
	}
	folds := make([]fold, len(held))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, g := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f := &folds[i]
			f.train = subset(items, func(p prepared) bool { return p.group != g })
			f.test = subset(items, func(p prepared) bool { return p.group == g })
			f.sc = fit(f.train, cfg).scoreAll(f.test)
			f.cv = thresholdCVScores(f.train, cfg)
		}()
	}
	wg.Wait()
	// summary runs the threshold rule with cap maxFPR on every fold and
	// returns the per-author operating points, pooled and mean.
	summary := func(maxFPR float64) (ops []OperatingPoint, pooled OperatingPoint, meanR, meanF float64) {
		c := cfg
		c.MaxFPR = maxFPR
		for _, f := range folds {
			t := chooseThreshold(f.train, f.cv, c)
			op := evalAt(f.test, f.sc, cfg.Combine, t)
			ops = append(ops, op)
			pooled.pool(op)
			meanR += op.Recall / float64(len(folds))
			meanF += op.FPR / float64(len(folds))
		}
		return ops, pooled, meanR, meanF
	}
	fmt.Fprintf(w, "Config: %s\n\n", cfg)
	fmt.Fprintf(w, "Leave one author out (%d held-out independent authors; training authors: every other set, grouped by author)\n\n", len(held))
	fmt.Fprintln(w, "| held-out author | threshold (chosen in training) | recall | FPR | rules alone: recall | FPR | oracle t (FPR ≤ 12 %, not an estimate) | recall | FPR |")
	fmt.Fprintln(w, "|---|---:|---|---|---|---|---:|---|---|")
	ops, pooled, meanR, meanF := summary(cfg.MaxFPR)
	for i, g := range held {
		f := folds[i]
		best := OperatingPoint{}
		for x := 0.05; x < 1; x += 0.01 {
			if op := evalAt(f.test, f.sc, cfg.Combine, x); op.FPR <= 0.12 && op.Recall > best.Recall {
				best = op
			}
		}
		fmt.Fprintf(w, "| %s | %.3f | %s | %s | %.2f | %s |\n", g, ops[i].Threshold, cells(ops[i]),
			cells(evalAt(f.test, make([]float64, len(f.test)), CombineAll, 1)), best.Threshold, cells(best))
	}
	fmt.Fprintf(w, "| **pooled** | | %s | | | | | |\n", cells(pooled))
	fmt.Fprintf(w, "| **mean over authors** | | %.1f %% | %.1f %% | | | | | |\n\n", 100*meanR, 100*meanF)

	fmt.Fprintln(w, "Other false-positive caps of the threshold rule (same held-out scores):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| cap | mean recall | mean FPR | pooled recall | pooled FPR | thresholds |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---|")
	for _, c := range []float64{0.06, 0.08, 0.10, 0.12, 0.14, 0.16, 0.18, 0.20} {
		ops, pooled, mr, mf := summary(c)
		var ts []string
		for _, op := range ops {
			ts = append(ts, fmt.Sprintf("%.3f", op.Threshold))
		}
		fmt.Fprintf(w, "| %.2f | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %s |\n", c, 100*mr, 100*mf, 100*pooled.Recall, 100*pooled.FPR, strings.Join(ts, " "))
	}
	fmt.Fprintln(w)

	if cfg.Combine == CombineGated {
		fmt.Fprintln(w, "Rule floor and broad gate of the gated decision (same held-out scores; mean over authors, recall / FPR):")
		fmt.Fprintln(w)
		caps := []float64{0.04, 0.06, 0.08, 0.10, 0.12}
		fmt.Fprint(w, "| floor | gate |")
		for _, c := range caps {
			fmt.Fprintf(w, " cap %.2f |", c)
		}
		fmt.Fprintln(w)
		fmt.Fprint(w, "|---:|---:|")
		for range caps {
			fmt.Fprint(w, "---|")
		}
		fmt.Fprintln(w)
		thr := make([][]float64, len(caps)) // per cap, per fold: the threshold does not depend on floor and gate
		for ci, c := range caps {
			cc := cfg
			cc.MaxFPR = c
			for _, f := range folds {
				thr[ci] = append(thr[ci], chooseThreshold(f.train, f.cv, cc))
			}
		}
		for _, fl := range []float64{0.02, 0.05, 0.10, 0.15, 0.20, 0.30} {
			for _, gt := range []float64{0.35, 0.5, 0.7} {
				fmt.Fprintf(w, "| %.2f | %.2f |", fl, gt)
				for ci := range caps {
					var mr, mf float64
					for fi, f := range folds {
						op := evalAtWith(f.test, f.sc, cfg.Combine, thr[ci][fi], fl, gt)
						mr += op.Recall / float64(len(folds))
						mf += op.FPR / float64(len(folds))
					}
					fmt.Fprintf(w, " %.1f / %.1f |", 100*mr, 100*mf)
				}
				fmt.Fprintln(w)
			}
		}
		fmt.Fprintln(w)
	}

	ts := []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}
	fmt.Fprint(w, "| threshold |")
	for _, g := range held {
		fmt.Fprintf(w, " %s: recall | FPR |", g)
	}
	fmt.Fprintln(w, " mean: recall | FPR |")
	fmt.Fprint(w, "|---:|")
	for range held {
		fmt.Fprint(w, "---|---|")
	}
	fmt.Fprintln(w, "---|---|")
	for _, x := range ts {
		fmt.Fprintf(w, "| %.2f |", x)
		var mr, mf float64
		for _, f := range folds {
			op := evalAt(f.test, f.sc, cfg.Combine, x)
			mr += op.Recall / float64(len(folds))
			mf += op.FPR / float64(len(folds))
			fmt.Fprintf(w, " %s |", cells(op))
		}
		fmt.Fprintf(w, " %.1f %% | %.1f %% |\n", 100*mr, 100*mf)
	}
	fmt.Fprintln(w)
	return nil
}
