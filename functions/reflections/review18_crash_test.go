package reflections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Crash-consistency sweep of onUserActivationWritten (review 18): each event is handled once on a fresh database (the
// reference state); then, for every RPC k of that run and each mode of
// r18Modes (killed before the k-th RPC took effect, after it took effect
// but before its answer arrived, or just after its answer; or the k-th
// RPC failing with a transient error while the context lives on), on a
// fresh database, followed by a redelivery of the same event when the handler
// asked for one (fault.Retryable, as events.FirestoreHandler decides). The end state must be the reference.

// r18Mode is where the handler is killed relative to the k-th RPC.
type r18Mode string

const (
	r18Before r18Mode = "before" // the RPC never takes effect
	r18Lost   r18Mode = "lost"   // the RPC takes effect, its answer is lost
	r18After  r18Mode = "after"  // the answer arrives, then the context ends
	// r18Error: the RPC fails with a transient error the client does not
	// retry itself, the context lives on.
	r18Error r18Mode = "error"
)

var r18Modes = []r18Mode{r18Before, r18Lost, r18After, r18Error}

// r18Faults counts the RPCs of one handler run and kills the run at the
// at-th (0: never) as mode says, by ending its context.
type r18Faults struct {
	mu     sync.Mutex
	n, at  int
	mode   r18Mode
	cancel context.CancelFunc
	calls  []string
}

// next counts an RPC and reports whether it is the one to fault.
func (f *r18Faults) next(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.calls = append(f.calls, method[strings.LastIndex(method, "/")+1:])
	return f.n == f.at
}

func (f *r18Faults) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		f.cancel()
	}
}

func (f *r18Faults) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

var (
	r18Injected  = grpcstatus.Error(codes.DeadlineExceeded, "injected crash")
	r18Transient = grpcstatus.Error(codes.Unknown, "injected transient failure")
)

type r18OwnerCreds struct{}

func (r18OwnerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (r18OwnerCreds) RequireTransportSecurity() bool { return false }

// r18Client returns a Firestore client of the emulator's project whose
// RPCs go through f.
func r18Client(t *testing.T, project string, f *r18Faults) *firestore.Client {
	t.Helper()
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		hit := f.next(method)
		if hit && f.mode == r18Error {
			return r18Transient
		}
		if hit && f.mode == r18Before {
			f.kill()
			return r18Injected
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if hit {
			f.kill()
			if f.mode == r18Lost {
				return r18Injected
			}
		}
		return err
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		hit := f.next(method)
		if hit && f.mode == r18Error {
			return nil, r18Transient
		}
		if hit && f.mode == r18Before {
			f.kill()
			return nil, r18Injected
		}
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || !hit {
			return s, err
		}
		return &r18Stream{ClientStream: s, f: f}, nil
	}
	conn, err := grpc.NewClient(os.Getenv("FIRESTORE_EMULATOR_HOST"),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(r18OwnerCreds{}),
		grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream))
	if err != nil {
		t.Fatal(err)
	}
	c, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// r18Stream faults a streamed RPC at its first answer.
type r18Stream struct {
	grpc.ClientStream
	f    *r18Faults
	done bool
}

func (s *r18Stream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if s.done {
		return err
	}
	s.done = true
	s.f.kill()
	if s.f.mode == r18Lost {
		return r18Injected
	}
	return err
}

// r18Dump returns every document of the database (path relative to the
// documents root → data), normalised by r18Norm, with drop's fields
// removed (path prefix → field names).
func r18Dump(t *testing.T, c *firestore.Client, drop map[string][]string) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	var walk func(it *firestore.CollectionIterator)
	walk = func(it *firestore.CollectionIterator) {
		for {
			col, err := it.Next()
			if err == iterator.Done {
				return
			}
			if err != nil {
				t.Fatalf("dump: collections: %v", err)
			}
			refs, err := col.DocumentRefs(ctx).GetAll()
			if err != nil {
				t.Fatalf("dump: %s: %v", col.Path, err)
			}
			for _, ref := range refs {
				_, rel, _ := strings.Cut(ref.Path, "/documents/")
				snap, err := ref.Get(ctx)
				if err == nil {
					d := snap.Data()
					for prefix, fields := range drop {
						if strings.HasPrefix(rel, prefix) {
							for _, k := range fields {
								delete(d, k)
							}
						}
					}
					out[rel] = r18Norm(d)
				} else if !strings.Contains(err.Error(), "NotFound") {
					t.Fatalf("dump: %s: %v", rel, err)
				}
				walk(ref.Collections(ctx))
			}
		}
	}
	walk(c.Collections(ctx))
	return out
}

// r18WallStart begins the span of real time of this test process: a time in it is
// a Firestore create/update time (the program's version), which differs
// between two fresh databases, never one of the fixtures' or the injected
// clock's.
var r18WallStart = time.Now().Add(-time.Minute)

func r18Norm(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = r18Norm(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = r18Norm(e)
		}
		return l
	case time.Time:
		if x.After(r18WallStart) && x.Before(time.Now().Add(time.Minute)) {
			return "<wall clock>"
		}
		return x.UTC().Format(time.RFC3339Nano)
	case string:
		if tm, err := time.Parse(time.RFC3339Nano, x); err == nil && tm.After(r18WallStart) && tm.Before(time.Now().Add(time.Minute)) {
			return "<wall clock>"
		}
	}
	return v
}

// r18Diff lists the differences between two dumps, one line a path.
func r18Diff(want, got map[string]any) []string {
	paths := map[string]bool{}
	for p := range want {
		paths[p] = true
	}
	for p := range got {
		paths[p] = true
	}
	var keys []string
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	var out []string
	for _, p := range keys {
		w, wok := want[p]
		g, gok := got[p]
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		switch {
		case !wok:
			out = append(out, fmt.Sprintf("%s: unexpected %s", p, gj))
		case !gok:
			out = append(out, fmt.Sprintf("%s: missing, want %s", p, wj))
		case string(wj) != string(gj):
			out = append(out, fmt.Sprintf("%s:\n     got  %s\n     want %s", p, gj, wj))
		}
	}
	return out
}

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
func r18Crash(t *testing.T, tc r18Case, at int, mode r18Mode) (st map[string]any, n int, what string, budget, calls int) {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	e := &r18Env{p: emu.NewProject(t), model: &r18Metered{off: analysis.NewOffline(r18Clock)}, metered: tc.metered}
	e.c = emu.Client(t, e.p)
	ev := tc.setup(t, e)
	f := &r18Faults{at: at, mode: mode}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	err := e.service(r18Client(t, e.p, f)).OnUserActivationWritten(ctx, ev)
	what = "first delivery: ok"
	switch {
	case err != nil && fault.Retryable(err):
		err2 := e.service(e.c).OnUserActivationWritten(context.Background(), ev)
		what = fmt.Sprintf("first delivery: %v (redelivered: %v)", err, err2)
		if err2 != nil {
			t.Errorf("redelivery: %v", err2)
		}
	case err != nil:
		what = fmt.Sprintf("first delivery: %v (dropped: not retryable)", err)
	}
	if at == 0 {
		what += "; RPCs: " + strings.Join(f.calls, " ")
	}
	// The budget's count is compared with the model calls made, not with
	// the reference run's.
	st = r18Dump(t, e.c, map[string][]string{"users/u1/private/analysis": {"modelCalls"}})
	return st, f.count(), what, r18Budget(t, e.c), int(e.model.calls.Load())
}

// TestReview18OnUserActivationWrittenCrashPoints is the sweep. The model
// budget is checked apart: it must count the model calls made.
func TestReview18OnUserActivationWrittenCrashPoints(t *testing.T) {
	for _, tc := range r18Cases() {
		t.Run(tc.name, func(t *testing.T) {
			want, n, what, _, _ := r18Crash(t, tc, 0, "")
			t.Logf("%d RPCs uninterrupted (%s)", n, what)
			exercised, redelivered := 0, 0
			var overcounts []string
			for k := 1; k <= n; k++ {
				for _, mode := range r18Modes {
					got, _, what, budget, calls := r18Crash(t, tc, k, mode)
					exercised++
					if strings.Contains(what, "redelivered") {
						redelivered++
					}
					if d := r18Diff(want, got); len(d) > 0 {
						t.Errorf("killed %s RPC %d of %d: %s; end state differs:\n  %s", mode, k, n, what, strings.Join(d, "\n  "))
					}
					if budget != calls {
						overcounts = append(overcounts, fmt.Sprintf("%s RPC %d: budget %d, model calls %d", mode, k, budget, calls))
					}
				}
			}
			if len(overcounts) > 0 {
				t.Logf("budget over-counts: %s", strings.Join(overcounts, "; "))
			}
			t.Logf("%d crash points exercised, %d redelivered", exercised, redelivered)
			if redelivered == 0 {
				t.Error("no crash point failed the delivery: the fault injection does not reach the handler")
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
			got := r18Dump(t, e.c, map[string][]string{"users/u1/private/analysis": {"modelCalls"}})
			if d := r18Diff(want, got); len(d) > 0 {
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
			return r18Dump(t, e.c, nil)
		}
		if d := r18Diff(run(false), run(true)); len(d) > 0 {
			t.Errorf("reversed order ends elsewhere (got: reversed):\n  %s", strings.Join(d, "\n  "))
		}
	})
}
