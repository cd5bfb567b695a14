package wellbeing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/logging"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// TopicSweep is the Pub/Sub topic the sweeper's Cloud Scheduler job
// publishes to.
const TopicSweep = "wellbeing-alerts-sweep"

// SweepJob is the id of the sweeper's checkpoint, jobs/{SweepJob} (the
// progress of the one-off backfill of the notified and acked mirrors).
const SweepJob = "wellbeingAlertSweep"

// AlertUndelivered is the "alert" attribute of every CRITICAL log line
// about an alert that did not reach the on-call webhook: the sweeper's
// line about alerts still undelivered after EscalateAfter, and Deliver's
// when it delivers an alert to the log (no webhook configured, or the
// webhook rejected it). The log-based alerting policy pages on it, even
// when the on-call webhook is down or misconfigured.
const AlertUndelivered = "wellbeing_undelivered"

// Sweeper defaults.
const (
	// DefaultSweepGrace: an event younger than this is left to the normal
	// path (outbox trigger → topic → deliverWellbeingAlert), which needs
	// seconds, and retries a failing webhook with backoff for minutes.
	DefaultSweepGrace = 10 * time.Minute
	// DefaultEscalateAfter: an event older than this without a delivered
	// alert is reported at CRITICAL severity on every sweep.
	DefaultEscalateAfter = time.Hour
	// DefaultSweepBudget: no delivery is started after this much time in
	// one sweep (the function's timeout is longer); the rest waits for
	// the next sweep.
	DefaultSweepBudget = 2 * time.Minute
	// backfillPage is how many events one sweep checks for missing mirrors.
	backfillPage = 300
	// backfillVersion names the backfill (notified and acked mirrors); a
	// later backfill uses a new version so that it runs again.
	backfillVersion = 1
)

// Sweeper is the backstop of alert delivery. Pub/Sub keeps an
// undelivered message only about a day, and an outbox publish can be lost
// (after publishedAt was stamped, or before the trigger ran at all), so
// without it an alert could be dropped silently. On a schedule, Sweep
// finds the events whose alert was never delivered (notified == false),
// not acknowledged and older than Grace, and delivers them directly with
// the same Deliverer, under the same lease: never twice at once, never
// again once delivered (notifiedAt). It reports every alert older than
// EscalateAfter still undelivered at CRITICAL severity.
type Sweeper struct {
	Firestore *firestore.Client
	// Deliverer delivers each alert (its lease and idempotency apply).
	Deliverer *Deliverer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Grace, EscalateAfter and Budget: DefaultSweepGrace,
	// DefaultEscalateAfter and DefaultSweepBudget when 0.
	Grace         time.Duration
	EscalateAfter time.Duration
	Budget        time.Duration
	// Log receives the sweep's log lines (slog.Default() when nil).
	Log *slog.Logger
}

// SweepReport is what one sweep found and did. Counts are of events.
type SweepReport struct {
	// Pending: not delivered, not acknowledged, older than Grace, at the
	// start of the sweep (at most the query's limit).
	Pending int `json:"pending"`
	// Truncated: the query returned its limit; more may be pending.
	Truncated bool `json:"truncated,omitempty"`
	// Delivered now by this sweep.
	Delivered int `json:"delivered"`
	// Already delivered meanwhile (by the normal path or another sweep).
	Already int `json:"already"`
	// Busy: another delivery holds the lease.
	Busy int `json:"busy"`
	// Failed: the delivery failed (webhook down, Firestore error, an
	// event that cannot be delivered).
	Failed int `json:"failed"`
	// Deferred: not tried in this sweep (the webhook failed already in
	// this sweep, or the time budget ran out).
	Deferred int `json:"deferred"`
	// Backfilled: legacy events given their notified / acked mirrors.
	Backfilled int `json:"backfilled"`
	// Undelivered: ids of the events older than EscalateAfter whose alert
	// is still not delivered after the sweep (oldest first).
	Undelivered []string `json:"undelivered,omitempty"`
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sweeper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Sweep runs one pass of the backstop:
//
//  1. the backfill, until done: events written before the notified
//     mirror existed get notified (= notifiedAt is set) and, if missing,
//     acked (= ackedAt is set), a page per sweep (checkpoint
//     jobs/{SweepJob}; passes repeat for BackfillSettle, see backfill);
//  2. the events not delivered and not acknowledged, created more than
//     Grace ago (query indexes.QWellbeingUndelivered, oldest first): each
//     one whose lease is free is delivered with Deliverer.Deliver. After a
//     webhook failure the remaining events wait for the next sweep (one
//     failing request per sweep, not one per event), as they do when
//     Budget is spent;
//  3. the escalation: when events older than EscalateAfter are still
//     undelivered, one CRITICAL line with alert=wellbeing_undelivered,
//     their count and ids (no user ids).
//
// A webhook that is down is not an error of the sweep (it is reported,
// and the next sweep tries again).
//
// Errors: the query's error (nothing was swept), else the first
// Firestore error of a delivery or of the backfill, classified with
// store.Classify; the report is filled in either case.
func (s *Sweeper) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	start := s.now()
	backfilled, backfillErr := s.backfill(ctx, start)
	rep.Backfilled = backfilled
	if backfillErr != nil {
		s.log().ErrorContext(ctx, "wellbeing sweep: backfill failed", "code", string(fault.CodeOf(backfillErr)))
	}

	grace := orDefault(s.Grace, DefaultSweepGrace)
	spec := indexes.MustLookup(indexes.QWellbeingUndelivered)
	q, err := spec.Build(s.Firestore, false, false, start.Add(-grace))
	if err != nil {
		return rep, fault.Wrap(err, fault.Internal, "wellbeing.Sweep: query")
	}
	docs, err := q.Documents(ctx).GetAll()
	if err != nil {
		err = store.Classify("wellbeing.Sweep: query", err)
		s.escalate(ctx, rep, true, err)
		return rep, err
	}
	rep.Pending, rep.Truncated = len(docs), spec.Limit > 0 && len(docs) >= spec.Limit

	ttl := s.Deliverer.claimTTL()
	budget := orDefault(s.Budget, DefaultSweepBudget)
	escalateAfter := orDefault(s.EscalateAfter, DefaultEscalateAfter)
	webhookDown := false
	firstErr := backfillErr
	for _, d := range docs {
		var ev Event
		if err := d.DataTo(&ev); err != nil {
			// Undeliverable as stored: a human must look at it.
			rep.Failed++
			s.log().ErrorContext(ctx, "wellbeing sweep: undecodable event", "wellbeingEventId", d.Ref.ID)
			rep.Undelivered = append(rep.Undelivered, d.Ref.ID)
			continue
		}
		if ev.AckedAt != nil {
			continue // acked mirror lagging: a human has seen it
		}
		now := s.now()
		delivered := false
		switch {
		case ev.NotifiedAt == nil && ev.DeliveryClaimedAt != nil && now.Sub(*ev.DeliveryClaimedAt) < ttl:
			rep.Busy++
		case webhookDown || now.Sub(start) >= budget || ctx.Err() != nil:
			rep.Deferred++
		default:
			var derr error
			delivered, webhookDown, derr = s.deliver(ctx, &rep, d.Ref.ID, ev)
			if derr != nil && firstErr == nil {
				firstErr = derr
			}
		}
		if !delivered && start.Sub(ev.CreatedAt) >= escalateAfter {
			rep.Undelivered = append(rep.Undelivered, d.Ref.ID)
		}
	}
	s.escalate(ctx, rep, false, nil)
	s.log().InfoContext(ctx, "wellbeing sweep", "pending", rep.Pending, "truncated", rep.Truncated,
		"delivered", rep.Delivered, "already", rep.Already, "busy", rep.Busy, "failed", rep.Failed,
		"deferred", rep.Deferred, "backfilled", rep.Backfilled, "undelivered", len(rep.Undelivered))
	if firstErr != nil {
		return rep, store.Classify("wellbeing.Sweep", firstErr)
	}
	return rep, nil
}

// deliver delivers the alert of one event and counts the outcome in rep.
// It reports whether the alert is now delivered (by this call or
// earlier), whether the webhook failed, and a Firestore error worth
// returning from the sweep.
func (s *Sweeper) deliver(ctx context.Context, rep *SweepReport, id string, ev Event) (delivered, webhookDown bool, err error) {
	a := Alert{EventID: id, UserID: ev.UserID, Source: ev.Source}
	res, derr := s.Deliverer.Deliver(ctx, a)
	switch code := fault.CodeOf(derr); {
	case derr == nil && res.Status == "delivered":
		rep.Delivered++
		s.log().WarnContext(ctx, "wellbeing sweep: alert delivered by the backstop", "wellbeingEventId", id,
			"deliveredTo", res.DeliveredTo, "published", ev.PublishedAt != nil, "attempts", ev.DeliveryAttempts+1)
		return true, false, nil
	case derr == nil:
		rep.Already++ // "already" or "missing"
		return true, false, nil
	case code == fault.Aborted:
		rep.Busy++
		return false, false, nil
	case errors.Is(derr, ErrWebhookFailed):
		rep.Failed++
		return false, true, nil
	default:
		rep.Failed++
		s.log().ErrorContext(ctx, "wellbeing sweep: delivery failed", "wellbeingEventId", id, "code", string(code))
		if code == fault.InvalidArgument {
			return false, false, nil // the stored event cannot make an alert; escalated
		}
		return false, false, derr
	}
}

// escalate writes the CRITICAL line about undelivered alerts: those of
// rep.Undelivered, or, when the sweep could not even query (queryFailed),
// the fact that nobody knows.
func (s *Sweeper) escalate(ctx context.Context, rep SweepReport, queryFailed bool, err error) {
	if queryFailed {
		s.log().Log(ctx, logging.LevelCritical, "WELLBEING ALERTS: the delivery backstop cannot query undelivered alerts — check wellbeing_events by hand",
			"alert", AlertUndelivered, "code", string(fault.CodeOf(err)))
		return
	}
	if len(rep.Undelivered) == 0 {
		return
	}
	s.log().Log(ctx, logging.LevelCritical, "WELLBEING ALERTS UNDELIVERED: on-call alerts older than the escalation threshold are still not delivered — "+
		"review these wellbeing_events in the admin console now and check IJ_ONCALL_WEBHOOK_URL",
		"alert", AlertUndelivered, "count", len(rep.Undelivered), "wellbeingEventIds", rep.Undelivered,
		"truncated", rep.Truncated, "escalateAfter", orDefault(s.EscalateAfter, DefaultEscalateAfter).String())
}

// sweepCheckpoint is the checkpoint of jobs/{SweepJob}: the backfill's
// version, when it began (Since), when the current pass over the
// collection began (PassStartedAt), its cursor (the last document id
// seen) and whether it is done.
type sweepCheckpoint struct {
	Version       int
	Since         time.Time
	PassStartedAt time.Time
	Cursor        string
	Done          bool
}

func (cp sweepCheckpoint) toMap() map[string]any {
	return map[string]any{"backfillVersion": cp.Version, "backfillSince": cp.Since,
		"backfillPassStartedAt": cp.PassStartedAt, "backfillCursor": cp.Cursor, "backfillDone": cp.Done}
}

func checkpointFrom(m map[string]any) sweepCheckpoint {
	var cp sweepCheckpoint
	cp.Version, _ = toInt(m["backfillVersion"])
	cp.Since, _ = m["backfillSince"].(time.Time)
	cp.PassStartedAt, _ = m["backfillPassStartedAt"].(time.Time)
	cp.Cursor, _ = m["backfillCursor"].(string)
	cp.Done, _ = m["backfillDone"].(bool)
	return cp
}

// BackfillSettle is how long the backfill keeps making passes over
// wellbeing_events after its first sweep: a function instance still
// running code from before the notified mirror (during a rollout) can
// write an event without it. The backfill is done after the first full
// pass that began BackfillSettle after the first sweep.
const BackfillSettle = 24 * time.Hour

// backfill gives one page of events written before the notified mirror
// existed their notified (notifiedAt is set) and, if missing, acked
// (ackedAt is set) mirrors, and moves the checkpoint on. It makes passes
// over the collection in document-id order until a pass that began
// BackfillSettle after the first sweep ends; from then on it costs one
// read per sweep. Events written by Raise since always have both fields.
func (s *Sweeper) backfill(ctx context.Context, now time.Time) (int, error) {
	jobRef := s.Firestore.Collection(model.ColJobs).Doc(SweepJob)
	var cp sweepCheckpoint
	snap, err := jobRef.Get(ctx)
	switch {
	case store.IsNotFound(err):
	case err != nil:
		return 0, err
	default:
		var job model.Job
		if err := snap.DataTo(&job); err == nil && job.Checkpoint != nil {
			cp = checkpointFrom(job.Checkpoint)
		}
	}
	if cp.Version != backfillVersion || cp.Since.IsZero() {
		cp = sweepCheckpoint{Version: backfillVersion, Since: now}
	}
	if cp.Done {
		return 0, nil
	}
	if cp.Cursor == "" {
		cp.PassStartedAt = now // a new pass
	}
	// A scan in document-id order: served by the built-in __name__ index,
	// no filter, so not a catalogue query.
	q := s.Firestore.Collection(model.ColWellbeingEvents).OrderBy(firestore.DocumentID, firestore.Asc).Limit(backfillPage)
	if cp.Cursor != "" {
		q = q.StartAfter(cp.Cursor)
	}
	it := q.Documents(ctx)
	defer it.Stop()
	n, seen := 0, 0
	for {
		d, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return n, err
		}
		seen++
		cp.Cursor = d.Ref.ID
		data := d.Data()
		_, hasNotified := data["notified"]
		_, hasAcked := data["acked"]
		if hasNotified && hasAcked {
			continue
		}
		changed, err := backfillEvent(ctx, s.Firestore, d.Ref)
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	if seen < backfillPage { // the pass is complete
		if cp.PassStartedAt.Sub(cp.Since) >= BackfillSettle {
			cp.Done = true
		} else {
			cp.Cursor = "" // the next sweep starts another pass
		}
	}
	if _, err := jobRef.Set(ctx, model.Job{Name: SweepJob, UpdatedAt: now, Checkpoint: cp.toMap()}); err != nil {
		return n, err
	}
	if n > 0 || cp.Done {
		s.log().InfoContext(ctx, "wellbeing sweep: backfill", "backfilled", n, "done", cp.Done)
	}
	return n, nil
}

// backfillEvent sets the missing mirrors of one event in a transaction,
// so that a delivery or an acknowledgment in between is not overwritten.
func backfillEvent(ctx context.Context, c *firestore.Client, ref *firestore.DocumentRef) (bool, error) {
	changed := false
	err := c.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		changed = false
		snap, err := tx.Get(ref)
		if store.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		data := snap.Data()
		var ups []firestore.Update
		if _, ok := data["notified"]; !ok {
			ups = append(ups, firestore.Update{Path: "notified", Value: data["notifiedAt"] != nil})
		}
		if _, ok := data["acked"]; !ok {
			ups = append(ups, firestore.Update{Path: "acked", Value: data["ackedAt"] != nil})
		}
		if len(ups) == 0 {
			return nil
		}
		changed = true
		return tx.Update(ref, ups)
	})
	return changed, err
}

// toInt reads a Firestore integer (int64) or a float as an int.
func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	case int:
		return x, true
	}
	return 0, false
}
