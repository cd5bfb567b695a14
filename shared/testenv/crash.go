package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fault"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Crash-point sweeps. A handler run is made once uninterrupted on a fresh
// database (the reference state, with its RPC count n); then, for every
// RPC k of 1..n and each mode of CrashModes, again on a fresh database
// with Faults ending the run at the k-th RPC, followed by the redelivery
// the platform would make. The end state (DumpDatabase) must be the
// reference (DiffDumps empty).

// CrashMode is where a crash-point sweep ends a handler run relative to
// the RPC it faults.
type CrashMode string

const (
	// CrashBefore: the run is killed before the RPC takes effect.
	CrashBefore CrashMode = "before"
	// CrashLost: the RPC takes effect, the run is killed before its
	// answer arrives (the caller sees ErrInjectedCrash).
	CrashLost CrashMode = "lost"
	// CrashAfter: the answer arrives, then the run is killed.
	CrashAfter CrashMode = "after"
	// CrashError: the RPC fails with ErrInjectedTransient, an error the
	// client does not retry itself, and the run lives on.
	CrashError CrashMode = "error"
)

// CrashModes are the modes a sweep exercises at every RPC.
var CrashModes = []CrashMode{CrashBefore, CrashLost, CrashAfter, CrashError}

var (
	// ErrInjectedCrash is what the faulted RPC returns when the run is
	// killed at it (CrashBefore, CrashLost): DeadlineExceeded, as a
	// function timing out sees.
	ErrInjectedCrash = status.Error(codes.DeadlineExceeded, "injected crash")
	// ErrInjectedTransient is what the faulted RPC returns in CrashError
	// mode.
	ErrInjectedTransient = status.Error(codes.Unknown, "injected transient failure")
)

// Faults counts the RPCs of one handler run and faults the At-th (0:
// none) as Mode says; killing the run means calling Cancel, which should
// end the run's context. Set the fields before the first RPC; the methods
// are safe for concurrent use.
type Faults struct {
	At     int
	Mode   CrashMode
	Cancel context.CancelFunc

	mu    sync.Mutex
	n     int
	calls []string
}

// Next counts an RPC of method (a gRPC full method name or any name:
// the part after the last "/" is recorded) and reports whether it is the
// one to fault.
func (f *Faults) Next(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.calls = append(f.calls, method[strings.LastIndex(method, "/")+1:])
	return f.n == f.At
}

// Kill ends the run: it calls Cancel, if set.
func (f *Faults) Kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Cancel != nil {
		f.Cancel()
	}
}

// Count is the number of RPCs counted so far.
func (f *Faults) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// Calls are the short names of the RPCs counted so far, in order.
func (f *Faults) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// before is the start of an RPC that hit says is the faulted one or not:
// it returns the error to answer with instead of making the RPC, or nil
// to make it.
func (f *Faults) before(hit bool) error {
	switch {
	case hit && f.Mode == CrashError:
		return ErrInjectedTransient
	case hit && f.Mode == CrashBefore:
		f.Kill()
		return ErrInjectedCrash
	}
	return nil
}

// after is the answer err of the faulted RPC: it kills the run and
// returns what the caller sees.
func (f *Faults) after(err error) error {
	f.Kill()
	if f.Mode == CrashLost {
		return ErrInjectedCrash
	}
	return err
}

// Call makes call, an RPC of a service other than Firestore (an Auth
// Admin call, say), as an RPC of the run named name: counted, and faulted
// as a Firestore RPC would be. It returns call's error, ErrInjectedCrash
// or ErrInjectedTransient when faulted, or ctx.Err() without making call
// when ctx has ended.
func (f *Faults) Call(ctx context.Context, name string, call func(ctx context.Context) error) error {
	hit := f.Next(name)
	if err := f.before(hit); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := call(ctx)
	if hit {
		return f.after(err)
	}
	return err
}

// Transport returns an http.RoundTripper that makes each request through
// next as a Call of f named name(req): counted and faulted (the response
// of a faulted request is closed and ErrInjectedCrash or
// ErrInjectedTransient returned instead).
func (f *Faults) Transport(next http.RoundTripper, name func(*http.Request) string) http.RoundTripper {
	return faultedTransport{f: f, next: next, name: name}
}

type faultedTransport struct {
	f    *Faults
	next http.RoundTripper
	name func(*http.Request) string
}

func (t faultedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var resp *http.Response
	err := t.f.Call(req.Context(), t.name(req), func(context.Context) (err error) {
		resp, err = t.next.RoundTrip(req)
		return err
	})
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// DialOptions are the gRPC interceptors that pass every unary and
// streamed RPC of a connection through f. A streamed RPC is faulted at its
// first answer (CrashLost, CrashAfter).
func (f *Faults) DialOptions() []grpc.DialOption {
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		hit := f.Next(method)
		if err := f.before(hit); err != nil {
			return err
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if hit {
			return f.after(err)
		}
		return err
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		hit := f.Next(method)
		if err := f.before(hit); err != nil {
			return nil, err
		}
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || !hit {
			return s, err
		}
		return &faultedStream{ClientStream: s, f: f}, nil
	}
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream)}
}

// FirestoreClient returns an Admin Firestore client for project on fs
// whose RPCs go through f, closed when the test ends.
func (f *Faults) FirestoreClient(t testing.TB, fs *Firestore, project string) *firestore.Client {
	t.Helper()
	return fs.InterceptedClient(t, project, f.DialOptions()...)
}

// faultedStream faults a streamed RPC at its first answer.
type faultedStream struct {
	grpc.ClientStream
	f    *Faults
	done bool
}

// RecvMsg implements grpc.ClientStream.
func (s *faultedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if s.done {
		return err
	}
	s.done = true
	return s.f.after(err)
}

// ownerCreds sends the emulator's admin token, which bypasses the rules.
type ownerCreds struct{}

func (ownerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (ownerCreds) RequireTransportSecurity() bool { return false }

// InterceptedClient returns an Admin Firestore client for project (it
// bypasses the rules) on a gRPC connection of its own to the emulator
// with opts added (interceptors, typically), closed when the test ends. It
// fails the test when the client cannot be made.
func (fs *Firestore) InterceptedClient(t testing.TB, project string, opts ...grpc.DialOption) *firestore.Client {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(ownerCreds{})},
		opts...)
	conn, err := grpc.NewClient(fs.Host, opts...)
	if err != nil {
		t.Fatalf("testenv: firestore connection: %v", err)
	}
	c, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("testenv: firestore client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// KillSwitch is the Cancel of Faults for a run that delivers an event
// more than once: each delivery takes its own context (Context), and Kill
// cancels the one running, so a fault kills that delivery only.
type KillSwitch struct {
	mu     sync.Mutex
	cancel context.CancelFunc
}

// Context returns the context of a new delivery, which Kill cancels; the
// caller calls cancel when the delivery has returned.
func (k *KillSwitch) Context() (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel = context.WithCancel(context.Background())
	k.mu.Lock()
	k.cancel = cancel
	k.mu.Unlock()
	return ctx, cancel
}

// Kill cancels the delivery running (none: nothing).
func (k *KillSwitch) Kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cancel != nil {
		k.cancel()
	}
}

// Deliver makes one delivery of an event as a crash sweep's run does:
// first is the handler on the faulted client (the platform's first
// delivery); when it fails with a retryable error (fault.Retryable), again
// is the platform's redelivery, unfaulted, and its failure fails t; a
// permanent error is dropped, as the platform drops it. It returns what
// happened ("redelivered" in it when the event was delivered again), with
// the RPCs made when f.At is 0 (the uninterrupted run).
func (f *Faults) Deliver(t testing.TB, first, again func() error) string {
	t.Helper()
	what := "first delivery: ok"
	switch err := first(); {
	case err != nil && fault.Retryable(err):
		err2 := again()
		what = fmt.Sprintf("first delivery: %v (redelivered: %v)", err, err2)
		if err2 != nil {
			t.Errorf("redelivery: %v", err2)
		}
	case err != nil:
		what = fmt.Sprintf("first delivery: %v (dropped: not retryable)", err)
	}
	if f.At == 0 {
		what += "; RPCs: " + strings.Join(f.Calls(), " ")
	}
	return what
}

// SweepCrashPoints runs run once for every RPC k of 1..n (the RPCs of an
// uninterrupted run) in every CrashMode; run kills the handler there, does
// what the platform would do next (redelivers, or not), and returns the
// end state, what happened, and whether the event was redelivered. It
// fails t where the end state differs from want, and when no crash point
// was redelivered (the faults do not reach the handler). It returns the
// number of crash points and of redeliveries.
func SweepCrashPoints(t testing.TB, n int, want map[string]any,
	run func(k int, mode CrashMode) (state map[string]any, what string, redelivered bool)) (exercised, redelivered int) {
	t.Helper()
	for k := 1; k <= n; k++ {
		for _, mode := range CrashModes {
			got, what, again := run(k, mode)
			exercised++
			if again {
				redelivered++
			}
			if d := DiffDumps(want, got); len(d) > 0 {
				t.Errorf("killed %s RPC %d of %d: %s; end state differs:\n  %s", mode, k, n, what, strings.Join(d, "\n  "))
			}
		}
	}
	t.Logf("%d crash points exercised, %d redelivered", exercised, redelivered)
	if redelivered == 0 {
		t.Error("no crash point failed the delivery: the fault injection does not reach the handler")
	}
	return exercised, redelivered
}

// DumpDatabase returns every document of c's database, subcollections
// included (path relative to the documents root → data normalised by
// NormalizeWallClock), with drop's fields removed (path prefix → field
// names). It fails the test when the database cannot be read.
func DumpDatabase(t testing.TB, c *firestore.Client, drop map[string][]string) map[string]any {
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
					out[rel] = NormalizeWallClock(d)
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

// wallStart begins the span of real time of this test process: a time in
// it is a Firestore create/update time (a program's version, say), which
// differs between two fresh databases, never one of the fixtures' or an
// injected clock's.
var wallStart = time.Now().Add(-time.Minute)

// NormalizeWallClock returns v (a document's data, or any value in it)
// with every time, and every RFC 3339 string, within the span of real time
// of this test process (from a minute before it began to a minute from
// now) replaced by "<wall clock>", and the other times as RFC 3339 strings
// in UTC, so that the dumps of two runs compare equal. Maps and slices are
// copied, not changed.
func NormalizeWallClock(v any) any {
	return MapLeaves(v, func(leaf any) any {
		switch x := leaf.(type) {
		case time.Time:
			if x.After(wallStart) && x.Before(time.Now().Add(time.Minute)) {
				return "<wall clock>"
			}
			return x.UTC().Format(time.RFC3339Nano)
		case string:
			if tm, err := time.Parse(time.RFC3339Nano, x); err == nil && tm.After(wallStart) && tm.Before(time.Now().Add(time.Minute)) {
				return "<wall clock>"
			}
		}
		return leaf
	})
}

// MapLeaves returns a copy of v (a document's data, or any value in it)
// with every value that is not a map[string]any or a []any replaced by
// leaf(value). Maps and slices are copied, not changed.
func MapLeaves(v any, leaf func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = MapLeaves(e, leaf)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = MapLeaves(e, leaf)
		}
		return l
	}
	return leaf(v)
}

// DiffDumps lists the differences between two dumps (DumpDatabase), one
// line a path in path order, comparing the JSON of the values; it is
// empty when they are the same.
func DiffDumps(want, got map[string]any) []string {
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
