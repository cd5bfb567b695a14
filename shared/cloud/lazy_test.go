package cloud

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// safety is how long a test waits for something that should happen at
// once before it reports a hang. It is never the thing being measured:
// a correct Lazy answers long before it, a wrong one never does.
const safety = 10 * time.Second

// result is what one Get returned.
type result struct {
	v   int
	err error
}

// blockingNew is a Lazy.New that signals started, then blocks until its
// ctx ends or release is closed, and then returns 42, or fails with fail
// when it is set. It honours ctx, as Lazy requires.
type blockingNew struct {
	calls   atomic.Int32
	started chan struct{} // receives one value per call
	release chan struct{}
	once    sync.Once
	fail    error
}

func newBlockingNew() *blockingNew {
	return &blockingNew{started: make(chan struct{}, 100), release: make(chan struct{})}
}

// Release lets the blocked and later calls of New return.
func (b *blockingNew) Release() { b.once.Do(func() { close(b.release) }) }

func (b *blockingNew) New(ctx context.Context) (int, error) {
	b.calls.Add(1)
	b.started <- struct{}{}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.release:
	}
	if b.fail != nil {
		return 0, b.fail
	}
	return 42, nil
}

// getAsync runs l.Get(ctx) in a goroutine and returns its result channel.
func getAsync(l *Lazy[int], ctx context.Context) <-chan result {
	ch := make(chan result, 1)
	go func() {
		v, err := l.Get(ctx)
		ch <- result{v, err}
	}()
	return ch
}

// await returns the next value of ch, or fails the test when none comes
// within safety.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safety):
		t.Fatalf("%s: still waiting after %s", what, safety)
		panic("unreachable")
	}
}

// TestLazyWaiterHonoursContext: while one caller's creation hangs (an
// unreachable key-set endpoint, say), another caller whose context ends
// gets the context's error at once instead of queueing behind the
// creation; the creation goes on and its value serves later callers.
func TestLazyWaiterHonoursContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{
			name: "cancelled while waiting",
			ctx:  func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			want: context.Canceled,
		},
		{
			name: "deadline while waiting",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 10*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name: "ended before the call",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBlockingNew()
			t.Cleanup(b.Release)
			l := &Lazy[int]{New: b.New}
			first := getAsync(l, context.Background())
			await(t, b.started, "first creation")

			ctx, cancel := tt.ctx()
			defer cancel()
			waiter := getAsync(l, ctx)
			if tt.want == context.Canceled {
				cancel()
			}
			r := await(t, waiter, "Get of a caller whose context ended, during a hung creation")
			if !errors.Is(r.err, tt.want) {
				t.Errorf("waiter: Get = %d, %v; want an error wrapping %v", r.v, r.err, tt.want)
			}

			b.Release()
			if r := await(t, first, "first Get"); r.v != 42 || r.err != nil {
				t.Errorf("first Get = %d, %v; want 42", r.v, r.err)
			}
			if v, err := l.Get(context.Background()); v != 42 || err != nil {
				t.Errorf("later Get = %d, %v; want 42", v, err)
			}
			if n := b.calls.Load(); n != 1 {
				t.Errorf("New called %d times, want 1", n)
			}
		})
	}
}

// TestLazyRunnerGivesUp: the caller running a hung creation leaves when
// its own context ends (New honours ctx), and the failure is not cached:
// the next caller creates the value.
func TestLazyRunnerGivesUp(t *testing.T) {
	b := newBlockingNew()
	t.Cleanup(b.Release)
	l := &Lazy[int]{New: b.New}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := l.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	b.Release()
	if v, err := l.Get(context.Background()); v != 42 || err != nil {
		t.Errorf("next Get = %d, %v; want 42", v, err)
	}
	if n := b.calls.Load(); n != 2 {
		t.Errorf("New called %d times, want 2", n)
	}
}

// waitingCtx is a live context that reports on waiting when its Done
// channel is first asked for. The callers given one are not running New
// themselves, so Get asks only to wait for another caller's creation:
// the report says the caller is waiting for it.
type waitingCtx struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func newWaitingCtx() *waitingCtx {
	return &waitingCtx{Context: context.Background(), waiting: make(chan struct{})}
}

func (c *waitingCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// TestLazySharesOneCreation: callers that arrive while a creation runs
// wait for it and share its outcome (New runs once), a failed outcome
// included; a failure is not cached, so the next caller tries again.
func TestLazySharesOneCreation(t *testing.T) {
	errDown := errors.New("key set: 503")
	tests := []struct {
		name      string
		fail      error
		wantV     int
		wantErr   error
		wantCalls int32 // after one more Get once New succeeds
	}{
		{name: "success", wantV: 42, wantCalls: 1},
		{name: "failure", fail: errDown, wantErr: errDown, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBlockingNew()
			t.Cleanup(b.Release)
			b.fail = tt.fail
			l := &Lazy[int]{New: b.New}
			results := []<-chan result{getAsync(l, context.Background())}
			await(t, b.started, "first creation")
			for range 9 {
				ctx := newWaitingCtx()
				results = append(results, getAsync(l, ctx))
				await(t, ctx.waiting, "caller arriving during a creation starts waiting")
			}
			b.Release()
			for i, ch := range results {
				r := await(t, ch, "Get")
				if r.v != tt.wantV || !errors.Is(r.err, tt.wantErr) {
					t.Errorf("caller %d: Get = %d, %v; want %d, %v", i, r.v, r.err, tt.wantV, tt.wantErr)
				}
			}
			if n := b.calls.Load(); n != 1 {
				t.Errorf("New called %d times by 10 concurrent callers, want 1", n)
			}
			b.fail = nil
			if v, err := l.Get(context.Background()); v != 42 || err != nil {
				t.Errorf("next Get = %d, %v; want 42", v, err)
			}
			if n := b.calls.Load(); n != tt.wantCalls {
				t.Errorf("New called %d times in all, want %d", n, tt.wantCalls)
			}
		})
	}
}

// TestLazyWaitersRetryWhenRunnerLeft: when the caller running a creation
// leaves (its context ends) the waiters whose contexts are live do not
// inherit its context error: one of them creates the value.
func TestLazyWaitersRetryWhenRunnerLeft(t *testing.T) {
	b := newBlockingNew()
	t.Cleanup(b.Release)
	l := &Lazy[int]{New: b.New}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner := getAsync(l, ctx)
	await(t, b.started, "first creation")
	wctx := newWaitingCtx()
	waiter := getAsync(l, wctx)
	await(t, wctx.waiting, "second caller starts waiting")
	cancel()
	if r := await(t, runner, "runner"); !errors.Is(r.err, context.Canceled) {
		t.Errorf("runner: Get = %d, %v; want its context's error", r.v, r.err)
	}
	await(t, b.started, "the waiter's own creation")
	b.Release()
	if r := await(t, waiter, "waiter"); r.v != 42 || r.err != nil {
		t.Errorf("waiter: Get = %d, %v; want 42", r.v, r.err)
	}
	if n := b.calls.Load(); n != 2 {
		t.Errorf("New called %d times, want 2", n)
	}
}

// TestLazyPanicReleasesWaiters: a New that panics does not leave the
// waiters hanging or poison the Lazy; the panic reaches the caller that
// ran it.
func TestLazyPanicReleasesWaiters(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var calls atomic.Int32
	l := &Lazy[int]{New: func(context.Context) (int, error) {
		if calls.Add(1) == 1 {
			started <- struct{}{}
			<-release
			panic("boom")
		}
		return 42, nil
	}}
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _ = l.Get(context.Background())
	}()
	await(t, started, "first creation")
	ctx := newWaitingCtx()
	waiter := getAsync(l, ctx)
	await(t, ctx.waiting, "second caller starts waiting")
	close(release)
	if p := await(t, panicked, "runner"); p != "boom" {
		t.Errorf("runner recovered %v, want the panic to reach it", p)
	}
	if r := await(t, waiter, "waiter"); r.err == nil {
		t.Errorf("waiter: Get = %d, nil; want an error", r.v)
	}
	if v, err := l.Get(context.Background()); v != 42 || err != nil {
		t.Errorf("next Get = %d, %v; want 42", v, err)
	}
}
