package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/screening"
)

// runScreenCmd runs `ops screen args…` with stdin and returns the exit code
// and outputs.
func runScreenCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
	code := run(context.Background(), env, append([]string{"screen"}, args...))
	return code, out.String(), errOut.String()
}

func TestScreenCommand(t *testing.T) {
	code, out, errOut := runScreenCmd(t, `[{"questionId":"phq2_1","answer":"nearly every day"},{"questionId":"phq2_2","answer":0},{"questionId":"q1","answer":"x"}]`)
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

	code, out, _ = runScreenCmd(t, "", "--questions")
	if code != 0 || out != string(screening.QuestionsJSON()) {
		t.Errorf("--questions: exit %d, output differs from the bank", code)
	}

	if code, _, errOut = runScreenCmd(t, "not json"); code != 1 || !strings.Contains(errOut, "INVALID_ARGUMENT") {
		t.Errorf("bad input: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ = runScreenCmd(t, "", "extra"); code != 1 {
		t.Errorf("extra argument: exit %d", code)
	}
	if code, _, _ = runScreenCmd(t, "", "--help"); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}
