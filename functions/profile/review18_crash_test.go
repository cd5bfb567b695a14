package profile

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

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Crash-consistency sweep of onUserWritten (review 18): each event is handled once on a fresh database (the
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
func r18Crash(t *testing.T, tc r18Case, at int, mode r18Mode) (map[string]any, int, string) {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	p := emu.NewProject(t)
	c := emu.Client(t, p)
	ev := tc.setup(t, c, p, r18Service(c))
	f := &r18Faults{at: at, mode: mode}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	err := r18Service(r18Client(t, p, f)).OnUserWritten(ctx, ev)
	what := "first delivery: ok"
	switch {
	case err != nil && fault.Retryable(err):
		err2 := r18Service(c).OnUserWritten(context.Background(), ev)
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

// TestReview18OnUserWrittenCrashPoints is the sweep.
func TestReview18OnUserWrittenCrashPoints(t *testing.T) {
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
			if d := r18Diff(want, r18Dump(t, c, nil)); len(d) > 0 {
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
			return r18Dump(t, c, nil)
		}
		if d := r18Diff(run(false), run(true)); len(d) > 0 {
			t.Errorf("reversed order ends elsewhere (got: reversed):\n  %s", strings.Join(d, "\n  "))
		}
	})
}
