package screening

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// items returns answers prefix_1…prefix_n with the given values.
func items(prefix string, values ...any) []Answer {
	out := make([]Answer, len(values))
	for i, v := range values {
		out[i] = Answer{QuestionID: fmt.Sprintf("%s_%d", prefix, i+1), Answer: v}
	}
	return out
}

// concat joins answer lists.
func concat(lists ...[]Answer) []Answer {
	var out []Answer
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// phq9WithTotal spreads total over PHQ-9 items 3–8 first (max 18), then
// items 1–2, with item 9 = 0, so PHQ-2 stays low as long as possible.
func phq9WithTotal(t *testing.T, total int) []Answer {
	t.Helper()
	if total < 0 || total > 24 {
		t.Fatalf("phq9WithTotal(%d): out of 0–24", total)
	}
	vals := make([]any, 9)
	order := []int{2, 3, 4, 5, 6, 7, 0, 1}
	for i := range vals {
		vals[i] = 0
	}
	left := total
	for _, i := range order {
		v := min(3, left)
		vals[i] = v
		left -= v
	}
	return items("phq9", vals...)
}

func intp(p *int) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func boolp(p *bool) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestPHQ2(t *testing.T) {
	tests := []struct {
		name       string
		answers    []Answer
		score      string
		positive   string
		depression bool
	}{
		{"0+0", items("phq9", 0, 0), "0", "false", false},
		{"1+1 below cut-off", items("phq9", 1, 1), "2", "false", false},
		{"2+0 below cut-off", items("phq9", 2, 0), "2", "false", false},
		{"2+1 at cut-off", items("phq9", 2, 1), "3", "true", true},
		{"0+3 at cut-off", items("phq9", 0, 3), "3", "true", true},
		{"3+3 max", items("phq9", 3, 3), "6", "true", true},
		{"phq2 aliases", items("phq2", 3, 3), "6", "true", true},
		{"item 1 only is incomplete", items("phq9", 3), "nil", "nil", false},
		{"item 2 only is incomplete", []Answer{{"phq9_2", 3}}, "nil", "nil", false},
		{"item 2 invalid is incomplete", items("phq9", 3, 4), "nil", "nil", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Score(tt.answers)
			p := r.Scores.PHQ2
			if intp(p.Score) != tt.score || boolp(p.Positive) != tt.positive {
				t.Errorf("phq2 = score %s positive %s, want %s %s", intp(p.Score), boolp(p.Positive), tt.score, tt.positive)
			}
			if p.Complete != (tt.score != "nil") {
				t.Errorf("complete = %v", p.Complete)
			}
			if r.WellbeingFlags.DepressionRisk != tt.depression {
				t.Errorf("depressionRisk = %v, want %v", r.WellbeingFlags.DepressionRisk, tt.depression)
			}
			if r.WellbeingFlags.SuicideRisk {
				t.Error("suicideRisk set without item 9 or safety")
			}
		})
	}
}

func TestPHQ9Bands(t *testing.T) {
	tests := []struct {
		total      int
		severity   string
		depression bool
	}{
		{0, "none", false},
		{4, "none", false},
		{5, "mild", false},
		{9, "mild", false},
		{10, "moderate", true},
		{14, "moderate", true},
		{15, "moderately_severe", true},
		{19, "moderately_severe", true},
		{20, "severe", true},
		{24, "severe", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.total), func(t *testing.T) {
			r := Score(phq9WithTotal(t, tt.total))
			p := r.Scores.PHQ9
			if !p.Complete || intp(p.Score) != fmt.Sprint(tt.total) || p.Severity != tt.severity {
				t.Fatalf("phq9 = %s %q complete %v, want %d %q", intp(p.Score), p.Severity, p.Complete, tt.total, tt.severity)
			}
			if r.WellbeingFlags.DepressionRisk != tt.depression {
				t.Errorf("depressionRisk = %v, want %v (phq2 %s)", r.WellbeingFlags.DepressionRisk, tt.depression, intp(r.Scores.PHQ2.Score))
			}
			if intp(p.Item9) != "0" || r.WellbeingFlags.SuicideRisk {
				t.Errorf("item9 %s suicideRisk %v, want 0 false", intp(p.Item9), r.WellbeingFlags.SuicideRisk)
			}
		})
	}
	// The maximum, 27, needs item 9 = 3.
	r := Score(items("phq9", 3, 3, 3, 3, 3, 3, 3, 3, 3))
	if intp(r.Scores.PHQ9.Score) != "27" || r.Scores.PHQ9.Severity != SeveritySevere || !r.WellbeingFlags.SuicideRisk {
		t.Errorf("all 3s: %+v %+v", r.Scores.PHQ9, r.WellbeingFlags)
	}
}

func TestPHQ9SeverityFunc(t *testing.T) {
	for score := -1; score <= 28; score++ {
		want := SeverityNone
		switch {
		case score >= 20:
			want = SeveritySevere
		case score >= 15:
			want = SeverityModeratelySevere
		case score >= 10:
			want = SeverityModerate
		case score >= 5:
			want = SeverityMild
		}
		if got := PHQ9Severity(score); got != want {
			t.Errorf("PHQ9Severity(%d) = %q, want %q", score, got, want)
		}
	}
}

func TestSuicideRisk(t *testing.T) {
	tests := []struct {
		name    string
		answers []Answer
		want    bool
		rules   []string
	}{
		{"nothing answered", nil, false, nil},
		{"item 9 = 0", []Answer{{"phq9_9", 0}}, false, nil},
		{"item 9 = 1 alone (incomplete PHQ-9)", []Answer{{"phq9_9", 1}}, true, []string{"phq9.item9>=1"}},
		{"item 9 = 2 by label", []Answer{{"phq9_9", "More than half the days"}}, true, []string{"phq9.item9>=1"}},
		{"item 9 = 3 by id", []Answer{{"phq9_9", "nearly_every_day"}}, true, []string{"phq9.item9>=1"}},
		{"item 9 invalid", []Answer{{"phq9_9", "often"}}, false, nil},
		{"safety yes", []Answer{{"safety_1", "yes"}}, true, []string{"safety=yes"}},
		{"safety Yes", []Answer{{"safety_1", " Yes "}}, true, []string{"safety=yes"}},
		{"safety y", []Answer{{"safety_1", "y"}}, true, []string{"safety=yes"}},
		{"safety ja", []Answer{{"safety_1", "JA"}}, true, []string{"safety=yes"}},
		{"safety true", []Answer{{"safety_1", true}}, true, []string{"safety=yes"}},
		{"safety 1", []Answer{{"safety_1", 1}}, true, []string{"safety=yes"}},
		{"safety no", []Answer{{"safety_1", "no"}}, false, nil},
		{"safety false", []Answer{{"safety_1", false}}, false, nil},
		{"safety 0", []Answer{{"safety_1", 0}}, false, nil},
		{"safety maybe is invalid", []Answer{{"safety_1", "maybe"}}, false, nil},
		{"safety 2 is invalid", []Answer{{"safety_1", 2}}, false, nil},
		{"both", []Answer{{"phq9_9", 1}, {"safety_1", "yes"}}, true, []string{"phq9.item9>=1", "safety=yes"}},
		{"item 9 yes wins over safety no", []Answer{{"phq9_9", 1}, {"safety_1", "no"}}, true, []string{"phq9.item9>=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Score(tt.answers)
			if r.WellbeingFlags.SuicideRisk != tt.want {
				t.Errorf("suicideRisk = %v, want %v", r.WellbeingFlags.SuicideRisk, tt.want)
			}
			var rules []string
			for _, tr := range r.Triggers {
				if tr.Flag == "suicideRisk" {
					rules = append(rules, tr.Rule)
				}
			}
			if !reflect.DeepEqual(rules, tt.rules) {
				t.Errorf("triggers %v, want %v", rules, tt.rules)
			}
			if r.WellbeingFlags.DepressionRisk {
				t.Error("depressionRisk from incomplete data")
			}
		})
	}
}

func TestDepressionRiskOnlyFromCompleteData(t *testing.T) {
	// PHQ-9 items 3–9 all 3 (21 points) but items 1–2 missing: no score, no
	// depression flag; item 9 still sets suicideRisk.
	r := Score(concat([]Answer{}, items("phq9", nil, nil, 3, 3, 3, 3, 3, 3, 3)[2:]))
	if r.Scores.PHQ9.Score != nil || r.Scores.PHQ2.Score != nil || r.WellbeingFlags.DepressionRisk {
		t.Errorf("incomplete PHQ scored: %+v %+v", r.Scores, r.WellbeingFlags)
	}
	if !r.WellbeingFlags.SuicideRisk || r.Scores.PHQ9.Answered != 7 {
		t.Errorf("item 9 = 3 must set suicideRisk: %+v answered %d", r.WellbeingFlags, r.Scores.PHQ9.Answered)
	}
	// PHQ-2 positive but PHQ-9 complete below 10: the rule is an OR.
	r = Score(items("phq9", 2, 1, 0, 0, 0, 0, 0, 0, 0))
	if !r.WellbeingFlags.DepressionRisk || intp(r.Scores.PHQ9.Score) != "3" {
		t.Errorf("phq2=3, phq9=3: %+v", r.WellbeingFlags)
	}
	if len(r.Triggers) != 1 || r.Triggers[0].Rule != "phq2>=3" {
		t.Errorf("triggers %+v", r.Triggers)
	}
}

// asrsPublished is the published ASRS v1.1 Part A key: the lowest answer
// that counts for each item (items 1–3 from Sometimes, 4–6 from Often).
var asrsPublished = map[int]int{1: 2, 2: 2, 3: 2, 4: 3, 5: 3, 6: 3}

var asrsOptions = []string{"never", "rarely", "sometimes", "often", "very_often"}

func TestASRSItemThresholds(t *testing.T) {
	for item := 1; item <= 6; item++ {
		for v, opt := range asrsOptions {
			t.Run(fmt.Sprintf("item%d_%s", item, opt), func(t *testing.T) {
				vals := []any{"never", "never", "never", "never", "never", "never"}
				vals[item-1] = opt
				r := Score(items("asrs", vals...))
				want := 0
				if v >= asrsPublished[item] {
					want = 1
				}
				if intp(r.Scores.ASRS.Count) != fmt.Sprint(want) {
					t.Errorf("count = %s, want %d", intp(r.Scores.ASRS.Count), want)
				}
			})
		}
	}
}

func TestASRSCount(t *testing.T) {
	tests := []struct {
		name     string
		vals     []any
		count    string
		positive string
		adhd     string
	}{
		{"all never", []any{0, 0, 0, 0, 0, 0}, "0", "false", "0"},
		{"all sometimes: only 1-3 count", []any{2, 2, 2, 2, 2, 2}, "3", "false", "5"},
		{"1-3 sometimes + 4 often", []any{2, 2, 2, 3, 2, 2}, "4", "true", "7"},
		{"4-6 often + 1 rarely", []any{1, 1, 1, 3, 3, 3}, "3", "false", "5"},
		{"4-6 often + 1 sometimes", []any{2, 1, 1, 3, 3, 3}, "4", "true", "7"},
		{"five", []any{4, 4, 4, 4, 4, 2}, "5", "true", "8"},
		{"all very often", []any{4, 4, 4, 4, 4, 4}, "6", "true", "10"},
		{"labels", []any{"Sometimes", "OFTEN", "very often", "Very_Often", "often", "never"}, "5", "true", "8"},
		{"one", []any{"rarely", "rarely", "sometimes", "sometimes", "rarely", "never"}, "1", "false", "2"},
		{"two", []any{"sometimes", "rarely", "sometimes", "sometimes", "rarely", "never"}, "2", "false", "3"},
		{"five answered is incomplete", []any{4, 4, 4, 4, 4}, "nil", "nil", "nil"},
		{"one invalid is incomplete", []any{4, 4, 4, 4, 4, 5}, "nil", "nil", "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Score(items("asrs", tt.vals...))
			a := r.Scores.ASRS
			if intp(a.Count) != tt.count || boolp(a.Positive) != tt.positive || intp(r.NeuroTendencies.AdhdScore) != tt.adhd {
				t.Errorf("asrs = count %s positive %s adhd %s, want %s %s %s",
					intp(a.Count), boolp(a.Positive), intp(r.NeuroTendencies.AdhdScore), tt.count, tt.positive, tt.adhd)
			}
			if a.Complete != (tt.count != "nil") {
				t.Errorf("complete = %v", a.Complete)
			}
		})
	}
}

func TestADHDScale(t *testing.T) {
	want := []int{0, 2, 3, 5, 7, 8, 10}
	for count, w := range want {
		if got := ADHDScale(count); got != w {
			t.Errorf("ADHDScale(%d) = %d, want %d", count, got, w)
		}
		if exact := math.Round(float64(count) * 10 / 6); int(exact) != w {
			t.Errorf("ADHDScale(%d) disagrees with round(count*10/6) = %v", count, exact)
		}
		if (ADHDScale(count) >= 7) != (count >= ASRSCutoff) {
			t.Errorf("ADHDScale(%d) >= 7 must match the screen-positive cut-off", count)
		}
	}
	if ADHDScale(-1) != 0 || ADHDScale(7) != 10 {
		t.Error("ADHDScale does not clamp")
	}
}

// aqAgreeScores is the published AQ-10 key: items where agreeing scores.
var aqAgreeScores = map[int]bool{1: true, 7: true, 8: true, 10: true}

var aqOptions = []string{"definitely_agree", "slightly_agree", "slightly_disagree", "definitely_disagree"}

// aqNeutral returns the 10 answers that score 0 under the published key.
func aqNeutral() []any {
	vals := make([]any, 10)
	for i := range vals {
		if aqAgreeScores[i+1] {
			vals[i] = "definitely_disagree"
		} else {
			vals[i] = "definitely_agree"
		}
	}
	return vals
}

func TestAQ10ItemDirections(t *testing.T) {
	for item := 1; item <= 10; item++ {
		for v, opt := range aqOptions {
			t.Run(fmt.Sprintf("item%d_%s", item, opt), func(t *testing.T) {
				vals := aqNeutral()
				vals[item-1] = opt
				r := Score(items("aq10", vals...))
				agree := v <= 1
				want := 0
				if agree == aqAgreeScores[item] {
					want = 1
				}
				if intp(r.Scores.AQ10.Score) != fmt.Sprint(want) {
					t.Errorf("score = %s, want %d", intp(r.Scores.AQ10.Score), want)
				}
			})
		}
	}
}

func TestAQ10Score(t *testing.T) {
	// scoring(n) returns answers where exactly the first n items score,
	// alternating definitely/slightly and using numeric aliases.
	scoring := func(n int) []any {
		vals := aqNeutral()
		for i := 0; i < n; i++ {
			if aqAgreeScores[i+1] {
				vals[i] = i % 2 // 0 definitely agree, 1 slightly agree
			} else {
				vals[i] = 2 + i%2 // slightly / definitely disagree
			}
		}
		return vals
	}
	tests := []struct {
		n        int
		positive string
	}{{0, "false"}, {5, "false"}, {6, "true"}, {10, "true"}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			r := Score(items("aq10", scoring(tt.n)...))
			a := r.Scores.AQ10
			if intp(a.Score) != fmt.Sprint(tt.n) || boolp(a.Positive) != tt.positive || intp(r.NeuroTendencies.AutismScore) != fmt.Sprint(tt.n) {
				t.Errorf("aq10 = %s %s autism %s, want %d %s", intp(a.Score), boolp(a.Positive), intp(r.NeuroTendencies.AutismScore), tt.n, tt.positive)
			}
		})
	}
	r := Score(items("aq10", scoring(10)[:9]...))
	if r.Scores.AQ10.Score != nil || r.NeuroTendencies.AutismScore != nil || r.Scores.AQ10.Answered != 9 {
		t.Errorf("9 of 10 items scored: %+v", r.Scores.AQ10)
	}
}

// TestPublishedKeys checks the bank's scoring data against the published
// instruments, independently of the scoring code.
func TestPublishedKeys(t *testing.T) {
	b := DefaultBank()
	for item := 1; item <= 6; item++ {
		q := b.Question(fmt.Sprintf("asrs_%d", item))
		want := asrsOptions[asrsPublished[item]:]
		got := q.ScoredOptions()
		if !sameSet(got, want) {
			t.Errorf("asrs_%d scores %v, want %v", item, got, want)
		}
		if !reflect.DeepEqual(q.OptionIDs(), asrsOptions) {
			t.Errorf("asrs_%d options %v", item, q.OptionIDs())
		}
	}
	for item := 1; item <= 10; item++ {
		q := b.Question(fmt.Sprintf("aq10_%d", item))
		want := aqOptions[2:]
		if aqAgreeScores[item] {
			want = aqOptions[:2]
		}
		if got := q.ScoredOptions(); !sameSet(got, want) {
			t.Errorf("aq10_%d scores %v, want %v", item, got, want)
		}
		if !reflect.DeepEqual(q.OptionIDs(), aqOptions) {
			t.Errorf("aq10_%d options %v", item, q.OptionIDs())
		}
	}
	for item := 1; item <= 9; item++ {
		q := b.Question(fmt.Sprintf("phq9_%d", item))
		want := []string{"not_at_all", "several_days", "more_than_half_the_days", "nearly_every_day"}
		if !reflect.DeepEqual(q.OptionIDs(), want) {
			t.Errorf("phq9_%d options %v", item, q.OptionIDs())
		}
		if q.FollowUp != (item > 2) {
			t.Errorf("phq9_%d followUp = %v", item, q.FollowUp)
		}
	}
	if b.Question("phq2_1") != b.Question("phq9_1") || b.Question("phq2_2") != b.Question("phq9_2") {
		t.Error("PHQ-2 items must be PHQ-9 items 1 and 2")
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestAnswerAliases(t *testing.T) {
	tests := []struct {
		answer any
		ok     bool
	}{
		{"nearly_every_day", true},
		{"Nearly every day", true},
		{"NEARLY-EVERY-DAY", true},
		{"  nearly   every day ", true},
		{"3", true},
		{" 3 ", true},
		{3, true},
		{int64(3), true},
		{int32(3), true},
		{uint8(3), true},
		{3.0, true},
		{float32(3), true},
		{json.Number("3"), true},
		{json.Number("3.0"), true},
		{json.Number("3e0"), true},
		{3.5, false},
		{json.Number("3.5"), false},
		{4, false},
		{-1, false},
		{uint64(math.MaxUint64), false},
		{math.NaN(), false},
		{math.Inf(1), false},
		{1e300, false},
		{"", false},
		{"every day", false},
		{"three", false},
		{nil, false},
		{true, false},
		{[]any{3}, false},
		{map[string]any{"v": 3}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T(%v)", tt.answer, tt.answer), func(t *testing.T) {
			r := Score([]Answer{{"phq9_1", tt.answer}})
			got := r.Answered == 1
			if got != tt.ok {
				t.Errorf("accepted = %v, want %v (invalid %d)", got, tt.ok, r.InvalidAnswers)
			}
			if !tt.ok && r.InvalidAnswers != 1 {
				t.Errorf("invalidAnswers = %d, want 1", r.InvalidAnswers)
			}
		})
	}
}

func TestQuestionIDMatching(t *testing.T) {
	for _, id := range []string{"phq9_1", "PHQ9_1", " phq9-1 ", "phq2_1", "Phq2 1"} {
		if r := Score([]Answer{{id, 1}}); r.Answered != 1 || r.UnknownQuestions != 0 {
			t.Errorf("%q not matched", id)
		}
	}
	for _, id := range []string{"", "q1", "phq9_10", "phq9", "phq2_3", "asrs_7", "aq10_0"} {
		if r := Score([]Answer{{id, 1}}); r.UnknownQuestions != 1 || r.Answered != 0 {
			t.Errorf("%q: unknown %d answered %d", id, r.UnknownQuestions, r.Answered)
		}
	}
}

func TestUnknownInvalidAndIssues(t *testing.T) {
	answers := []Answer{
		{"q1", "Draining"},        // unknown (the spec's example)
		{"phq9_1", "Sometimes"},   // invalid: an ASRS label
		{"focus_area", "career"},  // alias of career_growth
		{"time_commitment", 25},   // invalid: not an offered duration
		{"time_commitment", "30"}, // valid
		{"trait_energy_1", "c"},   // invalid
		{strings.Repeat("x", 200), 1},
	}
	r := Score(answers)
	if r.UnknownQuestions != 2 || r.InvalidAnswers != 3 || r.Answered != 2 || r.DuplicateAnswers != 0 {
		t.Fatalf("unknown %d invalid %d answered %d dup %d", r.UnknownQuestions, r.InvalidAnswers, r.Answered, r.DuplicateAnswers)
	}
	if r.FocusArea != "career_growth" || intp(r.TimeCommitment) != "30" {
		t.Errorf("focus %q time %s", r.FocusArea, intp(r.TimeCommitment))
	}
	want := []Issue{
		{0, "q1", ProblemUnknownQuestion},
		{1, "phq9_1", ProblemInvalidAnswer},
		{3, "time_commitment", ProblemInvalidAnswer},
		{5, "trait_energy_1", ProblemInvalidAnswer},
		{6, strings.Repeat("x", 64), ProblemUnknownQuestion},
	}
	if !reflect.DeepEqual(r.Issues, want) {
		t.Errorf("issues\n got %+v\nwant %+v", r.Issues, want)
	}
	// Issues are capped, counts are not.
	many := make([]Answer, 3*MaxIssues)
	for i := range many {
		many[i] = Answer{"nope", 1}
	}
	r = Score(many)
	if r.UnknownQuestions != 3*MaxIssues || len(r.Issues) != MaxIssues {
		t.Errorf("unknown %d issues %d", r.UnknownQuestions, len(r.Issues))
	}
}

func TestDuplicates(t *testing.T) {
	tests := []struct {
		name    string
		answers []Answer
		item9   string
		suicide bool
		dups    int
		invalid int
	}{
		{"last wins", []Answer{{"phq9_9", 2}, {"phq9_9", 0}}, "0", false, 1, 0},
		{"last wins upwards", []Answer{{"phq9_9", 0}, {"phq9_9", 1}}, "1", true, 1, 0},
		{"invalid later answer does not erase", []Answer{{"phq9_9", 2}, {"phq9_9", "??"}}, "2", true, 0, 1},
		{"alias counts as the same question", []Answer{{"phq2_1", 3}, {"phq9_1", 0}, {"PHQ9_1", 1}}, "nil", false, 2, 0},
		{"same answer twice", []Answer{{"phq9_9", 1}, {"phq9_9", "several_days"}}, "1", true, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Score(tt.answers)
			if intp(r.Scores.PHQ9.Item9) != tt.item9 || r.WellbeingFlags.SuicideRisk != tt.suicide ||
				r.DuplicateAnswers != tt.dups || r.InvalidAnswers != tt.invalid || r.Answered != 1 {
				t.Errorf("item9 %s suicide %v dups %d invalid %d answered %d", intp(r.Scores.PHQ9.Item9),
					r.WellbeingFlags.SuicideRisk, r.DuplicateAnswers, r.InvalidAnswers, r.Answered)
			}
		})
	}
	r := Score([]Answer{{"phq2_1", 3}, {"phq9_1", 0}, {"phq9_2", 1}})
	if intp(r.Scores.PHQ2.Score) != "1" {
		t.Errorf("phq2 after correction = %s, want 1", intp(r.Scores.PHQ2.Score))
	}
}

func TestTraits(t *testing.T) {
	tests := []struct {
		name    string
		answers []Answer
		want    []string
	}{
		{"none", nil, []string{}},
		{"one answer is too few", []Answer{{"trait_energy_1", "a"}}, []string{}},
		{"two agreeing", []Answer{{"trait_energy_1", "a"}, {"trait_energy_2", 0}}, []string{"introvert"}},
		{"two split is a tie", []Answer{{"trait_energy_1", "a"}, {"trait_energy_2", "b"}}, []string{}},
		{"two of three", []Answer{{"trait_energy_1", "b"}, {"trait_energy_2", "a"}, {"trait_energy_3", "extrovert"}}, []string{"extrovert"}},
		{"spec example", []Answer{
			{"trait_structure_1", "b"}, {"trait_structure_2", "b"}, {"trait_structure_3", "a"},
			{"trait_decisions_1", "Logic, pros and cons"}, {"trait_decisions_2", "a"}, {"trait_decisions_3", "b"},
			{"trait_perception_1", "b"}, {"trait_perception_2", "intuitive"}, {"trait_perception_3", 1},
			{"trait_energy_1", "a"}, {"trait_energy_2", "a"}, {"trait_energy_3", "a"},
		}, []string{"introvert", "intuitive", "thinker", "spontaneous"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Score(tt.answers).Traits; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("traits = %v, want %v", got, tt.want)
			}
		})
	}
}

// fullAnswers answers every question of the bank (follow-ups included) with
// its first option.
func fullAnswers(b *Bank, followUps bool) []Answer {
	var out []Answer
	for _, q := range b.Questions {
		if q.FollowUp && !followUps {
			continue
		}
		out = append(out, Answer{QuestionID: q.ID, Answer: q.OptionIDs()[0]})
	}
	return out
}

func TestCompleteness(t *testing.T) {
	b := DefaultBank()
	core := fullAnswers(b, false)
	if len(core) != b.CoreQuestions() || b.CoreQuestions() != 33 {
		t.Fatalf("core questions %d / %d, want 33", len(core), b.CoreQuestions())
	}
	tests := []struct {
		name    string
		answers []Answer
		want    float64
	}{
		{"empty", nil, 0},
		{"all core", core, 1},
		{"all incl. follow-ups", fullAnswers(b, true), 1},
		{"all but one (32/33 rounds down)", core[1:], 0.96},
		{"follow-ups alone count nothing", items("phq9", nil, nil, 0, 0, 0, 0, 0, 0, 0)[2:], 0},
		{"one of 33", core[:1], 0.03},
		{"unknown ids count nothing", []Answer{{"q1", "x"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.Score(tt.answers).Completeness; got != tt.want {
				t.Errorf("completeness = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRealisticOnboarding(t *testing.T) {
	answers := concat(
		[]Answer{{"focus_area", "stress_relief"}, {"time_commitment", 15}},
		[]Answer{{"trait_energy_1", "a"}, {"trait_energy_2", "a"}, {"trait_energy_3", "b"},
			{"trait_perception_1", "b"}, {"trait_perception_2", "b"}, {"trait_perception_3", "b"},
			{"trait_decisions_1", "a"}, {"trait_decisions_2", "a"}, {"trait_decisions_3", "b"},
			{"trait_structure_1", "a"}, {"trait_structure_2", "b"}, {"trait_structure_3", "b"}},
		items("phq2", "several_days", "not_at_all"),
		[]Answer{{"safety_1", "no"}},
		items("asrs", "sometimes", "rarely", "often", "sometimes", "often", "never"),
		items("aq10", "slightly_agree", "slightly_agree", "slightly_disagree", "definitely_agree", "slightly_agree",
			"definitely_agree", "slightly_disagree", "slightly_agree", "slightly_agree", "slightly_disagree"),
	)
	r := Score(answers)
	want := Result{
		BankVersion:    "2026-11-1",
		RulesVersion:   RulesVersion,
		Traits:         []string{"introvert", "intuitive", "thinker", "spontaneous"},
		FocusArea:      "stress_relief",
		TimeCommitment: ptr(15),
		Scores: Scores{
			PHQ2: PHQ2Score{Score: ptr(1), Positive: ptr(false), Complete: true, Answered: 2},
			PHQ9: PHQ9Score{Answered: 2},
			ASRS: ASRSScore{Count: ptr(3), Positive: ptr(false), Complete: true, Answered: 6},
			AQ10: AQ10Score{Score: ptr(3), Positive: ptr(false), Complete: true, Answered: 10},
		},
		NeuroTendencies: NeuroTendencies{AdhdScore: ptr(5), AutismScore: ptr(3)},
		Triggers:        []Trigger{},
		Completeness:    1,
		Answered:        33,
		Disclaimer:      "Screening results, not diagnoses",
	}
	if !reflect.DeepEqual(r, want) {
		g, _ := json.Marshal(r)
		w, _ := json.Marshal(want)
		t.Errorf("result\n got %s\nwant %s", g, w)
	}
}

func TestResultJSONFieldNames(t *testing.T) {
	data, err := json.Marshal(Score(nil))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	nt := m["neuroTendencies"].(map[string]any)
	wf := m["wellbeingFlags"].(map[string]any)
	for _, k := range []string{"adhdScore", "autismScore"} {
		if v, ok := nt[k]; !ok || v != nil {
			t.Errorf("neuroTendencies.%s = %v (present %v), want null", k, v, ok)
		}
	}
	for _, k := range []string{"depressionRisk", "suicideRisk"} {
		if v, ok := wf[k]; !ok || v != false {
			t.Errorf("wellbeingFlags.%s = %v", k, v)
		}
	}
	if m["disclaimer"] != Disclaimer || m["bankVersion"] != "2026-11-1" {
		t.Errorf("disclaimer/version: %v %v", m["disclaimer"], m["bankVersion"])
	}
	if tr, ok := m["traits"].([]any); !ok || len(tr) != 0 {
		t.Errorf("traits = %#v, want []", m["traits"])
	}
}

func BenchmarkScore(b *testing.B) {
	answers := fullAnswers(DefaultBank(), true)
	b.ReportAllocs()
	for b.Loop() {
		Score(answers)
	}
}
