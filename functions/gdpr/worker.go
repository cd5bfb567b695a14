package gdpr

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/store"
)

// Outcome is what one worker invocation did with a request.
type Outcome string

// Outcomes of Run.
const (
	// OutcomeDone: the request completed in this invocation.
	OutcomeDone Outcome = "done"
	// OutcomeFailed: the request failed permanently (status failed).
	OutcomeFailed Outcome = "failed"
	// OutcomeContinued: the run budget ran out; the checkpoint is saved and
	// a continuation message published.
	OutcomeContinued Outcome = "continued"
	// OutcomeBusy: another worker holds a live lease (a duplicate message).
	OutcomeBusy Outcome = "busy"
	// OutcomeFinished: the request was already done or failed.
	OutcomeFinished Outcome = "finished"
	// OutcomeMissing: no such request.
	OutcomeMissing Outcome = "missing"
	// OutcomeLost: the lease was taken over by another worker mid-run.
	OutcomeLost Outcome = "lost"
)

var (
	errLeaseLost = errors.New("gdpr: lease lost")
	errYield     = errors.New("gdpr: run budget used")
	errAgain     = errors.New("gdpr: leftovers found, erasing again")
)

// message is the body of a TopicRequests message.
type message struct {
	RequestID string `json:"requestId"`
}

// GDPRWorker runs the request a TopicRequests message names. Malformed
// messages are dropped; a retryable failure is returned so that Pub/Sub
// redelivers the message (the checkpoint makes the retry continue); a
// permanent failure marks the request failed and is not retried.
func (s *Service) GDPRWorker(ctx context.Context, msg *events.PubSubMessage) error {
	var m message
	if err := msg.JSON(&m); err != nil {
		return err
	}
	if m.RequestID == "" {
		return fault.Invalid("requestId is required")
	}
	out, err := s.Run(ctx, m.RequestID, "msg-"+msg.ID+"-"+randomID())
	slog.InfoContext(ctx, "gdpr worker", "requestId", m.RequestID, "outcome", string(out), "messageId", msg.ID)
	return err
}

// publish queues a run of the request.
func (s *Service) publish(ctx context.Context, id string) error {
	if s.Publisher == nil {
		return fault.New(fault.FailedPrecondition, "gdpr: no publisher")
	}
	if _, err := queue.PublishJSON(ctx, s.Publisher, TopicRequests, message{RequestID: id}, nil); err != nil {
		return fault.Wrap(err, fault.Unavailable, "gdpr: publish request")
	}
	return nil
}

// run is one invocation of the worker on one request.
type run struct {
	mu       sync.Mutex // guards writes, progress, lastBeat, lastSaved
	s        *Service
	ref      *firestore.DocumentRef
	req      model.GDPRRequest
	uid      string
	ps       string
	owner    string
	started  time.Time // wall clock, for the run budget
	pass     int
	step     string
	writes   int64
	progress map[string]int64
	lastBeat time.Time
	// lastSaved is the progress mark (mark) of the request as last saved;
	// a save that changes it is progress.
	lastSaved string
	// results of steps, saved by the final step.
	proof   map[string]int64
	export  *exportResult
	consent map[string]any
}

type step struct {
	name string
	fn   func(ctx context.Context, r *run) error
}

// Run runs request id under a lease held by owner (unique per invocation)
// until it is done, fails, or the run budget is used (then it publishes a
// continuation). It returns a retryable error when a retry can help;
// a permanent failure is recorded in the request and returns nil.
func (s *Service) Run(ctx context.Context, id, owner string) (Outcome, error) {
	r, out, err := s.acquire(ctx, id, owner)
	if err != nil || r == nil {
		return out, err
	}
	var steps []step
	switch r.req.Kind {
	case KindErasure:
		steps = erasureSteps()
	case KindExport:
		steps = exportSteps()
	default:
		return r.fail(ctx, fault.Invalid("unknown request kind %q", r.req.Kind))
	}
	return r.execute(ctx, steps)
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// acquire takes the lease of the request unless another worker holds a live
// one, and returns the run (counted in attempts, and in stalledRuns until
// it saves progress). A request that has had MaxAttempts runs in a row
// without progress, and none for GiveUpAfter, is failed instead
// (OutcomeFailed, "too many attempts", alert gdpr_request_failed).
func (s *Service) acquire(ctx context.Context, id, owner string) (*run, Outcome, error) {
	ref := s.requests().Doc(id)
	var r *run
	out := Outcome("")
	var stalled int        // runs without progress, when out is failed
	var idle time.Duration // since the last progress, when out is failed
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		r, out = nil, ""
		snap, err := tx.Get(ref)
		if store.IsNotFound(err) {
			out = OutcomeMissing
			return nil
		}
		if err != nil {
			return err
		}
		var req model.GDPRRequest
		if err := snap.DataTo(&req); err != nil {
			return fault.Wrap(err, fault.DataLoss, "decode request")
		}
		now := s.now()
		switch {
		case req.Status == StatusDone || req.Status == StatusFailed:
			out = OutcomeFinished
			return nil
		case req.LeaseOwner != "" && req.LeaseOwner != owner && req.LeaseUntil != nil && req.LeaseUntil.After(now):
			out = OutcomeBusy
			return nil
		case req.StalledRuns >= MaxAttempts && now.Sub(progressAt(&req)) >= GiveUpAfter:
			// MaxAttempts runs in a row without progress, and none for GiveUpAfter.
			out, stalled, idle = OutcomeFailed, req.StalledRuns, now.Sub(progressAt(&req))
			return tx.Update(ref, []firestore.Update{{Path: "status", Value: StatusFailed},
				{Path: "error", Value: "too many attempts"}, {Path: "leaseOwner", Value: firestore.Delete},
				{Path: "leaseUntil", Value: firestore.Delete}, {Path: "updatedAt", Value: now}})
		}
		status := req.Status
		if status == StatusPending {
			status = StatusRunning
		}
		until := now.Add(LeaseTTL)
		// The run counts as stalled until it saves progress (beat, release).
		req.Status, req.LeaseOwner, req.LeaseUntil, req.UpdatedAt = status, owner, &until, now
		req.Attempts, req.StalledRuns = req.Attempts+1, req.StalledRuns+1
		r = &run{s: s, ref: ref, req: req, uid: req.UserID, ps: req.SubjectHash, owner: owner, started: time.Now(),
			progress: map[string]int64{}, lastBeat: time.Now()}
		for k, v := range req.Progress {
			r.progress[k] = v
		}
		if r.ps == "" {
			r.ps = s.pseudonym(req.UserID)
		}
		r.step, _ = req.Checkpoint["step"].(string)
		if p, ok := req.Checkpoint["pass"].(int64); ok {
			r.pass = int(p)
		}
		if c, ok := req.Checkpoint["consents"].(map[string]any); ok {
			r.consent = c
		}
		// An export stopped after its upload (yield or crash at the
		// finish checkpoint) finishes with the archive it wrote.
		if x, ok := req.Checkpoint["export"].(map[string]any); ok {
			path, _ := x["path"].(string)
			n, _ := x["bytes"].(int64)
			sum, _ := x["sha256"].(string)
			if path != "" {
				r.export = &exportResult{Path: path, Bytes: n, SHA256: sum}
			}
		}
		return tx.Update(ref, []firestore.Update{{Path: "status", Value: status}, {Path: "leaseOwner", Value: owner},
			{Path: "leaseUntil", Value: until}, {Path: "attempts", Value: req.Attempts},
			{Path: "stalledRuns", Value: req.StalledRuns}, {Path: "updatedAt", Value: now}})
	})
	if err != nil {
		return nil, "", store.Classify("gdpr: acquire", err)
	}
	if out == OutcomeFailed {
		slog.ErrorContext(ctx, "gdpr request failed: too many attempts", "alert", "gdpr_request_failed", "requestId", id,
			"stalledRuns", stalled, "hoursWithoutProgress", int(idle.Hours()))
	}
	if r != nil && r.uid == "" {
		_, err := r.fail(ctx, fault.Invalid("request has no userId"))
		return nil, OutcomeFailed, err
	}
	return r, out, nil
}

// progressAt is when req last made progress: ProgressAt, or ReceivedAt
// before its first.
func progressAt(req *model.GDPRRequest) time.Time {
	if req.ProgressAt != nil {
		return *req.ProgressAt
	}
	return req.ReceivedAt
}

// execute runs the steps from the checkpoint on.
func (r *run) execute(ctx context.Context, steps []step) (Outcome, error) {
	i := 0
	for k, st := range steps {
		if st.name == r.step {
			i = k
		}
	}
	r.mu.Lock()
	r.step = steps[i].name
	r.lastSaved = r.mark()
	r.mu.Unlock()
	for ; i < len(steps); i++ {
		st := steps[i]
		r.step = st.name
		if time.Since(r.started) > r.s.budget() {
			return r.yield(ctx)
		}
		t0 := time.Now()
		err := st.fn(ctx, r)
		slog.DebugContext(ctx, "gdpr step", "requestId", r.req.RequestID, "step", st.name, "ms", time.Since(t0).Milliseconds())
		switch {
		case err == nil:
		case errors.Is(err, errYield):
			return r.yield(ctx)
		case errors.Is(err, errAgain):
			r.pass++
			r.step = steps[0].name
			if err := r.beat(ctx, true); err != nil {
				return r.stop(ctx, err)
			}
			i = -1
			continue
		default:
			return r.stop(ctx, err)
		}
		if i+1 < len(steps) {
			r.step = steps[i+1].name
			if err := r.beat(ctx, true); err != nil {
				return r.stop(ctx, err)
			}
		}
	}
	return OutcomeDone, nil
}

// stop handles a step's error: a lost lease ends quietly, a cancelled
// context (a crash, a timeout) writes nothing, a retryable error releases
// the lease and is returned, anything else fails the request.
func (r *run) stop(ctx context.Context, err error) (Outcome, error) {
	switch {
	case errors.Is(err, errLeaseLost):
		slog.WarnContext(ctx, "gdpr lease lost", "requestId", r.req.RequestID, "step", r.step)
		return OutcomeLost, nil
	case ctx.Err() != nil:
		return "", fmt.Errorf("gdpr %s at %s: %w", r.req.RequestID, r.step, ctx.Err())
	case fault.Retryable(err):
		r.release(ctx)
		slog.WarnContext(ctx, "gdpr step failed, will retry", "requestId", r.req.RequestID, "step", r.step, "code", string(fault.CodeOf(err)))
		return "", fmt.Errorf("gdpr %s at %s: %w", r.req.RequestID, r.step, err)
	}
	return r.fail(ctx, err)
}

// fail marks the request failed with a caller-safe message.
func (r *run) fail(ctx context.Context, cause error) (Outcome, error) {
	msg := fault.MessageOf(cause)
	if msg == "" {
		msg = string(fault.CodeOf(cause))
	}
	msg = r.step + ": " + msg
	slog.ErrorContext(ctx, "gdpr request failed", "alert", "gdpr_request_failed", "requestId", r.req.RequestID,
		"kind", r.req.Kind, "step", r.step, "code", string(fault.CodeOf(cause)))
	err := r.guarded(ctx, []firestore.Update{{Path: "status", Value: StatusFailed}, {Path: "error", Value: msg},
		{Path: "leaseOwner", Value: firestore.Delete}, {Path: "leaseUntil", Value: firestore.Delete}})
	if err != nil && !errors.Is(err, errLeaseLost) {
		return OutcomeFailed, err
	}
	return OutcomeFailed, nil
}

// yield saves the checkpoint, releases the lease and publishes a
// continuation.
func (r *run) yield(ctx context.Context) (Outcome, error) {
	if err := r.beat(ctx, true); err != nil {
		return r.stop(ctx, err)
	}
	r.release(ctx)
	if err := r.s.publish(ctx, r.req.RequestID); err != nil {
		return "", err
	}
	return OutcomeContinued, nil
}

// release gives the lease up (best effort: it expires anyway), saving
// the run's progress first if it made any since the last save (a step
// that failed after some of its work).
func (r *run) release(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	ups := []firestore.Update{{Path: "leaseOwner", Value: firestore.Delete}, {Path: "leaseUntil", Value: firestore.Delete}}
	sv := r.toSave()
	if sv.progressed {
		ups = append(ups, sv.updates(r.s.now())...)
	}
	if err := r.guarded(ctx, ups); err == nil {
		r.saved(sv)
	}
}

// save is one save of the run's progress counts and checkpoint; progressed
// when they moved since the last save (mark).
type save struct {
	progress   map[string]int64
	checkpoint map[string]any
	mark       string
	progressed bool
}

// toSave copies what a save of the run writes.
func (r *run) toSave() save {
	r.mu.Lock()
	defer r.mu.Unlock()
	sv := save{progress: maps.Clone(r.progress), checkpoint: r.checkpoint(), mark: r.mark()}
	sv.progressed = sv.mark != r.lastSaved
	return sv
}

// updates are the request's updates of sv at now: progress and
// checkpoint, and, when it progressed, the progress record (stalledRuns
// 0, progressAt now).
func (sv save) updates(now time.Time) []firestore.Update {
	ups := []firestore.Update{{Path: "progress", Value: sv.progress}, {Path: "checkpoint", Value: sv.checkpoint}}
	if sv.progressed {
		ups = append(ups, firestore.Update{Path: "stalledRuns", Value: 0}, firestore.Update{Path: "progressAt", Value: now})
	}
	return ups
}

// saved records that sv was written.
func (r *run) saved(sv save) {
	r.mu.Lock()
	r.lastSaved = sv.mark
	r.mu.Unlock()
}

// mark sums up how far the run has come: the checkpoint's step and pass,
// the export's archive and, for an erasure, the total of its counts (each
// counts work done for good: a rerun finds only what is left, and counts
// nothing for an object already gone). An export's count is not in it: a
// rerun writes the archive from the start.
// r.mu is held.
func (r *run) mark() string {
	var n int64
	if r.req.Kind == KindErasure {
		for _, v := range r.progress {
			n += v
		}
	}
	archive := ""
	if r.export != nil {
		archive = r.export.Path
	}
	return fmt.Sprintf("%s|%d|%s|%d", r.step, r.pass, archive, n)
}

// checkpoint returns the checkpoint map of the run.
func (r *run) checkpoint() map[string]any {
	cp := map[string]any{"step": r.step, "pass": r.pass}
	if r.consent != nil {
		cp["consents"] = r.consent
	}
	if r.export != nil {
		cp["export"] = map[string]any{"path": r.export.Path, "bytes": r.export.Bytes, "sha256": r.export.SHA256}
	}
	return cp
}

// beat renews the lease and saves progress and checkpoint, at most every
// few seconds unless force; when they moved since the last save (a step
// completed, an erasure's counts grew) it records progress too
// (stalledRuns 0, progressAt). Steps that work concurrently may call it.
func (r *run) beat(ctx context.Context, force bool) error {
	r.mu.Lock()
	if !force && time.Since(r.lastBeat) < 5*time.Second {
		r.mu.Unlock()
		return nil
	}
	r.lastBeat = time.Now()
	r.mu.Unlock()
	sv := r.toSave()
	until := r.s.now().Add(LeaseTTL)
	if err := r.guarded(ctx, append([]firestore.Update{{Path: "leaseUntil", Value: until}}, sv.updates(r.s.now())...)); err != nil {
		return err
	}
	r.saved(sv)
	if r.s.OnProgress != nil {
		r.mu.Lock()
		req := r.req
		r.mu.Unlock()
		req.Progress, req.Checkpoint, req.LeaseUntil = sv.progress, sv.checkpoint, &until
		r.s.OnProgress(&req)
	}
	return nil
}

// guarded applies updates (and updatedAt) to the request if this run still
// holds its lease; errLeaseLost otherwise.
func (r *run) guarded(ctx context.Context, ups []firestore.Update) error {
	return r.guardedIf(ctx, ups, nil)
}

// guardedIf is guarded with check, when not nil, run inside the same
// transaction before the write: its error (errLeftAtDone) is returned
// as is and nothing is written.
func (r *run) guardedIf(ctx context.Context, ups []firestore.Update, check func(*firestore.Transaction) error) error {
	err := r.s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(r.ref)
		if store.IsNotFound(err) {
			return errLeaseLost
		}
		if err != nil {
			return err
		}
		if owner, _ := snap.DataAt("leaseOwner"); owner != r.owner {
			return errLeaseLost
		}
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		return tx.Update(r.ref, append(ups, firestore.Update{Path: "updatedAt", Value: r.s.now()}))
	})
	switch {
	case errors.Is(err, errLeaseLost):
		return errLeaseLost
	case errors.Is(err, errLeftAtDone):
		return errLeftAtDone
	}
	return store.Classify("gdpr: update request", err)
}

// count adds n to the progress of key.
func (r *run) count(key string, n int64) {
	r.mu.Lock()
	r.progress[key] += n
	r.mu.Unlock()
}

// planStep counts what the request will touch (the dry run) once per run.
func planStep(ctx context.Context, r *run) error {
	if r.req.Plan != nil {
		return nil
	}
	plan, err := r.s.counts(ctx, r.uid, r.req.RequestID)
	if err != nil {
		return err
	}
	r.req.Plan = plan.Counts
	return r.guarded(ctx, []firestore.Update{{Path: "plan", Value: plan.Counts}})
}
