package screening

import (
	"encoding/json"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

func TestScoreJSON(t *testing.T) {
	tests := []struct {
		name                       string
		in                         string
		answered, unknown, invalid int
	}{
		{"empty array", `[]`, 0, 0, 0},
		{"array", `[{"questionId":"phq9_1","answer":3},{"questionId":"phq9_2","answer":"several days"}]`, 2, 0, 0},
		{"user document", `{"userId":"u1","answers":[{"questionId":"safety_1","answer":true}]}`, 1, 0, 0},
		{"document without answers", `{"userId":"u1"}`, 0, 0, 0},
		{"malformed elements", `[1,"x",null,[],{"questionId":7,"answer":1},{"questionId":"phq9_1","answer":1}]`, 1, 0, 5},
		{"nested answer", `[{"questionId":"phq9_1","answer":{"v":1}}]`, 0, 0, 1},
		{"missing answer", `[{"questionId":"phq9_1"}]`, 0, 0, 1},
		{"big number", `[{"questionId":"phq9_1","answer":1e400}]`, 0, 0, 1},
		{"fraction", `[{"questionId":"phq9_1","answer":2.5}]`, 0, 0, 1},
		{"whole in double precision", `[{"questionId":"phq9_1","answer":3.0000000000000001}]`, 1, 0, 0},
		{"unknown id", `[{"questionId":"q1","answer":"Draining"}]`, 0, 1, 0},
		{"white space", " \n[]\n ", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ScoreJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if r.Answered != tt.answered || r.UnknownQuestions != tt.unknown || r.InvalidAnswers != tt.invalid {
				t.Errorf("answered %d unknown %d invalid %d, want %d %d %d", r.Answered, r.UnknownQuestions, r.InvalidAnswers,
					tt.answered, tt.unknown, tt.invalid)
			}
		})
	}
	for _, bad := range []string{``, `null`, `"x"`, `3`, `[`, `{"answers":3}`, `[1,]`} {
		if _, err := ScoreJSON([]byte(bad)); fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("ScoreJSON(%q) error %v, want INVALID_ARGUMENT", bad, err)
		}
	}
}

func FuzzScore(f *testing.F) {
	seeds := []string{
		`[]`,
		`[{"questionId":"phq9_9","answer":1}]`,
		`[{"questionId":"phq2_1","answer":"Nearly every day"},{"questionId":"phq9_2","answer":"3"}]`,
		`{"answers":[{"questionId":"safety_1","answer":true},{"questionId":"asrs_1","answer":2.0}]}`,
		`[{"questionId":"aq10_1","answer":"slightly_agree"},{"questionId":"aq10_1","answer":-1},7,null]`,
		`[{"questionId":"time_commitment","answer":"15 min"},{"questionId":"focus_area","answer":"career"}]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	all, _ := json.Marshal(fullAnswers(DefaultBank(), true))
	f.Add(all)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ScoreJSON(data)
		if err != nil {
			if fault.CodeOf(err) != fault.InvalidArgument {
				t.Fatalf("error %v is not INVALID_ARGUMENT", err)
			}
			return
		}
		checkInvariants(t, r)
		r2, _ := ScoreJSON(data)
		a, _ := json.Marshal(r)
		b, err := json.Marshal(r2)
		if err != nil || string(a) != string(b) {
			t.Fatalf("not deterministic or not marshalable: %v", err)
		}
	})
}

// checkInvariants asserts what must hold for any Result.
func checkInvariants(t *testing.T, r Result) {
	t.Helper()
	if r.Completeness < 0 || r.Completeness > 1 || r.Answered < 0 || r.UnknownQuestions < 0 || r.InvalidAnswers < 0 || r.DuplicateAnswers < 0 {
		t.Fatalf("bad counts: %+v", r)
	}
	if len(r.Issues) > MaxIssues || r.Disclaimer != Disclaimer || r.Traits == nil || r.Triggers == nil {
		t.Fatalf("bad result shape: %+v", r)
	}
	s := r.Scores
	inRange := func(p *int, lo, hi int) bool { return p == nil || (*p >= lo && *p <= hi) }
	if (s.PHQ2.Score != nil) != s.PHQ2.Complete || (s.PHQ9.Score != nil) != s.PHQ9.Complete ||
		(s.ASRS.Count != nil) != s.ASRS.Complete || (s.AQ10.Score != nil) != s.AQ10.Complete {
		t.Fatalf("score without completeness: %+v", s)
	}
	if !inRange(s.PHQ2.Score, 0, 6) || !inRange(s.PHQ9.Score, 0, 27) || !inRange(s.PHQ9.Item9, 0, 3) ||
		!inRange(s.ASRS.Count, 0, 6) || !inRange(s.AQ10.Score, 0, 10) ||
		!inRange(r.NeuroTendencies.AdhdScore, 0, 10) || !inRange(r.NeuroTendencies.AutismScore, 0, 10) {
		t.Fatalf("score out of range: %+v %+v", s, r.NeuroTendencies)
	}
	if (r.NeuroTendencies.AdhdScore != nil) != s.ASRS.Complete || (r.NeuroTendencies.AutismScore != nil) != s.AQ10.Complete {
		t.Fatalf("neuroTendencies from incomplete data: %+v", r.NeuroTendencies)
	}
	depression := (s.PHQ2.Score != nil && *s.PHQ2.Score >= 3) || (s.PHQ9.Score != nil && *s.PHQ9.Score >= 10)
	if r.WellbeingFlags.DepressionRisk != depression {
		t.Fatalf("depressionRisk %v, scores %+v", r.WellbeingFlags.DepressionRisk, s)
	}
	if s.PHQ9.Item9 != nil && *s.PHQ9.Item9 >= 1 && !r.WellbeingFlags.SuicideRisk {
		t.Fatal("item 9 >= 1 without suicideRisk")
	}
	flags := map[string]bool{}
	for _, tr := range r.Triggers {
		flags[tr.Flag] = true
	}
	if flags["depressionRisk"] != r.WellbeingFlags.DepressionRisk || flags["suicideRisk"] != r.WellbeingFlags.SuicideRisk {
		t.Fatalf("triggers %+v do not match flags %+v", r.Triggers, r.WellbeingFlags)
	}
}
