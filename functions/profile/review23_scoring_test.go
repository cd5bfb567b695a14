package profile

import (
	"testing"

	"github.com/innerjourney/functions/shared/model"
)

// Review (scoring): the life path comes from the civil birth date as
// entered, not from the UTC instant of the birth (which falls on the
// previous day, and year, for a birth just after midnight east of UTC).
func TestReview23ScoringLifePathFromCivilBirthDate(t *testing.T) {
	for _, c := range []struct {
		date, clock, place, zone string
		want                     int
	}{
		// 1 + 1 + (1990→19→10→1) = 3; UTC is 1989-12-31 23:30 (3 + 4 + 9 = 16 → 7).
		{"1990-01-01", "00:30", "Stockholm, Sweden", "Europe/Stockholm", 3},
		// 3 + 4 + (1989→27→9) = 16 → 7; UTC is 1990-01-01 (would be 3).
		{"1989-12-31", "20:00", "Los Angeles, United States", "America/Los_Angeles", 7},
	} {
		u := &model.User{UserID: "n", DisplayName: "Ada", BirthDate: c.date, BirthTime: c.clock, BirthLocation: c.place, TimeZone: c.zone}
		got := Compute(u, granted, now)
		if got.Numerology == nil || got.PersonalityType.LifePathNumber != c.want || got.Numerology.LifePathNumber != c.want {
			t.Errorf("%s %s %s: life path %d, want %d", c.date, c.clock, c.place, got.PersonalityType.LifePathNumber, c.want)
		}
	}
}

// Review (scoring): flags and 0–10 scores through Compute, with and without
// the sensitive_data consent.
func TestReview23ScoringComputeFlags(t *testing.T) {
	u := ada()
	// PHQ-2 = 1 + 1; PHQ-9 = 9 with item 9 = 1 (several days).
	u.Answers = onboarding([]int{1, 1, 1, 1, 1, 1, 1, 1, 1}, "no")
	c := Compute(u, granted, now)
	if !c.WellbeingFlags.SuicideRisk || c.WellbeingFlags.DepressionRisk {
		t.Errorf("granted: flags %+v, want suicideRisk only (PHQ-9 9 < 10, PHQ-2 2 < 3)", c.WellbeingFlags)
	}
	c = Compute(u, Consent{}, now)
	if !c.WellbeingFlags.SuicideRisk || c.WellbeingFlags.DepressionRisk || c.NeuroTendencies != nil {
		t.Errorf("no consent: flags %+v neuro %+v", c.WellbeingFlags, c.NeuroTendencies)
	}
	// PHQ-9 exactly 10, item 9 = 0.
	u.Answers = onboarding([]int{1, 1, 2, 2, 2, 1, 1, 0, 0}, "no")
	c = Compute(u, granted, now)
	if !c.WellbeingFlags.DepressionRisk || c.WellbeingFlags.SuicideRisk || c.Meta.Screening.Scores.PHQ9.Severity != "moderate" {
		t.Errorf("PHQ-9 10: flags %+v severity %q", c.WellbeingFlags, c.Meta.Screening.Scores.PHQ9.Severity)
	}
}
