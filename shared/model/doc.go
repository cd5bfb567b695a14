// Package model holds the Go types of every Firestore collection of Inner
// Journey, with field names exactly as the data model
// (shared/spec/000_…txt) spells them.
//
// Conventions:
//   - Each struct field carries the same name in its `firestore` and `json`
//     tags, so a document decodes the same way from the Firestore client and
//     from an event payload.
//   - Enumerations are typed string constants with a Valid method.
//   - Timestamps are time.Time in UTC; nullable ones are *time.Time.
//   - Money is an integer amount in the currency's minor units (öre, cents)
//     plus an ISO 4217 code.
//   - Fields marked "server-owned" are written only by the functions; the
//     security rules forbid clients to write them (see firestore.rules).
package model

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Collection names. Subcollections are noted with their parent.
const (
	ColUsers           = "users"
	ColActivations     = "activations"
	ColUserActivations = "user_activations"
	ColLiveSessions    = "live_sessions"
	ColConsents        = "consents"
	ColSessions        = "sessions"
	ColPrograms        = "programs"
	ColPayments        = "payments"
	ColPayouts         = "payouts"

	// Added by the functions (see the README's data-model section).
	ColCoachProfiles   = "coach_profiles"   // coach_profiles/{coachUid}: public coach data (signed-in users read)
	ColClientProfiles  = "client_profiles"  // client_profiles/{uid}: the coach-visible part of a user
	SubColCoaches      = "coaches"          // users/{uid}/coaches/{coachUid}: coach assignment
	SubColInsights     = "daily_insights"   // users/{uid}/daily_insights/{YYYY-MM-DD}
	SubColNotes        = "notifications"    // users/{uid}/notifications/{id}
	SubColPrivate      = "private"          // users/{uid}/private/{doc}: server-only per-user state; also coach_profiles/{coachUid}/private/{doc}
	DocConnect         = "connect"          // coach_profiles/{coachUid}/private/connect: the coach's Stripe Connect state (model.CoachConnect)
	ColEnrollments     = "enrollments"      // enrollments/{uid}_{programId}
	ColSubscriptions   = "subscriptions"    // subscriptions/{stripeSubscriptionId}
	ColStripeCustomers = "stripe_customers" // stripe_customers/{cus_…} → uid
	ColWebhookEvents   = "webhook_events"   // webhook_events/{evt_…}: Stripe event inbox
	ColWellbeingEvents = "wellbeing_events" // append-only safety protocol records
	ColCrisisResources = "crisis_resources" // crisis_resources/{locale}: server-written help lines
	ColGDPRRequests    = "gdpr_requests"    // export and erasure requests
	ColAuditLog        = "audit_log"        // append-only audit entries
	ColProcessedEvents = "processed_events" // idempotency markers of event handlers
	ColJobs            = "jobs"             // jobs/{name}: checkpoints of scheduled jobs
)

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	dateRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	hhmmRE     = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
)

// Currencies the platform accepts for prices and payments, with the number
// of minor-unit digits of each.
var Currencies = map[string]int{"SEK": 2, "EUR": 2, "USD": 2, "NOK": 2, "DKK": 2, "GBP": 2}

// MinCharge is Stripe's smallest charge per currency, in minor units
// (https://docs.stripe.com/currencies, "Minimum and maximum charge
// amounts"): a program priced between 1 and it cannot be paid by card.
// firestore.rules (minCharge) holds the same table.
var MinCharge = map[string]int64{"SEK": 300, "NOK": 300, "DKK": 250, "EUR": 50, "USD": 50, "GBP": 30}

// MaxCharge is Stripe's largest charge in these currencies (minor units:
// 999 999.99).
const MaxCharge = 99_999_999

// Chargeable reports whether amount (minor units) of currency c can be
// charged by card: from MinCharge[c] to MaxCharge.
func Chargeable(amount int64, c string) bool {
	min, ok := MinCharge[c]
	return ok && amount >= min && amount <= MaxCharge
}

// ValidCurrency reports whether c is an accepted ISO 4217 code (upper case).
func ValidCurrency(c string) bool {
	if !currencyRE.MatchString(c) {
		return false
	}
	_, ok := Currencies[c]
	return ok
}

// NormalizeCurrency upper-cases a currency code (Stripe sends lower case).
func NormalizeCurrency(c string) string { return strings.ToUpper(strings.TrimSpace(c)) }

// ValidDocID reports whether s can be a document id (or a map key in a
// field path) as the functions accept ids from callers, events and Stripe:
// Firestore's own rule (valid UTF-8, no "/", not "." or "..", not matching
// __.*__) with a bound of 128 bytes (a Firebase uid's length) and no NUL.
// It is the one check of an id every area uses.
func ValidDocID(s string) bool {
	return s != "" && len(s) <= 128 && utf8.ValidString(s) && !strings.ContainsAny(s, "/\x00") &&
		s != "." && s != ".." && !Reserved(s)
}

// Reserved reports whether s matches __.*__, the names Firestore reserves
// for document ids and field names.
func Reserved(s string) bool {
	return len(s) >= 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

// CoachConnectPath is the path of coach's Stripe Connect state,
// coach_profiles/{coach}/private/connect (CoachConnect).
func CoachConnectPath(coach string) string {
	return ColCoachProfiles + "/" + coach + "/" + SubColPrivate + "/" + DocConnect
}

// ErasedRef replaces a reference to an erased user where the document
// holding it stays (a program's createdBy, a journal entry's assignedBy, a
// live session's coachId, …): GDPR erasure writes it (gdpr.ErasedRef), and
// no code may treat it as a user, e.g. assign it as a coach.
const ErasedRef = "erased-user"
