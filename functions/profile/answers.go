package profile

import (
	"sort"
	"strings"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/screening"
)

// userDoc is users/{uid} as the profile reads it: model.User with the
// answers left undecoded (the shallower field shadows model.User.Answers),
// so that one malformed element cannot fail the whole document.
type userDoc struct {
	model.User
	RawAnswers []any `firestore:"answers"`
}

// malformedAnswer is the Answer of a placeholder for an element of
// users/{uid}.answers that is not a {questionId, answer} map (a bare
// string, a number, a map whose questionId is not a string). It keeps the
// element's position in the inputs (and their hash); Compute counts it as
// an invalid answer, as screening.ScoreJSON does.
type malformedAnswer struct {
	Malformed bool `json:"malformed"`
}

// DecodeUser decodes a users/{uid} document with dataTo (a Firestore
// snapshot's or an event document's DataTo). The answers are decoded
// element by element: an element that is not a {questionId, answer} map
// becomes a placeholder that Compute skips and counts as an invalid answer
// (screening.ProblemMalformedEntry), so the valid answers, among them the
// safety items, are still scored. Any other field that does not fit
// model.User (and answers that are not a list) is an error, as with
// DataTo.
func DecodeUser(dataTo func(any) error) (*model.User, error) {
	var d userDoc
	if err := dataTo(&d); err != nil {
		return nil, err
	}
	u := d.User
	u.Answers = nil
	if d.RawAnswers != nil {
		u.Answers = make([]model.Answer, len(d.RawAnswers))
		for i, el := range d.RawAnswers {
			u.Answers[i] = answerOf(el)
		}
	}
	return &u, nil
}

// answerOf decodes one element of answers the way DataTo decodes a
// model.Answer (field names exact, else case-insensitive; a missing
// questionId is ""), or returns a placeholder for a malformed element.
func answerOf(el any) model.Answer {
	m, ok := el.(map[string]any)
	if !ok {
		return model.Answer{Answer: malformedAnswer{Malformed: true}}
	}
	var a model.Answer
	if v, ok := lookup(m, "questionId"); ok && v != nil {
		qid, ok := v.(string)
		if !ok {
			return model.Answer{Answer: malformedAnswer{Malformed: true}}
		}
		a.QuestionID = qid
	}
	a.Answer, _ = lookup(m, "answer")
	return a
}

// lookup returns m's field name, matched exactly or else
// case-insensitively (as DataTo matches struct fields).
func lookup(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// answerFilter selects the answers a scoring pass reads by their bank
// question (nil for a question id the bank does not know).
type answerFilter func(q *screening.Question) bool

// everyAnswer reads every answer (the full scoring, with the
// sensitive_data consent).
func everyAnswer(*screening.Question) bool { return true }

// sensitiveKind reports whether questions of kind belong to the screening
// instruments (PHQ-9, ASRS, AQ-10) or are the explicit safety question:
// health data (GDPR Art. 9), processed only with the sensitive_data
// consent, except the safety items (safetyItem).
func sensitiveKind(kind string) bool {
	switch kind {
	case screening.KindPHQ9, screening.KindASRS, screening.KindAQ10, screening.KindSafety:
		return true
	}
	return false
}

// notSensitive reads the answers that are not screening answers (focus
// area, time commitment, traits) and those of unknown questions, which are
// only counted.
func notSensitive(q *screening.Question) bool { return q == nil || !sensitiveKind(q.Kind) }

// coreNotSensitive reads the answers to the questions that count towards
// the questionnaire's completeness without the sensitive_data consent.
func coreNotSensitive(q *screening.Question) bool {
	return q != nil && !q.FollowUp && !sensitiveKind(q.Kind)
}

// safetyItem reads the safety items only: PHQ-9 item 9 and the explicit
// safety question, evaluated even without the sensitive_data consent
// (vital interests, GDPR Art. 9(2)(c); see the README).
func safetyItem(q *screening.Question) bool {
	return q != nil && (q.Kind == screening.KindSafety || (q.Kind == screening.KindPHQ9 && q.Item == 9))
}

// scoreAnswers scores the user's answers that keep selects, skipping
// malformed elements and counting each as an invalid answer with a
// screening.ProblemMalformedEntry issue at its position (the other issues
// keep their positions in the user's answers). Malformed elements are
// counted only by passes that read unknown questions (keep(nil)).
func scoreAnswers(all []model.Answer, keep answerFilter) screening.Result {
	bank := screening.DefaultBank()
	answers := make([]screening.Answer, 0, len(all))
	at := make([]int, 0, len(all)) // position in all of answers[i]
	var malformed []int
	for i, a := range all {
		if _, bad := a.Answer.(malformedAnswer); bad {
			if keep(nil) {
				malformed = append(malformed, i)
			}
			continue
		}
		if !keep(bank.Question(a.QuestionID)) {
			continue
		}
		answers = append(answers, screening.Answer{QuestionID: a.QuestionID, Answer: a.Answer})
		at = append(at, i)
	}
	sr := bank.Score(answers)
	for i := range sr.Issues {
		sr.Issues[i].Index = at[sr.Issues[i].Index]
	}
	if len(malformed) == 0 {
		return sr
	}
	sr.InvalidAnswers += len(malformed)
	for _, i := range malformed {
		sr.Issues = append(sr.Issues, screening.Issue{Index: i, Problem: screening.ProblemMalformedEntry})
	}
	sort.SliceStable(sr.Issues, func(i, j int) bool { return sr.Issues[i].Index < sr.Issues[j].Index })
	if len(sr.Issues) > screening.MaxIssues {
		sr.Issues = sr.Issues[:screening.MaxIssues]
	}
	return sr
}
