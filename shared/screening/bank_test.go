package screening

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

func TestDefaultBank(t *testing.T) {
	b, err := ParseBank(QuestionsJSON())
	if err != nil {
		t.Fatalf("embedded bank invalid: %v", err)
	}
	if b.Version != "2026-11-1" {
		t.Errorf("version %q", b.Version)
	}
	for _, name := range []string{"phq2", "phq9", "safety", "asrs", "aq10"} {
		in, ok := b.Instruments[name]
		if !ok || in.Licence == "" || in.Source == "" || in.Scoring == "" {
			t.Errorf("instrument %s lacks source, licence or scoring note", name)
		}
	}
	// Licensed wording that needs permission is not stored verbatim.
	for _, q := range b.Questions {
		switch q.Kind {
		case KindASRS, KindAQ10:
			if q.Text != "" || q.Label == "" || b.Instruments[q.Kind].Wording != "paraphrase" {
				t.Errorf("%s must carry a paraphrased label only", q.ID)
			}
		default:
			if q.Text == "" {
				t.Errorf("%s has no text", q.ID)
			}
		}
	}
	focus := b.Question("focus_area").OptionIDs()
	for _, want := range []string{"stress_relief", "career_growth", "relationships", "self_discovery", "wellbeing", "creativity"} {
		if !strings.Contains(strings.Join(focus, ","), want) {
			t.Errorf("focus area option %q missing", want)
		}
	}
}

// mutate parses the embedded bank into generic JSON, applies f and
// re-encodes it.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(QuestionsJSON(), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func questionsOf(m map[string]any) []any { return m["questions"].([]any) }

func question(m map[string]any, id string) map[string]any {
	for _, q := range questionsOf(m) {
		if q := q.(map[string]any); q["id"] == id {
			return q
		}
	}
	panic("no question " + id)
}

func dropQuestion(m map[string]any, id string) {
	var out []any
	for _, q := range questionsOf(m) {
		if q.(map[string]any)["id"] != id {
			out = append(out, q)
		}
	}
	m["questions"] = out
}

func TestParseBankRejects(t *testing.T) {
	tests := []struct {
		name string
		f    func(m map[string]any)
		want string
	}{
		{"no version", func(m map[string]any) { m["version"] = "" }, "no version"},
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }, "unknown field"},
		{"duplicate id", func(m map[string]any) { question(m, "asrs_2")["id"] = "asrs_1" }, "used twice"},
		{"alias clashes with id", func(m map[string]any) { question(m, "phq9_1")["aliases"] = []any{"phq9_2"} }, "used twice"},
		{"missing PHQ-9 item", func(m map[string]any) { dropQuestion(m, "phq9_9") }, "phq9 item 9 missing"},
		{"missing AQ-10 item", func(m map[string]any) { dropQuestion(m, "aq10_4") }, "aq10 item 4 missing"},
		{"item twice", func(m map[string]any) { question(m, "asrs_2")["item"] = 1.0 }, "twice"},
		{"unknown scale", func(m map[string]any) { question(m, "asrs_1")["scale"] = "nope" }, "unknown scale"},
		{"unknown kind", func(m map[string]any) { question(m, "asrs_1")["kind"] = "gad7" }, "unknown kind"},
		{"scored option missing", func(m map[string]any) { question(m, "aq10_1")["scored"] = []any{"agree"} }, "does not exist"},
		{"ASRS without key", func(m map[string]any) { delete(question(m, "asrs_1"), "scored") }, "needs scored"},
		{"PHQ with key", func(m map[string]any) { question(m, "phq9_1")["scored"] = []any{"nearly_every_day"} }, "scored must be empty"},
		{"ambiguous alias", func(m map[string]any) {
			o := m["scales"].(map[string]any)["yes_no"].([]any)[0].(map[string]any)
			o["aliases"] = []any{"yes"}
		}, "names two options"},
		{"two safety questions", func(m map[string]any) { question(m, "focus_area")["kind"] = "safety" }, "safety"},
		{"trait pole unknown", func(m map[string]any) {
			question(m, "trait_energy_1")["options"].([]any)[0].(map[string]any)["trait"] = "ambivert"
		}, "one per pole"},
		{"trait dimension unknown", func(m map[string]any) { question(m, "trait_energy_1")["dimension"] = "mood" }, "unknown dimension"},
		{"bad trait method", func(m map[string]any) { m["traitRules"].(map[string]any)["method"] = "sum" }, "majority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBank(mutate(t, tt.f))
			if err == nil {
				t.Fatal("accepted")
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.InvalidArgument {
				t.Errorf("error %v is not INVALID_ARGUMENT", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	if _, err := ParseBank([]byte("{")); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("bad JSON: %v", err)
	}
}
