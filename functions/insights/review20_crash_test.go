package insights

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// Crash-consistency sweep of the insights worker (review 20): a shard of
// eight due users (three with a chart, three with a birth date only, two
// with nothing; four zones: 24 writes, so the BulkWriter's creates take
// two batches and a user's writes can be split between them) is fanned out at the tick, then DeliverShard runs
// once uninterrupted on a fresh database (the reference), and, for every
// RPC k of that run and every mode of testenv.CrashModes, on a fresh
// database with the k-th RPC faulted, followed by what the platform does
// next:
//
//   - soon: Pub/Sub redelivers the shard while the worker returns a
//     retryable error, 10 s after the failure and doubling (the fan-out's
//     snapshots still fresh);
//   - late: the redeliveries come 15 minutes apart (the snapshots are past
//     MaxSnapshotAge: the worker reads the users, due marks stale);
//   - next tick: the shard is not delivered again (the message lost); the
//     next hourly tick fans the users still due out and delivers them.
//
// Expected (README, "Exactly once", "Which date"): the reference's end
// state — per user one insight and one notification of the tick's local
// date, the state recording that insight's templates, insightDueAt
// advanced once to the next local date's hour — but for the creation
// times of what a redelivery wrote.

// r20Users are the shard's users: uid → user.
func r20Users() map[string]user {
	due := atp("2026-11-21T06:00:00Z")
	return map[string]user{
		"chart-sthlm":   {zone: "Europe/Stockholm", hour: hour(7), optIn: true, due: due, birth: "1990-05-15", chart: true, focus: model.FocusStressRelief, minutes: 15},
		"chart-utc":     {hour: hour(6), optIn: true, due: due, birth: "1984-02-29", chart: true},
		"birth-tokyo":   {zone: "Asia/Tokyo", hour: hour(15), optIn: true, due: due, birth: "1985-11-02", minutes: 5},
		"birth-ny":      {zone: "America/New_York", hour: hour(1), optIn: true, due: due, birth: "2000-01-01", focus: model.FocusCreativity},
		"nothing-sthlm": {zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z")},
		"nothing-ny":    {zone: "America/New_York", hour: hour(1), optIn: true, due: due},
		"chart-ny":      {zone: "America/New_York", hour: hour(1), optIn: true, due: due, birth: "1979-07-04", chart: true},
		"birth-sthlm":   {zone: "Europe/Stockholm", optIn: true, due: due, birth: "1995-12-24"},
	}
}

// r20Result is what one run left.
type r20Result struct {
	dump  map[string]any
	rpcs  int
	calls []string
	what  string
	// failed: the first delivery returned an error.
	failed bool
}

// r20Run fans the shard out at the tick, runs DeliverShard with the at-th
// RPC faulted (mode; 0: none) and then what platform says.
func r20Run(t *testing.T, platform string, at int, mode testenv.CrashMode) r20Result {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	p := emu.NewProject(t)
	c := emu.Client(t, p)
	h := &harness{t: t, c: c, rec: &queue.Recorder{},
		s: &Service{Firestore: c, Publisher: &queue.Recorder{}, Now: func() time.Time { return clock }, ShardSize: 10}}
	h.s.Publisher = h.rec
	for uid, u := range r20Users() {
		h.put(uid, u)
	}
	shard := h.fanoutOne()

	k := &testenv.KillSwitch{}
	f := &testenv.Faults{At: at, Mode: mode, Cancel: k.Kill}
	now := clock
	w := &Service{Firestore: f.FirestoreClient(t, emu, p), Now: func() time.Time { return now }}
	var log []string
	failed := false
	backoff := 10 * time.Second
	for i := 0; i < 8; i++ {
		ctx, cancel := k.Context()
		st, err := w.DeliverShard(ctx, &events.PubSubMessage{ID: fmt.Sprint("shard-", i), Data: shard})
		cancel()
		log = append(log, fmt.Sprintf("delivery %d: %+v %v", i+1, st, err))
		failed = failed || err != nil
		if err == nil || !fault.Retryable(err) || platform == "next tick" {
			break
		}
		switch platform {
		case "soon":
			now = now.Add(backoff)
			backoff *= 2
		case "late":
			now = now.Add(15 * time.Minute)
		}
	}
	if platform == "next tick" {
		h.s.Now = func() time.Time { return clock.Add(time.Hour) }
		h.s.Firestore = c
		_, st := h.tick(utc("2026-11-21T07:00:00Z"))
		log = append(log, fmt.Sprintf("next tick: %+v", st))
	}
	return r20Result{
		// The creation times of what a redelivery wrote, and the state's
		// update time.
		dump:  testenv.DumpDatabase(t, c, map[string][]string{"users/": {"createdAt", "updatedAt"}}),
		rpcs:  f.Count(),
		calls: f.Calls(),
		what:  strings.Join(log, "; "),

		failed: failed,
	}
}

// TestReview20DeliverShardCrashPoints is the sweep: every RPC of the
// uninterrupted delivery, every mode, the three platforms.
func TestReview20DeliverShardCrashPoints(t *testing.T) {
	for _, platform := range []string{"soon", "late", "next tick"} {
		t.Run(platform, func(t *testing.T) {
			want := r20Run(t, platform, 0, "")
			t.Logf("%d RPCs uninterrupted: %s (%s)", want.rpcs, strings.Join(want.calls, " "), want.what)
			if n := len(want.dump); n < 8*4 {
				t.Fatalf("the reference holds %d documents: no delivery", n)
			}
			exercised, failed := 0, 0
			for k := 1; k <= want.rpcs; k++ {
				for _, mode := range testenv.CrashModes {
					got := r20Run(t, platform, k, mode)
					exercised++
					if got.failed {
						failed++
					}
					if d := testenv.DiffDumps(want.dump, got.dump); len(d) > 0 {
						t.Errorf("killed %s RPC %d of %d: %s; end state differs:\n  %s", mode, k, want.rpcs, got.what, strings.Join(d, "\n  "))
					}
				}
			}
			t.Logf("%d crash points exercised, %d of them failed the first delivery", exercised, failed)
			if failed == 0 {
				t.Error("no crash point failed the delivery: the fault injection does not reach the worker")
			}
		})
	}
}
