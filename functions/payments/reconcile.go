package payments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
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
	// ReconcileBudget is how long one run works: the event replay lists
	// and replays for at most 6/7 of it (reconcileEventsShare) before it
	// saves its checkpoint at the first event it did not get to; the
	// Connect accounts pass (reconcileAccounts) has the rest, at least a
	// seventh, and saves its cursor at the first coach it did not get to.
	// The next run resumes at both. stripeReconcile's timeout is 540 s.
	ReconcileBudget = 7 * time.Minute
	// reconcileEventsShare is the share, in sevenths, of the run budget the
	// event replay may use, so that a backlog of events (a first run, a
	// long outage) never starves the accounts pass, on which the payouts'
	// choice of who can be paid depends.
	reconcileEventsShare = 6
	// reconcileOverlap is re-read on the next run (Stripe's event list is
	// eventually consistent).
	reconcileOverlap = time.Hour
	// reconcileSlice is the span of creation times listed as one unit:
	// Stripe lists newest first, so a slice is listed whole, then replayed
	// oldest first, and the checkpoint can stop inside it.
	reconcileSlice = 24 * time.Hour
	replayPage     = 100
)

// ReplayReport is what one reconciliation run did.
type ReplayReport struct {
	Since time.Time `json:"since"`
	// Listed events; Present were already in the inbox; Replayed were
	// taken into effect (or recorded as ignored) now; Skipped are of
	// another livemode or API version, or malformed; Failed will be
	// retried by the next run.
	Listed   int `json:"listed"`
	Present  int `json:"present"`
	Replayed int `json:"replayed"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
	// Done is false when the run budget ran out before the window's end:
	// the next run resumes at Checkpoint.
	Done       bool      `json:"done"`
	Checkpoint time.Time `json:"checkpoint"`

	// The Connect accounts pass (reconcileAccounts). AccountsChecked
	// accounts were retrieved from Stripe (or found missing) and applied;
	// AccountsUpdated of them corrected the stored state; AccountsMissing
	// of them Stripe says do not exist (recorded as not payable);
	// AccountsFailed could not be checked (logged), AccountsRetry coaches
	// are checked first by the next run (transient failures).
	AccountsChecked int `json:"accountsChecked"`
	AccountsUpdated int `json:"accountsUpdated"`
	AccountsMissing int `json:"accountsMissing"`
	AccountsFailed  int `json:"accountsFailed"`
	AccountsRetry   int `json:"accountsRetry"`
	// AccountsDone is true when the pass got through the last coach: the
	// next run starts a new pass; false when the budget ran out first (the
	// next run resumes at the stored cursor).
	AccountsDone bool `json:"accountsDone"`
}

// ReconcileRequest is the optional body of a stripe-reconcile message.
type ReconcileRequest struct {
	// Since overrides the checkpoint (still at most ReconcileWindow back).
	Since *time.Time `json:"since,omitempty"`
}

// Reconcile is the daily job (Pub/Sub topic stripe-reconcile): it lists
// Stripe's events since its checkpoint and replays those that never
// reached the inbox, then brings the coaches' Connect state in line with
// their accounts at Stripe, for at most ReconcileBudget (see Replay).
// Errors: INVALID_ARGUMENT for a malformed body (dropped); UNAVAILABLE when
// Stripe's event list or Firestore fail (redelivered).
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
	level := slog.LevelInfo
	if !rep.Done || !rep.AccountsDone || rep.AccountsFailed > 0 {
		// The rest waits for the next run (daily): worth a look when it
		// happens outside a first run or a long outage, or when accounts
		// could not be checked.
		level = slog.LevelWarn
	}
	slog.Log(ctx, level, "stripe reconciliation", "since", rep.Since, "listed", rep.Listed, "present", rep.Present,
		"replayed", rep.Replayed, "skipped", rep.Skipped, "failed", rep.Failed, "done", rep.Done, "checkpoint", rep.Checkpoint,
		"accountsChecked", rep.AccountsChecked, "accountsUpdated", rep.AccountsUpdated, "accountsMissing", rep.AccountsMissing,
		"accountsFailed", rep.AccountsFailed, "accountsRetry", rep.AccountsRetry, "accountsDone", rep.AccountsDone)
	return nil
}

// Replay lists Stripe's events created since since (the stored checkpoint
// when zero; never more than ReconcileWindow back) and processes each one
// missing from the inbox exactly as the webhook would, oldest first, for
// at most 6/7 of ReconcileBudget. It then checks the coaches' Connect
// accounts at Stripe (reconcileAccounts: the coaches whose check failed
// transiently in the last run first, then from the stored cursor) for the
// rest of the budget. It then stores the checkpoint: an hour before the
// run when it got through the window, else the creation time of the first
// event it did not get to; never later than the oldest failed event; and
// the accounts pass's cursor and retry list.
//
// Errors (wrapped, with their fault code): reading the checkpoint, listing
// the events, listing the coaches' Connect documents, storing the
// checkpoint. The report says what was done before the error, and the
// checkpoint is stored whenever it can be. A failure on one account is
// counted (AccountsFailed) and logged, never an error.
func (s *Service) Replay(ctx context.Context, since time.Time) (ReplayReport, error) {
	return s.replayWithin(ctx, since, ReconcileBudget)
}

// replayWithin is Replay with a run budget, measured on the service's
// clock. A run stops only at a slice or an event created after since, so
// even a budget shorter than one event advances the checkpoint; likewise
// the accounts pass checks at least one account a run.
func (s *Service) replayWithin(ctx context.Context, since time.Time, budget time.Duration) (ReplayReport, error) {
	now := s.now()
	jobRef := s.Firestore.Collection(model.ColJobs).Doc(ReconcileJob)
	var stored map[string]any
	snap, err := jobRef.Get(ctx)
	switch {
	case err == nil:
		var j model.Job
		if err := snap.DataTo(&j); err == nil {
			stored = j.Checkpoint
		}
	case !store.IsNotFound(err):
		return ReplayReport{}, store.Classify("reconcile", err)
	}
	if t, ok := stored["since"].(time.Time); ok && since.IsZero() {
		since = t
	}
	if floor := now.Add(-ReconcileWindow); since.Before(floor) {
		since = floor
	}
	rep := ReplayReport{Since: since.UTC()}
	var oldestFailed, resume time.Time
	eventsBudget := budget * reconcileEventsShare / 7
	spent := func(at time.Time) bool { return at.After(since) && s.now().Sub(now) >= eventsBudget }
	stop := func(ev *stripe.Event) bool { return spent(unix(ev.Created)) }
	// Stripe never lists an event in two slices; stripe-mock answers every
	// list with the same one.
	seen := map[string]bool{}
	var listErr error
slices:
	for start := since; ; {
		if spent(start) {
			resume = start
			break
		}
		end := start.Add(reconcileSlice)
		last := !end.Before(now)
		if last {
			end = time.Time{} // open: also what was created during the run
		}
		evs, err := s.listEvents(ctx, start, end)
		if err != nil {
			// Keep what the earlier slices did; the redelivery resumes.
			listErr, resume = stripeFault("list events", err), start
			break
		}
		fresh := evs[:0]
		for _, ev := range evs {
			if !seen[ev.ID] {
				seen[ev.ID] = true
				fresh = append(fresh, ev)
			}
		}
		sort.SliceStable(fresh, func(i, j int) bool {
			if fresh[i].Created != fresh[j].Created {
				return fresh[i].Created < fresh[j].Created
			}
			return fresh[i].ID < fresh[j].ID
		})
		for i := 0; i < len(fresh); {
			batch := fresh[i:min(i+replayPage, len(fresh))]
			n := s.replay(ctx, batch, &rep, &oldestFailed, stop)
			i += n
			if n < len(batch) {
				// Events of the same second as fresh[i] that were handled
				// are listed again and found in the inbox.
				resume = unix(fresh[i].Created)
				break slices
			}
		}
		if last {
			break
		}
		start = end
	}

	cp := now.Add(-reconcileOverlap)
	if !resume.IsZero() && resume.Before(cp) {
		cp = resume
	}
	if !oldestFailed.IsZero() && oldestFailed.Before(cp) {
		cp = oldestFailed
	}
	rep.Done = resume.IsZero()
	rep.Checkpoint = cp

	// The Connect accounts, whatever happened to the event list: they are
	// read from another endpoint.
	acc, accErr := s.reconcileAccounts(ctx, accountsStateOf(stored),
		func() bool { return s.now().Sub(now) >= budget }, &rep)
	rep.AccountsRetry = len(acc.retry)
	retry := acc.retry
	if retry == nil {
		retry = []string{}
	}

	_, err = jobRef.Set(ctx, model.Job{Name: ReconcileJob, Checkpoint: map[string]any{
		"since": cp, "listed": rep.Listed, "replayed": rep.Replayed, "failed": rep.Failed, "done": rep.Done,
		"accountsCursor": acc.cursor, "accountsRetry": retry, "accountsChecked": rep.AccountsChecked,
		"accountsUpdated": rep.AccountsUpdated, "accountsFailed": rep.AccountsFailed, "accountsDone": rep.AccountsDone,
	}, UpdatedAt: now})
	switch {
	case listErr != nil:
		return rep, listErr
	case err != nil:
		return rep, store.Classify("reconcile checkpoint", err)
	case accErr != nil:
		return rep, accErr
	}
	return rep, nil
}

// listEvents lists the events created at or after gte and, unless end is
// zero, before end.
func (s *Service) listEvents(ctx context.Context, gte, end time.Time) ([]*stripe.Event, error) {
	r := &stripe.RangeQueryParams{GreaterThanOrEqual: gte.Unix()}
	if !end.IsZero() {
		r.LesserThan = end.Unix()
	}
	p := &stripe.EventListParams{CreatedRange: r}
	p.Context = ctx
	p.Limit = stripe.Int64(replayPage)
	it := s.Stripe.Events.List(p)
	var evs []*stripe.Event
	for it.Next() {
		evs = append(evs, it.Event())
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("events since %s: %w", gte.UTC().Format(time.RFC3339), err)
	}
	return evs, nil
}

// replay processes evs in order and returns how many it handled: all of
// them, unless stop (nil: never) answers true for one, which is left with
// the rest for the next run.
func (s *Service) replay(ctx context.Context, evs []*stripe.Event, rep *ReplayReport, oldestFailed *time.Time, stop func(*stripe.Event) bool) int {
	if len(evs) == 0 {
		return 0
	}
	done := make([]bool, len(evs))
	refs := make([]*firestore.DocumentRef, 0, len(evs))
	for _, ev := range evs {
		id := ev.ID
		if !model.ValidDocID(id) {
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
		if stop != nil && stop(ev) {
			return i
		}
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
	return len(evs)
}

// checkReplay is check for an event fetched from the API: no signature,
// and an empty API version is accepted.
func (s *Service) checkReplay(ev *stripe.Event) string {
	if ev.APIVersion != "" && ev.APIVersion != stripe.APIVersion {
		return "API version " + ev.APIVersion
	}
	return s.check(ev)
}
