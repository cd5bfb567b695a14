package gdpr

import (
	"context"
	"log/slog"
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
// budget is used (the next day continues), records the counts in
// jobs/retentionCleanup, and returns them.
func (s *Service) Retain(ctx context.Context) (map[string]int64, error) {
	started := time.Now()
	now := s.now()
	counts := map[string]int64{}
	var runErr error
rules:
	for _, rr := range RetentionRules {
		q, err := rr.Query.Build(s.Firestore, rr.Cutoff(now))
		if err != nil {
			return counts, fault.Wrap(err, fault.Internal, "gdpr: retention "+rr.Name)
		}
		for {
			if time.Since(started) > s.budget() {
				break rules
			}
			var n int
			if rr.Name == "exports" {
				n, err = s.expireExports(ctx, q, now)
			} else {
				n, err = s.deletePage(ctx, q)
			}
			counts[rr.Name] += int64(n)
			if err != nil {
				runErr = err
				break rules
			}
			if n < retentionPage {
				break
			}
		}
	}
	_, err := s.Firestore.Collection(model.ColJobs).Doc("retentionCleanup").Set(ctx, model.Job{Name: "retentionCleanup",
		Checkpoint: map[string]any{"counts": counts, "ranAt": now}, UpdatedAt: now})
	if runErr != nil {
		return counts, runErr
	}
	return counts, store.Classify("gdpr: retention", err)
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
// requests and clears the requests' export fields.
func (s *Service) expireExports(ctx context.Context, q firestore.Query, now time.Time) (int, error) {
	it := q.Documents(ctx)
	defer it.Stop()
	n := 0
	for {
		d, err := it.Next()
		if err == iterator.Done {
			return n, nil
		}
		if err != nil {
			return n, store.Classify("gdpr: retention query", err)
		}
		if p, _ := d.DataAt("exportPath"); p != nil {
			if path, ok := p.(string); ok && path != "" && s.Storage != nil {
				if _, err := s.deleteObjects(ctx, []string{path}); err != nil {
					return n, err
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
