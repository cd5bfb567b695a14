package analysis

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// evalDir is the committed evaluation set.
const evalDir = "testdata/eval"

func fixedClock() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

// TestEvaluationTargets checks the targets on the committed
// evaluation set and guards against regressions. Run with -v to print the
// table (also: go run ./scripts/ops analyze --eval shared/analysis/testdata/eval).
// A blind crisis set (any split whose name contains "blind", e.g.
// crisis-blind.jsonl) is never read here: it is for an evaluation by
// someone who did not build the detector.
//
// What is asserted, and why (see shared/analysis/README.md):
//   - sentiment accuracy ≥ VADER + 15 points on the whole set (all) and on
//     the held-out split (all/test, measured +15.2: a thin margin);
//   - crisis recall ≥ 95 % and false positives ≤ 15 % (the target)
//     on the held-out split crisis/test;
//   - on the sets written after rules existed (adversarial, holdout2–4,
//     probe1–5), floors a few points under what the current rules reach
//     (all of them were used to develop the rules, so these are regression
//     guards, not measures of generalization: the first-run figures in
//     the notes are);
//   - crisis_indep1–17 (seventeen independent authors; 1, 2, 7, 8, 9, 14
//     and 15 the retired first to seventh blind sets) are training data of
//     the learned tier (since 2026.11.4, 2026.11.5, 2026.11.6, 2026.11.8
//     for 7–13 and 2026.11.9 for 14–17),
//     so they too get a regression floor; their held-out figures come
//     from go run ./shared/crisis/cmd/train -loao.
func TestEvaluationTargets(t *testing.T) {
	rep, err := EvaluateWith(context.Background(), evalDir, NewOffline(fixedClock), EvalOptions{SkipCrisis: []string{"blind"}})
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		rep.WriteTable(os.Stdout)
	}
	sentiment := func(set string, minDelta float64) {
		t.Helper()
		s, ok := rep.SentimentRowFor(set)
		if !ok {
			t.Fatalf("no %s row", set)
		}
		if s.Acc < s.VaderAcc+minDelta {
			t.Errorf("%s: sentiment accuracy %.3f is not %.0f points above VADER's %.3f", set, s.Acc, 100*minDelta, s.VaderAcc)
		}
	}
	sentiment("all", 0.15)
	sentiment("all/test", 0.15)
	crisisAt := func(set string, minRecall, maxFPR float64) {
		t.Helper()
		c, ok := rep.CrisisRowFor(set)
		if !ok {
			t.Fatalf("no %s row", set)
		}
		if c.Recall < minRecall {
			t.Errorf("%s: crisis recall %.3f < %.2f", set, c.Recall, minRecall)
		}
		if c.FPR > maxFPR {
			t.Errorf("%s: crisis false-positive rate %.3f > %.2f", set, c.FPR, maxFPR)
		}
	}
	crisisAt("crisis/test", 0.95, 0.15)
	crisisAt("crisis/dev", 0.95, 0.12) // 10.8 % since 2026.11.9 (16 of 148 negatives; the rule authors' development set)
	for _, set := range []string{"crisis/adversarial", "crisis/holdout2", "crisis/holdout3", "crisis/holdout4"} {
		crisisAt(set, 0.93, 0.15) // holdout4 13.7 % since 2026.11.9 (7 of 51 negatives), holdout2 11.1 %
	}
	for _, set := range []string{"crisis/probe1", "crisis/probe2", "crisis/probe3", "crisis/probe4", "crisis/probe5"} {
		crisisAt(set, 0.90, 0.20) // probe3 17.7 % since 2026.11.9 (11 of 62 negatives; 6 in 2026.11.8, 3 before)
	}
	for i := 1; i <= 17; i++ {
		crisisAt(fmt.Sprintf("crisis/indep%d", i), 0.95, 0.14) // in-sample since 2026.11.9: ≥ 96.9 % recall, ≤ 13.2 % FPR
	}
	for _, r := range rep.Crisis {
		if strings.Contains(r.Set, "blind") {
			t.Errorf("the blind set %s was read", r.Set)
		}
	}
}
