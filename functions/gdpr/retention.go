package gdpr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// retentionRule is one clean-up of the retention job: documents its query
// finds with the cutoff are deleted (or, for exports, expired).
type retentionRule struct {
	Name   string
	Query  indexes.Query
	Cutoff func(now time.Time) time.Time
	Why    string
}

// RetentionRules are the clean-ups of retentionCleanup, in order.
var RetentionRules = []retentionRule{
	{"sessions", indexes.MustLookup(indexes.QSessionsExpired), func(t time.Time) time.Time { return t },
		"temporary sessions past expiresAt (a TTL policy deletes them too, within a day)"},
	{"exports", qExportsExpired, func(t time.Time) time.Time { return t },
		"export archives past expiresAt: the object is deleted, the request keeps exportExpiredAt"},
	{"webhook_events", qWebhookEventsOld, func(t time.Time) time.Time { return t.AddDate(0, 0, -LogRetentionDays) },
		"Stripe event inbox older than 90 days (receivedAt)"},
	{"processed_events", qProcessedEventsOld, func(t time.Time) time.Time { return t.AddDate(0, 0, -LogRetentionDays) },
		"idempotency markers older than 90 days (processedAt; the TTL policy removes them after 30)"},
	{"audit_log", qAuditLogOld, func(t time.Time) time.Time { return t.AddDate(-AuditRetentionYears, 0, 0) },
		"audit entries older than 3 years (createdAt)"},
	{"payments", qPaymentsHoldOver, func(t time.Time) time.Time { return t }, "pseudonymised payments past legalHoldUntil"},
	{"payouts", qPayoutsHoldOver, func(t time.Time) time.Time { return t }, "pseudonymised payouts past legalHoldUntil"},
	{"payout_allocations", qAllocationsHoldOver, func(t time.Time) time.Time { return t }, "pseudonymised payout allocations past legalHoldUntil"},
	{"wellbeing_events", qWellbeingHoldOver, func(t time.Time) time.Time { return t }, "pseudonymised safety records past legalHoldUntil"},
	{"gdpr_requests", qRequestsHoldOver, func(t time.Time) time.Time { return t }, "pseudonymised erasure records past legalHoldUntil"},
}

// RetentionCleanup is the daily retention job (TopicRetention).
func (s *Service) RetentionCleanup(ctx context.Context, _ *events.PubSubMessage) error {
	counts, err := s.Retain(ctx)
	attrs := []any{}
	for k, v := range counts {
		attrs = append(attrs, k, v)
	}
	slog.InfoContext(ctx, "retention cleanup", attrs...)
	return err
}

// Retain runs every retention rule until it finds nothing more or the run
// budget is used (the next day continues), records the counts (and the
// rules that failed, with their codes) in jobs/retentionCleanup, and returns
// the counts.
//
// A failing rule stops only itself: the later rules still run, so one
// permanent failure (an archive object Storage refuses to delete) cannot
// block the clean-up of the other collections day after day.
//
// Errors: nil when every rule succeeded; otherwise a fault error prefixed
// "gdpr: retention" naming the failed rules and wrapping all their errors,
// whose code is that of a retryable failure when there is one (so Pub/Sub
// redelivers and the whole, idempotent, run repeats), else that of the first
// permanent failure (logged and dropped by the handler; the next daily run
// tries again).
func (s *Service) Retain(ctx context.Context) (map[string]int64, error) {
	started := time.Now()
	now := s.now()
	counts := map[string]int64{}
	failed := map[string]string{}
	var names []string
	var errs []error
	for _, rr := range RetentionRules {
		if time.Since(started) > s.budget() {
			break
		}
		n, err := s.retainRule(ctx, rr, now, started)
		counts[rr.Name] += n
		if err != nil {
			code := fault.CodeOf(err)
			failed[rr.Name] = string(code)
			names = append(names, rr.Name)
			errs = append(errs, fmt.Errorf("%s: %w", rr.Name, err))
			slog.ErrorContext(ctx, "gdpr: retention rule failed", "alert", "gdpr_retention_failed", "rule", rr.Name,
				"code", string(code), "retryable", fault.Retryable(err))
		}
	}
	checkpoint := map[string]any{"counts": counts, "ranAt": now}
	if len(failed) > 0 {
		checkpoint["failed"] = failed
	}
	_, jobErr := s.Firestore.Collection(model.ColJobs).Doc("retentionCleanup").Set(ctx, model.Job{Name: "retentionCleanup",
		Checkpoint: checkpoint, UpdatedAt: now})
	if err := joinFailures("gdpr: retention: rules failed: "+strings.Join(names, ", "), errs); err != nil {
		return counts, err
	}
	return counts, store.Classify("gdpr: retention", jobErr)
}

// joinFailures returns nil for no failures, else one fault error with
// message wrapping them all, whose code is that of the first retryable one
// (so that the whole is retried when a retry can help), else that of the
// first one.
func joinFailures(message string, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	code := fault.CodeOf(errs[0])
	for _, err := range errs {
		if fault.Retryable(err) {
			code = fault.CodeOf(err)
			break
		}
	}
	return &fault.Error{Code: code, Message: message, Err: errors.Join(errs...)}
}

// retainRule runs one rule page by page until a page is not full, the run
// budget (counted from started) is used, or a page fails; it returns how
// many documents it handled. A failed page ends the rule for this run (a
// failure that repeats would otherwise find the same page again and again).
func (s *Service) retainRule(ctx context.Context, rr retentionRule, now, started time.Time) (int64, error) {
	q, err := rr.Query.Build(s.Firestore, rr.Cutoff(now))
	if err != nil {
		return 0, fault.Wrap(err, fault.Internal, "gdpr: retention "+rr.Name)
	}
	var total int64
	for time.Since(started) <= s.budget() {
		var n int
		if rr.Name == "exports" {
			n, err = s.expireExports(ctx, q, now)
		} else {
			n, err = s.deletePage(ctx, q)
		}
		total += int64(n)
		if err != nil || n < retentionPage {
			return total, err
		}
	}
	return total, nil
}

// deletePage deletes one page of a query's documents.
func (s *Service) deletePage(ctx context.Context, q firestore.Query) (int, error) {
	docs, err := q.Select().Documents(ctx).GetAll()
	if err != nil {
		return 0, store.Classify("gdpr: retention query", err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	bw := s.Firestore.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, 0, len(docs))
	for _, d := range docs {
		j, err := bw.Delete(d.Ref)
		if err != nil {
			bw.End()
			return 0, store.Classify("gdpr: retention delete", err)
		}
		jobs = append(jobs, j)
	}
	bw.End()
	n := 0
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return n, store.Classify("gdpr: retention delete", err)
		}
		n++
	}
	return n, nil
}

// expireExports deletes the archives of one page of expired export
// requests and clears the requests' export fields. A request whose archive
// cannot be deleted keeps its fields (the next run tries again) and does not
// stop the page; a failed query or update does.
//
// Errors: the Firestore error of the query or an update, else the archive
// deletion failures of the page joined (joinFailures; retryable if any
// is, see deleteObjects), with n the requests expired.
func (s *Service) expireExports(ctx context.Context, q firestore.Query, now time.Time) (int, error) {
	it := q.Documents(ctx)
	defer it.Stop()
	n := 0
	var failures []error
	for {
		d, err := it.Next()
		if err == iterator.Done {
			return n, joinFailures(fmt.Sprintf("gdpr: retention: %d export archives not deleted", len(failures)), failures)
		}
		if err != nil {
			return n, store.Classify("gdpr: retention query", err)
		}
		if p, _ := d.DataAt("exportPath"); p != nil {
			if path, ok := p.(string); ok && path != "" && s.Storage != nil {
				if _, err := s.deleteObjects(ctx, []string{path}); err != nil {
					slog.WarnContext(ctx, "gdpr: export archive not deleted", "requestId", d.Ref.ID,
						"code", string(fault.CodeOf(err)), "retryable", fault.Retryable(err))
					failures = append(failures, err)
					continue
				}
			}
		}
		if _, err := d.Ref.Update(ctx, []firestore.Update{{Path: "exportPath", Value: firestore.Delete},
			{Path: "expiresAt", Value: firestore.Delete}, {Path: "exportExpiredAt", Value: now}, {Path: "updatedAt", Value: now}}); err != nil && !store.IsNotFound(err) {
			return n, store.Classify("gdpr: retention update", err)
		}
		n++
	}
}
