package payments

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// Reconciliation.
const (
	// ReconcileJob is the jobs/{name} document of the reconciliation's
	// checkpoint.
	ReconcileJob = "stripeReconcile"
	// ReconcileWindow is how far back the reconciliation looks at most
	// (Stripe lists events of the last 30 days).
	ReconcileWindow = 30 * 24 * time.Hour
	// reconcileOverlap is re-read on the next run (Stripe's event list is
	// eventually consistent).
	reconcileOverlap = time.Hour
	replayPage       = 100
)

// ReplayReport is what one reconciliation run did.
type ReplayReport struct {
	Since time.Time `json:"since"`
	// Listed events; Present were already in the inbox; Replayed were
	// taken into effect (or recorded as ignored) now; Skipped are of
	// another livemode or API version, or malformed; Failed will be
	// retried by the next run.
	Listed     int       `json:"listed"`
	Present    int       `json:"present"`
	Replayed   int       `json:"replayed"`
	Skipped    int       `json:"skipped"`
	Failed     int       `json:"failed"`
	Checkpoint time.Time `json:"checkpoint"`
}

// ReconcileRequest is the optional body of a stripe-reconcile message.
type ReconcileRequest struct {
	// Since overrides the checkpoint (still at most ReconcileWindow back).
	Since *time.Time `json:"since,omitempty"`
}

// Reconcile is the daily job (Pub/Sub topic stripe-reconcile): it lists
// Stripe's events since its checkpoint and replays those that never
// reached the inbox. Errors: INVALID_ARGUMENT for a malformed body
// (dropped); UNAVAILABLE when Stripe or Firestore fail (redelivered).
func (s *Service) Reconcile(ctx context.Context, msg *events.PubSubMessage) error {
	var in ReconcileRequest
	if len(bytes.TrimSpace(msg.Data)) > 0 {
		if err := msg.JSON(&in); err != nil {
			return err
		}
	}
	var since time.Time
	if in.Since != nil {
		since = *in.Since
	}
	rep, err := s.Replay(ctx, since)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "stripe reconciliation", "since", rep.Since, "listed", rep.Listed, "present", rep.Present,
		"replayed", rep.Replayed, "skipped", rep.Skipped, "failed", rep.Failed)
	return nil
}

// Replay lists Stripe's events created since since (the stored checkpoint
// when zero; never more than ReconcileWindow back) and processes each one
// missing from the inbox exactly as the webhook would. It then stores the
// checkpoint: an hour before the run, or the oldest failed event.
func (s *Service) Replay(ctx context.Context, since time.Time) (ReplayReport, error) {
	now := s.now()
	jobRef := s.Firestore.Collection(model.ColJobs).Doc(ReconcileJob)
	if since.IsZero() {
		snap, err := jobRef.Get(ctx)
		switch {
		case err == nil:
			var j model.Job
			if err := snap.DataTo(&j); err == nil {
				if t, ok := j.Checkpoint["since"].(time.Time); ok {
					since = t
				}
			}
		case !store.IsNotFound(err):
			return ReplayReport{}, store.Classify("reconcile", err)
		}
	}
	if floor := now.Add(-ReconcileWindow); since.Before(floor) {
		since = floor
	}
	rep := ReplayReport{Since: since.UTC()}
	p := &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	p.Context = ctx
	p.Limit = stripe.Int64(replayPage)
	it := s.Stripe.Events.List(p)
	var page []*stripe.Event
	var oldestFailed time.Time
	for it.Next() {
		page = append(page, it.Event())
		if len(page) == replayPage {
			s.replay(ctx, page, &rep, &oldestFailed)
			page = page[:0]
		}
	}
	if err := it.Err(); err != nil {
		return rep, stripeFault("list events", err)
	}
	s.replay(ctx, page, &rep, &oldestFailed)

	cp := now.Add(-reconcileOverlap)
	if !oldestFailed.IsZero() && oldestFailed.Before(cp) {
		cp = oldestFailed
	}
	rep.Checkpoint = cp
	_, err := jobRef.Set(ctx, model.Job{Name: ReconcileJob, Checkpoint: map[string]any{
		"since": cp, "listed": rep.Listed, "replayed": rep.Replayed, "failed": rep.Failed,
	}, UpdatedAt: now})
	if err != nil {
		return rep, store.Classify("reconcile checkpoint", err)
	}
	return rep, nil
}

func (s *Service) replay(ctx context.Context, evs []*stripe.Event, rep *ReplayReport, oldestFailed *time.Time) {
	if len(evs) == 0 {
		return
	}
	done := make([]bool, len(evs))
	refs := make([]*firestore.DocumentRef, 0, len(evs))
	for _, ev := range evs {
		id := ev.ID
		if !validID(id) {
			id = "invalid"
		}
		refs = append(refs, s.Firestore.Collection(model.ColWebhookEvents).Doc(id))
	}
	if snaps, err := s.Firestore.GetAll(ctx, refs); err == nil {
		for i, sn := range snaps {
			if sn.Exists() {
				st, _ := sn.Data()["status"].(string)
				done[i] = st == StatusProcessed || st == StatusIgnored
			}
		}
	}
	for i, ev := range evs {
		rep.Listed++
		if done[i] {
			rep.Present++
			continue
		}
		if reason := s.checkReplay(ev); reason != "" {
			rep.Skipped++
			slog.WarnContext(ctx, "reconcile: event skipped", "eventId", ev.ID, "reason", reason)
			continue
		}
		res, err := s.Process(ctx, ev)
		switch {
		case errors.Is(err, errMalformed):
			rep.Skipped++
		case err != nil:
			rep.Failed++
			if t := unix(ev.Created); oldestFailed.IsZero() || t.Before(*oldestFailed) {
				*oldestFailed = t
			}
			slog.WarnContext(ctx, "reconcile: replay failed", "eventId", ev.ID, "code", string(fault.CodeOf(err)))
		case res.Status == StatusDuplicate:
			rep.Present++
		default:
			rep.Replayed++
		}
	}
}

// checkReplay is check for an event fetched from the API: no signature,
// and an empty API version is accepted.
func (s *Service) checkReplay(ev *stripe.Event) string {
	if ev.APIVersion != "" && ev.APIVersion != stripe.APIVersion {
		return "API version " + ev.APIVersion
	}
	return s.check(ev)
}
