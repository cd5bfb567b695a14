package consents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Crash-consistency sweep of onConsentsWritten, wired as in
// wire_consents.go (profile recompute and AI analysis removal on the same
// Firestore client) (review 18): each event is handled once on a fresh database (the
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
func r18Crash(t *testing.T, tc r18Case, at int, mode r18Mode) (map[string]any, int, string) {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	p := emu.NewProject(t)
	c := emu.Client(t, p)
	ev := r18Setup(t, c, p, tc)
	f := &r18Faults{at: at, mode: mode}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	err := r18Service(r18Client(t, p, f)).OnConsentsWritten(ctx, ev)
	what := "first delivery: ok"
	switch {
	case err != nil && fault.Retryable(err):
		err2 := r18Service(c).OnConsentsWritten(context.Background(), ev)
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
	return r18Dump(t, c, nil), f.count(), what
}

// TestReview18OnConsentsWrittenCrashPoints is the sweep.
func TestReview18OnConsentsWrittenCrashPoints(t *testing.T) {
	for _, tc := range r18Cases() {
		t.Run(tc.name, func(t *testing.T) {
			want, n, what := r18Crash(t, tc, 0, "")
			t.Logf("%d RPCs uninterrupted (%s)", n, what)
			exercised, redelivered := 0, 0
			for k := 1; k <= n; k++ {
				for _, mode := range r18Modes {
					got, _, what := r18Crash(t, tc, k, mode)
					exercised++
					if strings.Contains(what, "redelivered") {
						redelivered++
					}
					if d := r18Diff(want, got); len(d) > 0 {
						t.Errorf("killed %s RPC %d of %d: %s; end state differs:\n  %s", mode, k, n, what, strings.Join(d, "\n  "))
					}
				}
			}
			t.Logf("%d crash points exercised, %d redelivered", exercised, redelivered)
			if redelivered == 0 {
				t.Error("no crash point failed the delivery: the fault injection does not reach the handler")
			}
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
			if d := r18Diff(want, r18Dump(t, c, nil)); len(d) > 0 {
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
			return r18Dump(t, c, nil)
		}
		if d := r18Diff(run(false), run(true)); len(d) > 0 {
			t.Errorf("reversed order ends elsewhere (got: reversed):\n  %s", strings.Join(d, "\n  "))
		}
	})
}
