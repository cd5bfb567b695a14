package screening

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Disclaimer accompanies every Result and must be shown wherever scores or
// flags are returned.
const Disclaimer = "Screening results, not diagnoses"

// RulesVersion identifies the scoring and flag rules implemented in this
// file (cut-offs, bands, scaling, completeness, duplicate handling). It
// changes whenever any of them changes; the bank's Version changes with the
// questions.
//
// screening-rules/2: a string answer whose sign or separator normalize
// folded away ("-3", "_3") is invalid, as the number -3 is; it matched the
// value 3 before.
const RulesVersion = "screening-rules/2"

// Published cut-offs and sizes.
const (
	phq9Items = 9
	asrsItems = 6
	aq10Items = 10

	PHQ2Cutoff              = 3  // PHQ-2 positive at ≥ 3 (Kroenke 2003)
	PHQ9DepressionCutoff    = 10 // PHQ-9 ≥ 10 sets depressionRisk
	ASRSCutoff              = 4  // ASRS Part A positive at ≥ 4 counted items
	AQ10Cutoff              = 6  // AQ-10 positive at ≥ 6 (Allison 2012, NICE CG142)
	Item9Cutoff             = 1  // PHQ-9 item 9 ≥ 1 sets suicideRisk
	MaxIssues               = 50 // Result.Issues is capped; the counts are not
	maxIssueQuestionIDRunes = 64
)

// PHQ-9 severity bands (Kroenke 2001).
const (
	SeverityNone             = "none"              // 0–4
	SeverityMild             = "mild"              // 5–9
	SeverityModerate         = "moderate"          // 10–14
	SeverityModeratelySevere = "moderately_severe" // 15–19
	SeveritySevere           = "severe"            // 20–27
)

// Issue problems.
const (
	ProblemUnknownQuestion = "unknownQuestion" // no question has this id or alias
	ProblemInvalidAnswer   = "invalidAnswer"   // the answer matches no option
	ProblemMalformedEntry  = "malformedEntry"  // not a {"questionId", "answer"} object
	ProblemDuplicate       = "duplicate"       // superseded by a later valid answer
)

// Answer is one questionnaire answer as stored in users/{uid}.answers.
// Answer holds a string, a number (any Go integer or float type, or
// json.Number) or a bool; anything else is an invalid answer.
type Answer struct {
	QuestionID string `json:"questionId" firestore:"questionId"`
	Answer     any    `json:"answer" firestore:"answer"`
}

// Result is the outcome of scoring one set of answers. Instrument scores are
// nil unless every item of the instrument has a valid answer.
type Result struct {
	BankVersion     string          `json:"bankVersion" firestore:"bankVersion"`
	RulesVersion    string          `json:"rulesVersion" firestore:"rulesVersion"`
	Traits          []string        `json:"traits" firestore:"traits"`
	FocusArea       string          `json:"focusArea,omitempty" firestore:"focusArea,omitempty"`
	TimeCommitment  *int            `json:"timeCommitment,omitempty" firestore:"timeCommitment,omitempty"` // minutes
	Scores          Scores          `json:"scores" firestore:"scores"`
	NeuroTendencies NeuroTendencies `json:"neuroTendencies" firestore:"neuroTendencies"`
	WellbeingFlags  WellbeingFlags  `json:"wellbeingFlags" firestore:"wellbeingFlags"`
	// Triggers explains every flag that is set: which rule, instrument and
	// value (never the answer text). Empty when no flag is set.
	Triggers []Trigger `json:"triggers" firestore:"triggers"`
	// Completeness is answered core questions / core questions, rounded
	// down to 2 decimals (1 only when every core question is answered).
	Completeness float64 `json:"completeness" firestore:"completeness"`
	// Answered counts distinct questions with a valid answer.
	Answered         int `json:"answered" firestore:"answered"`
	UnknownQuestions int `json:"unknownQuestions" firestore:"unknownQuestions"`
	InvalidAnswers   int `json:"invalidAnswers" firestore:"invalidAnswers"`
	DuplicateAnswers int `json:"duplicateAnswers" firestore:"duplicateAnswers"`
	// Issues lists the first MaxIssues problems (question ids, never answers).
	Issues     []Issue `json:"issues,omitempty" firestore:"issues,omitempty"`
	Disclaimer string  `json:"disclaimer" firestore:"disclaimer"`
}

// Scores holds the per-instrument results.
type Scores struct {
	PHQ2 PHQ2Score `json:"phq2" firestore:"phq2"`
	PHQ9 PHQ9Score `json:"phq9" firestore:"phq9"`
	ASRS ASRSScore `json:"asrs" firestore:"asrs"`
	AQ10 AQ10Score `json:"aq10" firestore:"aq10"`
}

// PHQ2Score is the PHQ-2 (PHQ-9 items 1–2): score 0–6, positive at ≥ 3.
type PHQ2Score struct {
	Score    *int  `json:"score" firestore:"score"`
	Positive *bool `json:"positive" firestore:"positive"`
	Complete bool  `json:"complete" firestore:"complete"`
	Answered int   `json:"answered" firestore:"answered"`
}

// PHQ9Score is the PHQ-9: score 0–27 and its severity band. Item9 is set
// whenever item 9 was answered, even if the rest is incomplete.
type PHQ9Score struct {
	Score    *int   `json:"score" firestore:"score"`
	Severity string `json:"severity,omitempty" firestore:"severity,omitempty"`
	Item9    *int   `json:"item9" firestore:"item9"`
	Complete bool   `json:"complete" firestore:"complete"`
	Answered int    `json:"answered" firestore:"answered"`
}

// ASRSScore is ASRS v1.1 Part A: the number of items at or above their
// threshold (0–6), positive at ≥ 4.
type ASRSScore struct {
	Count    *int  `json:"count" firestore:"count"`
	Positive *bool `json:"positive" firestore:"positive"`
	Complete bool  `json:"complete" firestore:"complete"`
	Answered int   `json:"answered" firestore:"answered"`
}

// AQ10Score is the adult AQ-10: score 0–10, positive at ≥ 6.
type AQ10Score struct {
	Score    *int  `json:"score" firestore:"score"`
	Positive *bool `json:"positive" firestore:"positive"`
	Complete bool  `json:"complete" firestore:"complete"`
	Answered int   `json:"answered" firestore:"answered"`
}

// NeuroTendencies is the spec's users.neuroTendencies, each on a 0–10
// scale, nil when its instrument is incomplete. AdhdScore is
// ADHDScale(ASRS count); AutismScore is the AQ-10 score itself.
type NeuroTendencies struct {
	AdhdScore   *int `json:"adhdScore" firestore:"adhdScore"`
	AutismScore *int `json:"autismScore" firestore:"autismScore"`
}

// WellbeingFlags is the spec's users.wellbeingFlags.
type WellbeingFlags struct {
	DepressionRisk bool `json:"depressionRisk" firestore:"depressionRisk"`
	SuicideRisk    bool `json:"suicideRisk" firestore:"suicideRisk"`
}

// Trigger records why a flag is set, for the wellbeing_events record.
type Trigger struct {
	Flag       string `json:"flag" firestore:"flag"`             // "depressionRisk" or "suicideRisk"
	Rule       string `json:"rule" firestore:"rule"`             // e.g. "phq9.item9>=1"
	Instrument string `json:"instrument" firestore:"instrument"` // phq2, phq9 or safety
	Value      int    `json:"value" firestore:"value"`           // the score or item value
}

// Issue is one problem found in the answers.
type Issue struct {
	Index      int    `json:"index" firestore:"index"` // position in the answers
	QuestionID string `json:"questionId,omitempty" firestore:"questionId,omitempty"`
	Problem    string `json:"problem" firestore:"problem"`
}

// ADHDScale maps an ASRS Part A count (0–6) to the spec's 0–10 adhdScore:
// round(count × 10 / 6), halves up, giving 0, 2, 3, 5, 7, 8, 10. A count of
// 4 (the screen-positive cut-off) is the first to reach 7. Counts outside
// 0–6 are clamped.
func ADHDScale(count int) int {
	count = max(0, min(asrsItems, count))
	return (count*10 + asrsItems/2) / asrsItems
}

// PHQ9Severity returns the severity band of a PHQ-9 total (0–27; values
// outside are clamped into the first or last band).
func PHQ9Severity(score int) string {
	switch {
	case score >= 20:
		return SeveritySevere
	case score >= 15:
		return SeverityModeratelySevere
	case score >= 10:
		return SeverityModerate
	case score >= 5:
		return SeverityMild
	}
	return SeverityNone
}

// Score scores answers against the embedded bank. See Bank.Score.
func Score(answers []Answer) Result { return DefaultBank().Score(answers) }

// Score scores answers against the bank. It never fails: answers whose
// question id is unknown are counted in UnknownQuestions, answers that match
// no option in InvalidAnswers, and both are otherwise ignored. When a
// question is answered more than once the last valid answer wins (earlier
// ones count in DuplicateAnswers; an invalid later answer does not erase a
// valid earlier one). An instrument is scored only when all its items have
// a valid answer; flags come only from complete instruments, except the
// safety-first rule: PHQ-9 item 9 ≥ 1 or the safety question answered yes
// sets suicideRisk on its own.
func (b *Bank) Score(answers []Answer) Result {
	r := Result{
		BankVersion:  b.Version,
		RulesVersion: RulesVersion,
		Traits:       []string{},
		Triggers:     []Trigger{},
		Disclaimer:   Disclaimer,
	}
	addIssue := func(i int, qid, problem string) {
		if len(r.Issues) >= MaxIssues {
			return
		}
		r.Issues = append(r.Issues, Issue{Index: i, QuestionID: truncate(qid), Problem: problem})
	}
	chosen := map[*Question]int{} // question → option index of its last valid answer
	lastAt := map[*Question]int{} // question → position of that answer
	for i, a := range answers {
		if _, bad := a.Answer.(malformedValue); bad { // from ScoreJSON
			r.InvalidAnswers++
			addIssue(i, "", ProblemMalformedEntry)
			continue
		}
		q := b.Question(a.QuestionID)
		if q == nil {
			r.UnknownQuestions++
			addIssue(i, a.QuestionID, ProblemUnknownQuestion)
			continue
		}
		opt, ok := q.match(a.Answer)
		if !ok {
			r.InvalidAnswers++
			addIssue(i, q.ID, ProblemInvalidAnswer)
			continue
		}
		if prev, dup := lastAt[q]; dup {
			r.DuplicateAnswers++
			addIssue(prev, q.ID, ProblemDuplicate)
		}
		chosen[q] = opt
		lastAt[q] = i
	}

	var (
		phq              [phq9Items + 1]*int
		asrs             [asrsItems + 1]*int
		aq               [aq10Items + 1]*int
		dimVotes         = make([][2]int, len(b.TraitRules.Dimensions))
		safetyYes        bool
		answeredCore     int
		phqN, asrsN, aqN int
	)
	for qi := range b.Questions {
		q := &b.Questions[qi]
		oi, ok := chosen[q]
		if !ok {
			continue
		}
		r.Answered++
		if !q.FollowUp {
			answeredCore++
		}
		o := q.opts[oi]
		switch q.Kind {
		case KindFocusArea:
			r.FocusArea = o.ID
		case KindTimeCommitment:
			m := *o.Value
			r.TimeCommitment = &m
		case KindSafety:
			safetyYes = o.ID == SafetyYes
		case KindTrait:
			pole := 0
			if o.Trait == b.TraitRules.Dimensions[q.dimIndex].Poles[1] {
				pole = 1
			}
			dimVotes[q.dimIndex][pole]++
		case KindPHQ9:
			phq[q.Item] = ptr(*o.Value)
			phqN++
		case KindASRS:
			asrs[q.Item] = ptr(q.point(o))
			asrsN++
		case KindAQ10:
			aq[q.Item] = ptr(q.point(o))
			aqN++
		}
	}

	for di, v := range dimVotes {
		if v[0]+v[1] < b.TraitRules.MinAnswered || v[0] == v[1] {
			continue
		}
		poles := b.TraitRules.Dimensions[di].Poles
		if v[0] > v[1] {
			r.Traits = append(r.Traits, poles[0])
		} else {
			r.Traits = append(r.Traits, poles[1])
		}
	}

	// PHQ-2 = PHQ-9 items 1–2.
	s := &r.Scores
	s.PHQ2.Answered = count(phq[1:3])
	if sum, ok := total(phq[1:3]); ok {
		s.PHQ2.Score, s.PHQ2.Positive, s.PHQ2.Complete = ptr(sum), ptr(sum >= PHQ2Cutoff), true
		if sum >= PHQ2Cutoff {
			r.WellbeingFlags.DepressionRisk = true
			r.Triggers = append(r.Triggers, Trigger{Flag: "depressionRisk", Rule: "phq2>=3", Instrument: "phq2", Value: sum})
		}
	}
	s.PHQ9.Answered = phqN
	if sum, ok := total(phq[1:]); ok {
		s.PHQ9.Score, s.PHQ9.Severity, s.PHQ9.Complete = ptr(sum), PHQ9Severity(sum), true
		if sum >= PHQ9DepressionCutoff {
			r.WellbeingFlags.DepressionRisk = true
			r.Triggers = append(r.Triggers, Trigger{Flag: "depressionRisk", Rule: "phq9>=10", Instrument: "phq9", Value: sum})
		}
	}
	if it9 := phq[9]; it9 != nil {
		s.PHQ9.Item9 = ptr(*it9)
		// Safety first: item 9 counts even when the PHQ-9 is incomplete.
		if *it9 >= Item9Cutoff {
			r.WellbeingFlags.SuicideRisk = true
			r.Triggers = append(r.Triggers, Trigger{Flag: "suicideRisk", Rule: "phq9.item9>=1", Instrument: "phq9", Value: *it9})
		}
	}
	if safetyYes {
		r.WellbeingFlags.SuicideRisk = true
		r.Triggers = append(r.Triggers, Trigger{Flag: "suicideRisk", Rule: "safety=yes", Instrument: "safety", Value: 1})
	}

	s.ASRS.Answered = asrsN
	if n, ok := total(asrs[1:]); ok {
		s.ASRS.Count, s.ASRS.Positive, s.ASRS.Complete = ptr(n), ptr(n >= ASRSCutoff), true
		r.NeuroTendencies.AdhdScore = ptr(ADHDScale(n))
	}
	s.AQ10.Answered = aqN
	if n, ok := total(aq[1:]); ok {
		s.AQ10.Score, s.AQ10.Positive, s.AQ10.Complete = ptr(n), ptr(n >= AQ10Cutoff), true
		r.NeuroTendencies.AutismScore = ptr(n)
	}

	if b.coreCount > 0 {
		// Integer arithmetic, rounded down: 1 only when all are answered.
		r.Completeness = float64(answeredCore*100/b.coreCount) / 100
	}
	return r
}

// point is the score of option o on an ASRS or AQ-10 item: 1 when it is
// one of the item's scored options.
func (q *Question) point(o Option) int {
	if q.scored[o.ID] {
		return 1
	}
	return 0
}

// match returns the index of the option an answer value selects.
func (q *Question) match(v any) (int, bool) {
	switch x := v.(type) {
	case string:
		n := normalize(x)
		if isDigits(n) && n != strings.TrimSpace(x) {
			// "-3", "3-", "_3": a sign or separator folded away by
			// normalize, not the value 3 (the JSON number -3 is invalid).
			return 0, false
		}
		i, ok := q.byKey[n]
		return i, ok
	case bool:
		i, ok := q.byKey[strconv.FormatBool(x)]
		return i, ok
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return q.byInt(n)
		}
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		return q.byFloat(f)
	case float64:
		return q.byFloat(x)
	case float32:
		return q.byFloat(float64(x))
	case int:
		return q.byInt(int64(x))
	case int8:
		return q.byInt(int64(x))
	case int16:
		return q.byInt(int64(x))
	case int32:
		return q.byInt(int64(x))
	case int64:
		return q.byInt(x)
	case uint8:
		return q.byInt(int64(x))
	case uint16:
		return q.byInt(int64(x))
	case uint32:
		return q.byInt(int64(x))
	case uint:
		if uint64(x) > math.MaxInt32 {
			return 0, false
		}
		return q.byInt(int64(x))
	case uint64:
		if x > math.MaxInt32 {
			return 0, false
		}
		return q.byInt(int64(x))
	}
	return 0, false
}

func (q *Question) byInt(n int64) (int, bool) {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	i, ok := q.byValue[int(n)]
	return i, ok
}

// byFloat accepts only finite whole numbers (2 or 2.0, not 2.5).
func (q *Question) byFloat(f float64) (int, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return q.byInt(int64(f))
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// total sums the items, reporting false if any is missing.
func total(items []*int) (int, bool) {
	sum := 0
	for _, p := range items {
		if p == nil {
			return 0, false
		}
		sum += *p
	}
	return sum, true
}

func count(items []*int) int {
	n := 0
	for _, p := range items {
		if p != nil {
			n++
		}
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// truncate bounds a question id copied into an Issue.
func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxIssueQuestionIDRunes && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "")
	r := []rune(s)
	if len(r) > maxIssueQuestionIDRunes {
		r = r[:maxIssueQuestionIDRunes]
	}
	return string(r)
}
