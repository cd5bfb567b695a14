package model

import "time"

// Activation is activations/{activationId}: a coach- or admin-created activity.
type Activation struct {
	ActivationID string         `firestore:"activationId" json:"activationId"`
	Title        string         `firestore:"title" json:"title"`
	Type         ActivationType `firestore:"type" json:"type"`
	Description  string         `firestore:"description" json:"description"`
	// Duration is the estimated duration in minutes.
	Duration          int        `firestore:"duration" json:"duration"`
	MediaURL          *string    `firestore:"mediaUrl" json:"mediaUrl"`
	Category          string     `firestore:"category" json:"category"`
	CreatedBy         string     `firestore:"createdBy" json:"createdBy"`
	Difficulty        string     `firestore:"difficultyLevel,omitempty" json:"difficultyLevel,omitempty"`
	Tags              []string   `firestore:"tags,omitempty" json:"tags,omitempty"`
	RequiredEquipment []string   `firestore:"requiredEquipment,omitempty" json:"requiredEquipment,omitempty"`
	CreatedAt         *time.Time `firestore:"createdAt,omitempty" json:"createdAt,omitempty"`
	UpdatedAt         *time.Time `firestore:"updatedAt,omitempty" json:"updatedAt,omitempty"`
}

// ActivationType is activations.type.
type ActivationType string

// Activation types.
const (
	ActivationAudio            ActivationType = "audio"
	ActivationVideo            ActivationType = "video"
	ActivationTextPrompt       ActivationType = "text_prompt"
	ActivationLiveInteraction  ActivationType = "live_interaction"
	ActivationPhysicalExercise ActivationType = "physical_exercise"
)

// Valid reports whether t is a known activation type.
func (t ActivationType) Valid() bool {
	switch t {
	case ActivationAudio, ActivationVideo, ActivationTextPrompt, ActivationLiveInteraction, ActivationPhysicalExercise:
		return true
	}
	return false
}

// Difficulty is programs.difficulty and activations.difficultyLevel.
type Difficulty string

// Difficulties.
const (
	DifficultyBeginner     Difficulty = "beginner"
	DifficultyIntermediate Difficulty = "intermediate"
	DifficultyAdvanced     Difficulty = "advanced"
)

// Valid reports whether d is a known difficulty.
func (d Difficulty) Valid() bool {
	switch d {
	case DifficultyBeginner, DifficultyIntermediate, DifficultyAdvanced:
		return true
	}
	return false
}

// Program is programs/{programId}.
type Program struct {
	ProgramID     string     `firestore:"programId" json:"programId"`
	Title         string     `firestore:"title" json:"title"`
	Description   string     `firestore:"description" json:"description"`
	DurationWeeks int        `firestore:"durationWeeks" json:"durationWeeks"`
	CreatedBy     []string   `firestore:"createdBy" json:"createdBy"`
	Modules       []Module   `firestore:"modules" json:"modules"`
	Difficulty    Difficulty `firestore:"difficulty" json:"difficulty"`
	Category      string     `firestore:"category" json:"category"`
	Tags          []string   `firestore:"tags" json:"tags"`
	// Price is in the currency's minor units (49900 = 499.00 SEK), nil for
	// a free program. (The spec's example "499" is read as major units of
	// the same price; every amount here is minor units.)
	Price    *int64  `firestore:"price" json:"price"`
	Currency *string `firestore:"currency" json:"currency"`
	// CoachSplits gives each coach's share of the coaches' part in basis
	// points (summing to 10000); absent means equal shares.
	CoachSplits map[string]int `firestore:"coachSplits,omitempty" json:"coachSplits,omitempty"`
	// CommissionBps overrides the platform commission for this program.
	CommissionBps *int       `firestore:"commissionBps,omitempty" json:"commissionBps,omitempty"`
	CreatedAt     *time.Time `firestore:"createdAt,omitempty" json:"createdAt,omitempty"`
	UpdatedAt     *time.Time `firestore:"updatedAt,omitempty" json:"updatedAt,omitempty"`
}

// ProgramCoachIDs returns the coaches of a program document's data: the
// string elements of createdBy, in order, ignoring elements of another
// type and a createdBy that is not a list. Programs are written by their
// coaches and the rules bound most of their fields only in size, so the
// payments webhook (whom an enrolment assigns) and the payouts (whom a
// sale pays) read programs field by field, and read the coaches this one
// way.
func ProgramCoachIDs(data map[string]any) []string {
	list, _ := data["createdBy"].([]any)
	var out []string
	for _, v := range list {
		if c, ok := v.(string); ok {
			out = append(out, c)
		}
	}
	return out
}

// Module is one entry of programs.modules.
type Module struct {
	ModuleID    string             `firestore:"moduleId" json:"moduleId"`
	Title       string             `firestore:"title" json:"title"`
	Activations []ModuleActivation `firestore:"activations" json:"activations"`
}

// ModuleActivation is one entry of programs.modules.activations.
type ModuleActivation struct {
	ActivationID string `firestore:"activationId" json:"activationId"`
	Day          int    `firestore:"day" json:"day"`
	IsOptional   bool   `firestore:"isOptional" json:"isOptional"`
}

// UserActivation is user_activations/{id}: one user doing one activation,
// with the journal entry (Log).
type UserActivation struct {
	UserActivationID string           `firestore:"userActivationId" json:"userActivationId"`
	UserID           string           `firestore:"userId" json:"userId"`
	ActivationID     string           `firestore:"activationId" json:"activationId"`
	ProgramID        *string          `firestore:"programId" json:"programId"`
	AssignedBy       *string          `firestore:"assignedBy" json:"assignedBy"`
	StartedAt        *time.Time       `firestore:"startedAt" json:"startedAt"`
	CompletedAt      *time.Time       `firestore:"completedAt" json:"completedAt"`
	Status           ActivationStatus `firestore:"status" json:"status"`
	Log              *JournalLog      `firestore:"log,omitempty" json:"log,omitempty"`
	SessionID        *string          `firestore:"sessionId" json:"sessionId"`
	// ShareWithCoach lets the assigned coach read the journal text
	// (private by default; see client rules).
	ShareWithCoach   bool       `firestore:"shareWithCoach,omitempty" json:"shareWithCoach,omitempty"`
	FeedbackForCoach string     `firestore:"feedbackForCoach,omitempty" json:"feedbackForCoach,omitempty"`
	CreatedAt        *time.Time `firestore:"createdAt,omitempty" json:"createdAt,omitempty"`
	UpdatedAt        *time.Time `firestore:"updatedAt,omitempty" json:"updatedAt,omitempty"`
}

// ActivationStatus is user_activations.status.
type ActivationStatus string

// Activation statuses.
const (
	StatusAssigned   ActivationStatus = "assigned"
	StatusInProgress ActivationStatus = "in_progress"
	StatusCompleted  ActivationStatus = "completed"
	StatusSkipped    ActivationStatus = "skipped"
)

// Valid reports whether s is a known status.
func (s ActivationStatus) Valid() bool {
	switch s {
	case StatusAssigned, StatusInProgress, StatusCompleted, StatusSkipped:
		return true
	}
	return false
}

// JournalLog is user_activations.log: the Dynamic Journal entry.
// AIAnalysis is server-owned.
type JournalLog struct {
	Text        string      `firestore:"text" json:"text"`
	AudioURL    *string     `firestore:"audioUrl" json:"audioUrl"`
	VideoURL    *string     `firestore:"videoUrl" json:"videoUrl"`
	MoodBefore  *string     `firestore:"moodBefore" json:"moodBefore"`
	MoodAfter   *string     `firestore:"moodAfter" json:"moodAfter"`
	Rating      *int        `firestore:"rating" json:"rating"`
	AIAnalysis  *AIAnalysis `firestore:"aiAnalysis" json:"aiAnalysis"`
	PrivateNote string      `firestore:"privateNote,omitempty" json:"privateNote,omitempty"`
}

// AIAnalysis is user_activations.log.aiAnalysis (server-owned), as
// shared/analysis.Result writes it.
type AIAnalysis struct {
	SentimentScore float64        `firestore:"sentimentScore" json:"sentimentScore"` // −1..1
	Magnitude      float64        `firestore:"magnitude" json:"magnitude"`
	Label          string         `firestore:"label" json:"label"` // positive, negative, neutral
	KeyThemes      []string       `firestore:"keyThemes" json:"keyThemes"`
	MoodShift      MoodShift      `firestore:"moodShift" json:"moodShift"`
	Crisis         bool           `firestore:"crisis" json:"crisis"`
	CrisisDetails  *CrisisDetails `firestore:"crisisDetails,omitempty" json:"crisisDetails,omitempty"`
	Language       string         `firestore:"language" json:"language"`
	Provider       string         `firestore:"provider" json:"provider"`
	ModelVersion   string         `firestore:"modelVersion" json:"modelVersion"`
	Fallback       string         `firestore:"fallback,omitempty" json:"fallback,omitempty"`
	// ContentHash is the hash of the analysed inputs (text, moods, rating):
	// the trigger re-analyses only when it changes.
	ContentHash string    `firestore:"contentHash" json:"contentHash"`
	AnalyzedAt  time.Time `firestore:"analyzedAt" json:"analyzedAt"`
}

// MoodShift is the change from moodBefore to moodAfter.
type MoodShift struct {
	Before        string   `firestore:"before,omitempty" json:"before,omitempty"`
	After         string   `firestore:"after,omitempty" json:"after,omitempty"`
	BeforeValence *float64 `firestore:"beforeValence,omitempty" json:"beforeValence,omitempty"`
	AfterValence  *float64 `firestore:"afterValence,omitempty" json:"afterValence,omitempty"`
	Shift         *float64 `firestore:"shift,omitempty" json:"shift,omitempty"`
	Label         string   `firestore:"label" json:"label"` // improved, worsened, unchanged, unknown
}

// CrisisDetails says why a crisis flag is set (rule ids, never text).
type CrisisDetails struct {
	Reasons        []string `firestore:"reasons" json:"reasons"`
	Rules          []string `firestore:"rules,omitempty" json:"rules,omitempty"`
	RuleSetVersion string   `firestore:"ruleSetVersion" json:"ruleSetVersion"`
}

// LiveSession is live_sessions/{liveSessionId}.
type LiveSession struct {
	LiveSessionID       string              `firestore:"liveSessionId" json:"liveSessionId"`
	Title               string              `firestore:"title" json:"title"`
	ActivationID        *string             `firestore:"activationId" json:"activationId"`
	ProgramID           *string             `firestore:"programId" json:"programId"`
	CoachID             string              `firestore:"coachId" json:"coachId"`
	Participants        []string            `firestore:"participants" json:"participants"`
	StartTime           time.Time           `firestore:"startTime" json:"startTime"`
	EndTime             time.Time           `firestore:"endTime" json:"endTime"`
	Status              LiveSessionStatus   `firestore:"status" json:"status"`
	MeetingURL          *string             `firestore:"meetingUrl" json:"meetingUrl"`
	Reflections         []SessionReflection `firestore:"reflections" json:"reflections"`
	MaxParticipants     int                 `firestore:"maxParticipants,omitempty" json:"maxParticipants,omitempty"`
	SessionRecordingURL *string             `firestore:"sessionRecordingUrl,omitempty" json:"sessionRecordingUrl,omitempty"`
	// ReflectionUserIDs (not in the spec; rules-checked) lists every uid
	// with a reflection in Reflections, so that GDPR export and erasure
	// find a reflection whose author has left the session or was removed
	// (Participants no longer names them). firestore.rules keeps it in
	// step: empty at create, never changed by the host, and a
	// participant's append of a reflection must add their own uid (the
	// client sends arrayUnion(uid)). Absent when empty (omitempty) and in
	// sessions written before it existed; the rules read absent as [].
	ReflectionUserIDs []string `firestore:"reflectionUserIds,omitempty" json:"reflectionUserIds,omitempty"`
}

// LiveSessionStatus is live_sessions.status.
type LiveSessionStatus string

// Live-session statuses.
const (
	LiveScheduled LiveSessionStatus = "scheduled"
	LiveLive      LiveSessionStatus = "live"
	LiveCompleted LiveSessionStatus = "completed"
	LiveCancelled LiveSessionStatus = "cancelled"
)

// Valid reports whether s is a known live-session status.
func (s LiveSessionStatus) Valid() bool {
	switch s {
	case LiveScheduled, LiveLive, LiveCompleted, LiveCancelled:
		return true
	}
	return false
}

// SessionReflection is one entry of live_sessions.reflections.
type SessionReflection struct {
	UserID      string    `firestore:"userId" json:"userId"`
	Text        string    `firestore:"text" json:"text"`
	SubmittedAt time.Time `firestore:"submittedAt" json:"submittedAt"`
}

// Session is sessions/{sessionId}: short-lived server state such as phone
// verification codes. Server-only; deleted after ExpiresAt (TTL policy and
// the retention job).
type Session struct {
	SessionID string         `firestore:"sessionId" json:"sessionId"`
	UserID    string         `firestore:"userId" json:"userId"`
	Type      SessionType    `firestore:"type" json:"type"`
	Data      map[string]any `firestore:"data" json:"data"`
	CreatedAt time.Time      `firestore:"createdAt" json:"createdAt"`
	ExpiresAt time.Time      `firestore:"expiresAt" json:"expiresAt"`
}

// SessionType is sessions.type.
type SessionType string

// Session types.
const (
	SessionPhoneVerification SessionType = "phone_verification"
	SessionPasswordReset     SessionType = "password_reset"
)

// Valid reports whether t is a known session type.
func (t SessionType) Valid() bool {
	return t == SessionPhoneVerification || t == SessionPasswordReset
}
