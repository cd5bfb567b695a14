// Command train trains the crisis detector's learned tier from the labelled
// crisis sets and writes the embedded weights (shared/crisis/model.bin), or
// runs the validation protocol.
//
// Run from the repository root:
//
//	go run ./shared/crisis/cmd/train                 # write shared/crisis/model.bin
//	go run ./shared/crisis/cmd/train -check          # fail if model.bin differs from a fresh training
//	go run ./shared/crisis/cmd/train -validate       # print the validation tables
//	go run ./shared/crisis/cmd/train -loao           # leave each independent author (crisis_indep*) out in turn
//	go run ./shared/crisis/cmd/train -curve indep2   # trade-off and per-kind rates of model.bin on one set
//
// Files whose name contains "blind" are never read.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/innerjourney/functions/shared/crisis"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	data := fs.String("data", "shared/analysis/testdata/eval", "directory with the labelled crisis*.jsonl files")
	out := fs.String("out", "shared/crisis/model.bin", "where to write the model")
	check := fs.Bool("check", false, "train and compare with -out instead of writing it")
	validate := fs.Bool("validate", false, "print the validation protocol instead of training")
	combine := fs.String("combine", "strong", "with -validate: decision rules to validate, comma-separated (strong, all, model, gated)")
	rOnly := fs.Bool("cv-r", false, "leave-one-file-out CV inside the rule authors' sets only (tuning; never reads crisis_indep*)")
	dropout := fs.Float64("rule-dropout", -1, "override the rule-feature dropout (experiments)")
	lambda := fs.Float64("lambda", 0, "override L2 strength (experiments)")
	maxFPR := fs.Float64("max-fpr", 0, "override the false-positive cap of the threshold selection (experiments)")
	epochs := fs.Int("epochs", 0, "override the number of epochs (experiments)")
	thrRules := fs.Bool("threshold-with-rules", false, "choose the threshold on scores with the rule features (experiments)")
	features := fs.Int("features", 0, "override the feature groups bit set (experiments)")
	loao := fs.Bool("loao", false, "leave one independent author out: train on the other authors, test on it (each indep set)")
	byAuthor := fs.String("threshold-by", "", "override how the threshold CV groups the training data: file or author (experiments)")
	curve := fs.String("curve", "", "print the trade-off and per-kind rates of the model in -out on one set (e.g. indep2) instead of training")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ex, err := crisis.LoadExamples(*data)
	if err != nil {
		return err
	}
	if *curve != "" {
		b, err := os.ReadFile(*out)
		if err != nil {
			return err
		}
		m, err := crisis.LoadModel(b)
		if err != nil {
			return err
		}
		var sub []crisis.Example
		for _, e := range ex {
			if e.Group == *curve {
				sub = append(sub, e)
			}
		}
		if len(sub) == 0 {
			return fmt.Errorf("no set %q", *curve)
		}
		fmt.Printf("Model %s (threshold %.3f) on crisis_%s.jsonl (%d items)\n\n", *out, m.Threshold, *curve, len(sub))
		ts := []float64{0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, float64(m.Threshold), 0.65, 0.7, 0.75, 0.8}
		crisis.Curve(os.Stdout, sub, m, ts)
		return nil
	}
	cfg := crisis.DefaultTrainConfig()
	if *dropout >= 0 {
		cfg.RuleDropout = *dropout
	}
	if *lambda > 0 {
		cfg.Lambda = *lambda
	}
	if *maxFPR > 0 {
		cfg.MaxFPR = *maxFPR
	}
	if *epochs > 0 {
		cfg.Epochs = *epochs
	}
	if *thrRules {
		cfg.ThresholdNoRules = false
	}
	if *features > 0 {
		cfg.Features = crisis.FeatureSet(*features)
	}
	switch *byAuthor {
	case "author":
		cfg.ThresholdByAuthor = true
	case "file":
		cfg.ThresholdByAuthor = false
	}
	if *loao {
		return crisis.ValidateAuthors(os.Stdout, ex, cfg)
	}
	if *rOnly {
		var r []crisis.Example
		for _, e := range ex {
			if !crisis.IndependentGroup(e.Group) {
				r = append(r, e)
			}
		}
		for _, c := range []crisis.Combine{crisis.CombineStrong, crisis.CombineAll, crisis.CombineModel} {
			crisis.CrossValidate(os.Stdout, r, cfg, c)
		}
		return nil
	}
	if *validate {
		var cs []crisis.Combine
		for _, c := range strings.Split(*combine, ",") {
			switch strings.TrimSpace(c) {
			case "strong":
				cs = append(cs, crisis.CombineStrong)
			case "all":
				cs = append(cs, crisis.CombineAll)
			case "model":
				cs = append(cs, crisis.CombineModel)
			case "gated":
				cs = append(cs, crisis.CombineGated)
			default:
				return fmt.Errorf("unknown decision rule %q", c)
			}
		}
		return crisis.Validate(os.Stdout, ex, cfg, cs)
	}
	m, err := crisis.Train(ex, cfg)
	if err != nil {
		return err
	}
	b, _ := m.MarshalBinary()
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil {
			return err
		}
		if !bytes.Equal(old, b) {
			return fmt.Errorf("%s differs from a fresh training run (data hash %x): run go run ./shared/crisis/cmd/train", *out, m.DataHash[:8])
		}
		fmt.Printf("%s matches a fresh training run (%d examples, data hash %x)\n", *out, len(ex), m.DataHash[:8])
		return nil
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d bytes, %d examples, threshold %.3f, data hash %x\n", *out, len(b), len(ex), m.Threshold, m.DataHash[:8])
	return nil
}
