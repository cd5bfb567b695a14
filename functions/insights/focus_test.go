package insights

import (
	"testing"

	"github.com/innerjourney/functions/shared/model"
)

// TestQuestionnaireFocusRespected: a focus area and time commitment chosen
// only in the onboarding questionnaire reach the insight (the profile
// function's profile.focusArea / profile.timeCommitment, as the coach's
// client profile shows them); the user's own fields win over them.
func TestQuestionnaireFocusRespected(t *testing.T) {
	h := newHarness(t)
	due := atp("2026-11-21T06:00:00Z")
	h.put("answers-only", user{zone: "Europe/Stockholm", optIn: true, due: due, birth: "1990-05-15",
		profile: &profileDoc{FocusArea: model.FocusSleep, TimeCommitment: 1}})
	h.put("own-fields", user{zone: "Europe/Stockholm", optIn: true, due: due, birth: "1990-05-15",
		focus: model.FocusCreativity, minutes: 15, profile: &profileDoc{FocusArea: model.FocusSleep, TimeCommitment: 1}})
	h.put("invalid-profile", user{zone: "Europe/Stockholm", optIn: true, due: due, birth: "1990-05-15",
		profile: &profileDoc{FocusArea: "astral-travel"}})
	h.tick(clock)
	for uid, want := range map[string]model.FocusArea{"answers-only": model.FocusSleep, "own-fields": model.FocusCreativity, "invalid-profile": ""} {
		docs := h.insights(uid)
		if len(docs) != 1 {
			t.Fatalf("%s: %d insights", uid, len(docs))
		}
		for _, d := range docs {
			var in model.DailyInsight
			if err := d.DataTo(&in); err != nil {
				t.Fatal(err)
			}
			if in.FocusArea != want {
				t.Errorf("%s: focusArea %q; want %q", uid, in.FocusArea, want)
			}
		}
	}
}
