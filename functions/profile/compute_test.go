package profile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/screening"
)

// onboarding returns a complete questionnaire: PHQ-9 items phq (2 or 9
// values), the safety answer, and fixed trait, ASRS (count 4 → adhdScore
// 7) and AQ-10 (score 8) answers.
func onboarding(phq []int, safety string) []model.Answer {
	a := []model.Answer{{QuestionID: "focus_area", Answer: "stress_relief"}, {QuestionID: "time_commitment", Answer: int64(15)}}
	for i := 1; i <= 3; i++ {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("trait_energy_%d", i), Answer: "a"},
			model.Answer{QuestionID: fmt.Sprintf("trait_perception_%d", i), Answer: "b"},
			model.Answer{QuestionID: fmt.Sprintf("trait_decisions_%d", i), Answer: "a"},
			model.Answer{QuestionID: fmt.Sprintf("trait_structure_%d", i), Answer: "b"})
	}
	for i, v := range phq {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("phq9_%d", i+1), Answer: int64(v)})
	}
	a = append(a, model.Answer{QuestionID: "safety_1", Answer: safety})
	for i, v := range []string{"sometimes", "often", "rarely", "often", "very_often", "sometimes"} {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("asrs_%d", i+1), Answer: v})
	}
	for i, v := range []string{"definitely_agree", "slightly_disagree", "slightly_agree", "definitely_disagree", "slightly_agree",
		"definitely_disagree", "slightly_agree", "definitely_agree", "slightly_disagree", "slightly_agree"} {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("aq10_%d", i+1), Answer: v})
	}
	return a
}

func ada() *model.User {
	seven := 7
	return &model.User{UserID: "ada", DisplayName: "Ada", BirthDate: "1990-05-15", BirthTime: "14:30",
		BirthLocation: "Stockholm, Sweden", FocusArea: model.FocusStressRelief, TimeCommitment: 15, Locale: "sv-SE",
		TimeZone: "Europe/Stockholm", InsightsOptIn: true, InsightHour: &seven,
		Answers: onboarding([]int{1, 1, 2, 1, 0, 1, 1, 0, 0}, "no")}
}

var now = time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC)

// granted is the consent state of a user who granted sensitive_data (the
// screening instruments are scored).
var granted = Consent{SensitiveData: true}

func TestComputeFullProfile(t *testing.T) {
	c := Compute(ada(), granted, now)
	pt := c.PersonalityType
	if len(pt.Traits) != 4 || pt.AstroSign != "Taurus" || pt.LifePathNumber != 3 || pt.MoonSign == "" || pt.RisingSign == "" || pt.MoonSignUncertain {
		t.Errorf("personalityType %+v", pt)
	}
	if c.NeuroTendencies.ADHDScore == nil || *c.NeuroTendencies.ADHDScore != 7 || c.NeuroTendencies.AutismScore == nil || *c.NeuroTendencies.AutismScore != 8 {
		t.Errorf("neuroTendencies %+v", c.NeuroTendencies)
	}
	if c.WellbeingFlags.DepressionRisk || c.WellbeingFlags.SuicideRisk {
		t.Errorf("flags %+v", c.WellbeingFlags)
	}
	if c.Chart == nil || c.Chart.Houses == nil || c.Chart.Confidence != "high" || c.BirthPlace == nil || c.BirthPlace.Name != "Stockholm" ||
		c.BirthPlace.TimeZone != "Europe/Stockholm" {
		t.Fatalf("chart/birthplace: %+v %+v", c.Chart, c.BirthPlace)
	}
	// 14:30 CEST (UTC+2 in May 1990) is 12:30 UTC.
	if want := time.Date(1990, 5, 15, 12, 30, 0, 0, time.UTC); !c.Chart.Instant.Equal(want) {
		t.Errorf("instant %v, want %v", c.Chart.Instant, want)
	}
	if c.Numerology == nil || c.Numerology.ExpressionNumber == 0 {
		t.Errorf("numerology %+v", c.Numerology)
	}
	m := c.Meta
	bd := m.BirthData
	if bd.Date != StateGiven || bd.Time != StateKnown || bd.Place != PlaceResolved || bd.Zone != "Europe/Stockholm" ||
		bd.ZoneSource != "birthplace" || bd.Resolution != "exact" || bd.Chart != "computed" || len(bd.Notes) != 0 {
		t.Errorf("birthData %+v", bd)
	}
	if m.Completeness != 1 || m.Disclaimer == "" || m.InputHash != InputsOf(ada(), granted).Hash() || !m.ComputedAt.Equal(now) ||
		!strings.HasPrefix(m.CalculationVersion, RulesVersion+"+astro-") {
		t.Errorf("meta %+v", m.ProfileMeta)
	}
	if m.Screening.Answered != 40 || m.Screening.Scores.PHQ9.Score == nil || *m.Screening.Scores.PHQ9.Score != 7 || len(m.Screening.Triggers) != 0 {
		t.Errorf("screening %+v", m.Screening)
	}
	if c.FocusArea != model.FocusStressRelief || c.TimeCommitment != 15 {
		t.Errorf("focus %q time %d", c.FocusArea, c.TimeCommitment)
	}
}

func TestComputeBirthData(t *testing.T) {
	tests := []struct {
		name                       string
		date, clock, place, zone   string
		wantPlace, wantTime, chart string
		wantZoneSource             string
		wantRising, wantBirthPlace bool
		note                       string
	}{
		{"date only, resolved place", "1985-11-02", "", "Göteborg", "", PlaceResolved, StateUnknown, "date_only", "birthplace", false, true, ""},
		{"ambiguous place, user zone", "1990-05-15", "14:30", "Paris", "Europe/Paris", PlaceAmbig, StateKnown, "no_houses", "user_time_zone", false, false, "ambiguous"},
		{"place not found, no zone", "1990-05-15", "14:30", "Nowhere-ville", "", PlaceNotFound, StateUnknown, "date_only", "none", false, false, "time zone of birth is unknown"},
		{"no place at all", "1990-05-15", "", "", "", StateMissing, StateUnknown, "date_only", "none", false, false, "birthplace not given"},
		{"invalid time", "1990-05-15", "25:00", "Stockholm", "", PlaceResolved, StateInvalid, "date_only", "birthplace", false, true, "not a valid HH:MM"},
		{"daylight-saving gap", "2021-03-28", "02:30", "Stockholm", "", PlaceResolved, StateKnown, "computed", "birthplace", true, true, "gap"},
		{"invalid date", "1990-02-30", "12:00", "Stockholm", "", PlaceResolved, StateUnknown, StateMissing, "birthplace", false, true, "not a valid YYYY-MM-DD"},
		{"no birth date", "", "", "Stockholm", "Europe/Stockholm", PlaceResolved, StateUnknown, StateMissing, "birthplace", false, true, "birth date not given"},
		{"no birth date, no place", "", "", "", "Europe/Stockholm", StateMissing, StateUnknown, StateMissing, "none", false, false, "birth date not given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &model.User{UserID: "u", BirthDate: tt.date, BirthTime: tt.clock, BirthLocation: tt.place, TimeZone: tt.zone}
			c := Compute(u, granted, now)
			bd := c.Meta.BirthData
			if bd.Place != tt.wantPlace || bd.Time != tt.wantTime || bd.Chart != tt.chart || bd.ZoneSource != tt.wantZoneSource {
				t.Errorf("birthData %+v", bd)
			}
			if (c.PersonalityType.RisingSign != "") != tt.wantRising || (c.BirthPlace != nil) != tt.wantBirthPlace {
				t.Errorf("rising %q birthPlace %+v", c.PersonalityType.RisingSign, c.BirthPlace)
			}
			if (c.Chart != nil) != (tt.chart != StateMissing) {
				t.Errorf("chart present = %v", c.Chart != nil)
			}
			if tt.note != "" && !strings.Contains(strings.Join(bd.Notes, "|"), tt.note) {
				t.Errorf("notes %q lack %q", bd.Notes, tt.note)
			}
		})
	}
}

func TestComputeEdgeCases(t *testing.T) {
	// Nothing given: empty traits, no scores, no chart, zero completeness.
	c := Compute(&model.User{UserID: "u"}, granted, now)
	if c.PersonalityType.Traits == nil || len(c.PersonalityType.Traits) != 0 || c.NeuroTendencies.ADHDScore != nil ||
		c.Chart != nil || c.Numerology != nil || c.Meta.Completeness != 0 || c.Meta.Screening.Triggers == nil {
		t.Errorf("empty user: %+v", c)
	}
	// A name without Latin letters: date numbers only.
	c = Compute(&model.User{UserID: "u", BirthDate: "1990-05-15", DisplayName: "山田"}, granted, now)
	if c.Numerology == nil || c.Numerology.LifePathNumber != 3 || c.Numerology.ExpressionNumber != 0 ||
		!strings.Contains(strings.Join(c.Meta.BirthData.Notes, "|"), "Latin") {
		t.Errorf("non-Latin name: %+v %v", c.Numerology, c.Meta.BirthData.Notes)
	}
	// Unknown questions and invalid answers are counted; focus and time
	// fall back to the answers; an answer outside the model's focus areas
	// gives none.
	u := &model.User{UserID: "u", Answers: []model.Answer{
		{QuestionID: "focus_area", Answer: "creativity"}, {QuestionID: "time_commitment", Answer: int64(20)},
		{QuestionID: "no_such_question", Answer: "x"}, {QuestionID: "phq9_1", Answer: int64(7)}, {QuestionID: "phq9_9", Answer: "nearly_every_day"},
	}}
	c = Compute(u, granted, now)
	if c.Meta.Screening.UnknownQuestions != 1 || c.Meta.Screening.InvalidAnswers != 1 || c.FocusArea != model.FocusCreativity || c.TimeCommitment != 20 {
		t.Errorf("bad input: %+v focus %q time %d", c.Meta.Screening, c.FocusArea, c.TimeCommitment)
	}
	// The effective values are stored in profile (users/{uid}.profile) for
	// the daily insights, which read the user document only.
	if c.Meta.FocusArea != model.FocusCreativity || c.Meta.TimeCommitment != 20 {
		t.Errorf("profile focus %q time %d; want creativity, 20", c.Meta.FocusArea, c.Meta.TimeCommitment)
	}
	// Safety first: PHQ-9 item 9 alone sets suicideRisk, with its trigger.
	if !c.WellbeingFlags.SuicideRisk || c.WellbeingFlags.DepressionRisk || len(c.Meta.Screening.Triggers) != 1 {
		t.Errorf("item 9: %+v %+v", c.WellbeingFlags, c.Meta.Screening.Triggers)
	}
	trig := screeningTrigger(c.Screening)
	if rules := trig["rules"].([]any); len(rules) != 1 || rules[0].(map[string]any)["value"] != 3 {
		t.Errorf("trigger %v", trig)
	}
	u.Answers[0].Answer = "purpose"
	if c := Compute(u, granted, now); c.FocusArea != "purpose" {
		t.Errorf("focus %q, want purpose (every bank option is a model focus area)", c.FocusArea)
	}
}

func TestInputHash(t *testing.T) {
	a, b := ada(), ada()
	if InputsOf(a, granted).Hash() != InputsOf(b, granted).Hash() {
		t.Fatal("same inputs, different hash")
	}
	b.UIStyle, b.PhoneNumber, b.InsightsOptIn = model.UIStyleCalm, "+46701234567", false
	if InputsOf(a, granted).Hash() != InputsOf(b, granted).Hash() {
		t.Error("non-input fields changed the hash")
	}
	for name, mod := range map[string]func(u *model.User){
		"answers":     func(u *model.User) { u.Answers[3].Answer = "a" },
		"birthTime":   func(u *model.User) { u.BirthTime = "14:31" },
		"displayName": func(u *model.User) { u.DisplayName = "Ada L" },
		"timeZone":    func(u *model.User) { u.TimeZone = "UTC" },
	} {
		c := ada()
		mod(c)
		if InputsOf(c, granted).Hash() == InputsOf(a, granted).Hash() {
			t.Errorf("%s: hash unchanged", name)
		}
	}
}

func TestInsightDue(t *testing.T) {
	nine, two, zero := 9, 2, 0
	at := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	tests := []struct {
		name     string
		optIn    bool
		hour     *int
		zone     string
		existing *time.Time
		now      string
		want     *time.Time
	}{
		{"opted out", false, nil, "Europe/Stockholm", at("2026-11-22T06:00:00Z"), "2026-11-21T05:00:00Z", nil},
		{"default hour, later today", true, nil, "Europe/Stockholm", nil, "2026-11-21T05:00:00Z", at("2026-11-21T06:00:00Z")},
		{"default hour, tomorrow", true, nil, "Europe/Stockholm", nil, "2026-11-21T06:00:00Z", at("2026-11-22T06:00:00Z")},
		{"chosen hour, New York", true, &nine, "America/New_York", nil, "2026-11-21T05:00:00Z", at("2026-11-21T14:00:00Z")},
		{"no zone is UTC", true, nil, "", nil, "2026-11-21T05:00:00Z", at("2026-11-21T07:00:00Z")},
		{"consistent stored value kept", true, nil, "Europe/Stockholm", at("2026-11-23T06:00:00Z"), "2026-11-21T05:00:00Z", at("2026-11-23T06:00:00Z")},
		{"hour changed", true, &nine, "Europe/Stockholm", at("2026-11-22T06:00:00Z"), "2026-11-21T05:00:00Z", at("2026-11-21T08:00:00Z")},
		{"gap hour", true, &two, "America/New_York", nil, "2026-03-08T05:00:00Z", at("2026-03-08T07:00:00Z")},
		// The worker stores a gap's hour as geo resolves it (02:00 read
		// as EST = 03:00 EDT): kept, also once due and not yet delivered.
		{"stored gap hour kept while due", true, &two, "America/New_York", at("2026-03-08T07:00:00Z"), "2026-03-08T07:30:00Z", at("2026-03-08T07:00:00Z")},
		{"stored gap hour kept", true, &two, "America/New_York", at("2026-03-08T07:00:00Z"), "2026-03-07T07:00:05Z", at("2026-03-08T07:00:00Z")},
		{"stored midnight gap kept (Santiago)", true, &zero, "America/Santiago", at("2026-09-06T04:00:00Z"), "2026-09-06T04:10:00Z", at("2026-09-06T04:00:00Z")},
		// What the worker stored before it used geo's rule (01:00 EST) is
		// not 02:00 by any reading: recomputed. Its date (03-08) is later
		// than today's (03-07), which is what a move further east looks
		// like (the old zone is not known): today's 02:00, just passed, so
		// the next tick finds today's insight existing and only advances.
		{"gap hour read by Go's normalisation recomputed", true, &two, "America/New_York", at("2026-03-08T06:00:00Z"), "2026-03-07T07:00:05Z", at("2026-03-07T07:00:00Z")},
		// Los Angeles 07:00 of 11-21 pending; moved to Tokyo at 02:00Z,
		// 11:00 of 11-21 there: d reads as 11-22 in Tokyo, but 11-21 is
		// the date the user is living and was never delivered (it was
		// skipped for 11-22).
		{"moved east keeps today's date", true, nil, "Asia/Tokyo", at("2026-11-21T15:00:00Z"), "2026-11-21T02:00:00Z", at("2026-11-20T22:00:00Z")},
		// Pago Pago (UTC-11) to Kiritimati (UTC+14), across the date line.
		{"moved across the date line keeps today's date", true, nil, "Pacific/Kiritimati", at("2026-11-21T18:00:00Z"), "2026-11-21T01:00:00Z", at("2026-11-20T17:00:00Z")},
		{"an hour after a gap is not the gap's", true, &two, "America/New_York", at("2026-03-08T08:00:00Z"), "2026-03-07T07:00:05Z", at("2026-03-07T07:00:00Z")},
	}
	for _, tt := range tests {
		u := &model.User{InsightsOptIn: tt.optIn, InsightHour: tt.hour, TimeZone: tt.zone, InsightDueAt: tt.existing}
		got := InsightDue(u, *at(tt.now))
		if !sameTime(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkCompute measures one full profile (birthplace lookup, chart,
// numerology, screening) after the birthplace table is loaded.
func BenchmarkCompute(b *testing.B) {
	u := ada()
	Compute(u, granted, now)
	b.ReportAllocs()
	for b.Loop() {
		Compute(u, granted, now)
	}
}

func TestIssueIDsNeverLogFreeText(t *testing.T) {
	u := &model.User{Answers: []model.Answer{{QuestionID: "my secret diary text", Answer: "x"}, {QuestionID: "phq9_1", Answer: "nope"}}}
	got := fmt.Sprint(issueIDs(Compute(u, granted, now).Screening.Issues))
	if strings.Contains(got, "secret") || !strings.Contains(got, "phq9_1") || !strings.Contains(got, "unknown#0") {
		t.Errorf("issue ids %s", got)
	}
}

// TestBankFocusAreasAreModelFocusAreas keeps the question bank and the model
// (and so the rules, which list model.FocusAreas) in step.
func TestBankFocusAreasAreModelFocusAreas(t *testing.T) {
	q := screening.DefaultBank().Question("focus_area")
	if q == nil || len(q.Options) == 0 {
		t.Fatal("no focus_area question in the bank")
	}
	for _, o := range q.Options {
		if !model.FocusArea(o.ID).Valid() {
			t.Errorf("bank focus option %q is not a model.FocusArea", o.ID)
		}
	}
}
