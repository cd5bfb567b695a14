package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAnalyzeBatch(t *testing.T) {
	in := `{"text": "I feel lighter after the breathing session."}
{"id": "b", "text": "Jag vill inte leva längre."}

not json
{"text": "This traffic is killing me, ugh."}
`
	code, out, stderr := runOpsIn(t, in, "analyze", "--batch", "--provider", "offline")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4 (one per non-empty input):\n%s", len(lines), out)
	}
	var got []analyzeOutput
	for _, l := range lines {
		var o analyzeOutput
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("bad output line %q: %v", l, err)
		}
		got = append(got, o)
	}
	if got[0].Label != "positive" || got[0].Crisis {
		t.Errorf("line 1: %+v", got[0])
	}
	if got[1].ID != "b" || !got[1].Crisis {
		t.Errorf("line 2: %+v", got[1])
	}
	if got[2].Error == "" {
		t.Errorf("line 3 should report the bad JSON: %+v", got[2])
	}
	if got[3].Crisis || got[3].Label != "negative" {
		t.Errorf("line 4: %+v", got[3])
	}
}

func TestAnalyzeText(t *testing.T) {
	code, out, stderr := runOpsIn(t, "", "analyze", "--text", "Felt calm and focused.", "--mood-before", "stressed", "--mood-after", "calm", "--full")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var o analyzeOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Label != "positive" || o.Analysis == nil || o.Analysis.MoodShift.Label != "improved" || len(o.Analysis.KeyThemes) == 0 {
		t.Errorf("output %s", out)
	}
}

func TestAnalyzeUsage(t *testing.T) {
	if code, _, _ := runOpsIn(t, "", "analyze"); code == 0 {
		t.Error("no mode should fail")
	}
	if code, _, _ := runOpsIn(t, "", "analyze", "--text", "x", "--batch"); code == 0 {
		t.Error("two modes should fail")
	}
}

func TestAnalyzeEval(t *testing.T) {
	code, out, stderr := runOpsIn(t, "", "analyze", "--eval", "../../shared/analysis/testdata/eval", "--provider", "offline")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"| all/test |", "| crisis/test |", "VADER"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
}
