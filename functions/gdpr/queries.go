package gdpr

import (
	"time"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
)

// Queries of this area that are not (yet) in the shared catalogue
// (shared/indexes.Catalog). Each is a single-field query that an automatic
// single-field index serves, except qCoachAssignments, a collection-group
// query that needs a COLLECTION_GROUP field override on coaches.coachId.
// ExtraQueries lists them so the catalogue can adopt them.
var (
	qAckedBy          = gdprQuery("gdpr_wellbeing_events_ackedBy", model.ColWellbeingEvents, "ackedBy", indexes.Eq)
	qRequestedBy      = gdprQuery("gdpr_gdpr_requests_requestedBy", model.ColGDPRRequests, "requestedBy", indexes.Eq)
	qAuditSubject     = gdprQuery("gdpr_audit_log_subjectHash", model.ColAuditLog, "subjectHash", indexes.Eq)
	qAuditActor       = gdprQuery("gdpr_audit_log_actor", model.ColAuditLog, "actor", indexes.Eq)
	qAllocationsOpen  = gdprQuery("gdpr_payout_allocations_open", model.ColPayoutAllocations, "open", indexes.ArrayContains)
	qCoachAssignments = indexes.Query{Name: "gdpr_coaches_coachId", Collection: model.SubColCoaches, Group: true, Caller: "gdpr",
		Purpose: "erasure of a coach: every client's users/{uid}/coaches/{coachUid} assignment to them",
		Filters: []indexes.Filter{{Field: "coachId", Op: indexes.Eq}}, Example: []any{"carol"}}

	// A coach's sales, by the coaches of the program terms frozen on the
	// payment when it was paid. A field of a map: the automatic
	// single-field index serves it as long as firestore.indexes.json
	// exempts nothing under payments.programTerms.
	qSaleTermsCoach = gdprQuery("gdpr_payments_programTerms_coachIds", model.ColPayments, "programTerms.coachIds", indexes.ArrayContains)

	// A subject's allocations by their weight, weights.{uid} > 0
	// (allocationsByWeight builds it with WherePath: a uid is one field
	// name); "alice" stands for the uid in the index check.
	qAllocationsByWeight = indexes.Query{Name: "gdpr_payout_allocations_weights", Collection: model.ColPayoutAllocations, Caller: "gdpr",
		Purpose: "export / erasure: allocations weighting the subject, by weights.{uid} > 0",
		Filters: []indexes.Filter{{Field: "weights.alice", Op: indexes.Gt}}, Example: []any{0}}

	// Retention.
	qWebhookEventsOld    = olderThan("retention_webhook_events", model.ColWebhookEvents, "receivedAt")
	qProcessedEventsOld  = olderThan("retention_processed_events", model.ColProcessedEvents, "processedAt")
	qAuditLogOld         = olderThan("retention_audit_log", model.ColAuditLog, "createdAt")
	qExportsExpired      = olderThan("retention_gdpr_exports", model.ColGDPRRequests, "expiresAt")
	qPaymentsHoldOver    = olderThan("retention_payments_hold", model.ColPayments, "legalHoldUntil")
	qPayoutsHoldOver     = olderThan("retention_payouts_hold", model.ColPayouts, "legalHoldUntil")
	qWellbeingHoldOver   = olderThan("retention_wellbeing_hold", model.ColWellbeingEvents, "legalHoldUntil")
	qRequestsHoldOver    = olderThan("retention_gdpr_requests_hold", model.ColGDPRRequests, "legalHoldUntil")
	qAllocationsHoldOver = olderThan("retention_payout_allocations_hold", model.ColPayoutAllocations, "legalHoldUntil")

	// Migration (RepairHeldWellbeing, ops migrate): held wellbeing events.
	qWellbeingHeld = indexes.Query{Name: "migrate_wellbeing_events_pseudonymised", Collection: model.ColWellbeingEvents, Caller: "gdpr",
		Purpose: "ops migrate: held (pseudonymised) wellbeing events, by document id, to rewrite those held before episode ids carried no uid",
		Filters: []indexes.Filter{{Field: "pseudonymised", Op: indexes.Eq}}, Example: []any{true}}
)

var exampleCutoff = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// ExtraQueries are this area's queries missing from shared/indexes.Catalog.
var ExtraQueries = []indexes.Query{qAllocationsOpen, qSaleTermsCoach, qAllocationsByWeight, qAckedBy, qRequestedBy, qAuditSubject, qAuditActor, qCoachAssignments, qWellbeingHeld,
	qWebhookEventsOld, qProcessedEventsOld, qAuditLogOld, qExportsExpired, qPaymentsHoldOver, qPayoutsHoldOver,
	qWellbeingHoldOver, qRequestsHoldOver, qAllocationsHoldOver}

func gdprQuery(name, collection, field string, op indexes.Op) indexes.Query {
	return indexes.Query{Name: name, Collection: collection, Caller: "gdpr",
		Purpose: "export / erasure: documents of " + collection + " linked by " + field,
		Filters: []indexes.Filter{{Field: field, Op: op}}, Example: []any{"alice"}}
}

func olderThan(name, collection, field string) indexes.Query {
	return indexes.Query{Name: name, Collection: collection, Caller: "gdpr",
		Purpose: "retention: documents of " + collection + " whose " + field + " has passed a cutoff",
		Filters: []indexes.Filter{{Field: field, Op: indexes.Lt}}, Limit: retentionPage, Example: []any{exampleCutoff}}
}
