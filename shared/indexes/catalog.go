package indexes

import (
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// Names of the catalogue's queries.
const (
	// Clients (documented for the mobile and web apps).
	QJournalByDate            = "journal_by_date"
	QJournalAssigned          = "journal_assigned"
	QCoachClientJournal       = "coach_client_journal"
	QCoachAssignments         = "coach_assignments"
	QCoachAssignmentsByStatus = "coach_assignments_by_status"
	QCoachActivations         = "coach_activations"
	QActivationsByCategory    = "activations_by_category"
	QCoachPrograms            = "coach_programs"
	QProgramsByCategory       = "programs_by_category"
	QCoachLiveSessions        = "coach_live_sessions"
	QMyLiveSessions           = "my_live_sessions"
	QMyPayments               = "my_payments"
	QMyPayouts                = "my_payouts"
	QMyInsights               = "my_daily_insights"
	QMyNotifications          = "my_notifications"
	QMyUnreadNotifications    = "my_unread_notifications"
	QMyCoaches                = "my_coaches"
	QMyGDPRRequests           = "my_gdpr_requests"
	QMyEnrollments            = "my_enrollments"
	QMySubscriptions          = "my_subscriptions"
	QCoachClients             = "coach_clients"
	QCoachProgramEnrollments  = "coach_program_enrollments"

	// Functions.
	QInsightsDue           = "insights_due"
	QPayoutSettledPayments = "payout_settled_payments"
	QPayoutRefunds         = "payout_refunds"
	QPayoutsStuck          = "payouts_stuck"
	QFortnoxUnsynced       = "fortnox_unsynced_payouts"
	QPaymentByProcessorID  = "payment_by_processor_id"
	QPaymentByCharge       = "payment_by_charge"
	QSubscriptionsByCust   = "subscriptions_by_customer"
	QEnrollmentsByProgram  = "enrollments_by_program"
	QUserProgramPayments   = "user_program_payments"
	QUserActiveEnrollments = "user_active_enrollments"
	QWellbeingByUser       = "wellbeing_by_user"
	QWellbeingOpen         = "wellbeing_open"
	QWellbeingUndelivered  = "wellbeing_undelivered"
	QPayoutByProcessorID   = "payout_by_processor_id"
	QBillingPlansByPrice   = "billing_plans_by_price"
	QGDPROpen              = "gdpr_requests_open"
	QSessionsExpired       = "sessions_expired"
	QWebhookEventsSince    = "webhook_events_since"
	QWebhookEventsFailed   = "webhook_events_failed"
	QConnectAccounts       = "connect_accounts"
	QPayoutsPending        = "payouts_pending"
	QPayoutsByCoach        = "payouts_by_coach"
	QPayoutsByVoucher      = "payouts_by_voucher"
	QPayoutsReversalDue    = "payouts_reversal_pending"
	QAllocationsUnpaid     = "allocations_has_open"
	QAllocationsSalesDue   = "allocations_sales_pending"
	QEnrollmentsActive     = "enrollments_active"

	// GDPR export and erasure: everything linked to a user (a subject) or
	// to a coach. Names are "gdpr_<collection>[_<field>]".
	QGDPRUserActivations   = "gdpr_user_activations"
	QGDPRAssignedBy        = "gdpr_user_activations_assignedBy"
	QGDPRSessions          = "gdpr_sessions"
	QGDPRPayments          = "gdpr_payments"
	QGDPRSubscriptions     = "gdpr_subscriptions"
	QGDPREnrollments       = "gdpr_enrollments"
	QGDPRCoachEnrollments  = "gdpr_enrollments_coachIds"
	QGDPRStripeCustomers   = "gdpr_stripe_customers"
	QGDPRWellbeingEvents   = "gdpr_wellbeing_events"
	QGDPRRequests          = "gdpr_gdpr_requests"
	QGDPRLiveParticipant   = "gdpr_live_sessions_participants"
	QGDPRLiveHost          = "gdpr_live_sessions_coachId"
	QGDPRLiveReflector     = "gdpr_live_sessions_reflectionUserIds"
	QGDPRActivations       = "gdpr_activations_createdBy"
	QGDPRPrograms          = "gdpr_programs_createdBy"
	QGDPRPayouts           = "gdpr_payouts_coachId"
	QGDPRClientProfilesFor = "gdpr_client_profiles_coachIds"
)

var (
	exampleStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	exampleEnd   = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
)

// Catalog is every query the functions make and every query the clients
// are documented to make. Functions build theirs with
// MustLookup(name).Build; the rules tests run the clients' ones as the
// signed-in caller; TestCatalogCovered checks firestore.indexes.json.
var Catalog = []Query{
	// ---------------- clients ----------------
	{Name: QJournalByDate, Collection: model.ColUserActivations, Caller: "client",
		Purpose: "a user's journal, newest first",
		Filters: []Filter{{"userId", Eq}}, OrderBy: []Order{{"startedAt", true}}, Limit: 50,
		Example: []any{"alice"}},
	{Name: QJournalAssigned, Collection: model.ColUserActivations, Caller: "client",
		Purpose: "a user's activations by status (e.g. what coaches assigned), newest first",
		Filters: []Filter{{"userId", Eq}, {"status", Eq}}, OrderBy: []Order{{"createdAt", true}},
		Example: []any{"alice", string(model.StatusAssigned)}},
	{Name: QCoachClientJournal, Collection: model.ColUserActivations, Caller: "client",
		Purpose: "a coach reads the entries one client shared, newest first",
		Filters: []Filter{{"userId", Eq}, {"shareWithCoach", Eq}}, OrderBy: []Order{{"startedAt", true}},
		Example: []any{"alice", true}},
	{Name: QCoachAssignments, Collection: model.ColUserActivations, Caller: "client",
		Purpose: "a coach's clients' activations: what the coach assigned and the clients shared",
		Filters: []Filter{{"assignedBy", Eq}, {"shareWithCoach", Eq}}, OrderBy: []Order{{"startedAt", true}},
		Example: []any{"carol", true}},
	{Name: QCoachAssignmentsByStatus, Collection: model.ColUserActivations, Caller: "client",
		Purpose: "the same, filtered by status",
		Filters: []Filter{{"assignedBy", Eq}, {"shareWithCoach", Eq}, {"status", In}},
		OrderBy: []Order{{"startedAt", true}},
		Example: []any{"carol", true, []any{string(model.StatusInProgress), string(model.StatusCompleted)}}},
	{Name: QCoachActivations, Collection: model.ColActivations, Caller: "client",
		Purpose: "a coach's own activations, newest first",
		Filters: []Filter{{"createdBy", Eq}}, OrderBy: []Order{{"createdAt", true}},
		Example: []any{"carol"}},
	{Name: QActivationsByCategory, Collection: model.ColActivations, Caller: "client",
		Purpose: "browse activations of a category by title",
		Filters: []Filter{{"category", Eq}}, OrderBy: []Order{{"title", false}},
		Example: []any{"mindfulness"}},
	{Name: QCoachPrograms, Collection: model.ColPrograms, Caller: "client",
		Purpose: "the programs a coach owns, newest first",
		Filters: []Filter{{"createdBy", ArrayContains}}, OrderBy: []Order{{"createdAt", true}},
		Example: []any{"carol"}},
	{Name: QProgramsByCategory, Collection: model.ColPrograms, Caller: "client",
		Purpose: "browse programs of a category by title",
		Filters: []Filter{{"category", Eq}}, OrderBy: []Order{{"title", false}},
		Example: []any{"wellbeing"}},
	{Name: QCoachLiveSessions, Collection: model.ColLiveSessions, Caller: "client",
		Purpose: "the sessions a coach hosts, latest first",
		Filters: []Filter{{"coachId", Eq}}, OrderBy: []Order{{"startTime", true}},
		Example: []any{"carol"}},
	{Name: QMyLiveSessions, Collection: model.ColLiveSessions, Caller: "client",
		Purpose: "the sessions a user takes part in, soonest first",
		Filters: []Filter{{"participants", ArrayContains}}, OrderBy: []Order{{"startTime", false}},
		Example: []any{"alice"}},
	{Name: QMyPayments, Collection: model.ColPayments, Caller: "client",
		Purpose: "a user's payments, newest first",
		Filters: []Filter{{"userId", Eq}}, OrderBy: []Order{{"paymentDate", true}},
		Example: []any{"alice"}},
	{Name: QMyPayouts, Collection: model.ColPayouts, Caller: "client",
		Purpose: "a coach's payouts, newest first",
		Filters: []Filter{{"coachId", Eq}}, OrderBy: []Order{{"payoutDate", true}},
		Example: []any{"carol"}},
	{Name: QMyInsights, Collection: model.SubColInsights, Parent: "users/{uid}", Caller: "client",
		Purpose: "a user's recent daily insights",
		OrderBy: []Order{{"date", true}}, Limit: 30,
		Example: []any{"alice"}},
	{Name: QMyNotifications, Collection: model.SubColNotes, Parent: "users/{uid}", Caller: "client",
		Purpose: "a user's notifications, newest first",
		OrderBy: []Order{{"createdAt", true}}, Limit: 50,
		Example: []any{"alice"}},
	{Name: QMyUnreadNotifications, Collection: model.SubColNotes, Parent: "users/{uid}", Caller: "client",
		Purpose: "a user's unread notifications, newest first",
		Filters: []Filter{{"readAt", Eq}}, OrderBy: []Order{{"createdAt", true}},
		Example: []any{"alice", nil}},
	{Name: QMyCoaches, Collection: model.SubColCoaches, Parent: "users/{uid}", Caller: "client",
		Purpose: "the coaches assigned to a user",
		Example: []any{"alice"}},
	{Name: QMyGDPRRequests, Collection: model.ColGDPRRequests, Caller: "client",
		Purpose: "a user follows their export and erasure requests",
		Filters: []Filter{{"userId", Eq}}, OrderBy: []Order{{"receivedAt", true}},
		Example: []any{"alice"}},
	{Name: QMyEnrollments, Collection: model.ColEnrollments, Caller: "client",
		Purpose: "a user's program enrolments",
		Filters: []Filter{{"userId", Eq}},
		Example: []any{"alice"}},
	{Name: QMySubscriptions, Collection: model.ColSubscriptions, Caller: "client",
		Purpose: "a user's subscriptions",
		Filters: []Filter{{"userId", Eq}},
		Example: []any{"alice"}},
	{Name: QCoachClients, Collection: model.ColClientProfiles, Caller: "client",
		Purpose: "a coach's clients (the coach-visible profiles)",
		Filters: []Filter{{"coachIds", ArrayContains}},
		Example: []any{"carol"}},
	{Name: QCoachProgramEnrollments, Collection: model.ColEnrollments, Caller: "client",
		Purpose: "who enrolled in one of a coach's programs",
		Filters: []Filter{{"coachIds", ArrayContains}, {"programId", Eq}},
		Example: []any{"carol", "prog-carol"}},

	// ---------------- functions ----------------
	{Name: QInsightsDue, Collection: model.ColUsers, Caller: "insights",
		Purpose: "hourly fan-out: opted-in users whose next local delivery time (insightDueAt, " +
			"server-computed from insightHour and timeZone) has passed",
		Filters: []Filter{{"insightsOptIn", Eq}, {"insightDueAt", Le}},
		OrderBy: []Order{{"insightDueAt", false}}, Limit: 500,
		Example: []any{true, exampleEnd}},
	{Name: QPayoutSettledPayments, Collection: model.ColPayments, Caller: "payouts",
		Purpose: "the succeeded payments of a payout period [start, end)",
		Filters: []Filter{{"status", Eq}, {"paymentDate", Ge}, {"paymentDate", Lt}},
		OrderBy: []Order{{"paymentDate", false}},
		Example: []any{string(model.PaymentSucceeded), exampleStart, exampleEnd}},
	{Name: QPayoutRefunds, Collection: model.ColPayments, Caller: "payouts",
		Purpose: "payments refunded during a payout period (negative adjustments)",
		Filters: []Filter{{"status", In}, {"updatedAt", Ge}, {"updatedAt", Lt}},
		OrderBy: []Order{{"updatedAt", false}},
		Example: []any{[]any{string(model.PaymentRefunded), string(model.PaymentPartiallyRefunded)}, exampleStart, exampleEnd}},
	{Name: QPayoutsStuck, Collection: model.ColPayouts, Caller: "payouts",
		Purpose: "payouts left in a status (e.g. processing) since before a cutoff, for reconciliation",
		Filters: []Filter{{"status", Eq}, {"updatedAt", Lt}},
		OrderBy: []Order{{"updatedAt", false}},
		Example: []any{string(model.PayoutProcessing), exampleStart}},
	{Name: QFortnoxUnsynced, Collection: model.ColPayouts, Caller: "fortnox",
		Purpose: "completed payouts not yet booked in Fortnox, oldest first",
		Filters: []Filter{{"status", Eq}, {"fortnoxReference", Eq}},
		OrderBy: []Order{{"payoutDate", false}}, Limit: 100,
		Example: []any{string(model.PayoutCompleted), nil}},
	{Name: QPaymentByProcessorID, Collection: model.ColPayments, Caller: "stripe",
		Purpose: "the payment of a PaymentIntent or Checkout Session",
		Filters: []Filter{{"processorPaymentId", Eq}}, Limit: 1,
		Example: []any{"pi_123"}},
	{Name: QPaymentByCharge, Collection: model.ColPayments, Caller: "stripe",
		Purpose: "the payment of a charge (refund and dispute events)",
		Filters: []Filter{{"chargeId", Eq}}, Limit: 1,
		Example: []any{"ch_123"}},
	{Name: QSubscriptionsByCust, Collection: model.ColSubscriptions, Caller: "stripe",
		Purpose: "a Stripe customer's subscriptions",
		Filters: []Filter{{"customerId", Eq}},
		Example: []any{"cus_123"}},
	{Name: QUserProgramPayments, Collection: model.ColPayments, Caller: "stripe",
		Purpose: "a user's payments for one program (a revocation: does another one still grant access?)",
		Filters: []Filter{{"userId", Eq}, {"programId", Eq}},
		Example: []any{"alice", "prog-carol"}},
	{Name: QUserActiveEnrollments, Collection: model.ColEnrollments, Caller: "stripe",
		Purpose: "a user's active enrolments (a revocation: does another one still need a coach?)",
		Filters: []Filter{{"userId", Eq}, {"status", Eq}},
		Example: []any{"alice", "active"}},
	{Name: QEnrollmentsByProgram, Collection: model.ColEnrollments, Caller: "payments",
		Purpose: "the active enrolments of a program, paged by id (onProgramWritten keeps their coaches in step)",
		Filters: []Filter{{"programId", Eq}, {"status", Eq}},
		Example: []any{"prog-carol", "active"}},
	{Name: QWellbeingByUser, Collection: model.ColWellbeingEvents, Caller: "wellbeing",
		Purpose: "a user's wellbeing-protocol records, newest first (episode de-duplication)",
		Filters: []Filter{{"userId", Eq}}, OrderBy: []Order{{"createdAt", true}}, Limit: 20,
		Example: []any{"alice"}},
	{Name: QPayoutByProcessorID, Collection: model.ColPayouts, Caller: "stripe",
		Purpose: "the payout a transfer or payout webhook refers to",
		Filters: []Filter{{"processorPayoutId", Eq}}, Limit: 1,
		Example: []any{"tr_123"}},
	{Name: QBillingPlansByPrice, Collection: model.ColBillingPlans, Caller: "stripe",
		Purpose: "the plans (entitlements) of a subscription's prices",
		Filters: []Filter{{"stripePriceId", In}},
		Example: []any{[]any{"price_123"}}},
	{Name: QWellbeingOpen, Collection: model.ColWellbeingEvents, Caller: "admin",
		Purpose: "the on-call console: wellbeing events not yet acknowledged, newest first",
		Filters: []Filter{{"acked", Eq}}, OrderBy: []Order{{"createdAt", true}}, Limit: 50,
		Example: []any{false}},
	{Name: QWellbeingUndelivered, Collection: model.ColWellbeingEvents, Caller: "wellbeing",
		Purpose: "delivery backstop (sweeper): unacknowledged events whose alert is not delivered " +
			"(notified mirrors notifiedAt) created before a cutoff, oldest first",
		Filters: []Filter{{"notified", Eq}, {"acked", Eq}, {"createdAt", Le}},
		OrderBy: []Order{{"createdAt", false}}, Limit: 100,
		Example: []any{false, false, exampleEnd}},
	{Name: QGDPROpen, Collection: model.ColGDPRRequests, Caller: "gdpr",
		Purpose: "sweeper: unfinished requests, least recently touched first",
		Filters: []Filter{{"status", In}}, OrderBy: []Order{{"updatedAt", false}}, Limit: 100,
		Example: []any{[]any{"pending", "running", "verifying"}}},
	{Name: QSessionsExpired, Collection: model.ColSessions, Caller: "gdpr",
		Purpose: "retention: expired temporary sessions (the TTL policy deletes them too, within a day)",
		Filters: []Filter{{"expiresAt", Lt}}, Limit: 500,
		Example: []any{exampleEnd}},
	{Name: QWebhookEventsSince, Collection: model.ColWebhookEvents, Caller: "stripe",
		Purpose: "the inbox in Stripe's event order since a time (reconciliation)",
		Filters: []Filter{{"created", Ge}}, OrderBy: []Order{{"created", false}}, Limit: 500,
		Example: []any{exampleStart}},
	{Name: QWebhookEventsFailed, Collection: model.ColWebhookEvents, Caller: "stripe",
		Purpose: "failed inbox events to retry, newest first",
		Filters: []Filter{{"status", Eq}}, OrderBy: []Order{{"created", true}}, Limit: 100,
		Example: []any{"failed"}},
	{Name: QConnectAccounts, Collection: model.SubColPrivate, Group: true, Caller: "stripe",
		Purpose: "reconciliation: coaches' Connect state (coach_profiles/{uid}/private/connect) in coachId order after a " +
			"cursor; users/{uid}/private/payouts also carries coachId and is skipped by the reader",
		Filters: []Filter{{"coachId", Gt}}, OrderBy: []Order{{"coachId", false}}, Limit: 100,
		Example: []any{""}},
	{Name: QPayoutsPending, Collection: model.ColPayouts, Caller: "payouts",
		Purpose: "pending payouts, whose Stripe transfer is still to be made",
		Filters: []Filter{{"status", Eq}}, Example: []any{string(model.PayoutPending)}},
	{Name: QPayoutsByCoach, Collection: model.ColPayouts, Caller: "payouts",
		Purpose: "a coach's payouts (ops payouts retry: the earlier payouts of the sales paid again)",
		Filters: []Filter{{"coachId", Eq}}, Example: []any{"carol"}},
	{Name: QPayoutsByVoucher, Collection: model.ColPayouts, Caller: "fortnox",
		Purpose: "ops fortnox settle: a payout already recording the voucher",
		Filters: []Filter{{"fortnoxReference", Eq}}, Limit: 2, Example: []any{"P/42/2026"}},
	{Name: QPayoutsReversalDue, Collection: model.ColPayouts, Caller: "fortnox",
		Purpose: "payouts with a transfer reversal recorded and not yet booked",
		Filters: []Filter{{"reversalPending", Eq}}, Example: []any{true}},
	{Name: QAllocationsUnpaid, Collection: model.ColPayoutAllocations, Caller: "payouts",
		Purpose: "allocations with a share no payout has taken yet (an interrupted run)",
		Filters: []Filter{{"hasOpen", Eq}}, Example: []any{true}},
	{Name: QAllocationsSalesDue, Collection: model.ColPayoutAllocations, Caller: "fortnox",
		Purpose: "allocations with sales events not yet booked (FORTNOX_BOOK_SALES)",
		Filters: []Filter{{"salesPending", Eq}}, Example: []any{true}},
	{Name: QEnrollmentsActive, Collection: model.ColEnrollments, Caller: "stripe",
		Purpose: "ops programs sync: the programs active enrollments refer to",
		Filters: []Filter{{"status", Eq}}, Example: []any{"active"}},

	// ---------------- GDPR: everything linked to one user ----------------
	gdpr(QGDPRUserActivations, model.ColUserActivations, "userId", Eq),
	gdpr(QGDPRAssignedBy, model.ColUserActivations, "assignedBy", Eq),
	gdpr(QGDPRSessions, model.ColSessions, "userId", Eq),
	gdpr(QGDPRPayments, model.ColPayments, "userId", Eq),
	gdpr(QGDPRSubscriptions, model.ColSubscriptions, "userId", Eq),
	gdpr(QGDPREnrollments, model.ColEnrollments, "userId", Eq),
	gdpr(QGDPRCoachEnrollments, model.ColEnrollments, "coachIds", ArrayContains),
	gdpr(QGDPRStripeCustomers, model.ColStripeCustomers, "userId", Eq),
	gdpr(QGDPRWellbeingEvents, model.ColWellbeingEvents, "userId", Eq),
	gdpr(QGDPRRequests, model.ColGDPRRequests, "userId", Eq),
	gdpr(QGDPRLiveParticipant, model.ColLiveSessions, "participants", ArrayContains),
	gdpr(QGDPRLiveHost, model.ColLiveSessions, "coachId", Eq),
	gdpr(QGDPRLiveReflector, model.ColLiveSessions, "reflectionUserIds", ArrayContains),
	gdpr(QGDPRActivations, model.ColActivations, "createdBy", Eq),
	gdpr(QGDPRPrograms, model.ColPrograms, "createdBy", ArrayContains),
	gdpr(QGDPRPayouts, model.ColPayouts, "coachId", Eq),
	gdpr(QGDPRClientProfilesFor, model.ColClientProfiles, "coachIds", ArrayContains),
}

// gdpr is a single-field query of the export and erasure workers (no
// composite index: a single-field index serves it).
func gdpr(name, collection, field string, op Op) Query {
	return Query{Name: name, Collection: collection, Caller: "gdpr",
		Purpose: "export / erasure: documents of " + collection + " linked by " + field,
		Filters: []Filter{{field, op}}, Example: []any{"alice"}}
}
