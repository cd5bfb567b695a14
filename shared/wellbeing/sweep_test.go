package wellbeing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/logging"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// logCapture is a slog.Handler that keeps every record, for assertions
// on the sweeper's log lines.
type logCapture struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]any
}

func (l *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCapture) WithGroup(string) slog.Handler            { return l }
func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool { rec.Attrs[a.Key] = a.Value.Any(); return true })
	l.mu.Lock()
	l.recs = append(l.recs, rec)
	l.mu.Unlock()
	return nil
}

// critical returns the CRITICAL records since the last reset and resets.
func (l *logCapture) critical() []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logRecord
	for _, r := range l.recs {
		if r.Level >= logging.LevelCritical {
			out = append(out, r)
		}
	}
	l.recs = nil
	return out
}

// webhook is an on-call endpoint whose status can be switched; it counts
// the posts it accepted per event.
type webhook struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	delay    time.Duration
	posts    int
	accepted map[string]int
}

func newWebhook(t *testing.T) *webhook {
	t.Helper()
	h := &webhook{status: http.StatusOK, accepted: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			EventID string `json:"eventId"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &msg)
		h.mu.Lock()
		delay, code := h.delay, h.status
		h.posts++
		h.mu.Unlock()
		time.Sleep(delay)
		if code >= 200 && code < 300 {
			h.mu.Lock()
			h.accepted[msg.EventID]++
			h.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *webhook) set(status int) { h.mu.Lock(); h.status = status; h.mu.Unlock() }

// counts returns all posts and the accepted posts of event id.
func (h *webhook) counts(id string) (posts, accepted int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.posts, h.accepted[id]
}

// sweepEnv is one emulator project with a test clock, a webhook and a
// log capture.
type sweepEnv struct {
	t    *testing.T
	ctx  context.Context
	c    *firestore.Client
	clk  *clock
	hook *webhook
	logs *logCapture
}

func newSweepEnv(t *testing.T) *sweepEnv {
	t.Helper()
	fs := testenv.FirestoreEmulator(t)
	return &sweepEnv{t: t, ctx: context.Background(), c: fs.Client(t, fs.NewProject(t)), clk: newClock(),
		hook: newWebhook(t), logs: &logCapture{}}
}

func (e *sweepEnv) deliverer() *Deliverer {
	return &Deliverer{Firestore: e.c, WebhookURL: config.NewSecret(e.hook.URL), Now: e.clk.Now}
}

func (e *sweepEnv) sweeper() *Sweeper {
	return &Sweeper{Firestore: e.c, Deliverer: e.deliverer(), Now: e.clk.Now, Log: slog.New(e.logs)}
}

// raise opens an episode for uid at the test clock's time.
func (e *sweepEnv) raise(uid string) Alert {
	e.t.Helper()
	o, err := (&Protocol{Now: e.clk.Now}).Raise(e.ctx, e.c, signal(uid, "k"))
	if err != nil {
		e.t.Fatal(err)
	}
	return Alert{EventID: o.EventID, UserID: uid, Source: string(SourceScreening)}
}

// sweep runs one sweep and fails the test on an error.
func (e *sweepEnv) sweep() SweepReport {
	e.t.Helper()
	rep, err := e.sweeper().Sweep(e.ctx)
	if err != nil {
		e.t.Fatalf("sweep: %v", err)
	}
	return rep
}

// TestSweepDeliversLostPublish: an event whose alert never reached the
// topic (outbox trigger lost, publish failed) or whose message was lost
// after publishedAt was stamped is delivered by the sweeper once, after
// the grace period, and never again.
func TestSweepDeliversLostPublish(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *sweepEnv, a Alert)
	}{
		{"outbox never ran", func(*sweepEnv, Alert) {}},
		{"publish failed", func(e *sweepEnv, a Alert) {
			rec := &queue.Recorder{Err: fault.New(fault.Unavailable, "down")}
			if _, err := PublishAlert(e.ctx, e.c, rec, e.clk.Now, a.EventID); err == nil {
				e.t.Fatal("publish to a failing topic succeeded")
			}
		}},
		{"published, message lost", func(e *sweepEnv, a Alert) {
			if ok, err := PublishAlert(e.ctx, e.c, &queue.Recorder{}, e.clk.Now, a.EventID); !ok || err != nil {
				e.t.Fatalf("publish: %v %v", ok, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSweepEnv(t)
			a := e.raise("u1")
			tt.setup(e, a)
			e.clk.Add(time.Minute)
			if rep := e.sweep(); rep.Pending != 0 || rep.Delivered != 0 {
				t.Errorf("inside the grace period: %+v, want nothing done", rep)
			}
			e.clk.Add(DefaultSweepGrace)
			if rep := e.sweep(); rep.Pending != 1 || rep.Delivered != 1 || len(rep.Undelivered) != 0 {
				t.Errorf("after the grace period: %+v, want 1 delivered", rep)
			}
			ev := getEvent(t, e.c, a.EventID)
			if ev.NotifiedAt == nil || !ev.Notified || ev.DeliveredTo != "webhook" || ev.DeliveryClaimedAt != nil {
				t.Errorf("event after the sweep: %+v", ev)
			}
			e.clk.Add(time.Hour)
			if rep := e.sweep(); rep.Pending != 0 || rep.Delivered != 0 {
				t.Errorf("second sweep: %+v, want nothing pending", rep)
			}
			if r, err := e.deliverer().Deliver(e.ctx, a); err != nil || r.Status != "already" {
				t.Errorf("late Pub/Sub delivery: %+v %v, want already", r, err)
			}
			if _, accepted := e.hook.counts(a.EventID); accepted != 1 {
				t.Errorf("webhook accepted %d alerts, want 1", accepted)
			}
			if c := e.logs.critical(); len(c) != 0 {
				t.Errorf("CRITICAL lines %+v, want none (delivered within the hour)", c)
			}
		})
	}
}

// TestSweepWebhookDownTwoDays: the webhook is down for two days (longer
// than Pub/Sub keeps the message); every sweep after the first hour logs
// the undelivered alerts at CRITICAL; a failing webhook costs one request
// per sweep; when it comes back each alert is delivered exactly once.
func TestSweepWebhookDownTwoDays(t *testing.T) {
	e := newSweepEnv(t)
	var alerts []Alert
	for _, uid := range []string{"u1", "u2", "u3"} {
		alerts = append(alerts, e.raise(uid))
	}
	e.hook.set(http.StatusServiceUnavailable)
	for _, a := range alerts { // the normal path fails and is retried by Pub/Sub
		if _, err := e.deliverer().Deliver(e.ctx, a); fault.CodeOf(err) != fault.Unavailable {
			t.Fatalf("deliver with the webhook down: %v", err)
		}
	}

	e.clk.Add(15 * time.Minute)
	posts0, _ := e.hook.counts("")
	rep := e.sweep()
	if rep.Pending != 3 || rep.Failed != 1 || rep.Deferred != 2 || len(rep.Undelivered) != 0 {
		t.Errorf("sweep at 15 min: %+v, want 1 failed, 2 deferred, nothing escalated yet", rep)
	}
	if posts, _ := e.hook.counts(""); posts != posts0+1 {
		t.Errorf("%d webhook requests in one sweep, want 1", posts-posts0)
	}
	if c := e.logs.critical(); len(c) != 0 {
		t.Errorf("CRITICAL before the escalation threshold: %+v", c)
	}

	// From the first hour on, and for two days, every sweep escalates.
	e.clk.Add(105 * time.Minute)
	for i := 0; i < 9; i++ {
		rep := e.sweep()
		if len(rep.Undelivered) != 3 || rep.Delivered != 0 {
			t.Fatalf("sweep %d (webhook down): %+v", i, rep)
		}
		crit := e.logs.critical()
		if len(crit) != 1 {
			t.Fatalf("sweep %d: %d CRITICAL lines, want 1", i, len(crit))
		}
		c := crit[0]
		ids, _ := c.Attrs["wellbeingEventIds"].([]string)
		if c.Attrs["alert"] != AlertUndelivered || c.Attrs["count"] != int64(3) || len(ids) != 3 {
			t.Errorf("sweep %d: CRITICAL line %+v", i, c)
		}
		for _, a := range alerts {
			if !strings.Contains(strings.Join(ids, ","), a.EventID) {
				t.Errorf("sweep %d: CRITICAL line lacks %s", i, a.EventID)
			}
		}
		if s := fmt.Sprint(c.Attrs); strings.Contains(s, "u1") || strings.Contains(s, "uid") {
			t.Errorf("CRITICAL line carries a user id: %s", s)
		}
		e.clk.Add(6 * time.Hour)
	}
	for _, a := range alerts {
		if ev := getEvent(t, e.c, a.EventID); ev.NotifiedAt != nil || ev.Notified || ev.DeliveryClaimedAt != nil {
			t.Errorf("event %s while the webhook is down: %+v", a.EventID, ev)
		}
	}

	// The webhook is back after two days: delivered once each.
	e.hook.set(http.StatusOK)
	if rep := e.sweep(); rep.Delivered != 3 || len(rep.Undelivered) != 0 {
		t.Errorf("sweep with the webhook back: %+v, want 3 delivered", rep)
	}
	if c := e.logs.critical(); len(c) != 0 {
		t.Errorf("CRITICAL after delivery: %+v", c)
	}
	e.clk.Add(5 * time.Minute)
	if rep := e.sweep(); rep.Pending != 0 {
		t.Errorf("sweep after delivery: %+v, want nothing pending", rep)
	}
	for _, a := range alerts {
		if r, err := e.deliverer().Deliver(e.ctx, a); err != nil || r.Status != "already" {
			t.Errorf("late redelivery of %s: %+v %v", a.EventID, r, err)
		}
		if _, accepted := e.hook.counts(a.EventID); accepted != 1 {
			t.Errorf("%s accepted %d times, want 1", a.EventID, accepted)
		}
		if ev := getEvent(t, e.c, a.EventID); !ev.Notified || ev.DeliveredTo != "webhook" {
			t.Errorf("event %s: %+v", a.EventID, ev)
		}
	}
}

// TestSweepDoesNotResend: a delivered or acknowledged event is never sent
// again, an event whose lease is held is left to its holder, and an event
// notified without its mirror gets the mirror, not a second alert.
func TestSweepDoesNotResend(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(e *sweepEnv, a Alert)
		wantPending int
		wantBusy    int
		wantAlready int
	}{
		{name: "delivered by the normal path", setup: func(e *sweepEnv, a Alert) {
			if r, err := e.deliverer().Deliver(e.ctx, a); err != nil || r.Status != "delivered" {
				e.t.Fatalf("deliver: %+v %v", r, err)
			}
		}},
		{name: "delivered to the log (no webhook configured then)", setup: func(e *sweepEnv, a Alert) {
			if r, err := (&Deliverer{Firestore: e.c, Now: e.clk.Now}).Deliver(e.ctx, a); err != nil || r.DeliveredTo != "log" {
				e.t.Fatalf("deliver: %+v %v", r, err)
			}
		}},
		{name: "acknowledged, never delivered", setup: func(e *sweepEnv, a Alert) {
			if _, err := Acknowledge(e.ctx, e.c, e.clk.Now(), a.EventID, "admin-1"); err != nil {
				e.t.Fatal(err)
			}
		}},
		{name: "notified, mirror missing", wantPending: 1, wantAlready: 1, setup: func(e *sweepEnv, a Alert) {
			if _, err := e.c.Collection(model.ColWellbeingEvents).Doc(a.EventID).Update(e.ctx, []firestore.Update{
				{Path: "notifiedAt", Value: e.clk.Now()}, {Path: "deliveredTo", Value: "webhook"}}); err != nil {
				e.t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSweepEnv(t)
			a := e.raise("u1")
			tt.setup(e, a)
			posts0, _ := e.hook.counts("")
			e.clk.Add(2 * time.Hour)
			rep := e.sweep()
			if rep.Pending != tt.wantPending || rep.Already != tt.wantAlready || rep.Delivered != 0 || len(rep.Undelivered) != 0 {
				t.Errorf("sweep: %+v", rep)
			}
			if rep := e.sweep(); rep.Pending != 0 {
				t.Errorf("second sweep: %+v, want nothing pending", rep)
			}
			if posts, _ := e.hook.counts(""); posts != posts0 {
				t.Errorf("the sweeper posted %d alerts, want none", posts-posts0)
			}
			if c := e.logs.critical(); len(c) != 0 {
				t.Errorf("CRITICAL lines %+v, want none", c)
			}
			if ev := getEvent(t, e.c, a.EventID); ev.AckedAt == nil && !ev.Notified {
				t.Errorf("event %+v: notified mirror not set", ev)
			}
		})
	}

	t.Run("lease held", func(t *testing.T) {
		e := newSweepEnv(t)
		a := e.raise("u1")
		e.clk.Add(2 * time.Hour)
		ref := e.c.Collection(model.ColWellbeingEvents).Doc(a.EventID)
		if _, err := ref.Update(e.ctx, []firestore.Update{{Path: "deliveryClaimedAt", Value: e.clk.Now()}}); err != nil {
			t.Fatal(err)
		}
		rep := e.sweep()
		if rep.Busy != 1 || rep.Delivered != 0 || len(rep.Undelivered) != 1 {
			t.Errorf("leased: %+v, want busy and escalated", rep)
		}
		if posts, _ := e.hook.counts(""); posts != 0 {
			t.Errorf("posted %d alerts while the lease is held", posts)
		}
		// The holder died: once the lease expires the sweeper delivers.
		e.clk.Add(DefaultClaimTTL)
		if rep := e.sweep(); rep.Delivered != 1 {
			t.Errorf("after the lease expired: %+v, want delivered", rep)
		}
		if _, accepted := e.hook.counts(a.EventID); accepted != 1 {
			t.Errorf("accepted %d, want 1", accepted)
		}
	})
}

// TestSweepConcurrentDeliversOnce: sweeps running at the same time (and
// the normal path with them) deliver each alert exactly once.
func TestSweepConcurrentDeliversOnce(t *testing.T) {
	e := newSweepEnv(t)
	e.hook.mu.Lock()
	e.hook.delay = 50 * time.Millisecond // widen the race window
	e.hook.mu.Unlock()
	var alerts []Alert
	for i := 0; i < 5; i++ {
		alerts = append(alerts, e.raise(fmt.Sprintf("u%d", i)))
	}
	e.clk.Add(DefaultSweepGrace + time.Minute)
	const sweeps = 4
	reps := make([]SweepReport, sweeps)
	errs := make([]error, sweeps+1)
	var wg sync.WaitGroup
	for i := 0; i < sweeps; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			reps[i], errs[i] = e.sweeper().Sweep(e.ctx)
		}(i)
	}
	wg.Add(1)
	go func() { // a late Pub/Sub delivery of the first alert at the same time
		defer wg.Done()
		if _, err := e.deliverer().Deliver(e.ctx, alerts[0]); err != nil && fault.CodeOf(err) != fault.Aborted {
			errs[sweeps] = err
		}
	}()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	delivered := 0
	for _, r := range reps {
		delivered += r.Delivered
	}
	if delivered > len(alerts) {
		t.Errorf("sweeps delivered %d alerts, want at most %d: %+v", delivered, len(alerts), reps)
	}
	e.clk.Add(DefaultClaimTTL) // any lease left by a loser has expired
	e.sweep()
	for _, a := range alerts {
		if _, accepted := e.hook.counts(a.EventID); accepted != 1 {
			t.Errorf("%s accepted %d times, want exactly 1", a.EventID, accepted)
		}
		if ev := getEvent(t, e.c, a.EventID); !ev.Notified || ev.NotifiedAt == nil {
			t.Errorf("%s not recorded as delivered: %+v", a.EventID, ev)
		}
	}
}

// TestSweepBackfillsLegacyEvents: events written before the notified
// mirror existed get it (and acked when missing), from notifiedAt and
// ackedAt; a lost one among them is delivered, a sent or acknowledged one
// is not; the backfill keeps passing for BackfillSettle (events written
// by old code during a rollout) and then stops.
func TestSweepBackfillsLegacyEvents(t *testing.T) {
	e := newSweepEnv(t)
	old := e.clk.Now().Add(-72 * time.Hour)
	legacy := func(id string, extra map[string]any) {
		t.Helper()
		doc := map[string]any{"eventId": id, "userId": "u-" + id, "source": "screening", "createdAt": old,
			"episodeId": "ep_x", "ruleVersion": "r1", "trigger": map[string]any{}}
		for k, v := range extra {
			doc[k] = v
		}
		if _, err := e.c.Collection(model.ColWellbeingEvents).Doc(id).Set(e.ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	legacy("wb_legacy_sent", map[string]any{"acked": false, "notifiedAt": old, "deliveredTo": "webhook"})
	legacy("wb_legacy_lost", map[string]any{"acked": false})
	legacy("wb_legacy_acked", map[string]any{"ackedAt": old, "ackedBy": "admin-1"})
	current := e.raise("u-new") // has both mirrors: nothing to backfill

	rep := e.sweep()
	if rep.Backfilled != 3 || rep.Delivered != 1 || rep.Pending != 1 {
		t.Errorf("first sweep: %+v, want 3 backfilled, the lost one delivered", rep)
	}
	wants := map[string]struct{ notified, acked bool }{
		"wb_legacy_sent": {true, false}, "wb_legacy_lost": {true, false}, "wb_legacy_acked": {false, true}, current.EventID: {false, false},
	}
	for id, want := range wants {
		if ev := getEvent(t, e.c, id); ev.Notified != want.notified || ev.Acked != want.acked {
			t.Errorf("%s: notified %v acked %v, want %+v", id, ev.Notified, ev.Acked, want)
		}
	}
	for id, want := range map[string]int{"wb_legacy_sent": 0, "wb_legacy_lost": 1, "wb_legacy_acked": 0} {
		if _, accepted := e.hook.counts(id); accepted != want {
			t.Errorf("%s accepted %d times, want %d", id, accepted, want)
		}
	}

	// Old code still running during a rollout writes an event without the
	// mirror: a later pass (within BackfillSettle) picks it up.
	e.clk.Add(time.Hour)
	legacy("wb_legacy_rollout", map[string]any{"acked": false})
	e.clk.Add(BackfillSettle)
	rep = e.sweep()
	if rep.Backfilled != 1 || rep.Delivered != 2 {
		t.Errorf("sweep after the settle time: %+v, want the rollout event backfilled and delivered with the current one", rep)
	}
	snap, err := e.c.Collection(model.ColJobs).Doc(SweepJob).Get(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if done, _ := snap.DataAt("checkpoint.backfillDone"); done != true {
		t.Errorf("backfill not done after a pass that began %s after the first: %v", BackfillSettle, snap.Data())
	}
	legacy("wb_after_done", map[string]any{"acked": false})
	if rep := e.sweep(); rep.Backfilled != 0 {
		t.Errorf("sweep after the backfill is done: %+v, want no backfill", rep)
	}
}

// TestSweepDefaults pins the timing the deployment relies on: the grace
// period is longer than the normal path needs, the escalation comes after
// it, and a delivery lease is shorter than the grace period.
func TestSweepDefaults(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"grace > lease", DefaultSweepGrace > DefaultClaimTTL},
		{"escalation > grace", DefaultEscalateAfter > DefaultSweepGrace},
		{"budget + one webhook timeout < 4 min", DefaultSweepBudget+defaultHTTP.Timeout < 4*time.Minute},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s does not hold", tt.name)
		}
	}
}
