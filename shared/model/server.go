package model

import "time"

// Enrollment is enrollments/{uid}_{programId}: a user's access to a program
// (server-owned; created from a paid checkout or a free enrolment).
type Enrollment struct {
	UserID    string    `firestore:"userId" json:"userId"`
	ProgramID string    `firestore:"programId" json:"programId"`
	CoachIDs  []string  `firestore:"coachIds" json:"coachIds"`
	PaymentID string    `firestore:"paymentId,omitempty" json:"paymentId,omitempty"`
	Status    string    `firestore:"status" json:"status"` // active, revoked
	CreatedAt time.Time `firestore:"createdAt" json:"createdAt"`
	UpdatedAt time.Time `firestore:"updatedAt" json:"updatedAt"`
	// ProgramCreated is the create time of programs/{programId} when the
	// enrolment was last granted: the version of the program it is for. A
	// program deleted and created again under the same id is another
	// version, whose coaches the enrolment does not get. Absent on
	// enrolments granted before it was recorded (onProgramWritten records
	// it); the Unix epoch when the program no longer existed then: no
	// program created later has that version.
	ProgramCreated *time.Time `firestore:"programCreated,omitempty" json:"programCreated,omitempty"`
}

// Subscription is subscriptions/{sub_…} (server-owned).
type Subscription struct {
	SubscriptionID     string     `firestore:"subscriptionId" json:"subscriptionId"`
	UserID             string     `firestore:"userId" json:"userId"`
	CustomerID         string     `firestore:"customerId" json:"customerId"`
	Status             string     `firestore:"status" json:"status"` // Stripe's status
	PriceIDs           []string   `firestore:"priceIds" json:"priceIds"`
	Entitlements       []string   `firestore:"entitlements" json:"entitlements"`
	CurrentPeriodEnd   time.Time  `firestore:"currentPeriodEnd" json:"currentPeriodEnd"`
	CancelAtPeriodEnd  bool       `firestore:"cancelAtPeriodEnd" json:"cancelAtPeriodEnd"`
	SourceUpdated      time.Time  `firestore:"sourceUpdated" json:"sourceUpdated"`
	UpdatedAt          time.Time  `firestore:"updatedAt" json:"updatedAt"`
	LatestInvoiceState string     `firestore:"latestInvoiceState,omitempty" json:"latestInvoiceState,omitempty"`
	CanceledAt         *time.Time `firestore:"canceledAt,omitempty" json:"canceledAt,omitempty"`
	// LatestInvoiceID and LatestInvoiceAt (the invoice's own creation time)
	// identify the invoice LatestInvoiceState describes: the order guard of
	// invoice events.
	LatestInvoiceID string     `firestore:"latestInvoiceId,omitempty" json:"latestInvoiceId,omitempty"`
	LatestInvoiceAt *time.Time `firestore:"latestInvoiceAt,omitempty" json:"latestInvoiceAt,omitempty"`
}

// StripeCustomer is stripe_customers/{cus_…}: the customer → uid mapping.
type StripeCustomer struct {
	CustomerID string    `firestore:"customerId" json:"customerId"`
	UserID     string    `firestore:"userId" json:"userId"`
	CreatedAt  time.Time `firestore:"createdAt" json:"createdAt"`
}

// WebhookEvent is webhook_events/{evt_…}: the Stripe event inbox.
type WebhookEvent struct {
	EventID    string    `firestore:"eventId" json:"eventId"`
	Type       string    `firestore:"type" json:"type"`
	Created    time.Time `firestore:"created" json:"created"`
	Account    string    `firestore:"account,omitempty" json:"account,omitempty"`
	Livemode   bool      `firestore:"livemode" json:"livemode"`
	APIVersion string    `firestore:"apiVersion" json:"apiVersion"`
	Status     string    `firestore:"status" json:"status"` // processed, ignored, failed
	Reason     string    `firestore:"reason,omitempty" json:"reason,omitempty"`
	Attempts   int       `firestore:"attempts" json:"attempts"`
	ReceivedAt time.Time `firestore:"receivedAt" json:"receivedAt"`
	ExpiresAt  time.Time `firestore:"expiresAt" json:"expiresAt"`
}

// WellbeingEvent is wellbeing_events/{id}: an append-only record of the
// wellbeing protocol raised for a user. It never copies journal text.
type WellbeingEvent struct {
	EventID     string         `firestore:"eventId" json:"eventId"`
	UserID      string         `firestore:"userId" json:"userId"`
	Source      string         `firestore:"source" json:"source"` // screening, reflection
	Trigger     map[string]any `firestore:"trigger" json:"trigger"`
	RuleVersion string         `firestore:"ruleVersion" json:"ruleVersion"`
	EpisodeID   string         `firestore:"episodeId" json:"episodeId"`
	CreatedAt   time.Time      `firestore:"createdAt" json:"createdAt"`
	NotifiedAt  *time.Time     `firestore:"notifiedAt,omitempty" json:"notifiedAt,omitempty"`
	AckedAt     *time.Time     `firestore:"ackedAt,omitempty" json:"ackedAt,omitempty"`
	AckedBy     string         `firestore:"ackedBy,omitempty" json:"ackedBy,omitempty"`
	// Pseudonymised and LegalHoldUntil are set when the record is kept
	// after its user's erasure (userId replaced by a keyed hash, trigger
	// details removed) until the retention job deletes it (functions/gdpr).
	Pseudonymised  bool       `firestore:"pseudonymised,omitempty" json:"pseudonymised,omitempty"`
	LegalHoldUntil *time.Time `firestore:"legalHoldUntil,omitempty" json:"legalHoldUntil,omitempty"`
}

// CrisisResources is crisis_resources/{locale}: help lines shown by the app.
type CrisisResources struct {
	Locale    string           `firestore:"locale" json:"locale"`
	Resources []CrisisResource `firestore:"resources" json:"resources"`
	ValidFrom string           `firestore:"validFrom" json:"validFrom"` // YYYY-MM-DD the list was checked
}

// CrisisResource is one help line.
type CrisisResource struct {
	Name  string `firestore:"name" json:"name"`
	Phone string `firestore:"phone,omitempty" json:"phone,omitempty"`
	URL   string `firestore:"url,omitempty" json:"url,omitempty"`
	Hours string `firestore:"hours,omitempty" json:"hours,omitempty"`
}

// DailyInsight is users/{uid}/daily_insights/{YYYY-MM-DD} (server-owned).
type DailyInsight struct {
	UserID           string    `firestore:"userId" json:"userId"`
	Date             string    `firestore:"date" json:"date"` // the user's local date
	Headline         string    `firestore:"headline" json:"headline"`
	Content          string    `firestore:"content" json:"content"`
	Transits         []Transit `firestore:"transits" json:"transits"`
	PersonalDay      int       `firestore:"personalDayNumber" json:"personalDayNumber"`
	Intention        string    `firestore:"intention" json:"intention"`
	Affirmation      string    `firestore:"affirmation" json:"affirmation"`
	JournalPrompt    string    `firestore:"journalPrompt" json:"journalPrompt"`
	TemplateIDs      []string  `firestore:"templateIds" json:"templateIds"`
	TemplatesVersion string    `firestore:"templatesVersion" json:"templatesVersion"`
	Kind             string    `firestore:"kind" json:"kind"` // chart, numerology, general
	CreatedAt        time.Time `firestore:"createdAt" json:"createdAt"`
	// Added by daily insights.
	MoonSign        string    `firestore:"moonSign,omitempty" json:"moonSign,omitempty"`         // the day's Moon sign (12:00 UTC)
	MasterNumber    int       `firestore:"masterNumber,omitempty" json:"masterNumber,omitempty"` // 11, 22 or 33 on a master day
	FocusArea       FocusArea `firestore:"focusArea,omitempty" json:"focusArea,omitempty"`
	PracticeMinutes int       `firestore:"practiceMinutes,omitempty" json:"practiceMinutes,omitempty"`
	// RewrittenBy names the LLM that rewrote the texts; empty for the
	// templates' own wording.
	RewrittenBy string `firestore:"rewrittenBy,omitempty" json:"rewrittenBy,omitempty"`
}

// Transit is one aspect of the day's sky to the natal chart.
type Transit struct {
	Transiting string  `firestore:"transiting" json:"transiting"`
	Natal      string  `firestore:"natal" json:"natal"`
	Aspect     string  `firestore:"aspect" json:"aspect"`
	Orb        float64 `firestore:"orb" json:"orb"`
}

// Notification is users/{uid}/notifications/{id}: a message for the app's
// messaging (server-written; the user may mark it read).
type Notification struct {
	UserID    string     `firestore:"userId" json:"userId"`
	Kind      string     `firestore:"kind" json:"kind"`
	Title     string     `firestore:"title" json:"title"`
	Body      string     `firestore:"body" json:"body"`
	Ref       string     `firestore:"ref,omitempty" json:"ref,omitempty"`
	CreatedAt time.Time  `firestore:"createdAt" json:"createdAt"`
	ReadAt    *time.Time `firestore:"readAt" json:"readAt"`
}

// gdpr_requests statuses (GDPRRequest.Status): functions/gdpr sets them,
// and the payments webhook reads GDPRDone to hold the records of an erased
// user.
const (
	GDPRPending   = "pending"
	GDPRRunning   = "running"
	GDPRVerifying = "verifying"
	GDPRDone      = "done"
	GDPRFailed    = "failed"
)

// GDPRRequest is gdpr_requests/{id}.
type GDPRRequest struct {
	RequestID   string           `firestore:"requestId" json:"requestId"`
	UserID      string           `firestore:"userId" json:"userId"`
	Kind        string           `firestore:"kind" json:"kind"`     // export, erasure
	Status      string           `firestore:"status" json:"status"` // pending, running, verifying, done, failed
	RequestedBy string           `firestore:"requestedBy" json:"requestedBy"`
	ReceivedAt  time.Time        `firestore:"receivedAt" json:"receivedAt"`
	DueAt       time.Time        `firestore:"dueAt" json:"dueAt"`
	Progress    map[string]int64 `firestore:"progress" json:"progress"`
	Checkpoint  map[string]any   `firestore:"checkpoint" json:"checkpoint"`
	Proof       map[string]int64 `firestore:"proof,omitempty" json:"proof,omitempty"`
	ExportPath  string           `firestore:"exportPath,omitempty" json:"exportPath,omitempty"`
	ExportURL   string           `firestore:"exportUrl,omitempty" json:"exportUrl,omitempty"`
	ExpiresAt   *time.Time       `firestore:"expiresAt,omitempty" json:"expiresAt,omitempty"`
	Error       string           `firestore:"error,omitempty" json:"error,omitempty"`
	UpdatedAt   time.Time        `firestore:"updatedAt" json:"updatedAt"`

	// Added by the GDPR area (functions/gdpr).
	// SubjectHash is the keyed hash of the subject's uid (gdpr.Pseudonym);
	// it stays when an erasure request is pseudonymised at the end.
	SubjectHash string `firestore:"subjectHash,omitempty" json:"subjectHash,omitempty"`
	// Source says who started the request: user, admin, auth_deleted,
	// reconcile or ops.
	Source string `firestore:"source,omitempty" json:"source,omitempty"`
	// Plan holds the counts per collection found when the run started
	// (what a dry run lists); Progress counts what was done since.
	Plan map[string]int64 `firestore:"plan,omitempty" json:"plan,omitempty"`
	// Attempts counts worker runs; Runs counts (re)openings of the request.
	Attempts int `firestore:"attempts,omitempty" json:"attempts,omitempty"`
	Runs     int `firestore:"runs,omitempty" json:"runs,omitempty"`
	// StalledRuns counts the worker runs in a row that made no progress
	// (no step completed, the checkpoint and an erasure's counts where they
	// were); a run that makes progress sets it to 0 and ProgressAt to its
	// time. The worker fails the request ("too many attempts") once
	// StalledRuns reaches gdpr.MaxAttempts and ProgressAt (ReceivedAt
	// before the first progress) is gdpr.GiveUpAfter old.
	StalledRuns int        `firestore:"stalledRuns,omitempty" json:"stalledRuns,omitempty"`
	ProgressAt  *time.Time `firestore:"progressAt,omitempty" json:"progressAt,omitempty"`
	// LeaseOwner holds the request while a worker runs it, until
	// LeaseUntil; a duplicate message finds the lease and does nothing.
	LeaseOwner string     `firestore:"leaseOwner,omitempty" json:"leaseOwner,omitempty"`
	LeaseUntil *time.Time `firestore:"leaseUntil,omitempty" json:"leaseUntil,omitempty"`
	DoneAt     *time.Time `firestore:"doneAt,omitempty" json:"doneAt,omitempty"`
	// DueWarnedAt is when the sweeper last warned that DueAt is near.
	DueWarnedAt *time.Time `firestore:"dueWarnedAt,omitempty" json:"dueWarnedAt,omitempty"`
	// ExportBytes and ExportSHA256 describe the archive at ExportPath.
	ExportBytes  int64  `firestore:"exportBytes,omitempty" json:"exportBytes,omitempty"`
	ExportSHA256 string `firestore:"exportSha256,omitempty" json:"exportSha256,omitempty"`
	// ExportExpiredAt is when the retention job deleted the archive.
	ExportExpiredAt *time.Time `firestore:"exportExpiredAt,omitempty" json:"exportExpiredAt,omitempty"`
	// LegalHoldUntil is when the retention job deletes this (pseudonymised)
	// record of a completed erasure.
	LegalHoldUntil *time.Time `firestore:"legalHoldUntil,omitempty" json:"legalHoldUntil,omitempty"`
}

// AuditRetentionYears is how long an audit_log entry is kept (its
// expiresAt, and functions/gdpr's retention job), whichever function
// writes it.
const AuditRetentionYears = 3

// AuditEntry is audit_log/{id}: append-only, keyed by a hash of the subject.
type AuditEntry struct {
	Action      string         `firestore:"action" json:"action"`
	SubjectHash string         `firestore:"subjectHash" json:"subjectHash"`
	Actor       string         `firestore:"actor" json:"actor"`
	Details     map[string]any `firestore:"details,omitempty" json:"details,omitempty"`
	CreatedAt   time.Time      `firestore:"createdAt" json:"createdAt"`
	ExpiresAt   time.Time      `firestore:"expiresAt" json:"expiresAt"`
}

// ProcessedEvent is processed_events/{handler}:{eventId}: the marker that
// an event handler's effect has been written (same transaction).
type ProcessedEvent struct {
	Handler     string    `firestore:"handler" json:"handler"`
	EventID     string    `firestore:"eventId" json:"eventId"`
	ProcessedAt time.Time `firestore:"processedAt" json:"processedAt"`
	// ExpiresAt drives a Firestore TTL policy that deletes old markers.
	ExpiresAt time.Time `firestore:"expiresAt" json:"expiresAt"`
}

// Job is jobs/{name}: the checkpoint of a scheduled job.
type Job struct {
	Name       string         `firestore:"name" json:"name"`
	Checkpoint map[string]any `firestore:"checkpoint" json:"checkpoint"`
	UpdatedAt  time.Time      `firestore:"updatedAt" json:"updatedAt"`
}
