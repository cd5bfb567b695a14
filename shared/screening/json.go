package screening

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/innerjourney/functions/shared/fault"
)

// ScoreJSON scores answers given as JSON against the embedded bank. See
// Bank.ScoreJSON.
func ScoreJSON(data []byte) (Result, error) { return DefaultBank().ScoreJSON(data) }

// ScoreJSON scores answers given as JSON: an array of
// {"questionId", "answer"} objects, or an object whose "answers" field is
// such an array (a users/{uid} document). Integers are read exactly;
// other numbers must be whole in double precision (2.0 is 2, 2.5 is invalid). An element
// that is not such an object (or whose questionId is not a string) counts
// as an invalid answer. It returns a fault.InvalidArgument error only when
// the document itself is not JSON of either shape.
func (b *Bank) ScoreJSON(data []byte) (Result, error) {
	answers, err := decodeAnswers(data)
	if err != nil {
		return Result{}, fmt.Errorf("screening: score: %w", err)
	}
	return b.Score(answers), nil
}

// decodeAnswers decodes the answers element by element; a malformed element
// becomes a placeholder that Score counts as an invalid answer.
func decodeAnswers(data []byte) ([]Answer, error) {
	data = bytes.TrimSpace(data)
	var raw []json.RawMessage
	switch {
	case len(data) > 0 && data[0] == '[':
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fault.Invalid("answers are not a JSON array: %v", err)
		}
	case len(data) > 0 && data[0] == '{':
		var doc struct {
			Answers []json.RawMessage `json:"answers"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fault.Invalid("document is not JSON with an answers array: %v", err)
		}
		raw = doc.Answers
	default:
		return nil, fault.Invalid("answers must be a JSON array or an object with an answers array")
	}
	answers := make([]Answer, 0, len(raw))
	for _, el := range raw {
		var e struct {
			QuestionID string `json:"questionId"`
			Answer     any    `json:"answer"`
		}
		dec := json.NewDecoder(bytes.NewReader(el))
		dec.UseNumber()
		if err := dec.Decode(&e); err != nil || !isObject(el) {
			answers = append(answers, Answer{QuestionID: "", Answer: malformedValue{}})
			continue
		}
		answers = append(answers, Answer{QuestionID: e.QuestionID, Answer: e.Answer})
	}
	return answers, nil
}

// malformedValue is the answer of a placeholder for an undecodable element,
// keeping Issue positions aligned with the input.
type malformedValue struct{}

func isObject(el json.RawMessage) bool {
	t := bytes.TrimSpace(el)
	return len(t) > 0 && t[0] == '{'
}
