package profile

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Crash-consistency sweep of onUserWritten (review 18): each event is
// handled once on a fresh database (the reference state); then, for every
// RPC k of that run and each mode of testenv.CrashModes (killed before the
// k-th RPC took effect, after it took effect but before its answer arrived,
// or just after its answer; or the k-th RPC failing with a transient error
// while the context lives on), on a fresh database, followed by a
// redelivery of the same event when the handler asked for one
// (fault.Retryable, as events.FirestoreHandler decides). The end state must
// be the reference.

// r18Now is the injected clock of the sweep.
var r18Now = time.Date(2026, 10, 5, 9, 30, 0, 0, time.UTC)

// r18Case is one users/{uid} event and the writes before it.
type r18Case struct {
	name string
	// setup writes the starting state with the plain service s and
	// returns the event to deliver.
	setup func(t *testing.T, c *firestore.Client, p string, s *Service) *events.FirestoreEvent
}

func r18Service(c *firestore.Client) *Service {
	clock := func() time.Time { return r18Now }
	return &Service{Firestore: c, Wellbeing: &wellbeing.Protocol{Now: clock}, Now: clock}
}

// r18Write sets users/{uid} to fields and returns the event of the write
// from before (nil: a create).
func r18Write(t *testing.T, c *firestore.Client, p, uid string, before, fields map[string]any) *events.FirestoreEvent {
	t.Helper()
	if _, err := c.Doc("users/"+uid).Set(context.Background(), fields); err != nil {
		t.Fatal(err)
	}
	after, _ := data(t, c, "users/"+uid)
	return userEvent(t, eventstest.Protobuf, p, uid, "ev-"+uid, before, after)
}

func r18Cases() []r18Case {
	atRisk := func() map[string]any {
		return onboardingFields("u1", onboarding([]int{2, 2, 1, 1, 1, 1, 1, 1, 2}, "yes"))
	}
	return []r18Case{
		{"onboarding at risk (protocol raised)", func(t *testing.T, c *firestore.Client, p string, s *Service) *events.FirestoreEvent {
			grantSensitiveData(t, c, "u1")
			return r18Write(t, c, p, "u1", nil, atRisk())
		}},
		{"onboarding without consent", func(t *testing.T, c *firestore.Client, p string, s *Service) *events.FirestoreEvent {
			return r18Write(t, c, p, "u1", nil, onboardingFields("u1", onboarding([]int{1, 1, 2, 1, 0, 1, 1, 0, 0}, "no")))
		}},
		{"edit of the birth time", func(t *testing.T, c *firestore.Client, p string, s *Service) *events.FirestoreEvent {
			grantSensitiveData(t, c, "u1")
			if _, err := c.Doc("users/u1/coaches/coach-1").Set(context.Background(), map[string]any{"coachId": "coach-1", "userId": "u1", "source": "admin"}); err != nil {
				t.Fatal(err)
			}
			first := r18Write(t, c, p, "u1", nil, atRisk())
			if err := s.OnUserWritten(context.Background(), first); err != nil {
				t.Fatal(err)
			}
			before, _ := data(t, c, "users/u1")
			if _, err := c.Doc("users/u1").Update(context.Background(), []firestore.Update{{Path: "birthTime", Value: "06:10"}}); err != nil {
				t.Fatal(err)
			}
			after, _ := data(t, c, "users/u1")
			return userEvent(t, eventstest.Protobuf, p, "u1", "ev-edit", before, after)
		}},
		{"user deleted", func(t *testing.T, c *firestore.Client, p string, s *Service) *events.FirestoreEvent {
			first := r18Write(t, c, p, "u1", nil, atRisk())
			if err := s.OnUserWritten(context.Background(), first); err != nil {
				t.Fatal(err)
			}
			before, _ := data(t, c, "users/u1")
			if _, err := c.Doc("users/u1").Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
			return userEvent(t, eventstest.Protobuf, p, "u1", "ev-del", before, nil)
		}},
	}
}

// r18Crash runs tc's event with the handler killed at RPC at (mode; 0:
// never), redelivers it when the handler asked for that, and returns the
// end state, the RPC count and what happened.
func r18Crash(t *testing.T, tc r18Case, at int, mode testenv.CrashMode) (map[string]any, int, string) {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	p := emu.NewProject(t)
	c := emu.Client(t, p)
	ev := tc.setup(t, c, p, r18Service(c))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &testenv.Faults{At: at, Mode: mode, Cancel: cancel}
	what := f.Deliver(t,
		func() error { return r18Service(f.FirestoreClient(t, emu, p)).OnUserWritten(ctx, ev) },
		func() error { return r18Service(c).OnUserWritten(context.Background(), ev) })
	return testenv.DumpDatabase(t, c, nil), f.Count(), what
}

// TestReview18OnUserWrittenCrashPoints is the sweep.
func TestReview18OnUserWrittenCrashPoints(t *testing.T) {
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

// TestReview18OnUserWrittenTwiceAndReordered delivers each event twice,
// and two edits in both orders.
func TestReview18OnUserWrittenTwiceAndReordered(t *testing.T) {
	for _, tc := range r18Cases() {
		t.Run("twice/"+tc.name, func(t *testing.T) {
			want, _, _ := r18Crash(t, tc, 0, "")
			emu := testenv.FirestoreEmulator(t)
			p := emu.NewProject(t)
			c := emu.Client(t, p)
			s := r18Service(c)
			ev := tc.setup(t, c, p, s)
			for i := 0; i < 2; i++ {
				if err := s.OnUserWritten(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			if d := testenv.DiffDumps(want, testenv.DumpDatabase(t, c, nil)); len(d) > 0 {
				t.Errorf("end state differs:\n  %s", strings.Join(d, "\n  "))
			}
		})
	}
	t.Run("two edits reordered", func(t *testing.T) {
		run := func(reverse bool) map[string]any {
			emu := testenv.FirestoreEmulator(t)
			p := emu.NewProject(t)
			c := emu.Client(t, p)
			s := r18Service(c)
			grantSensitiveData(t, c, "u1")
			v1 := onboardingFields("u1", onboarding([]int{1, 1, 2, 1, 0, 1, 1, 0, 0}, "no"))
			e1 := r18Write(t, c, p, "u1", nil, v1)
			d1, _ := data(t, c, "users/u1")
			v2 := onboardingFields("u1", onboarding([]int{2, 2, 1, 1, 1, 1, 1, 1, 2}, "yes"))
			e2 := r18Write(t, c, p, "u1", d1, v2)
			evs := []*events.FirestoreEvent{e1, e2}
			if reverse {
				evs = []*events.FirestoreEvent{e2, e1}
			}
			for _, ev := range evs {
				if err := s.OnUserWritten(context.Background(), ev); err != nil {
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
