package gdpr

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
)

// Kind is what erasure does with the documents a rule finds.
type Kind string

// Erasure kinds.
const (
	// KindDelete deletes the documents.
	KindDelete Kind = "delete"
	// KindDeleteSubtree deletes a document and all its subcollections.
	KindDeleteSubtree Kind = "delete-subtree"
	// KindAnonymise keeps documents that belong to someone else (or to
	// everyone) and removes the subject from them: the uid is removed from
	// arrays, a reference replaced by ErasedRef, the subject's own entries
	// in shared documents removed.
	KindAnonymise Kind = "anonymise"
	// KindLegalHold keeps records the law requires, with every direct
	// identifier replaced by the subject's keyed pseudonym, until the
	// retention job deletes them at legalHoldUntil.
	KindLegalHold Kind = "legal-hold-pseudonymise"
	// KindKeep keeps the documents: they hold no data linked to a subject,
	// or only pseudonymous data with its own retention.
	KindKeep Kind = "keep"
	// KindExternal is an external system (Storage, Stripe, Auth, Fortnox).
	KindExternal Kind = "external"
)

// Match says how a rule finds the subject's documents.
type Match string

// Matches.
const (
	// MatchNone: the collection holds nothing linked to a subject.
	MatchNone Match = ""
	// MatchDocID: the document {collection}/{uid}.
	MatchDocID Match = "doc-id"
	// MatchSubtree: a subcollection of users/{uid}, erased and exported
	// with the users/{uid} subtree.
	MatchSubtree Match = "subtree"
	// MatchQuery: one indexed single-field query (== or array-contains)
	// with the uid, or with its pseudonym when ByPseudonym.
	MatchQuery Match = "query"
	// MatchVia: documents a rule's own resolver finds: named by exact ids
	// held in documents an indexed query found (payout_allocations/
	// {paymentId} through the subject's payouts' relatedPaymentIds), or
	// by an indexed query on a map key (payout_allocations.weights.{uid}).
	MatchVia Match = "via"
)

// ErasedRef replaces a reference to an erased user (activations.createdBy,
// user_activations.assignedBy, live_sessions.coachId, …) where the
// document itself stays (model.ErasedRef, which the other areas check).
const ErasedRef = model.ErasedRef

// Rule is one way a collection is linked to a subject, and what erasure and
// export do with the documents it finds.
type Rule struct {
	// ID is "<collection>.<field>" (or the collection for a document-id
	// match): the key of the rule in progress, plan, proof and the
	// archive's file names.
	ID          string
	Match       Match
	Query       indexes.Query
	ByPseudonym bool
	Kind        Kind
	// Erase says what erasure does (the README's table).
	Erase string
	// NeedsData says whether erasure reads the documents' fields; without
	// it the query selects document names only.
	NeedsData bool
	// Guard makes the update conditional on the document being unchanged
	// since it was read (read-modify-write of whole fields); a lost race is
	// read again.
	Guard bool
	// Select names the fields erasure reads (instead of NeedsData's all).
	Select []string
	// MediaFirst deletes the Storage objects a journal entry refers to
	// before the entry.
	MediaFirst bool
	// via resolves a MatchVia rule's documents; Found says how (the
	// README's "found by").
	via   func(ctx context.Context, s *Service, uid string) ([]*firestore.DocumentRef, error)
	Found string
	// update returns the writes that anonymise or pseudonymise one
	// document (KindAnonymise, KindLegalHold).
	update func(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error)
	// export returns what the archive holds of one document, false to
	// leave it out; nil: the rule's documents are not exported.
	export func(x *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool)
}

// Policy is the entry of one collection (or external system) in the
// policy table.
type Policy struct {
	// Collection is the collection id (a subcollection's own id) or, for
	// a System entry, the system's name.
	Collection string
	// Parent is the parent document pattern of a subcollection.
	Parent string
	System bool
	// Kind is the collection's main erasure kind.
	Kind Kind
	// Export says what the archive holds.
	Export string
	// Why gives the reason or legal basis.
	Why string
	// Retention is the retention outside erasure.
	Retention string
	Rules     []Rule
}

func q(name string) indexes.Query { return indexes.MustLookup(name) }

// authExport is what the archive holds of the sign-in account
// (exportAuth).
const authExport = "the sign-in account (data/auth.json): e-mail address, phone number, display name, photo, sign-in providers, creation and sign-in times, disabled, and its custom claims (the entitlements the payments webhook sets, roles); no password hash or token"

// Policies is the per-collection policy table: one entry per collection
// constant of shared/model (TestEveryCollectionHasPolicy) and one per
// external system, in the order erasure runs the rules.
var Policies = []Policy{
	{Collection: "auth", System: true, Kind: KindExternal,
		Export: authExport, Why: "the sign-in account; the erasure marker written (firestore.rules then refuses its ID tokens' writes), refresh tokens revoked and the account disabled first, deleted last",
		Retention: "while the account exists"},
	{Collection: "stripe", System: true, Kind: KindExternal,
		Export:    "stripe_customers ids; a coach's Connect account id (private/connect)",
		Why:       "the Stripe customer is deleted through the API (which cancels its subscriptions), and a coach's Connect account too (Stripe refuses while a balance is left: the erasure then fails for an admin to settle); Stripe keeps its own legally required records as a separate controller",
		Retention: "Stripe's own"},
	{Collection: "storage", System: true, Kind: KindExternal,
		Export:    "every object under users/{uid}/, journal/{uid}/, uploads/{uid}/ and the journal's audio/video objects (media/…)",
		Why:       "user media; objects found by prefixes ending in {uid}/ and by the exact audioUrl/videoUrl of the subject's journal entries whose path has a {uid} segment",
		Retention: "exports/{uid}/… deleted after ExportTTL"},
	{Collection: model.ColUserActivations, Kind: KindDelete,
		Export: "the subject's journal entries in full (with AI analysis) and their media",
		Why:    "the journal is the subject's own record", Retention: "while the account exists",
		Rules: []Rule{
			{ID: "user_activations.userId", Match: MatchQuery, Query: q(indexes.QGDPRUserActivations), Kind: KindDelete,
				Select: mediaFields, MediaFirst: true,
				Erase: "delete, each page after its audio/video objects", export: exportAll},
			{ID: "user_activations.assignedBy", Match: MatchQuery, Query: q(indexes.QGDPRAssignedBy), Kind: KindAnonymise,
				Erase: "clients' entries the subject assigned as a coach: assignedBy → " + ErasedRef, update: setField("assignedBy", ErasedRef)},
		}},
	{Collection: model.ColSessions, Kind: KindDelete,
		Export: "type and times; `data` (one-time codes) left out as security material",
		Why:    "temporary server state", Retention: "deleted at expiresAt (TTL policy and retentionCleanup)",
		Rules: []Rule{{ID: "sessions.userId", Match: MatchQuery, Query: q(indexes.QGDPRSessions), Kind: KindDelete,
			Erase: "delete", export: exportSession}}},
	{Collection: model.ColEnrollments, Kind: KindDelete,
		Export: "the subject's enrolments (programCreated: the version of the program enrolled in, its creation time; 1970-01-01 when the program no longer existed when it was recorded)",
		Why:    "access rights, not accounting records (the payment is)", Retention: "while the account exists",
		Rules: []Rule{
			{ID: "enrollments.userId", Match: MatchQuery, Query: q(indexes.QGDPREnrollments), Kind: KindDelete, Erase: "delete", export: exportAll},
			{ID: "enrollments.coachIds", Match: MatchQuery, Query: q(indexes.QGDPRCoachEnrollments), Kind: KindAnonymise,
				Erase: "clients' enrolments in the subject's programs: uid removed from coachIds", update: arrayRemoveUID("coachIds")},
		}},
	{Collection: model.ColSubscriptions, Kind: KindDelete,
		Export:    "the subject's subscriptions",
		Why:       "subscription state; the accounting records are the payments (held); deleting the Stripe customer cancels the subscription at Stripe",
		Retention: "while the account exists",
		Rules: []Rule{{ID: "subscriptions.userId", Match: MatchQuery, Query: q(indexes.QGDPRSubscriptions), Kind: KindDelete,
			Erase: "delete (after the Stripe customer)", export: exportAll}}},
	{Collection: model.ColStripeCustomers, Kind: KindDelete,
		Export: "the customer ids",
		Why:    "the uid ↔ Stripe customer mapping; deleted after the customer is deleted at Stripe", Retention: "while the account exists",
		Rules: []Rule{{ID: "stripe_customers.userId", Match: MatchQuery, Query: q(indexes.QGDPRStripeCustomers), Kind: KindDelete,
			Erase: "delete (after stripe)", export: exportAll}}},
	{Collection: model.ColClientProfiles, Kind: KindDelete,
		Export: "the subject's coach-visible profile",
		Why:    "a derived copy of the profile", Retention: "while the account exists",
		Rules: []Rule{
			{ID: "client_profiles", Match: MatchDocID, Kind: KindDelete, Erase: "delete client_profiles/{uid}", export: exportAll},
			{ID: "client_profiles.coachIds", Match: MatchQuery, Query: q(indexes.QGDPRClientProfilesFor), Kind: KindAnonymise,
				Erase: "clients of the subject as a coach: uid removed from coachIds", update: arrayRemoveUID("coachIds")},
		}},
	{Collection: model.ColCoachProfiles, Kind: KindDeleteSubtree,
		Export: "the subject's coach profile and their Stripe Connect state (private/connect)",
		Why:    "the coach's public profile; below it the server-owned Connect state (account id, payout eligibility)", Retention: "while the account exists",
		Rules: []Rule{{ID: "coach_profiles", Match: MatchDocID, Kind: KindDeleteSubtree,
			Erase: "delete coach_profiles/{uid} and everything below it (private/connect)", export: exportAll}}},
	{Collection: model.ColLiveSessions, Kind: KindAnonymise,
		Export: "sessions taken part in or reflected in (also after leaving or being removed): title, times, status and the subject's own reflections only (no other participants); sessions hosted: title, times, status, participant count",
		Why:    "shared documents: other participants' data stays", Retention: "while the session's host keeps it",
		Rules: []Rule{
			{ID: "live_sessions.participants", Match: MatchQuery, Query: q(indexes.QGDPRLiveParticipant), Kind: KindAnonymise, NeedsData: true,
				Erase: "uid removed from participants (arrayRemove) and the subject's reflections removed (the uid in reflectionUserIds goes in the next rule)", update: removeParticipant, export: exportLiveParticipant},
			// reflectionUserIds finds the reflections of a subject who left
			// the session or was removed from it (the rules keep the field
			// in step with reflections). Guarded: the uid leaves
			// reflectionUserIds only together with every reflection the
			// write removes, on the version read.
			{ID: "live_sessions.reflectionUserIds", Match: MatchQuery, Query: q(indexes.QGDPRLiveReflector), Kind: KindAnonymise, NeedsData: true, Guard: true,
				Erase:  "sessions the subject reflected in, also after leaving or being removed: their reflections and their uid in reflectionUserIds and participants removed in one write, guarded on the version read (a lost race reads again)",
				update: removeReflector, export: exportLiveParticipant},
			{ID: "live_sessions.coachId", Match: MatchQuery, Query: q(indexes.QGDPRLiveHost), Kind: KindAnonymise,
				Erase: "sessions the subject hosted: coachId → " + ErasedRef, update: setField("coachId", ErasedRef), export: exportLiveHosted},
		}},
	{Collection: model.ColActivations, Kind: KindAnonymise,
		Export: "activations the subject created (their own authored content)",
		Why:    "content other users' journals refer to stays; the author reference goes", Retention: "while published",
		Rules: []Rule{{ID: "activations.createdBy", Match: MatchQuery, Query: q(indexes.QGDPRActivations), Kind: KindAnonymise,
			Erase: "createdBy → " + ErasedRef, update: setField("createdBy", ErasedRef), export: exportAll}}},
	{Collection: model.ColPrograms, Kind: KindAnonymise,
		Export: "programs the subject co-created, without the other creators",
		Why:    "content enrolled users depend on stays; the subject's uid is replaced in createdBy and coachSplits", Retention: "while published",
		Rules: []Rule{{ID: "programs.createdBy", Match: MatchQuery, Query: q(indexes.QGDPRPrograms), Kind: KindAnonymise, NeedsData: true, Guard: true,
			Erase: "uid → " + ErasedRef + " in createdBy and coachSplits", update: replaceProgramCreator, export: exportProgram}}},
	{Collection: model.ColPayments, Kind: KindLegalHold,
		Export: "the subject's payments in full; as a coach, the sales of their programs: payment id, program, date, currency, status and the terms frozen when paid as they concern the subject (their own share; not the customer, not the other coaches)",
		Why: "accounting records: Bokföringslagen (1999:1078) 7 kap. 2 § keeps them 7 years after the end of the calendar year; " +
			"a sale stays its customer's record, and the coach's uid in the terms frozen on it (programTerms, by which the payouts allocate it) is replaced as in programs",
		Retention: "deleted by retentionCleanup at legalHoldUntil",
		Rules: []Rule{
			{ID: "payments.userId", Match: MatchQuery, Query: q(indexes.QGDPRPayments), Kind: KindLegalHold, NeedsData: true,
				Erase:  "userId and customerId → keyed pseudonym, invoiceUrl removed, pseudonymised: true, legalHoldUntil; amounts, dates and Stripe references kept",
				update: pseudonymisePayment, export: exportAll},
			// The terms frozen on a sale name its program's coaches as the
			// program did when the customer paid; the payouts allocate a
			// sale not yet allocated by them. Same replacement as
			// programs.createdBy (replaceCoach), guarded like it.
			{ID: "payments.programTerms.coachIds", Match: MatchQuery, Query: qSaleTermsCoach, Kind: KindAnonymise, NeedsData: true, Guard: true,
				Erase: "sales of the subject's programs (the terms frozen on the payment when paid): uid → " + ErasedRef +
					" in programTerms.coachIds and as a key of programTerms.coachSplits (its share added to " + ErasedRef + "'s), as in programs; " +
					"the rest of the payment unchanged; the payouts then allocate that share to " + ErasedRef + " as for a program",
				update: replaceTermsCoach, export: exportSaleTerms},
		}},
	{Collection: model.ColPayoutAllocations, Kind: KindLegalHold,
		Export:    "the subject's shares of payments as a coach (other coaches' shares left out)",
		Why:       "the split of each payment among its coaches is the basis of the payouts' vouchers (Bokföringslagen, 7 years)",
		Retention: "deleted by retentionCleanup at legalHoldUntil (once pseudonymised)",
		Rules: []Rule{
			{ID: "payout_allocations.open", Match: MatchQuery, Query: qAllocationsOpen, Kind: KindLegalHold, NeedsData: true, Guard: true,
				Erase:  "allocations with the subject's unpaid shares: the coach uid → keyed pseudonym in weights, entries and open",
				update: pseudonymiseAllocation, export: exportAllocation},
			{ID: "payout_allocations.via_payouts", Match: MatchVia, Kind: KindLegalHold, NeedsData: true, Guard: true, via: allocationsViaPayouts,
				Found:  "ids in the subject's payouts.relatedPaymentIds",
				Erase:  "allocations of the payments in the subject's payouts (relatedPaymentIds): the same; runs before payouts",
				update: pseudonymiseAllocation, export: exportAllocation},
			// A sale refunded in full before its allocation is allocated
			// without entries (payouts allocateRefunded): no open share,
			// no payout names it; only its weights name the coaches.
			{ID: "payout_allocations.weights", Match: MatchVia, Kind: KindLegalHold, NeedsData: true, Guard: true, via: allocationsByWeight,
				Found:  "`weights.{uid}` set, no entry of the subject",
				Erase:  "allocations naming the subject only in weights (a sale refunded in full before its allocation: no entries, no payout): the same; runs before payouts",
				update: pseudonymiseAllocation, export: exportAllocation},
		}},
	{Collection: model.ColPayouts, Kind: KindLegalHold,
		Export:    "the subject's payouts as a coach, in full (the operator who released a failed payout as \"staff\")",
		Why:       "accounting records (Bokföringslagen, 7 years), booked in Fortnox",
		Retention: "deleted by retentionCleanup at legalHoldUntil",
		Rules: []Rule{{ID: "payouts.coachId", Match: MatchQuery, Query: q(indexes.QGDPRPayouts), Kind: KindLegalHold, NeedsData: true,
			Erase:  "coachId → keyed pseudonym, pseudonymised: true, legalHoldUntil; amounts, dates, Stripe and Fortnox references kept",
			update: pseudonymisePayout, export: exportPayout}}},
	{Collection: model.ColWellbeingEvents, Kind: KindLegalHold,
		Export:    "the subject's wellbeing-protocol records (without the staff member who acknowledged them)",
		Why:       "safety records: kept pseudonymised, without the trigger (health data), to show the protocol was followed (Art. 17(3)(e)), " + fmt.Sprint(WellbeingHoldYears) + " years",
		Retention: "deleted by retentionCleanup at legalHoldUntil",
		Rules: []Rule{
			{ID: "wellbeing_events.userId", Match: MatchQuery, Query: q(indexes.QGDPRWellbeingEvents), Kind: KindLegalHold, NeedsData: true,
				Erase: "userId → keyed pseudonym (also inside episodeId), trigger and sourceKey removed, pseudonymised: true, legalHoldUntil", update: pseudonymiseWellbeing, export: exportWellbeing},
			{ID: "wellbeing_events.ackedBy", Match: MatchQuery, Query: qAckedBy, Kind: KindAnonymise,
				Erase: "records the subject acknowledged as staff: ackedBy → " + ErasedRef, update: setField("ackedBy", ErasedRef)},
		}},
	{Collection: model.ColGDPRRequests, Kind: KindLegalHold,
		Export:    "the subject's requests (status, dates, counts)",
		Why:       "the erasure request is the proof of erasure (Art. 5(2) accountability): pseudonymised at the end and kept " + fmt.Sprint(ErasureRecordYears) + " years; other requests deleted with their archives",
		Retention: "erasure records deleted at legalHoldUntil; export archives after ExportTTL; erasure markers (erasing_…, no request: see firestore.rules) at legalHoldUntil, " + IDTokenWindow.String() + " after the account was disabled",
		Rules: []Rule{
			{ID: "gdpr_requests.userId", Match: MatchQuery, Query: q(indexes.QGDPRRequests), Kind: KindDelete,
				Erase: "the subject's other requests deleted (the running erasure request is pseudonymised when done)", export: exportRequest},
			{ID: "gdpr_requests.requestedBy", Match: MatchQuery, Query: qRequestedBy, Kind: KindAnonymise,
				Erase: "requests the subject made as an admin: requestedBy → " + ErasedRef, update: setField("requestedBy", ErasedRef)},
		}},
	{Collection: model.ColAuditLog, Kind: KindKeep,
		Export: "entries about the subject (actor shown as self or staff)",
		Why:    "already keyed by the subject's pseudonym; accountability", Retention: fmt.Sprint(AuditRetentionYears) + " years (expiresAt TTL and retentionCleanup)",
		Rules: []Rule{
			{ID: "audit_log.subjectHash", Match: MatchQuery, Query: qAuditSubject, ByPseudonym: true, Kind: KindKeep,
				Erase: "kept (pseudonymous)", export: exportAudit},
			{ID: "audit_log.actor", Match: MatchQuery, Query: qAuditActor, Kind: KindAnonymise,
				Erase: "entries the subject made as staff: actor → keyed pseudonym", update: setPseudonym("actor")},
		}},
	{Collection: model.SubColCoaches, Parent: "users/{uid}", Kind: KindDeleteSubtree,
		Export: "the subject's coach assignments",
		Why:    "the subject's relationships; clients' assignments to an erased coach are deleted", Retention: "while the account exists",
		Rules: []Rule{
			{ID: "users/coaches", Match: MatchSubtree, Kind: KindDeleteSubtree, Erase: "with users/{uid}"},
			{ID: "coaches.coachId", Match: MatchQuery, Query: qCoachAssignments, Kind: KindDelete,
				Erase: "clients' assignments to the subject as a coach: deleted"},
		}},
	{Collection: model.SubColInsights, Parent: "users/{uid}", Kind: KindDeleteSubtree,
		Export: "all daily insights", Why: "derived from the profile", Retention: "while the account exists",
		Rules: []Rule{{ID: "users/daily_insights", Match: MatchSubtree, Kind: KindDeleteSubtree, Erase: "with users/{uid}"}}},
	{Collection: model.SubColNotes, Parent: "users/{uid}", Kind: KindDeleteSubtree,
		Export: "all notifications", Why: "messages to the subject", Retention: "while the account exists",
		Rules: []Rule{{ID: "users/notifications", Match: MatchSubtree, Kind: KindDeleteSubtree, Erase: "with users/{uid}"}}},
	{Collection: model.SubColPrivate, Parent: "users/{uid}", Kind: KindDeleteSubtree,
		Export: "server-held state (billing customer id, …); fields named like secrets or tokens are left out",
		Why:    "server-only per-user state", Retention: "while the account exists",
		Rules: []Rule{{ID: "users/private", Match: MatchSubtree, Kind: KindDeleteSubtree, Erase: "with users/{uid}"}}},
	{Collection: model.ColConsents, Kind: KindDelete,
		Export:    "the full consent history",
		Why:       "after erasure there is no processing left to justify; the final state (types, versions, statuses, dates) is kept as proof of consent in the pseudonymous erasure audit record",
		Retention: "while the account exists",
		Rules:     []Rule{{ID: "consents", Match: MatchDocID, Kind: KindDelete, Erase: "summary into the audit record, then delete", export: exportAll}}},
	{Collection: model.ColUsers, Kind: KindDeleteSubtree,
		Export: "the profile and every subcollection",
		Why:    "the subject's profile", Retention: "while the account exists",
		Rules: []Rule{{ID: "users", Match: MatchDocID, Kind: KindDeleteSubtree, Erase: "delete users/{uid} and all its subcollections, recursively"}}},
	{Collection: model.ColWebhookEvents, Kind: KindKeep,
		Export: "—", Why: "Stripe event inbox: event ids and types, no subject field",
		Retention: fmt.Sprint(LogRetentionDays) + " days (expiresAt TTL; retentionCleanup on receivedAt)"},
	{Collection: model.ColProcessedEvents, Kind: KindKeep,
		Export: "—", Why: "idempotency markers: handler and event ids only (marker ids must not embed uids)",
		Retention: "30 days TTL; retentionCleanup after " + fmt.Sprint(LogRetentionDays) + " days"},
	{Collection: model.ColJobs, Kind: KindKeep,
		Export: "—", Why: "checkpoints of scheduled jobs; no personal data beyond paging cursors: the last user id the GDPR reconciliation reached (gdprReconcile), the last coach id the Stripe account check reached and the coaches whose check is to be retried (stripeReconcile); ids only, never read as data", Retention: "overwritten by each run (hourly, daily)"},
	{Collection: model.ColCrisisResources, Kind: KindKeep,
		Export: "—", Why: "public help lines, no personal data", Retention: "—"},
	{Collection: model.ColServerPrivate, Kind: KindKeep,
		Export: "—", Why: "server-only credentials (the Fortnox refresh token); no personal data", Retention: "rotated"},
	{Collection: model.ColBillingPlans, Kind: KindKeep,
		Export: "—", Why: "subscription plans, no personal data", Retention: "—"},
	{Collection: "fortnox", System: true, Kind: KindKeep,
		Export: "—", Why: "vouchers are accounting records (Bokföringslagen); they carry payout references and amounts, no user identifiers",
		Retention: "Fortnox's own archive"},
}

// PolicyFor returns the policy of a collection or system.
func PolicyFor(name string) (Policy, bool) {
	for _, p := range Policies {
		if p.Collection == name {
			return p, true
		}
	}
	return Policy{}, false
}

// rules returns every rule of the table in order.
func rules() []Rule {
	var out []Rule
	for _, p := range Policies {
		out = append(out, p.Rules...)
	}
	return out
}

// ruleByID returns the rule called id.
func ruleByID(id string) (Rule, bool) {
	for _, r := range rules() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// collectionOf returns the collection a rule's documents live in.
func collectionOf(p Policy, r Rule) string {
	if r.Match == MatchQuery {
		return r.Query.Collection
	}
	return p.Collection
}

// PolicyMarkdown renders the policy table for the README: one row per
// collection or system, with each rule's finder and erasure.
func PolicyMarkdown() string {
	var b strings.Builder
	b.WriteString("| collection | kind | found by | erasure | export | why | retention |\n|---|---|---|---|---|---|---|\n")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	for _, p := range Policies {
		name := "`" + p.Collection + "`"
		if p.Parent != "" {
			name = "`" + p.Parent + "/" + p.Collection + "`"
		}
		if p.System {
			name = p.Collection + " (external)"
		}
		var found, erase []string
		for _, r := range p.Rules {
			switch r.Match {
			case MatchDocID:
				found = append(found, "doc id = uid")
			case MatchSubtree:
				found = append(found, "under users/{uid}")
			case MatchQuery:
				f := r.Query.Filters[0]
				v := "uid"
				if r.ByPseudonym {
					v = "pseudonym(uid)"
				}
				scope := ""
				if r.Query.Group {
					scope = " (group)"
				}
				found = append(found, fmt.Sprintf("`%s %s %s`%s", f.Field, f.Op, v, scope))
			case MatchVia:
				found = append(found, r.Found)
			}
			erase = append(erase, fmt.Sprintf("**%s**: %s", r.Kind, r.Erase))
		}
		if len(found) == 0 {
			found = []string{"—"}
		}
		if len(erase) == 0 {
			erase = []string{"**" + string(p.Kind) + "**"}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", name, p.Kind, strings.Join(found, "; "),
			esc(strings.Join(erase, "; ")), esc(p.Export), esc(p.Why), esc(p.Retention))
	}
	return b.String()
}
