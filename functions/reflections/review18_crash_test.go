package reflections_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Crash-consistency sweep of onUserActivationWritten (review 18): each
// event is handled once on a fresh database (the reference state); then,
// for every RPC k of that run and each mode of testenv.CrashModes (killed
// before the k-th RPC took effect, after it took effect but before its
// answer arrived, or just after its answer; or the k-th RPC failing with a
// transient error while the context lives on), on a fresh database,
// followed by a redelivery of the same event when the handler asked for one
// (fault.Retryable, as events.FirestoreHandler decides). The end state must
// be the reference.

// r18Now is the injected clock of the sweep.
var r18Now = time.Date(2026, 10, 5, 9, 30, 0, 0, time.UTC)

func r18Clock() time.Time { return r18Now }

// r18Metered stands in for Gemini (analysis.Metered): a model call is
// counted when it is made with a live context (a call made with an ended
// one never leaves the instance), and answers the offline analysis with
// provider "gemini"; with an ended context it falls back offline, as
// the Gemini analyzer does on any error.
type r18Metered struct {
	off   analysis.Analyzer
	calls atomic.Int32
}

func (m *r18Metered) CallsModel(e analysis.Entry) bool { return e.Text != "" }

func (m *r18Metered) Analyze(ctx context.Context, e analysis.Entry) (analysis.Result, error) {
	if ctx.Err() != nil {
		return m.AnalyzeOffline(ctx, e, "error")
	}
	m.calls.Add(1)
	r, err := m.off.Analyze(ctx, e)
	r.Provider = "gemini"
	return r, err
}

func (m *r18Metered) AnalyzeOffline(ctx context.Context, e analysis.Entry, reason string) (analysis.Result, error) {
	r, err := m.off.Analyze(ctx, e)
	r.Fallback = reason
	return r, err
}

// r18Env is one case's database and its services.
type r18Env struct {
	p     string
	c     *firestore.Client
	model *r18Metered
	// metered: the service analyses with model (else offline).
	metered bool
}

func (e *r18Env) service(c *firestore.Client) *reflections.Service {
	var a analysis.Analyzer = analysis.NewOffline(r18Clock)
	if e.metered {
		a = e.model
	}
	return &reflections.Service{Firestore: c, Analyzer: a, Wellbeing: &wellbeing.Protocol{Now: r18Clock}, Now: r18Clock}
}

func (e *r18Env) consent(t *testing.T, statuses ...model.ConsentStatus) {
	t.Helper()
	cs := model.Consents{UserID: "u1", ConsentsGiven: []model.ConsentEntry{}}
	for i, st := range statuses {
		cs.ConsentsGiven = append(cs.ConsentsGiven, model.ConsentEntry{Type: model.ConsentAIAnalysis, Version: "v1",
			AgreedAt: r18Now.Add(time.Duration(i-10) * time.Minute), Status: st})
	}
	if _, err := e.c.Doc("consents/u1").Set(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
}

// write creates user_activations/ua1 with text (before nil), or, as the
// owner's client does, updates its reflection's fields alone (the
// server's log.aiAnalysis stays); empty text empties the reflection. It
// returns the event of the write.
func (e *r18Env) write(t *testing.T, before map[string]any, text string) *events.FirestoreEvent {
	t.Helper()
	ref := e.c.Doc("user_activations/ua1")
	var err error
	switch {
	case before == nil:
		_, err = ref.Set(context.Background(), map[string]any{"userActivationId": "ua1", "userId": "u1", "activationId": "a1",
			"status": "completed", "startedAt": r18Now, "log": map[string]any{"text": text, "moodBefore": "stressed", "moodAfter": "calm"}})
	case text == "":
		_, err = ref.Update(context.Background(), []firestore.Update{{Path: "log.text", Value: firestore.Delete},
			{Path: "log.moodBefore", Value: firestore.Delete}, {Path: "log.moodAfter", Value: firestore.Delete}})
	default:
		_, err = ref.Update(context.Background(), []firestore.Update{{Path: "log.text", Value: text}})
	}
	if err != nil {
		t.Fatal(err)
	}
	ce := eventstest.MustFirestoreCloudEvent(t, eventstest.EmulatorBase64, "google.cloud.firestore.document.v1.written",
		e.p, "user_activations/ua1", before, e.data(t))
	ev, err := events.DecodeFirestore(ce)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (e *r18Env) data(t *testing.T) map[string]any {
	t.Helper()
	snap, err := e.c.Doc("user_activations/ua1").Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap.Data()
}

// analysed handles ev uninterrupted.
func (e *r18Env) analysed(t *testing.T, ev *events.FirestoreEvent) {
	t.Helper()
	if err := e.service(e.c).OnUserActivationWritten(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

const r18Crisis = "I can't do this anymore. I want to kill myself."

type r18Case struct {
	name    string
	metered bool
	setup   func(t *testing.T, e *r18Env) *events.FirestoreEvent
}

func r18Cases() []r18Case {
	return []r18Case{
		{"new crisis entry (protocol raised)", false, func(t *testing.T, e *r18Env) *events.FirestoreEvent {
			e.consent(t, model.ConsentGranted)
			return e.write(t, nil, r18Crisis)
		}},
		{"new entry, metered model (budget spent)", true, func(t *testing.T, e *r18Env) *events.FirestoreEvent {
			e.consent(t, model.ConsentGranted)
			return e.write(t, nil, "Felt calm and grateful after the long walk by the sea today.")
		}},
		{"edit without consent (analysis withdrawn)", false, func(t *testing.T, e *r18Env) *events.FirestoreEvent {
			e.consent(t, model.ConsentGranted)
			e.analysed(t, e.write(t, nil, "Felt calm and grateful after the long walk by the sea today."))
			e.consent(t, model.ConsentGranted, model.ConsentRevoked)
			return e.write(t, e.data(t), "Felt tired and anxious at work all day.")
		}},
		{"entry emptied (analysis cleared)", false, func(t *testing.T, e *r18Env) *events.FirestoreEvent {
			e.consent(t, model.ConsentGranted)
			e.analysed(t, e.write(t, nil, "Felt calm and grateful after the long walk by the sea today."))
			return e.write(t, e.data(t), "")
		}},
		{"edit re-analysed", false, func(t *testing.T, e *r18Env) *events.FirestoreEvent {
			e.consent(t, model.ConsentGranted)
			e.analysed(t, e.write(t, nil, "Felt calm and grateful after the long walk by the sea today."))
			return e.write(t, e.data(t), r18Crisis)
		}},
	}
}

// r18Budget is users/u1/private/analysis.modelCalls, 0 without one.
func r18Budget(t *testing.T, c *firestore.Client) int {
	t.Helper()
	snap, err := c.Doc("users/u1/private/analysis").Get(context.Background())
	if err != nil {
		if strings.Contains(err.Error(), "NotFound") {
			return 0
		}
		t.Fatal(err)
	}
	n, _ := snap.Data()["modelCalls"].(int64)
	return int(n)
}

// r18Crash runs tc's event with the handler killed at RPC at (mode; 0:
// never), redelivers it when the handler asked for that, and returns the
// end state, the RPC count, what happened, and the model budget's count
// with the model calls made.
func r18Crash(t *testing.T, tc r18Case, at int, mode testenv.CrashMode) (st map[string]any, n int, what string, budget, calls int) {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	e := &r18Env{p: emu.NewProject(t), model: &r18Metered{off: analysis.NewOffline(r18Clock)}, metered: tc.metered}
	e.c = emu.Client(t, e.p)
	ev := tc.setup(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &testenv.Faults{At: at, Mode: mode, Cancel: cancel}
	what = f.Deliver(t,
		func() error { return e.service(f.FirestoreClient(t, emu, e.p)).OnUserActivationWritten(ctx, ev) },
		func() error { return e.service(e.c).OnUserActivationWritten(context.Background(), ev) })
	// The budget's count is compared with the model calls made, not with
	// the reference run's.
	st = testenv.DumpDatabase(t, e.c, map[string][]string{"users/u1/private/analysis": {"modelCalls"}})
	return st, f.Count(), what, r18Budget(t, e.c), int(e.model.calls.Load())
}

// TestReview18OnUserActivationWrittenCrashPoints is the sweep. The model
// budget is checked apart: it must count the model calls made.
func TestReview18OnUserActivationWrittenCrashPoints(t *testing.T) {
	for _, tc := range r18Cases() {
		t.Run(tc.name, func(t *testing.T) {
			want, n, what, _, _ := r18Crash(t, tc, 0, "")
			t.Logf("%d RPCs uninterrupted (%s)", n, what)
			var overcounts []string
			testenv.SweepCrashPoints(t, n, want, func(k int, mode testenv.CrashMode) (map[string]any, string, bool) {
				got, _, what, budget, calls := r18Crash(t, tc, k, mode)
				if budget != calls {
					overcounts = append(overcounts, fmt.Sprintf("%s RPC %d: budget %d, model calls %d", mode, k, budget, calls))
				}
				return got, what, strings.Contains(what, "redelivered")
			})
			if len(overcounts) > 0 {
				t.Logf("budget over-counts: %s", strings.Join(overcounts, "; "))
			}
		})
	}
}

// TestReview18OnUserActivationWrittenTwiceAndReordered delivers each
// event twice, and two edits in both orders.
func TestReview18OnUserActivationWrittenTwiceAndReordered(t *testing.T) {
	for _, tc := range r18Cases() {
		t.Run("twice/"+tc.name, func(t *testing.T) {
			want, _, _, _, _ := r18Crash(t, tc, 0, "")
			emu := testenv.FirestoreEmulator(t)
			e := &r18Env{p: emu.NewProject(t), model: &r18Metered{off: analysis.NewOffline(r18Clock)}, metered: tc.metered}
			e.c = emu.Client(t, e.p)
			ev := tc.setup(t, e)
			e.analysed(t, ev)
			e.analysed(t, ev)
			got := testenv.DumpDatabase(t, e.c, map[string][]string{"users/u1/private/analysis": {"modelCalls"}})
			if d := testenv.DiffDumps(want, got); len(d) > 0 {
				t.Errorf("end state differs:\n  %s", strings.Join(d, "\n  "))
			}
			if b, n := r18Budget(t, e.c), int(e.model.calls.Load()); b != n {
				t.Errorf("budget %d, model calls %d", b, n)
			}
		})
	}
	t.Run("two edits reordered", func(t *testing.T) {
		run := func(reverse bool) map[string]any {
			emu := testenv.FirestoreEmulator(t)
			e := &r18Env{p: emu.NewProject(t)}
			e.c = emu.Client(t, e.p)
			e.consent(t, model.ConsentGranted)
			e1 := e.write(t, nil, "Felt calm and grateful after the long walk by the sea today.")
			e2 := e.write(t, e.data(t), r18Crisis)
			evs := []*events.FirestoreEvent{e1, e2}
			if reverse {
				evs = []*events.FirestoreEvent{e2, e1}
			}
			for _, ev := range evs {
				e.analysed(t, ev)
			}
			return testenv.DumpDatabase(t, e.c, nil)
		}
		if d := testenv.DiffDumps(run(false), run(true)); len(d) > 0 {
			t.Errorf("reversed order ends elsewhere (got: reversed):\n  %s", strings.Join(d, "\n  "))
		}
	})
}
