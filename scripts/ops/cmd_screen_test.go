package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/screening"
)

func TestScreenCommand(t *testing.T) {
	code, out, errOut := runOpsIn(t, `[{"questionId":"phq2_1","answer":"nearly every day"},{"questionId":"phq2_2","answer":0},{"questionId":"q1","answer":"x"}]`, "screen")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r screening.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not a Result: %v\n%s", err, out)
	}
	if !r.WellbeingFlags.DepressionRisk || r.UnknownQuestions != 1 || r.Disclaimer != screening.Disclaimer {
		t.Errorf("result %+v", r)
	}
	if !strings.Contains(out, `"rule": "phq2>=3"`) {
		t.Errorf("output escapes or lacks the trigger rule:\n%s", out)
	}

	code, out, _ = runOpsIn(t, "", "screen", "--questions")
	if code != 0 || out != string(screening.QuestionsJSON()) {
		t.Errorf("--questions: exit %d, output differs from the bank", code)
	}

	if code, _, errOut = runOpsIn(t, "not json", "screen"); code != 1 || !strings.Contains(errOut, "INVALID_ARGUMENT") {
		t.Errorf("bad input: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ = runOpsIn(t, "", "screen", "extra"); code != 1 {
		t.Errorf("extra argument: exit %d", code)
	}
	if code, _, _ = runOpsIn(t, "", "screen", "--help"); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}
