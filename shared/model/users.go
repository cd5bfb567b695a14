package model

import (
	"time"
)

// User is users/{uid}. The document id is the Firebase Auth uid.
//
// The user writes the onboarding fields; PersonalityType, NeuroTendencies,
// WellbeingFlags, Chart, Numerology, BirthPlace and Profile are server-owned.
type User struct {
	UserID        string    `firestore:"userId" json:"userId"`
	BirthDate     string    `firestore:"birthDate,omitempty" json:"birthDate,omitempty"`         // YYYY-MM-DD
	BirthTime     string    `firestore:"birthTime,omitempty" json:"birthTime,omitempty"`         // HH:MM local, optional
	BirthLocation string    `firestore:"birthLocation,omitempty" json:"birthLocation,omitempty"` // free text, e.g. "Stockholm, Sweden"
	PhoneNumber   string    `firestore:"phoneNumber,omitempty" json:"phoneNumber,omitempty"`
	CreatedAt     time.Time `firestore:"createdAt" json:"createdAt"`
	UIStyle       UIStyle   `firestore:"uiStyle,omitempty" json:"uiStyle,omitempty"`
	FocusArea     FocusArea `firestore:"focusArea,omitempty" json:"focusArea,omitempty"`
	// TimeCommitment is the preferred daily time in minutes.
	TimeCommitment int      `firestore:"timeCommitment,omitempty" json:"timeCommitment,omitempty"`
	Answers        []Answer `firestore:"answers,omitempty" json:"answers,omitempty"`

	// Added fields, written by the user.
	DisplayName       string `firestore:"displayName,omitempty" json:"displayName,omitempty"`
	PreferredPronouns string `firestore:"preferredPronouns,omitempty" json:"preferredPronouns,omitempty"`
	Locale            string `firestore:"locale,omitempty" json:"locale,omitempty"`     // BCP 47, e.g. "sv-SE"
	TimeZone          string `firestore:"timeZone,omitempty" json:"timeZone,omitempty"` // IANA, e.g. "Europe/Stockholm"
	// InsightsOptIn turns the daily insight on; InsightHour is the local
	// delivery hour (0–23, default 7).
	InsightsOptIn bool `firestore:"insightsOptIn,omitempty" json:"insightsOptIn,omitempty"`
	InsightHour   *int `firestore:"insightHour,omitempty" json:"insightHour,omitempty"`

	// Server-owned.
	PersonalityType *PersonalityType `firestore:"personalityType,omitempty" json:"personalityType,omitempty"`
	NeuroTendencies *NeuroTendencies `firestore:"neuroTendencies,omitempty" json:"neuroTendencies,omitempty"`
	WellbeingFlags  *WellbeingFlags  `firestore:"wellbeingFlags,omitempty" json:"wellbeingFlags,omitempty"`
	ProgressLevel   int              `firestore:"progressLevel,omitempty" json:"progressLevel,omitempty"`
	BirthPlace      *BirthPlace      `firestore:"birthPlace,omitempty" json:"birthPlace,omitempty"`
	Chart           map[string]any   `firestore:"chart,omitempty" json:"chart,omitempty"`           // shape: shared/astro Chart
	Numerology      map[string]any   `firestore:"numerology,omitempty" json:"numerology,omitempty"` // shape: shared/numerology
	Profile         *ProfileMeta     `firestore:"profile,omitempty" json:"profile,omitempty"`
	UpdatedAt       *time.Time       `firestore:"updatedAt,omitempty" json:"updatedAt,omitempty"`
	// InsightDueAt is the next UTC instant of the daily insight (the next
	// InsightHour in TimeZone), set while InsightsOptIn is true and
	// advanced after each delivery; the hourly fan-out queries
	// insightsOptIn == true && insightDueAt <= now (shared/indexes).
	// Server-owned.
	InsightDueAt *time.Time `firestore:"insightDueAt,omitempty" json:"insightDueAt,omitempty"`
}

// UserClientFields are the fields of users/{uid} a client may write.
var UserClientFields = []string{
	"userId", "birthDate", "birthTime", "birthLocation", "phoneNumber", "createdAt", "uiStyle",
	"focusArea", "timeCommitment", "answers", "displayName", "preferredPronouns", "locale",
	"timeZone", "insightsOptIn", "insightHour", "updatedAt",
}

// UserServerFields are the server-owned fields of users/{uid}.
var UserServerFields = []string{
	"personalityType", "neuroTendencies", "wellbeingFlags", "progressLevel", "birthPlace",
	"chart", "numerology", "profile", "insightDueAt",
}

// Answer is one onboarding answer. Answer is a string or a number.
type Answer struct {
	QuestionID string `firestore:"questionId" json:"questionId"`
	Answer     any    `firestore:"answer" json:"answer"`
}

// PersonalityType is users.personalityType (server-owned).
type PersonalityType struct {
	Traits         []string `firestore:"traits" json:"traits"`
	AstroSign      string   `firestore:"astroSign,omitempty" json:"astroSign,omitempty"`
	LifePathNumber int      `firestore:"lifePathNumber,omitempty" json:"lifePathNumber,omitempty"`
	MoonSign       string   `firestore:"moonSign,omitempty" json:"moonSign,omitempty"`
	RisingSign     string   `firestore:"risingSign,omitempty" json:"risingSign,omitempty"`
	// MoonSignUncertain is set when the birth time is unknown and the Moon
	// changed sign during the birth day.
	MoonSignUncertain bool `firestore:"moonSignUncertain,omitempty" json:"moonSignUncertain,omitempty"`
}

// NeuroTendencies is users.neuroTendencies (server-owned); scores are 0–10.
// Screening results, not diagnoses.
type NeuroTendencies struct {
	ADHDScore   *int `firestore:"adhdScore" json:"adhdScore"`
	AutismScore *int `firestore:"autismScore" json:"autismScore"`
}

// WellbeingFlags is users.wellbeingFlags (server-owned). Screening results,
// not diagnoses.
type WellbeingFlags struct {
	DepressionRisk bool `firestore:"depressionRisk" json:"depressionRisk"`
	SuicideRisk    bool `firestore:"suicideRisk" json:"suicideRisk"`
}

// BirthPlace is the resolved birth location (server-owned).
type BirthPlace struct {
	Name      string  `firestore:"name" json:"name"`
	Country   string  `firestore:"country" json:"country"`
	Latitude  float64 `firestore:"latitude" json:"latitude"`
	Longitude float64 `firestore:"longitude" json:"longitude"`
	TimeZone  string  `firestore:"timeZone" json:"timeZone"`
}

// ProfileMeta records when and how the profile was computed (server-owned).
type ProfileMeta struct {
	ComputedAt         time.Time `firestore:"computedAt" json:"computedAt"`
	CalculationVersion string    `firestore:"calculationVersion" json:"calculationVersion"`
	InputHash          string    `firestore:"inputHash" json:"inputHash"`
	Completeness       float64   `firestore:"completeness" json:"completeness"`
	Disclaimer         string    `firestore:"disclaimer,omitempty" json:"disclaimer,omitempty"`
}

// UIStyle is users.uiStyle.
type UIStyle string

// UI styles.
const (
	UIStyleClean        UIStyle = "clean"
	UIStyleProfessional UIStyle = "professional"
	UIStyleCalm         UIStyle = "calm"
)

// Valid reports whether s is a known UI style.
func (s UIStyle) Valid() bool {
	switch s {
	case UIStyleClean, UIStyleProfessional, UIStyleCalm:
		return true
	}
	return false
}

// FocusArea is users.focusArea, the primary goal chosen at onboarding.
type FocusArea string

// Focus areas.
const (
	FocusStressRelief  FocusArea = "stress_relief"
	FocusCareerGrowth  FocusArea = "career_growth"
	FocusRelationships FocusArea = "relationships"
	FocusSelfDiscovery FocusArea = "self_discovery"
	FocusWellbeing     FocusArea = "wellbeing"
	FocusCreativity    FocusArea = "creativity"
	FocusMindfulness   FocusArea = "mindfulness"
	FocusSleep         FocusArea = "sleep"
	FocusSpirituality  FocusArea = "spirituality"
	FocusPurpose       FocusArea = "purpose"
)

// FocusAreas lists every focus area.
var FocusAreas = []FocusArea{FocusStressRelief, FocusCareerGrowth, FocusRelationships,
	FocusSelfDiscovery, FocusWellbeing, FocusCreativity, FocusMindfulness, FocusSleep,
	FocusSpirituality, FocusPurpose}

// Valid reports whether f is a known focus area.
func (f FocusArea) Valid() bool {
	for _, x := range FocusAreas {
		if f == x {
			return true
		}
	}
	return false
}

// ClientProfile is client_profiles/{uid}: the part of a user's profile a
// coach assigned to them may read, written only by the server from
// users/{uid}. It carries no wellbeing flags, neuro tendencies, raw
// answers, phone number or birth data.
type ClientProfile struct {
	UserID         string    `firestore:"userId" json:"userId"`
	DisplayName    string    `firestore:"displayName,omitempty" json:"displayName,omitempty"`
	FocusArea      FocusArea `firestore:"focusArea,omitempty" json:"focusArea,omitempty"`
	TimeCommitment int       `firestore:"timeCommitment,omitempty" json:"timeCommitment,omitempty"`
	Traits         []string  `firestore:"traits,omitempty" json:"traits,omitempty"`
	AstroSign      string    `firestore:"astroSign,omitempty" json:"astroSign,omitempty"`
	CoachIDs       []string  `firestore:"coachIds" json:"coachIds"`
	UpdatedAt      time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// CoachAssignment is users/{uid}/coaches/{coachUid}: the coach is assigned
// to the user. Written only by the server: on enrolment in a program the
// coach owns, on joining the coach's live session, or by an admin. Rules and
// functions use this one definition of "assigned".
type CoachAssignment struct {
	CoachID   string           `firestore:"coachId" json:"coachId"`
	UserID    string           `firestore:"userId" json:"userId"`
	Source    AssignmentSource `firestore:"source" json:"source"`
	SourceID  string           `firestore:"sourceId,omitempty" json:"sourceId,omitempty"`
	CreatedAt time.Time        `firestore:"createdAt" json:"createdAt"`
}

// AssignmentSource says why a coach is assigned to a user.
type AssignmentSource string

// Assignment sources.
const (
	AssignedByEnrollment  AssignmentSource = "enrollment"
	AssignedByLiveSession AssignmentSource = "live_session"
	AssignedByAdmin       AssignmentSource = "admin"
)

// Valid reports whether s is a known assignment source.
func (s AssignmentSource) Valid() bool {
	switch s {
	case AssignedByEnrollment, AssignedByLiveSession, AssignedByAdmin:
		return true
	}
	return false
}

// CoachProfile is coach_profiles/{coachUid}: the coach's public profile,
// readable by every signed-in user and written by the coach (displayName,
// bio). It holds nothing server-owned: the Stripe Connect state is in
// CoachConnect (coach_profiles/{coachUid}/private/connect).
type CoachProfile struct {
	CoachID     string `firestore:"coachId" json:"coachId"`
	DisplayName string `firestore:"displayName" json:"displayName"`
	Bio         string `firestore:"bio,omitempty" json:"bio,omitempty"`
}

// CoachConnect is coach_profiles/{coachUid}/private/connect: the coach's
// Stripe Connect state. Server-owned (the Connect onboarding callable and
// the account.updated webhook write it; the payouts job reads it); only
// that coach and admins may read it, no client writes it.
type CoachConnect struct {
	CoachID string `firestore:"coachId" json:"coachId"`
	// StripeAccountID is the coach's Express account (acct_…), set once
	// when the account is created.
	StripeAccountID string `firestore:"stripeAccountId,omitempty" json:"stripeAccountId,omitempty"`
	// PayoutsEnabled says whether the account can receive transfers.
	PayoutsEnabled bool `firestore:"payoutsEnabled" json:"payoutsEnabled"`
	// PayoutsReason is why payouts are disabled (Stripe's disabled reason
	// or due requirement names; "" when enabled).
	PayoutsReason string `firestore:"payoutsReason,omitempty" json:"payoutsReason,omitempty"`
	// AccountUpdated is the time of the account state last applied (the
	// webhook's order guard): an account.updated event's creation time,
	// or the second in which the daily reconciliation fetched the account
	// (functions/payments, Reconciliation).
	AccountUpdated *time.Time `firestore:"accountUpdatedAt,omitempty" json:"accountUpdatedAt,omitempty"`
}

// DecodeCoachConnect reads a CoachConnect document's data (as
// DocumentSnapshot.Data returns it). It never fails: a field that is
// missing or of the wrong type reads as its zero value, which is the safe
// reading of each (no account, payouts disabled, no account.updated event
// applied yet), so one malformed field neither hides the account id from
// erasure nor blocks the webhook that would rewrite the document. Every
// reader of coach_profiles/{uid}/private/connect uses it.
func DecodeCoachConnect(data map[string]any) CoachConnect {
	var c CoachConnect
	c.CoachID, _ = data["coachId"].(string)
	c.StripeAccountID, _ = data["stripeAccountId"].(string)
	c.PayoutsEnabled, _ = data["payoutsEnabled"].(bool)
	c.PayoutsReason, _ = data["payoutsReason"].(string)
	if t, ok := data["accountUpdatedAt"].(time.Time); ok {
		c.AccountUpdated = &t
	}
	return c
}
