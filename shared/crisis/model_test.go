package crisis

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evalDir holds the labelled crisis sets the model is trained on.
const evalDir = "../analysis/testdata/eval"

func TestEmbeddedModel(t *testing.T) {
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Bits != 18 || m.Features != TextFeatures || m.Combine != CombineGated {
		t.Errorf("model: bits %d features %b combine %v", m.Bits, m.Features, m.Combine)
	}
	if m.Threshold <= 0 || m.Threshold >= 1 {
		t.Errorf("threshold %v outside (0, 1)", m.Threshold)
	}
	nz := 0
	for _, w := range m.w {
		if w != 0 {
			nz++
		}
	}
	if nz < 10000 {
		t.Errorf("only %d non-zero weights", nz)
	}
	b, _ := m.MarshalBinary()
	if !bytes.Equal(b, embeddedModel) {
		t.Error("MarshalBinary(LoadModel(x)) != x")
	}
}

// TestEmbeddedModelIsReproducible retrains the model from the committed
// sets with the default configuration and requires the embedded weights to
// be identical, byte for byte (go run ./shared/crisis/cmd/train rewrites
// them after a data or feature change).
func TestEmbeddedModelIsReproducible(t *testing.T) {
	ex, err := LoadExamples(evalDir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(ex, DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	emb, _ := EmbeddedModel()
	if m.DataHash != emb.DataHash {
		t.Fatalf("training data or configuration changed (hash %x, embedded %x): run go run ./shared/crisis/cmd/train", m.DataHash[:8], emb.DataHash[:8])
	}
	b, _ := m.MarshalBinary()
	if !bytes.Equal(b, embeddedModel) {
		t.Fatal("a fresh training run differs from model.bin: run go run ./shared/crisis/cmd/train")
	}
}

func TestLoadModelErrors(t *testing.T) {
	good := embeddedModel
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXXX\n"), good[6:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"header":    good[:20],
	} {
		if _, err := LoadModel(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFeaturizeDeterministic(t *testing.T) {
	text := "I don't want to be here anymore. Jag orkar inte leva, asså."
	feats := func() []feature {
		sents := segment(text)
		rules, rec, scans := NewRulesOnly().ruleHits(sents)
		return featurize(nil, AllFeatures, 18, text, sents, scans, rules, rec)
	}
	a, b := feats(), feats()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("lengths %d, %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("feature %d differs: %v vs %v", i, a[i], b[i])
		}
	}
	// The hashing scheme is part of the model: a change here needs a
	// retrained model.bin (TestEmbeddedModelIsReproducible catches that
	// too, but this points at the cause).
	if a[0].idx != fnvAdd(nsWord, "i")&(1<<18-1) {
		t.Errorf("first feature %d is not the unigram \"i\"", a[0].idx)
	}
}

func TestExpDet(t *testing.T) {
	for x := -40.0; x <= 0; x += 0.37 {
		got, want := expDet(x), math.Exp(x)
		if math.Abs(got-want) > 1e-14*want {
			t.Errorf("expDet(%v) = %v, want %v", x, got, want)
		}
	}
	if expDet(-800) != 0 {
		t.Error("expDet(-800) != 0")
	}
	if s := sigmoid(0); s != 0.5 {
		t.Errorf("sigmoid(0) = %v", s)
	}
}

// TestModelTier checks the learned tier's contribution and ids: texts no
// rule matches are caught by the model with the id model.<lang>, an
// explicitly negated text is vetoed, and the rules-only detector keeps
// the old behaviour.
func TestModelTier(t *testing.T) {
	d := New()
	for _, tc := range []struct {
		text string
		id   string
	}{
		{"Gave away my favourite books today. Didn't feel like I needed them anymore.", "model.en"},
		{"Gav bort mina favoritböcker. Kändes inte som att jag behöver dem längre.", "model.sv"},
	} {
		if rules, _, _ := NewRulesOnly().ruleHits(segment(tc.text)); len(rules) != 0 {
			t.Errorf("%q: rules %v fire; pick a text only the model catches", tc.text, rules)
		}
		got := d.Detect(tc.text)
		if !got.Crisis || !contains(got.Rules, tc.id) {
			t.Errorf("Detect(%q) = %+v, want crisis with %s", tc.text, got, tc.id)
		}
		for _, id := range got.Rules {
			if strings.Contains(strings.ToLower(tc.text), id) {
				t.Errorf("rule id %q contains text", id)
			}
		}
	}
	for _, text := range []string{"I have no suicidal thoughts.", "Jag har inga självmordstankar."} {
		if got := d.Detect(text); got.Crisis {
			t.Errorf("Detect(%q) = %+v, want no crisis (negation veto)", text, got)
		}
	}
	if got := NewRulesOnly().Detect("I want to kill myself."); !got.Crisis || contains(got.Rules, "model.en") {
		t.Errorf("rules only: %+v", got)
	}
	if p, _ := NewRulesOnly().Score("I want to kill myself."); p != 0 {
		t.Errorf("rules-only score %v", p)
	}
}

func TestLoadExamplesSkipsBlind(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("crisis_a.jsonl", `{"text":"x","crisis":true}`+"\n\n"+`{"text":"y","crisis":false}`+"\n")
	write("crisis-blind.jsonl", "not json at all\n")
	write("crisis_blind2.jsonl", "not json either\n")
	ex, err := LoadExamples(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex[0].Group != "a" || !ex[0].Crisis || ex[1].Crisis {
		t.Errorf("examples %+v", ex)
	}
	write("crisis_b.jsonl", `{"text":"no label"}`+"\n")
	if _, err := LoadExamples(dir); err == nil {
		t.Error("an unlabelled line was accepted")
	}
	if _, err := LoadExamples(t.TempDir()); err == nil {
		t.Error("an empty directory was accepted")
	}
}

func TestTrainNeedsBothClasses(t *testing.T) {
	if _, err := Train([]Example{{Text: "a", Crisis: true}}, TrainConfig{}); err == nil {
		t.Error("no error")
	}
}

func TestSetSplit(t *testing.T) {
	for file, want := range map[string]string{
		"crisis_test.jsonl": "test", "dir/crisis-blind.jsonl": "blind", "crisis_holdout4.jsonl": "holdout4",
		"crisis_indep1.jsonl": "indep1",
		"crisis.jsonl":        "", "crisisx.jsonl": "", "sentiment_uci.jsonl": "", "crisis_test.json": "",
	} {
		if got := SetSplit(file); got != want {
			t.Errorf("SetSplit(%q) = %q, want %q", file, got, want)
		}
	}
}

// TestSweepMatchesEvalAt checks the O(n log n) threshold sweep against
// evaluating every item at every threshold, for every decision rule, on
// random items with ties, vetoes and every kind of rule.
func TestSweepMatchesEvalAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	ruleSets := [][]string{nil, {"en.broad.tired"}, {"en.concept.ending"}, {"sv.phrase.x"}, {"en.broad.a", "en.concept.b"}}
	for _, c := range []Combine{CombineStrong, CombineAll, CombineModel, CombineGated} {
		for trial := range 20 {
			n := 1 + rng.IntN(300)
			items, scores := make([]prepared, n), make([]float64, n)
			for i := range items {
				items[i] = prepared{rules: ruleSets[rng.IntN(len(ruleSets))], veto: rng.IntN(5) == 0, y: rng.IntN(3) == 0}
				scores[i] = float64(rng.IntN(200)) / 199 // ties, and the floor and gate boundaries
			}
			ops := sweep(items, scores, c)
			for j, op := range ops {
				if j > 0 && !(ops[j-1].Threshold < op.Threshold) {
					t.Fatalf("combine %d trial %d: thresholds not increasing at %d", c, trial, j)
				}
				if want := evalAt(items, scores, c, op.Threshold); op != want {
					t.Fatalf("combine %d trial %d at %v: sweep %+v, evalAt %+v", c, trial, op.Threshold, op, want)
				}
			}
		}
	}
}
