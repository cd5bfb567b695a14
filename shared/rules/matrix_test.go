package rules

import (
	"testing"

	"github.com/innerjourney/functions/shared/indexes"
)

// access is one row of the access matrix: a request and the actors it is
// allowed for; every other actor is denied.
type access struct {
	what  string
	req   request
	allow []actor
}

func who(a ...actor) []actor { return a }

var (
	nobody   = who()
	signedIn = who(owner, other, coach, stranger, admin)
)

// accessMatrix: every collection × get, list (the queries clients make),
// create, update, delete, for the six actors. The owner is alice, the
// assigned coach carol, the unassigned coach dave (see harness_test.go).
var accessMatrix = []access{
	// users/{uid}
	{"users: read a profile", get("users/alice"), who(owner, admin)},
	{"users: list profiles", listAll("", "users"), who(admin)},
	{"users: create own profile", create("users/alice", userDoc()), who(owner)},
	{"users: update own profile", update("users/alice", patch("displayName", "Ally", "updatedAt", reqTime)), who(owner)},
	{"users: delete a profile", del("users/alice"), nobody},

	// client_profiles/{uid}: the coach-visible split of users/{uid}
	{"client_profiles: read", get("client_profiles/alice"), who(owner, coach, admin)},
	{"client_profiles: read an unassigned user's", get("client_profiles/bob"), who(other, admin)},
	{"client_profiles: carol lists her clients", list(indexes.QCoachClients, "carol"), who(coach, admin)},
	{"client_profiles: dave lists his clients", list(indexes.QCoachClients, "dave"), who(stranger, admin)},
	{"client_profiles: create", create("client_profiles/alice", doc{"userId": "alice", "coachIds": []any{"dave"}}), nobody},
	{"client_profiles: update", update("client_profiles/alice", patch("coachIds", []any{"carol", "dave"})), nobody},
	{"client_profiles: delete", del("client_profiles/alice"), nobody},

	// users/{uid}/coaches/{coachUid}: the assignment
	{"coaches: read the assignment", get("users/alice/coaches/carol"), who(owner, coach, admin)},
	{"coaches: list a user's coaches", list(indexes.QMyCoaches, "alice"), who(owner, admin)},
	{"coaches: assign oneself", create("users/alice/coaches/dave", doc{"coachId": "dave", "userId": "alice",
		"source": "admin", "createdAt": reqTime}), nobody},
	{"coaches: update", update("users/alice/coaches/carol", patch("source", "admin")), nobody},
	{"coaches: delete", del("users/alice/coaches/carol"), nobody},

	// users/{uid}/daily_insights
	{"daily_insights: read", get("users/alice/daily_insights/2026-11-01"), who(owner, admin)},
	{"daily_insights: list", list(indexes.QMyInsights, "alice"), who(owner, admin)},
	{"daily_insights: create", create("users/alice/daily_insights/2026-11-02", doc{"userId": "alice", "date": "2026-11-02"}), nobody},
	{"daily_insights: update", update("users/alice/daily_insights/2026-11-01", patch("headline", "x")), nobody},
	{"daily_insights: delete", del("users/alice/daily_insights/2026-11-01"), nobody},

	// users/{uid}/notifications
	{"notifications: read", get("users/alice/notifications/n1"), who(owner, admin)},
	{"notifications: list", list(indexes.QMyNotifications, "alice"), who(owner, admin)},
	{"notifications: list unread", list(indexes.QMyUnreadNotifications, "alice", nil), who(owner, admin)},
	{"notifications: create", create("users/alice/notifications/n2", doc{"userId": "alice", "title": "x"}), nobody},
	{"notifications: mark read", update("users/alice/notifications/n1", patch("readAt", reqTime)), who(owner)},
	{"notifications: delete", del("users/alice/notifications/n1"), nobody},

	// users/{uid}/private: server only
	{"private: read", get("users/alice/private/state"), nobody},
	{"private: list", listAll("users/{uid}", "private", "alice"), nobody},
	{"private: create", create("users/alice/private/other", doc{"x": 1}), nobody},
	{"private: update", update("users/alice/private/state", patch("verificationAttempts", 0)), nobody},
	{"private: delete", del("users/alice/private/state"), nobody},

	// coach_profiles
	{"coach_profiles: read", get("coach_profiles/carol"), signedIn},
	{"coach_profiles: list", listAll("", "coach_profiles"), signedIn},
	{"coach_profiles: create own", create("coach_profiles/carol", doc{"coachId": "carol", "displayName": "Carol", "bio": "Hi"}), who(coach)},
	{"coach_profiles: update own bio", update("coach_profiles/carol", patch("bio", "New bio")), who(coach)},
	{"coach_profiles: delete", del("coach_profiles/carol"), nobody},

	// coach_profiles/{coachUid}/private/connect: the Stripe Connect state,
	// server-owned; the coach and admins read it
	{"coach connect: read carol's", get("coach_profiles/carol/private/connect"), who(coach, admin)},
	{"coach connect: read another private doc", get("coach_profiles/carol/private/other"), nobody},
	{"coach connect: list", listAll("coach_profiles/{coachUid}", "private", "carol"), nobody},
	{"coach connect: create own", create("coach_profiles/dave/private/connect", doc{"coachId": "dave",
		"stripeAccountId": "acct_dave", "payoutsEnabled": true}), nobody},
	{"coach connect: enable payouts", update("coach_profiles/carol/private/connect", patch("payoutsEnabled", true)), nobody},
	{"coach connect: change the account", update("coach_profiles/carol/private/connect", patch("stripeAccountId", "acct_evil")), nobody},
	{"coach connect: delete", del("coach_profiles/carol/private/connect"), nobody},

	// activations
	{"activations: read", get("activations/act-carol"), signedIn},
	{"activations: list by category", list(indexes.QActivationsByCategory, "mindfulness"), signedIn},
	{"activations: list a coach's", list(indexes.QCoachActivations, "carol"), signedIn},
	{"activations: create as carol", create("activations/act-new", activationDoc("act-new")), who(coach)},
	{"activations: update carol's", update("activations/act-carol", patch("title", "Evening awareness", "updatedAt", reqTime)), who(coach, admin)},
	{"activations: update dave's", update("activations/act-dave", patch("title", "Renamed")), who(stranger, admin)},
	{"activations: delete carol's", del("activations/act-carol"), who(coach, admin)},

	// programs
	{"programs: read", get("programs/prog-carol"), signedIn},
	{"programs: list a coach's", list(indexes.QCoachPrograms, "carol"), signedIn},
	{"programs: list by category", list(indexes.QProgramsByCategory, "wellbeing"), signedIn},
	{"programs: create owned by carol", create("programs/prog-new", programDoc("prog-new")), who(coach, admin)},
	{"programs: update carol's price", update("programs/prog-carol", patch("price", 59900, "updatedAt", reqTime)), who(coach, admin)},
	// only admins delete: payouts read a program's splits and commission
	// (TestCoachesCannotDeleteProgramsToDropTheirTerms)
	{"programs: delete carol's", del("programs/prog-carol"), who(admin)},
	{"programs: delete dave's", del("programs/prog-dave"), who(admin)},

	// user_activations: the journal
	{"journal: read a private entry", get("user_activations/ua-private"), who(owner, admin)},
	{"journal: read a shared entry", get("user_activations/ua-shared"), who(owner, coach, admin)},
	{"journal: read an unshared assignment", get("user_activations/ua-assigned"), who(owner, admin)},
	{"journal: read a shared assignment", get("user_activations/ua-assigned-shared"), who(owner, coach, admin)},
	{"journal: read bob's shared entry (no coach)", get("user_activations/ua-bob-shared"), who(other, admin)},
	{"journal: read a shared entry dave assigned", get("user_activations/ua-dave-shared"), who(owner, coach, stranger, admin)},
	{"journal: list alice's journal", list(indexes.QJournalByDate, "alice"), who(owner, admin)},
	{"journal: list alice's assigned", list(indexes.QJournalAssigned, "alice", "assigned"), who(owner, admin)},
	{"journal: list alice's shared entries", list(indexes.QCoachClientJournal, "alice", true), who(owner, coach, admin)},
	{"journal: list alice's unshared entries", list(indexes.QCoachClientJournal, "alice", false), who(owner, admin)},
	{"journal: list carol's shared assignments", list(indexes.QCoachAssignments, "carol", true), who(coach, admin)},
	{"journal: list carol's shared assignments by status", list(indexes.QCoachAssignmentsByStatus, "carol", true,
		[]any{"in_progress", "completed"}), who(coach, admin)},
	{"journal: list carol's assignments incl. unshared", listWhere("user_activations", []string{"assignedBy"}, "carol"), who(admin)},
	{"journal: create own entry", create("user_activations/ua-new", entryDoc("ua-new")), who(owner)},
	{"journal: carol assigns to alice", create("user_activations/ua-assign", assignmentDoc("ua-assign")), who(coach)},
	{"journal: edit entry text", update("user_activations/ua-private", patch("log.text", "Edited.", "updatedAt", reqTime)), who(owner)},
	{"journal: share an entry", update("user_activations/ua-private", patch("shareWithCoach", true)), who(owner)},
	{"journal: delete own entry", del("user_activations/ua-private"), who(owner)},
	{"journal: withdraw an open assignment", del("user_activations/ua-assigned"), who(owner, coach)},
	{"journal: delete a completed assignment", del("user_activations/ua-assigned-shared"), who(owner)},

	// live_sessions
	{"live_sessions: read carol's (alice takes part)", get("live_sessions/ls-carol"), who(owner, coach, admin)},
	{"live_sessions: read dave's (bob takes part)", get("live_sessions/ls-dave"), who(other, stranger, admin)},
	{"live_sessions: list carol's hosted", list(indexes.QCoachLiveSessions, "carol"), who(coach, admin)},
	{"live_sessions: list alice's", list(indexes.QMyLiveSessions, "alice"), who(owner, admin)},
	{"live_sessions: create hosted by carol", create("live_sessions/ls-new", liveDoc("ls-new")), who(coach)},
	{"live_sessions: rename", update("live_sessions/ls-carol", patch("title", "Renamed")), who(coach)},
	{"live_sessions: alice adds her reflection", update("live_sessions/ls-carol",
		reflects([]any{reflection("alice", "Calm.")}, "alice")), who(owner)},
	{"live_sessions: a reflection without its author in reflectionUserIds", update("live_sessions/ls-carol",
		patch("reflections", []any{reflection("alice", "Calm.")})), nobody},
	{"live_sessions: clear reflectionUserIds", update("live_sessions/ls-carol-reflected",
		patch("reflectionUserIds", []any{})), nobody},
	{"live_sessions: delete one without reflections", del("live_sessions/ls-carol"), who(coach)},
	{"live_sessions: delete one with reflections", del("live_sessions/ls-carol-reflected"), nobody},

	// consents
	{"consents: read", get("consents/alice"), who(owner, admin)},
	{"consents: list", listAll("", "consents"), who(admin)},
	{"consents: create", create("consents/alice", doc{"userId": "alice",
		"consentsGiven": []any{consentEntry("terms_of_service", "granted")}}), who(owner)},
	{"consents: append an entry", update("consents/alice", patch("consentsGiven",
		[]any{seedConsent(), consentEntry("marketing_emails", "granted")})), who(owner)},
	{"consents: delete", del("consents/alice"), nobody},

	// sessions: server only, admins included
	{"sessions: read", get("sessions/s1"), nobody},
	{"sessions: list a user's", list(indexes.QGDPRSessions, "alice"), nobody},
	{"sessions: create", create("sessions/s2", doc{"sessionId": "s2", "userId": "alice", "type": "phone_verification"}), nobody},
	{"sessions: update", update("sessions/s1", patch("data", doc{"codeHash": "y"})), nobody},
	{"sessions: delete", del("sessions/s1"), nobody},

	// payments, payouts and the other money collections: read-only
	{"payments: read", get("payments/pay-alice"), who(owner, admin)},
	{"payments: list a user's", list(indexes.QMyPayments, "alice"), who(owner, admin)},
	{"payments: create", create("payments/pay-new", doc{"paymentId": "pay-new", "userId": "alice", "amount": 1, "status": "succeeded"}), nobody},
	{"payments: update", update("payments/pay-alice", patch("status", "refunded")), nobody},
	// programTerms: the program's terms frozen when the payment was
	// recorded (the payouts pay by them); server-only like every field.
	{"payments: set programTerms", update("payments/pay-alice", patch("programTerms",
		doc{"programFound": true, "coachIds": []any{"dave"}, "coachSplits": doc{"dave": 10000}, "commissionBps": 0})), nobody},
	{"payments: create with programTerms", create("payments/pay-new", doc{"paymentId": "pay-new", "userId": "alice", "amount": 1,
		"status": "succeeded", "programId": "prog-carol", "programTerms": doc{"programFound": true, "coachIds": []any{"dave"}}}), nobody},
	// programCreated: the program's version at checkout, compared with
	// the program's when the terms are frozen; server-only too.
	{"payments: set programCreated", update("payments/pay-alice", patch("programCreated", clientNow)), nobody},
	{"payments: create with programCreated", create("payments/pay-new", doc{"paymentId": "pay-new", "userId": "alice", "amount": 1,
		"status": "succeeded", "programId": "prog-carol", "programCreated": clientNow}), nobody},
	{"payments: delete", del("payments/pay-alice"), nobody},
	{"payouts: read", get("payouts/po-carol"), who(coach, admin)},
	{"payouts: list a coach's", list(indexes.QMyPayouts, "carol"), who(coach, admin)},
	{"payouts: create", create("payouts/po-new", doc{"payoutId": "po-new", "coachId": "carol", "amount": 1}), nobody},
	{"payouts: update", update("payouts/po-carol", patch("amount", 999999)), nobody},
	{"payouts: delete", del("payouts/po-carol"), nobody},
	{"enrollments: read", get("enrollments/alice_prog-carol"), who(owner, coach, admin)},
	{"enrollments: list a user's", list(indexes.QMyEnrollments, "alice"), who(owner, admin)},
	{"enrollments: list a coach's program's", list(indexes.QCoachProgramEnrollments, "carol", "prog-carol"), who(coach, admin)},
	{"enrollments: create (free enrolment)", create("enrollments/bob_prog-carol", doc{"userId": "bob", "programId": "prog-carol",
		"coachIds": []any{"carol"}, "status": "active"}), nobody},
	{"enrollments: update", update("enrollments/alice_prog-carol", patch("status", "revoked")), nobody},
	{"enrollments: delete", del("enrollments/alice_prog-carol"), nobody},
	{"subscriptions: read", get("subscriptions/sub_alice"), who(owner, admin)},
	{"subscriptions: list a user's", list(indexes.QMySubscriptions, "alice"), who(owner, admin)},
	{"subscriptions: create", create("subscriptions/sub_new", doc{"userId": "alice", "status": "active"}), nobody},
	{"subscriptions: update", update("subscriptions/sub_alice", patch("entitlements", []any{"premium"})), nobody},
	{"subscriptions: delete", del("subscriptions/sub_alice"), nobody},
	{"billing_plans: read", get("billing_plans/premium"), signedIn},
	{"billing_plans: list", listAll("", "billing_plans"), signedIn},
	{"billing_plans: create", create("billing_plans/free", doc{"planId": "free", "stripePriceId": "price_0"}), nobody},
	{"billing_plans: change the price", update("billing_plans/premium", patch("stripePriceId", "price_evil")), nobody},
	{"billing_plans: delete", del("billing_plans/premium"), nobody},
	{"stripe_customers: read", get("stripe_customers/cus_alice"), who(admin)},
	{"stripe_customers: list a user's", list(indexes.QGDPRStripeCustomers, "alice"), who(admin)},
	{"stripe_customers: create", create("stripe_customers/cus_new", doc{"customerId": "cus_new", "userId": "alice"}), nobody},
	{"stripe_customers: update", update("stripe_customers/cus_alice", patch("userId", "bob")), nobody},
	{"stripe_customers: delete", del("stripe_customers/cus_alice"), nobody},

	// GDPR, safety and server state
	{"gdpr_requests: read own", get("gdpr_requests/gr-alice"), who(owner, admin)},
	{"gdpr_requests: list own", list(indexes.QMyGDPRRequests, "alice"), who(owner, admin)},
	{"gdpr_requests: create", create("gdpr_requests/gr-new", doc{"userId": "alice", "kind": "erasure", "status": "pending"}), nobody},
	{"gdpr_requests: update", update("gdpr_requests/gr-alice", patch("status", "done")), nobody},
	{"gdpr_requests: delete", del("gdpr_requests/gr-alice"), nobody},
	{"crisis_resources: read", get("crisis_resources/sv-SE"), signedIn},
	{"crisis_resources: list", listAll("", "crisis_resources"), signedIn},
	{"crisis_resources: create", create("crisis_resources/en-GB", doc{"locale": "en-GB"}), nobody},
	{"crisis_resources: update", update("crisis_resources/sv-SE", patch("resources", []any{})), nobody},
	{"crisis_resources: delete", del("crisis_resources/sv-SE"), nobody},
	{"wellbeing_events: read", get("wellbeing_events/we1"), who(admin)},
	{"wellbeing_events: list a user's", list(indexes.QWellbeingByUser, "alice"), who(admin)},
	{"wellbeing_events: create", create("wellbeing_events/we2", doc{"userId": "alice", "source": "reflection"}), nobody},
	{"wellbeing_events: acknowledge", update("wellbeing_events/we1", patch("ackedAt", reqTime)), nobody},
	{"wellbeing_events: delete", del("wellbeing_events/we1"), nobody},
	{"webhook_events: read", get("webhook_events/evt_1"), who(admin)},
	{"webhook_events: list failed", list(indexes.QWebhookEventsFailed, "failed"), who(admin)},
	{"webhook_events: create", create("webhook_events/evt_2", doc{"eventId": "evt_2"}), nobody},
	{"webhook_events: update", update("webhook_events/evt_1", patch("status", "failed")), nobody},
	{"webhook_events: delete", del("webhook_events/evt_1"), nobody},
	{"audit_log: read", get("audit_log/a1"), who(admin)},
	{"audit_log: list", listAll("", "audit_log"), who(admin)},
	{"audit_log: create", create("audit_log/a2", doc{"action": "x"}), nobody},
	{"audit_log: update", update("audit_log/a1", patch("action", "y")), nobody},
	{"audit_log: delete", del("audit_log/a1"), nobody},
	{"processed_events: read", get("processed_events/profile:e1"), who(admin)},
	{"processed_events: list", listAll("", "processed_events"), who(admin)},
	{"processed_events: create", create("processed_events/profile:e2", doc{"handler": "profile"}), nobody},
	{"processed_events: update", update("processed_events/profile:e1", patch("eventId", "e3")), nobody},
	{"processed_events: delete", del("processed_events/profile:e1"), nobody},
	{"jobs: read", get("jobs/payouts"), who(admin)},
	{"jobs: list", listAll("", "jobs"), who(admin)},
	{"jobs: create", create("jobs/other", doc{"name": "other"}), nobody},
	{"jobs: update", update("jobs/payouts", patch("checkpoint", doc{"cursor": "x"})), nobody},
	{"jobs: delete", del("jobs/payouts"), nobody},
	{"payout_allocations: read", get("payout_allocations/pay-alice"), who(admin)},
	{"payout_allocations: list", listAll("", "payout_allocations"), who(admin)},
	{"payout_allocations: create", create("payout_allocations/pay-bob", doc{"paymentId": "pay-bob"}), nobody},
	{"payout_allocations: update", update("payout_allocations/pay-alice", patch("net", 0)), nobody},
	{"payout_allocations: delete", del("payout_allocations/pay-alice"), nobody},
	{"server_private: read", get("server_private/fortnox-token"), nobody},
	{"server_private: list", listAll("", "server_private"), nobody},
	{"server_private: create", create("server_private/other", doc{"x": 1}), nobody},
	{"server_private: update", update("server_private/fortnox-token", patch("refreshToken", "x")), nobody},
	{"server_private: delete", del("server_private/fortnox-token"), nobody},
	{"undeclared collection: read", get("anything/x"), nobody},
	{"undeclared collection: create", create("anything/y", doc{"x": 1}), nobody},
}

// expand turns the matrix into one case per actor.
func (a access) expand() []rcase {
	out := make([]rcase, 0, len(everyone))
	for _, act := range everyone {
		allowed := false
		for _, x := range a.allow {
			if x == act {
				allowed = true
			}
		}
		out = append(out, rcase{name: a.what + " as " + act.String(), as: act, req: a.req, allow: allowed})
	}
	return out
}

// allCases is the access matrix expanded plus the field-level cases.
func allCases() []rcase {
	var cases []rcase
	for _, a := range accessMatrix {
		cases = append(cases, a.expand()...)
	}
	return append(cases, fieldCases()...)
}

// TestRulesMatrix runs every case against the emulator loaded with the
// repository's firestore.rules.
func TestRulesMatrix(t *testing.T) {
	w := newWorld(t)
	cases := allCases()
	allows, denies := 0, 0
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Errorf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		if c.allow {
			allows++
		} else {
			denies++
		}
		t.Run(c.name, func(t *testing.T) { w.check(t, c) })
	}
	if len(cases) < 300 {
		t.Errorf("only %d cases", len(cases))
	}
	t.Logf("rules matrix: %d cases, %d allow, %d deny (access matrix %d rows × %d actors, %d field-level cases)",
		len(cases), allows, denies, len(accessMatrix), len(everyone), len(cases)-len(accessMatrix)*len(everyone))
}
