package gdpr

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/queue"
)

// Topics of the area.
const (
	// TopicRequests carries {"requestId": …} to gdprWorker.
	TopicRequests = "gdpr-requests"
	// TopicSweeper is the hourly schedule of gdprSweeper.
	TopicSweeper = "gdpr-sweeper"
	// TopicRetention is the daily schedule of retentionCleanup.
	TopicRetention = "gdpr-retention"
	// TopicAuthDeleted carries Auth account deletions (a Cloud Audit Logs
	// sink, or {"uid": …}) to onAuthUserDeleted.
	TopicAuthDeleted = "auth-user-deleted"
)

// Request kinds and statuses (gdpr_requests.kind, .status).
const (
	KindExport  = "export"
	KindErasure = "erasure"

	StatusPending   = model.GDPRPending
	StatusRunning   = model.GDPRRunning
	StatusVerifying = model.GDPRVerifying
	StatusDone      = model.GDPRDone
	StatusFailed    = model.GDPRFailed
)

// Request sources (gdpr_requests.source).
const (
	SourceUser        = "user"
	SourceAdmin       = "admin"
	SourceAuthDeleted = "auth_deleted"
	SourceReconcile   = "reconcile"
	SourceOps         = "ops"
)

// Retention and timing. They are constants (not configuration) because
// they are policy: changing one is a reviewed code change that updates the
// README's table with it.
const (
	// ResponseMonths is the GDPR Art. 12(3) deadline: one month.
	ResponseMonths = 1
	// DueWarning: the sweeper warns about open requests this close to dueAt.
	DueWarning = 5 * 24 * time.Hour
	// LeaseTTL is how long a worker holds a request without a heartbeat.
	LeaseTTL = 2 * time.Minute
	// StuckAfter: an open request untouched this long, with no live lease,
	// is re-published by the sweeper.
	StuckAfter = 10 * time.Minute
	// RunBudget is how long one worker invocation works before it saves its
	// checkpoint and re-publishes itself (Cloud Functions' limit for event
	// functions is 9 minutes).
	RunBudget = 7 * time.Minute
	// MaxAttempts bounds the worker runs in a row that make no progress
	// (gdpr_requests.stalledRuns): a request fails "too many attempts" once
	// it has had MaxAttempts of them and no progress for GiveUpAfter. A run
	// that makes progress (completes a step, or yields with its checkpoint
	// or an erasure's counts advanced) does not count, however many
	// continuations a large request needs.
	MaxAttempts = 25
	// GiveUpAfter is how long (by the service clock) a request must have
	// made no progress before MaxAttempts stalled runs fail it: well beyond
	// an outage of a few hours of Firestore, Storage, Auth or Stripe (Pub/Sub
	// redelivers with backoff up to 10 minutes, the sweeper re-publishes
	// hourly, and the request completes when the dependency is back), well
	// within the one-month dueAt (the sweeper's gdpr_request_due alerts
	// start DueWarning before it).
	GiveUpAfter = 24 * time.Hour
	// MaxPasses bounds the erase → verify passes (data written during the
	// erasure by a still valid ID token is caught by the next pass).
	MaxPasses = 3
	// IDTokenWindow is how long an erasure marker is kept after the
	// account is disabled (its tokens revoked, no new sign-in): a Firebase
	// ID token is valid one hour after it is minted, plus 5 minutes for
	// clock skew.
	IDTokenWindow = time.Hour + 5*time.Minute
	// ExportTTL is how long an export archive is kept.
	ExportTTL = 7 * 24 * time.Hour
	// ExportInterval: a user who asks for an export within this time of
	// the last finished one (archive not expired) gets that one back
	// instead of a new run (an admin acting for them gets a new one).
	// Each run copies all the user's media into a new archive kept
	// ExportTTL: repeated at will it would multiply them in the bucket
	// (GDPR Art. 12(5): manifestly excessive, repetitive requests).
	ExportInterval = 24 * time.Hour
	// DownloadTTL is the lifetime of one signed download URL.
	DownloadTTL = 15 * time.Minute
	// BookkeepingYears: payments and payouts are kept 7 years after the end
	// of their calendar year (Bokföringslagen 7 kap. 2 §); the hold ends at
	// pseudonym.BookkeepingHoldUntil, the rule the payments webhook shares.
	BookkeepingYears = pseudonym.BookkeepingYears
	// WellbeingHoldYears: pseudonymised safety records.
	WellbeingHoldYears = 3
	// ErasureRecordYears: pseudonymised erasure requests (proof of erasure).
	ErasureRecordYears = 3
	// AuditRetentionYears: audit_log entries.
	AuditRetentionYears = model.AuditRetentionYears
	// LogRetentionDays: logs that are not part of a user's record
	// (webhook_events, processed_events).
	LogRetentionDays = 90
	// ReconcileBatch is the page of users documents the sweep checks
	// against Auth (the misconfiguration guard judges a page), and
	// ReconcilePages the pages of one sweep: 12 000 users an hour, so a
	// million users are checked within about four days, well inside the
	// month GDPR allows for an erasure (Art. 12(3)). ReconcileMaxErasures
	// bounds the erasures one sweep starts.
	ReconcileBatch       = 300
	ReconcilePages       = 40
	ReconcileMaxErasures = 25
	// queryPage is the page of the erasure's queries; retentionPage of
	// the retention's.
	queryPage     = 2000
	retentionPage = 500
)

// StoragePrefixes are the Storage prefixes of a user's objects; each is
// followed by "{uid}/".
var StoragePrefixes = []string{"users/", "journal/", "uploads/", "exports/"}

// exportPrefix is where archives are written: exports/{uid}/{requestId}.zip.
const exportPrefix = "exports/"

// AuthAdmin is the part of the Firebase Auth admin client erasure and
// reconciliation use (*auth.Client implements it).
type AuthAdmin interface {
	RevokeRefreshTokens(ctx context.Context, uid string) error
	UpdateUser(ctx context.Context, uid string, user *auth.UserToUpdate) (*auth.UserRecord, error)
	DeleteUser(ctx context.Context, uid string) error
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
	GetUsers(ctx context.Context, identifiers []auth.UserIdentifier) (*auth.GetUsersResult, error)
}

// StripeCustomers deletes Stripe customers.
type StripeCustomers interface {
	// Delete deletes the customer. A customer that no longer exists
	// (deleted before: Stripe's 404) is gone, no error (erasure is
	// repeatable, and a rerun does not count it again). Errors carry a
	// fault code: Unavailable when a retry can help, else permanent.
	Delete(ctx context.Context, customerID string) (gone bool, err error)
}

// StripeAccounts deletes Stripe Connect accounts (a coach's).
type StripeAccounts interface {
	// DeleteAccount deletes the account. An account that no longer exists
	// is gone, no error, as for StripeCustomers.Delete; errors as there.
	DeleteAccount(ctx context.Context, accountID string) (gone bool, err error)
}

// URLSigner returns a URL that downloads bucket/object until expires.
type URLSigner interface {
	SignedURL(ctx context.Context, bucket, object string, expires time.Time) (string, error)
}

// Service is the GDPR area's handlers and their dependencies.
type Service struct {
	Firestore *firestore.Client
	// Auth may be nil only where no Auth account exists (tests of export).
	Auth    AuthAdmin
	Storage *storage.Client
	Bucket  string
	// Stripe is nil when Stripe is not configured; an erasure that finds a
	// Stripe customer then fails with FailedPrecondition.
	Stripe StripeCustomers
	// StripeAccounts is nil when Stripe is not configured; an erasure that
	// finds a coach's Connect account then fails with FailedPrecondition.
	StripeAccounts StripeAccounts
	Publisher      queue.Publisher
	Signer         URLSigner
	// PseudonymKey keys the HMAC of pseudonyms (cfg.PseudonymKey).
	PseudonymKey []byte
	Now          func() time.Time

	// OnProgress, when set, is called with the request after every
	// checkpoint and heartbeat of a run in this process (the CLI's bar).
	OnProgress func(req *model.GDPRRequest)
	// afterWrite, when set (tests), is called after each write the
	// erasure queues, with the run's write count.
	afterWrite func(n int64)
	// beforeDone, when set (tests), is called by an erasure's finishStep
	// after its final counts, just before the transaction that marks the
	// request done.
	beforeDone func(requestID string)
	// runBudget overrides RunBudget (tests).
	runBudget time.Duration
}

// DevPseudonymKey keys pseudonyms in development and against the emulators
// when IJ_PSEUDONYM_KEY is unset (staging and production require the
// secret). The functions and the ops CLI use the same key, so that both
// find the same pseudonymised records.
const DevPseudonymKey = "development-only-pseudonym-key"

// UseConfig sets what the configuration decides beyond the clients: the
// URL signer (V4 signed URLs through sc, or the Storage emulator's plain
// URLs when cfg.StorageEmulator is set) and, when a Stripe key is
// configured, the Stripe API for customers and Connect accounts.
func (s *Service) UseConfig(cfg *config.Config, sc *storage.Client) {
	s.Signer = BucketSigner{Client: sc}
	if cfg.StorageEmulator != "" {
		s.Signer = EmulatorURLs{Host: cfg.StorageEmulator}
	}
	if !cfg.StripeSecretKey.IsZero() {
		api := NewStripeAPI(cfg.StripeSecretKey, cfg.StripeAPIURL)
		s.Stripe, s.StripeAccounts = api, api
	}
}

// Pseudonym returns the keyed pseudonym of an identifier: "ps_" and the
// first 128 bits of HMAC-SHA256(key, id) in hex. The same key and id give
// the same pseudonym, so held records of one subject stay linkable to each
// other (and to the subject only by whoever holds both the key and the
// uid); without the key the uid cannot be recovered or tested.
//
// It is pseudonym.Of (shared/pseudonym), which the payouts use for the
// coach part of payout ids, so that held payout ids match the coachId an
// erasure writes.
func Pseudonym(key []byte, id string) string { return pseudonym.Of(key, id) }

func (s *Service) pseudonym(id string) string { return Pseudonym(s.PseudonymKey, id) }

// ErasureID is the deterministic id of a subject's erasure request, so
// that every path to an erasure (the user, an admin, the Auth backstop,
// the reconciler) finds the same request.
//
// It is pseudonym.ErasureRequestID (shared/pseudonym), which the payments
// webhook uses to find a finished erasure before it writes anything about
// a user.
func (s *Service) ErasureID(uid string) string {
	return pseudonym.ErasureRequestID(s.PseudonymKey, uid)
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) budget() time.Duration {
	if s.runBudget > 0 {
		return s.runBudget
	}
	return RunBudget
}

func (s *Service) requests() *firestore.CollectionRef {
	return s.Firestore.Collection(model.ColGDPRRequests)
}
