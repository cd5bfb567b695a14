package consents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Crash-consistency sweep of onConsentsWritten, wired as in
// wire_consents.go (profile recompute and AI analysis removal on the same
// Firestore client) (review 18): each event is handled once on a fresh
// database (the reference state); then, for every RPC k of that run and
// each mode of testenv.CrashModes (killed before the k-th RPC took effect,
// after it took effect but before its answer arrived, or just after its
// answer; or the k-th RPC failing with a transient error while the context
// lives on), on a fresh database, followed by a redelivery of the same
// event when the handler asked for one (fault.Retryable, as
// events.FirestoreHandler decides). The end state must be the reference.

// r18Now is the injected clock of the sweep.
var r18Now = time.Date(2026, 10, 5, 9, 30, 0, 0, time.UTC)

// r18Service is onConsentsWritten's service as wire_consents.go builds it.
func r18Service(c *firestore.Client) *consents.Service {
	clock := func() time.Time { return r18Now }
	return &consents.Service{Firestore: c,
		Profiles: &profile.Service{Firestore: c, Wellbeing: &wellbeing.Protocol{Now: clock}, Now: clock},
		Analyses: &reflections.Service{Firestore: c, Now: clock}, Now: clock}
}

type r18Case struct {
	name string
	// start is the history before the write, then the entries appended.
	start, appended []model.ConsentEntry
}

func r18Cases() []r18Case {
	at := func(m int) time.Time { return r18Now.Add(time.Duration(m) * time.Minute) }
	sd, ai := model.ConsentSensitiveData, model.ConsentAIAnalysis
	granted, revoked := model.ConsentGranted, model.ConsentRevoked
	both := []model.ConsentEntry{entry(sd, granted, at(-60)), entry(ai, granted, at(-60))}
	return []r18Case{
		{"revoke sensitive_data and ai_analysis", both, []model.ConsentEntry{entry(sd, revoked, at(0)), entry(ai, revoked, at(0))}},
		{"revoke ai_analysis", both, []model.ConsentEntry{entry(ai, revoked, at(0))}},
		{"revoke sensitive_data", both, []model.ConsentEntry{entry(sd, revoked, at(0))}},
		{"grant sensitive_data", []model.ConsentEntry{entry(ai, granted, at(-60))}, []model.ConsentEntry{entry(sd, granted, at(0))}},
	}
}

// r18Setup writes the starting state of tc — consents/u1 with its
// history and current, users/u1 onboarded and profiled under it, three
// analysed entries of u1 and one of another user — and the write of
// consents/u1 that appends tc.appended; it returns the write's event.
func r18Setup(t *testing.T, c *firestore.Client, p string, tc r18Case) *events.FirestoreEvent {
	t.Helper()
	ctx := context.Background()
	start := history("u1", tc.start...)
	if _, err := c.Doc("consents/u1").Set(ctx, start); err != nil {
		t.Fatal(err)
	}
	if _, err := consents.RecomputeCurrent(ctx, c, "u1"); err != nil {
		t.Fatal(err)
	}
	snap, err := c.Doc("consents/u1").Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := snap.Data()
	if _, err := c.Doc("users/u1").Set(ctx, onboardedUser("u1")); err != nil {
		t.Fatal(err)
	}
	if _, err := r18Service(c).Profiles.(*profile.Service).Recompute(ctx, "u1", false); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct{ id, uid string }{{"ua1", "u1"}, {"ua2", "u1"}, {"ua3", "u1"}, {"ua-other", "u2"}} {
		if _, err := c.Doc("user_activations/"+e.id).Set(ctx, map[string]any{"userActivationId": e.id, "userId": e.uid,
			"activationId": "a1", "status": "completed", "log": map[string]any{"text": "A walk.",
				"aiAnalysis": map[string]any{"label": "neutral", "contentHash": "h-" + e.id, "keyThemes": []string{"rest"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	after := history("u1", append(append([]model.ConsentEntry{}, tc.start...), tc.appended...)...)
	if _, err := c.Doc("consents/u1").Update(ctx, []firestore.Update{{Path: "consentsGiven", Value: toMap(t, after)["consentsGiven"]}}); err != nil {
		t.Fatal(err)
	}
	if snap, err = c.Doc("consents/u1").Get(ctx); err != nil {
		t.Fatal(err)
	}
	return consentsEvent(t, p, "u1", before, snap.Data())
}

// r18Crash runs tc's event with the handler killed at RPC at (mode; 0:
// never), redelivers it when the handler asked for that, and returns the
// end state, the RPC count and what happened.
func r18Crash(t *testing.T, tc r18Case, at int, mode testenv.CrashMode) (map[string]any, int, string) {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	p := emu.NewProject(t)
	c := emu.Client(t, p)
	ev := r18Setup(t, c, p, tc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &testenv.Faults{At: at, Mode: mode, Cancel: cancel}
	what := f.Deliver(t,
		func() error { return r18Service(f.FirestoreClient(t, emu, p)).OnConsentsWritten(ctx, ev) },
		func() error { return r18Service(c).OnConsentsWritten(context.Background(), ev) })
	return testenv.DumpDatabase(t, c, nil), f.Count(), what
}

// TestReview18OnConsentsWrittenCrashPoints is the sweep.
func TestReview18OnConsentsWrittenCrashPoints(t *testing.T) {
	for _, tc := range r18Cases() {
		t.Run(tc.name, func(t *testing.T) {
			want, n, what := r18Crash(t, tc, 0, "")
			t.Logf("%d RPCs uninterrupted (%s)", n, what)
			testenv.SweepCrashPoints(t, n, want, func(k int, mode testenv.CrashMode) (map[string]any, string, bool) {
				got, _, what := r18Crash(t, tc, k, mode)
				return got, what, strings.Contains(what, "redelivered")
			})
		})
	}
}

// TestReview18OnConsentsWrittenTwiceAndReordered delivers each event
// twice, and a revocation and the grant that follows it in both orders.
func TestReview18OnConsentsWrittenTwiceAndReordered(t *testing.T) {
	for _, tc := range r18Cases() {
		t.Run("twice/"+tc.name, func(t *testing.T) {
			want, _, _ := r18Crash(t, tc, 0, "")
			emu := testenv.FirestoreEmulator(t)
			p := emu.NewProject(t)
			c := emu.Client(t, p)
			ev := r18Setup(t, c, p, tc)
			for i := 0; i < 2; i++ {
				if err := r18Service(c).OnConsentsWritten(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			if d := testenv.DiffDumps(want, testenv.DumpDatabase(t, c, nil)); len(d) > 0 {
				t.Errorf("end state differs:\n  %s", strings.Join(d, "\n  "))
			}
		})
	}
	t.Run("revocation and re-grant reordered", func(t *testing.T) {
		tc := r18Cases()[0]
		run := func(reverse bool) map[string]any {
			emu := testenv.FirestoreEmulator(t)
			p := emu.NewProject(t)
			c := emu.Client(t, p)
			revoke := r18Setup(t, c, p, tc)
			mid, _ := c.Doc("consents/u1").Get(context.Background())
			regrant := append(append(append([]model.ConsentEntry{}, tc.start...), tc.appended...),
				entry(model.ConsentSensitiveData, model.ConsentGranted, r18Now.Add(time.Minute)),
				entry(model.ConsentAIAnalysis, model.ConsentGranted, r18Now.Add(time.Minute)))
			if _, err := c.Doc("consents/u1").Update(context.Background(), []firestore.Update{{Path: "consentsGiven",
				Value: toMap(t, history("u1", regrant...))["consentsGiven"]}}); err != nil {
				t.Fatal(err)
			}
			last, _ := c.Doc("consents/u1").Get(context.Background())
			grant := consentsEvent(t, p, "u1", mid.Data(), last.Data())
			evs := []*events.FirestoreEvent{revoke, grant}
			if reverse {
				evs = []*events.FirestoreEvent{grant, revoke}
			}
			for _, ev := range evs {
				if err := r18Service(c).OnConsentsWritten(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			return testenv.DumpDatabase(t, c, nil)
		}
		if d := testenv.DiffDumps(run(false), run(true)); len(d) > 0 {
			t.Errorf("reversed order ends elsewhere (got: reversed):\n  %s", strings.Join(d, "\n  "))
		}
	})
}
