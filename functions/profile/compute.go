// Package profile computes a user's onboarding profile when their birth
// data, answers or sensitive_data consent change: the natal chart
// (shared/astro), numerology (shared/numerology), personality traits and —
// only with the sensitive_data consent — validated screening scores
// (shared/screening), and raises the wellbeing protocol (shared/wellbeing)
// when suicideRisk turns true (the safety items are evaluated with or
// without the consent). It also keeps the coach-visible split
// document client_profiles/{uid} and the daily-insight schedule
// users/{uid}.insightDueAt.
//
// Screening results are not diagnoses: every profile carries
// screening.Disclaimer.
package profile

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/geo"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/numerology"
	"github.com/innerjourney/functions/shared/screening"
	"github.com/innerjourney/functions/shared/store"
)

// RulesVersion versions this package's rules (which inputs, completeness,
// birth-data fallbacks). Bump it when a change can move a stored value.
//
// profile-4: a birthplace's zone is the one shared/geo's table lists, where
// the generator has already replaced GeoNames zones that are wrong for the
// place's coordinates, for every birth date alike; profile-3 checked the
// zone at compute time, per birth moment (zoneSource
// birthplace_coordinates, with a note). Zone names, zoneSource and notes
// change for about 450 places, and the birth instant for a dozen border
// places on some dates. An ambiguous birthplace's candidates share a zone
// when their zones read the birth moment alike (sharedZone), not only when
// they have one name, so that the corrected names do not take the zone
// from ambiguous places whose candidates GeoNames gave one zone.
//
// profile-5: an ambiguous birthplace gives its zone only when geo.Lookup
// listed every match (sharedZone); with more matches than
// geo.MaxCandidates the unlisted ones were not compared, and "Middletown"
// (27 matches, the ten listed on Eastern time, one in California) read
// every birth time as Eastern time.
//
// profile-6: profile.focusArea and profile.timeCommitment hold the
// effective values (the questionnaire's answers when the user's own
// fields are empty), so that the daily insights respect a focus area
// chosen only in the questionnaire, as the coach's client profile does.
const RulesVersion = "profile-6"

// DefaultInsightHour is the local hour of the daily insight when the user
// has not chosen one.
const DefaultInsightHour = 7

// CalculationVersion is the combined version of everything that computes a
// profile; it is part of the input hash, so a new version recomputes a
// profile on its next input change or recompute call.
func CalculationVersion() string {
	return strings.Join([]string{RulesVersion, astro.CalculationVersion, numerology.CalculationVersion,
		"bank-" + screening.DefaultBank().Version, screening.RulesVersion}, "+")
}

// Consent is the state of the consents a profile depends on, read from
// consents/{uid} (model.Consents.Granted: the last entry of a type in list
// order decides).
type Consent struct {
	// SensitiveData is a current grant of sensitive_data, the consent to
	// the processing of screening answers (GDPR Art. 9(2)(a)). Without it
	// no screening score, severity, neuroTendencies or depressionRisk is
	// computed or stored; only the safety items are evaluated.
	SensitiveData bool
}

// ConsentOf returns the consent state of a consents/{uid} document (nil:
// no document, nothing granted).
func ConsentOf(c *model.Consents) Consent {
	return Consent{SensitiveData: c.Granted(model.ConsentSensitiveData)}
}

// Inputs are the values a profile depends on; their hash is
// profile.inputHash. The consent state is an input: granting or revoking
// sensitive_data changes the hash, so the profile is recomputed, and a
// recompute with an unchanged consent is a no-op.
type Inputs struct {
	BirthDate      string         `json:"birthDate"`
	BirthTime      string         `json:"birthTime"`
	BirthLocation  string         `json:"birthLocation"`
	TimeZone       string         `json:"timeZone"`
	DisplayName    string         `json:"displayName"`
	FocusArea      string         `json:"focusArea"`
	TimeCommitment int            `json:"timeCommitment"`
	Answers        []model.Answer `json:"answers"`
	SensitiveData  bool           `json:"sensitiveData"`
	Version        string         `json:"version"`
}

// InputsOf returns the profile inputs of a user document under consent.
func InputsOf(u *model.User, consent Consent) Inputs {
	return Inputs{BirthDate: u.BirthDate, BirthTime: u.BirthTime, BirthLocation: u.BirthLocation,
		TimeZone: u.TimeZone, DisplayName: u.DisplayName, FocusArea: string(u.FocusArea),
		TimeCommitment: u.TimeCommitment, Answers: u.Answers, SensitiveData: consent.SensitiveData, Version: CalculationVersion()}
}

// Hash returns the input hash (hex SHA-256 of the inputs' JSON).
func (in Inputs) Hash() string { return store.Hash(in) }

// Meta is users/{uid}.profile: model.ProfileMeta and what explains the
// result (versions, the state of the birth data, the screening summary).
type Meta struct {
	model.ProfileMeta
	Versions  Versions         `firestore:"versions" json:"versions"`
	BirthData BirthData        `firestore:"birthData" json:"birthData"`
	Screening ScreeningSummary `firestore:"screening" json:"screening"`
	// FocusArea and TimeCommitment are Computed's effective values (the
	// user's own fields, else the questionnaire's answers), which the
	// client profile shows the coach and the daily insights use.
	FocusArea      model.FocusArea `firestore:"focusArea,omitempty" json:"focusArea,omitempty"`
	TimeCommitment int             `firestore:"timeCommitment,omitempty" json:"timeCommitment,omitempty"`
}

// Versions are the versions of each part of the calculation.
type Versions struct {
	Profile        string `firestore:"profile" json:"profile"`
	Astro          string `firestore:"astro" json:"astro"`
	Numerology     string `firestore:"numerology" json:"numerology"`
	QuestionBank   string `firestore:"questionBank" json:"questionBank"`
	ScreeningRules string `firestore:"screeningRules" json:"screeningRules"`
}

// Birth-data states.
const (
	StateGiven    = "given"
	StateMissing  = "missing"
	StateInvalid  = "invalid"
	StateKnown    = "known"
	StateUnknown  = "unknown"
	PlaceResolved = "resolved"
	PlaceNotFound = "not_found"
	PlaceAmbig    = "ambiguous"
	PlaceError    = "error"
	ChartError    = "error"
)

// BirthData records what the chart could use and why not.
type BirthData struct {
	// Date: given, missing, invalid.
	Date string `firestore:"date" json:"date"`
	// Time: known, unknown (not given, or unusable: see Notes), invalid.
	Time string `firestore:"time" json:"time"`
	// Place: resolved, missing, not_found, ambiguous, invalid, error.
	Place string `firestore:"place" json:"place"`
	// PlaceCandidates is the number of matching places when ambiguous.
	PlaceCandidates int `firestore:"placeCandidates,omitempty" json:"placeCandidates,omitempty"`
	// Zone is the IANA zone the birth time was read in; ZoneSource says
	// where it came from: birthplace (the resolved place's zone, which
	// shared/geo's table carries already checked against the place's
	// coordinates), ambiguous_birthplace (the best candidate's zone, when
	// every candidate's zone reads the birth moment alike: sharedZone),
	// user_time_zone (the user's current zone, a fallback) or none.
	// Profiles computed before profile-4 may say birthplace_coordinates
	// (the zone at the place's coordinates, then chosen at compute time).
	Zone       string `firestore:"zone,omitempty" json:"zone,omitempty"`
	ZoneSource string `firestore:"zoneSource" json:"zoneSource"`
	// Resolution of the local birth time: exact, gap or overlap (see
	// shared/geo; the pre-transition offset is used).
	Resolution string `firestore:"resolution,omitempty" json:"resolution,omitempty"`
	// Chart: computed, date_only (no birth time), no_houses (no place),
	// missing, error.
	Chart string `firestore:"chart" json:"chart"`
	// Notes explain, in plain English, what was not computed and why.
	Notes []string `firestore:"notes,omitempty" json:"notes,omitempty"`
}

// ScreeningSummary is the screening result without the answers: counts of
// bad input, the instruments' scores and the rules that set flags. Without
// the sensitive_data consent (SensitiveDataConsent false) the counts cover
// only the answers that are not screening answers, Scores is absent and
// Triggers is empty: the safety protocol's record (wellbeing_events) holds
// what raised it.
type ScreeningSummary struct {
	// SensitiveDataConsent is the consent state the profile was computed
	// under (whether the screening instruments were scored).
	SensitiveDataConsent bool                `firestore:"sensitiveDataConsent" json:"sensitiveDataConsent"`
	Completeness         float64             `firestore:"completeness" json:"completeness"`
	Answered             int                 `firestore:"answered" json:"answered"`
	UnknownQuestions     int                 `firestore:"unknownQuestions" json:"unknownQuestions"`
	InvalidAnswers       int                 `firestore:"invalidAnswers" json:"invalidAnswers"`
	DuplicateAnswers     int                 `firestore:"duplicateAnswers" json:"duplicateAnswers"`
	Scores               *screening.Scores   `firestore:"scores,omitempty" json:"scores,omitempty"`
	Triggers             []screening.Trigger `firestore:"triggers" json:"triggers"`
}

// Computed is a computed profile: the values written to users/{uid}.
type Computed struct {
	PersonalityType model.PersonalityType `json:"personalityType"`
	// NeuroTendencies is nil without the sensitive_data consent (the
	// stored field is removed).
	NeuroTendencies *model.NeuroTendencies `json:"neuroTendencies,omitempty"`
	// WellbeingFlags: without the sensitive_data consent only SuicideRisk
	// is evaluated (the safety items) and only it is stored;
	// DepressionRisk is then false because it was not evaluated.
	WellbeingFlags model.WellbeingFlags `json:"wellbeingFlags"`
	Chart          *astro.Chart         `json:"chart,omitempty"`
	Numerology     *numerology.Result   `json:"numerology,omitempty"`
	BirthPlace     *model.BirthPlace    `json:"birthPlace,omitempty"`
	Meta           Meta                 `json:"profile"`
	// FocusArea and TimeCommitment are the effective values: the user's
	// own fields, else the questionnaire's answers (client_profiles).
	FocusArea      model.FocusArea `json:"focusArea,omitempty"`
	TimeCommitment int             `json:"timeCommitment,omitempty"`
	// Screening is the screening result the profile was computed from (not
	// stored as such): without the sensitive_data consent, that of the
	// answers that are not screening answers, with the flag and triggers of
	// the safety items.
	Screening screening.Result `json:"-"`
}

// Compute computes the profile of u at now under consent. It never fails:
// missing or unusable birth data and bad answers are recorded in Meta
// (BirthData, Screening) and the parts that depend on them are left out.
//
// Without consent.SensitiveData the screening instruments are not scored:
// no scores, severities, neuroTendencies or depressionRisk. The safety
// items (PHQ-9 item 9, the safety question) are evaluated all the same
// and set suicideRisk, which raises the wellbeing protocol (vital
// interests, GDPR Art. 9(2)(c)). Traits, focus area and time commitment
// do not come from the screening instruments and are computed either way.
func Compute(u *model.User, consent Consent, now time.Time) Computed {
	in := InputsOf(u, consent)
	sr := screeningOf(u.Answers, consent)
	c := Computed{Screening: sr}
	c.PersonalityType.Traits = sr.Traits
	if c.PersonalityType.Traits == nil {
		c.PersonalityType.Traits = []string{}
	}
	if consent.SensitiveData {
		c.NeuroTendencies = &model.NeuroTendencies{ADHDScore: sr.NeuroTendencies.AdhdScore, AutismScore: sr.NeuroTendencies.AutismScore}
	}
	c.WellbeingFlags = model.WellbeingFlags{DepressionRisk: sr.WellbeingFlags.DepressionRisk, SuicideRisk: sr.WellbeingFlags.SuicideRisk}

	c.FocusArea = u.FocusArea
	if !c.FocusArea.Valid() {
		c.FocusArea = ""
		if f := model.FocusArea(sr.FocusArea); f.Valid() {
			c.FocusArea = f
		}
	}
	c.TimeCommitment = u.TimeCommitment
	if c.TimeCommitment <= 0 && sr.TimeCommitment != nil {
		c.TimeCommitment = *sr.TimeCommitment
	}

	var bd BirthData
	c.Chart, c.BirthPlace = chartOf(u, &bd)
	c.Numerology = numerologyOf(u, &bd)
	if c.Chart != nil {
		c.PersonalityType.AstroSign = c.Chart.Bodies.Sun.Sign
		c.PersonalityType.MoonSign = c.Chart.Bodies.Moon.Sign
		c.PersonalityType.MoonSignUncertain = c.Chart.Bodies.Moon.SignUncertain
		if c.Chart.Ascendant != nil {
			c.PersonalityType.RisingSign = c.Chart.Ascendant.Sign
		}
	}
	if c.Numerology != nil {
		c.PersonalityType.LifePathNumber = c.Numerology.LifePathNumber
	}

	c.Meta = Meta{
		ProfileMeta: model.ProfileMeta{
			ComputedAt: now.UTC(), CalculationVersion: in.Version, InputHash: in.Hash(),
			Completeness: completeness(sr.Completeness, &bd), Disclaimer: screening.Disclaimer,
		},
		Versions: Versions{Profile: RulesVersion, Astro: astro.CalculationVersion, Numerology: numerology.CalculationVersion,
			QuestionBank: sr.BankVersion, ScreeningRules: sr.RulesVersion},
		BirthData: bd,
		Screening: ScreeningSummary{SensitiveDataConsent: consent.SensitiveData, Completeness: sr.Completeness, Answered: sr.Answered,
			UnknownQuestions: sr.UnknownQuestions, InvalidAnswers: sr.InvalidAnswers, DuplicateAnswers: sr.DuplicateAnswers,
			Triggers: sr.Triggers},
		FocusArea: c.FocusArea, TimeCommitment: c.TimeCommitment,
	}
	if consent.SensitiveData {
		scores := sr.Scores
		c.Meta.Screening.Scores = &scores
	} else {
		c.Meta.Screening.Triggers = nil // the protocol's record holds them
	}
	if c.Meta.Screening.Triggers == nil {
		c.Meta.Screening.Triggers = []screening.Trigger{}
	}
	return c
}

// screeningOf scores the answers under consent. With the sensitive_data
// consent it is the full screening result. Without it, it is the result of
// the answers that are not screening answers (traits, focus area, time
// commitment; unknown and malformed answers counted), with the
// questionnaire's completeness over those questions only, and the
// suicideRisk flag and triggers of the safety items: no instrument score,
// severity, neuroTendencies or depressionRisk.
func screeningOf(answers []model.Answer, consent Consent) screening.Result {
	if consent.SensitiveData {
		return scoreAnswers(answers, everyAnswer)
	}
	sr := scoreAnswers(answers, notSensitive)
	if core := coreQuestionsNotSensitive(); core > 0 {
		answered := scoreAnswers(answers, coreNotSensitive).Answered
		sr.Completeness = float64(answered*100/core) / 100 // rounded down, as screening does
	}
	safety := scoreAnswers(answers, safetyItem)
	sr.Scores, sr.NeuroTendencies = screening.Scores{}, screening.NeuroTendencies{}
	sr.WellbeingFlags = screening.WellbeingFlags{SuicideRisk: safety.WellbeingFlags.SuicideRisk}
	sr.Triggers = []screening.Trigger{}
	for _, t := range safety.Triggers {
		if t.Flag == "suicideRisk" {
			sr.Triggers = append(sr.Triggers, t)
		}
	}
	return sr
}

// coreQuestionsNotSensitive counts the bank's questions that count towards
// completeness and are not screening questions.
func coreQuestionsNotSensitive() int {
	n := 0
	for i := range screening.DefaultBank().Questions {
		if coreNotSensitive(&screening.DefaultBank().Questions[i]) {
			n++
		}
	}
	return n
}

// completeness is 0.75 × the questionnaire's completeness + 0.25 × the
// birth data's (date 0.5, time 0.25, resolved place 0.25), rounded down to
// 2 decimals.
func completeness(answers float64, bd *BirthData) float64 {
	birth := 0.0
	if bd.Date == StateGiven {
		birth += 0.5
		if bd.Time == StateKnown {
			birth += 0.25
		}
		if bd.Place == PlaceResolved {
			birth += 0.25
		}
	}
	v := 0.75*answers + 0.25*birth
	return math.Floor(v*100+1e-9) / 100
}

// chartOf computes the natal chart from the birth data, recording in bd
// what was used. Without a birth date there is no chart.
func chartOf(u *model.User, bd *BirthData) (*astro.Chart, *model.BirthPlace) {
	bd.Date, bd.Time, bd.Place, bd.ZoneSource, bd.Chart = StateMissing, StateUnknown, StateMissing, "none", StateMissing
	if strings.TrimSpace(u.BirthLocation) == "" {
		bd.Notes = append(bd.Notes, "birthplace not given: no ascendant or houses")
	}

	// Birthplace (stored even without a usable date).
	var place *geo.Place
	var zone string
	if q := strings.TrimSpace(u.BirthLocation); q != "" {
		r, err := geo.Lookup(q)
		switch {
		case err == nil && !r.Ambiguous:
			bd.Place, place, zone, bd.ZoneSource = PlaceResolved, &r.Best, r.Best.TimeZone, "birthplace"
		case err == nil:
			bd.Place, bd.PlaceCandidates = PlaceAmbig, r.Matches
			bd.Notes = append(bd.Notes, fmt.Sprintf("birthplace is ambiguous (%d places match): no ascendant or houses until it is made precise (e.g. add the country)", r.Matches))
			if z := sharedZone(r, birthMoments(u.BirthDate, u.BirthTime)); z != "" {
				zone, bd.ZoneSource = z, "ambiguous_birthplace"
			}
		case fault.CodeOf(err) == fault.NotFound:
			bd.Place = PlaceNotFound
			bd.Notes = append(bd.Notes, "birthplace not found: no ascendant or houses")
		case fault.CodeOf(err) == fault.InvalidArgument:
			bd.Place = StateInvalid
			bd.Notes = append(bd.Notes, "birthplace text is not usable: no ascendant or houses")
		default:
			bd.Place = PlaceError
			bd.Notes = append(bd.Notes, "birthplace lookup failed: no ascendant or houses")
		}
	}
	if zone == "" && u.TimeZone != "" && u.BirthDate != "" {
		if _, err := geo.LoadZone(u.TimeZone); err == nil {
			zone, bd.ZoneSource = u.TimeZone, "user_time_zone"
			bd.Notes = append(bd.Notes, "birth day and time read in the user's current time zone (birthplace not resolved)")
		}
	}
	bd.Zone = zone
	if u.BirthDate == "" {
		bd.Notes = append(bd.Notes, "birth date not given: no chart")
		return nil, birthPlaceOf(place)
	}
	day, err := geo.ParseCivil(u.BirthDate, "00:00")
	if err != nil {
		bd.Date = StateInvalid
		bd.Notes = append(bd.Notes, "birth date is not a valid YYYY-MM-DD date: no chart")
		return nil, birthPlaceOf(place)
	}
	bd.Date = StateGiven

	// Birth time.
	in := astro.ChartInput{TimeUnknown: true}
	if u.BirthTime != "" {
		civil, err := geo.ParseCivil(u.BirthDate, u.BirthTime)
		switch {
		case err != nil:
			bd.Time = StateInvalid
			bd.Notes = append(bd.Notes, "birth time is not a valid HH:MM time: date-only chart")
		case zone == "":
			bd.Notes = append(bd.Notes, "birth time given but the time zone of birth is unknown: date-only chart")
		default:
			inst, err := geo.LocalToUTC(civil, zone)
			if err != nil {
				bd.Time = StateInvalid
				bd.Notes = append(bd.Notes, "birth time could not be converted to UTC: date-only chart")
				break
			}
			bd.Time, bd.Resolution = StateKnown, string(inst.Resolution)
			in = astro.ChartInput{Time: inst.UTC}
			if inst.Resolution != geo.Exact {
				bd.Notes = append(bd.Notes, fmt.Sprintf("birth time falls in a daylight-saving %s: read with the offset before the change", inst.Resolution))
			}
		}
	}
	if in.TimeUnknown {
		loc := time.UTC
		if zone != "" {
			loc, _ = geo.LoadZone(zone)
		} else {
			bd.Notes = append(bd.Notes, "day of birth taken in UTC (time zone of birth unknown)")
		}
		d, err := astro.DayIn(day.Year, day.Month, day.Day, loc)
		if err != nil {
			bd.Chart = ChartError
			bd.Notes = append(bd.Notes, "chart could not be computed for the birth date")
			return nil, birthPlaceOf(place)
		}
		in.Day = d
	}
	if place != nil {
		in.Location = &astro.Location{Latitude: place.Latitude, Longitude: place.Longitude}
	}
	ch, err := astro.ComputeChart(in)
	if err != nil {
		bd.Chart = ChartError
		bd.Notes = append(bd.Notes, "chart could not be computed: "+fault.MessageOf(err))
		return nil, birthPlaceOf(place)
	}
	switch {
	case in.TimeUnknown:
		bd.Chart = "date_only"
	case place == nil:
		bd.Chart = "no_houses"
	default:
		bd.Chart = "computed"
	}
	return &ch, birthPlaceOf(place)
}

// sharedZone returns the zone to read the birth data of an ambiguous
// birthplace in, or "" when the matching places of r disagree: the best
// candidate's zone when every candidate's zone reads each of moments as
// the same instant (birthMoments). Zones that differ only in name at that
// date count as one: shared/geo's table gives corrected places the zone at
// their coordinates, so candidates that GeoNames gave one zone may carry
// two that agree at most dates (Asia/Bangkok and Asia/Ho_Chi_Minh since
// 1975). Without moments (no valid birth date) the zones must be equal.
// When r lists fewer candidates than it matched (more than
// geo.MaxCandidates), the unlisted places may be in any zone: "".
func sharedZone(r geo.Result, moments []geo.Civil) string {
	ps := r.Candidates
	if len(ps) == 0 || r.Matches > len(ps) {
		return ""
	}
	zone := ps[0].TimeZone
	for _, p := range ps[1:] {
		if p.TimeZone != zone && (len(moments) == 0 || !sameInstants(zone, p.TimeZone, moments)) {
			return ""
		}
	}
	return zone
}

// birthMoments returns the local moments whose reading decides a birth
// zone: the birth time, or, when it is missing or invalid (a date-only
// chart), 00:00, 12:00 and 23:59 of the birth date; nil when the date is
// not valid.
func birthMoments(date, clock string) []geo.Civil {
	if c, err := geo.ParseCivil(date, clock); err == nil && clock != "" {
		return []geo.Civil{c}
	}
	var out []geo.Civil
	for _, hm := range []string{"00:00", "12:00", "23:59"} {
		c, err := geo.ParseCivil(date, hm)
		if err != nil {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// sameInstants reports whether zones a and b read every wall time of
// moments as the same instant (an unknown zone or a wall time either
// cannot convert counts as a difference).
func sameInstants(a, b string, moments []geo.Civil) bool {
	for _, c := range moments {
		x, errA := geo.LocalToUTC(c, a)
		y, errB := geo.LocalToUTC(c, b)
		if errA != nil || errB != nil || !x.UTC.Equal(y.UTC) {
			return false
		}
	}
	return true
}

func birthPlaceOf(p *geo.Place) *model.BirthPlace {
	if p == nil {
		return nil
	}
	return &model.BirthPlace{Name: p.Name, Country: p.Country, Latitude: p.Latitude, Longitude: p.Longitude, TimeZone: p.TimeZone}
}

// numerologyOf computes numerology from the birth date and the display
// name. A display name holding an e-mail address ("anna.svensson@gmail.com",
// as many sign-up flows set it) counts only the text before its first '@'
// ("anna.svensson" → ANNA SVENSSON): the mail domain is not part of the
// person's name. A name the name numbers cannot use (no Latin letters, or
// more than numerology.MaxNameLetters letters) gives the date numbers only,
// with a note saying which.
func numerologyOf(u *model.User, bd *BirthData) *numerology.Result {
	if bd.Date != StateGiven {
		return nil
	}
	b, err := numerology.ParseDate(u.BirthDate)
	if err != nil {
		return nil
	}
	name := u.DisplayName
	if i := strings.IndexByte(name, '@'); i >= 0 && strings.TrimSpace(name[:i]) != "" {
		name = name[:i]
		bd.Notes = append(bd.Notes, "display name is an e-mail address: name numbers from the part before the @ only")
	}
	r, err := numerology.Calculate(b, name)
	if err != nil {
		switch {
		case errors.Is(err, numerology.ErrNameTooLong):
			bd.Notes = append(bd.Notes, fmt.Sprintf("display name has more than %d letters: numerology name numbers left out", numerology.MaxNameLetters))
		default:
			bd.Notes = append(bd.Notes, "display name has no usable Latin letters: numerology name numbers left out")
		}
		if r, err = numerology.Calculate(b, ""); err != nil {
			return nil
		}
	}
	return &r
}

// InsightDue returns users/{uid}.insightDueAt as it should be at now: nil
// when the user has not opted in; otherwise the stored value when it is
// still an InsightHour (default 7) o'clock in the user's zone, a
// daylight-saving gap's hour resolved as geo.HourOn does (the
// daily-insights worker advances it so), else the next such instant after
// now — or, when the hour or zone changed, the new hour of the local date
// the stored value was pending for, if that is earlier (already passed:
// the next tick delivers that date late instead of skipping it).
func InsightDue(u *model.User, now time.Time) *time.Time {
	if !u.InsightsOptIn {
		return nil
	}
	hour := DefaultInsightHour
	if u.InsightHour != nil && *u.InsightHour >= 0 && *u.InsightHour <= 23 {
		hour = *u.InsightHour
	}
	loc := u.Location()
	d := u.InsightDueAt
	if d != nil && isLocalHour(*d, hour, loc) {
		return d
	}
	t := geo.NextHour(now, loc, hour)
	if d != nil {
		// d is a delivery still pending (the worker advances it only once
		// delivered): its local date stays pending under the new hour or
		// zone, delivered by the next tick when that date's new hour has
		// already passed, instead of being skipped for the next date. That
		// date is d's in the old zone, which is not known here: read in a
		// zone further east, d falls on a later date than it was pending
		// for, so the pending date is taken as today's when that is
		// earlier (when today was delivered already, the tick finds its
		// insight existing and only advances).
		y, m, day := d.In(loc).Date()
		if ty, tm, td := now.In(loc).Date(); ty < y || ty == y && (tm < m || tm == m && td < day) {
			y, m, day = ty, tm, td
		}
		if p := geo.HourOn(y, m, day, hour, loc).UTC(); p.Before(t) {
			t = p
		}
	}
	return &t
}

// isLocalHour reports whether t is an hour:00 of loc as geo.HourOn (and
// the insights worker, insights.Delivery) resolves it: the clock reads
// hour:00 at t, or hour:00 of a local date fell in a daylight-saving gap
// and t is it read with the offset before the jump (the clock then reads
// a later time, on that date or, for a gap at midnight's edge, the next).
func isLocalHour(t time.Time, hour int, loc *time.Location) bool {
	l := t.In(loc)
	if l.Hour() == hour && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0 {
		return true
	}
	for back := 0; back < 2; back++ {
		day := time.Date(l.Year(), l.Month(), l.Day()-back, 12, 0, 0, 0, time.UTC)
		in, err := geo.LocalToUTC(geo.Civil{Year: day.Year(), Month: day.Month(), Day: day.Day(), Hour: hour}, loc.String())
		if err == nil && in.Resolution == geo.Gap && in.UTC.Equal(t) {
			return true
		}
	}
	return false
}
