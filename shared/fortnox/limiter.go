package fortnox

import (
	"context"
	"sync"
	"time"
)

// Limiter paces requests to the Fortnox API. Wait blocks until one more
// request may be sent, or returns the context's error.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Fortnox allows 25 requests per 5 seconds per client id and tenant, counted
// over a sliding window; the client stays strictly below it.
const (
	// DefaultLimit is the number of requests the default limiter lets
	// through per window: one below Fortnox's 25.
	DefaultLimit = 24
	// DefaultWindow is the default limiter's window: Fortnox's 5 s plus a
	// margin for network jitter between our send time and Fortnox's
	// arrival time.
	DefaultWindow = 5*time.Second + 100*time.Millisecond
)

// SlidingWindow is a Limiter that lets at most N requests start in any
// interval of length Window: a sliding-window log of the last N start times,
// the same algorithm Fortnox documents for its own limit.
//
// Why a sliding window rather than a token bucket (golang.org/x/time/rate):
// it mirrors the server's rule exactly, so it can use the whole allowance.
// A burst of N goes out at once (a sync of a few vouchers takes no pacing at
// all), and the sustained rate is N/Window = 24 per 5.1 s ≈ 4.7 req/s, 94 %
// of Fortnox's 5 req/s, while never putting more than 24 requests (at send
// time) into any 5.1 s. A token bucket that is safe against the same window
// must satisfy burst + rate·5 s ≤ 24, which forces a choice between bursts
// and throughput. Because requests are stamped when they leave and Fortnox
// counts them when they arrive, the one-request and 100 ms margins absorb
// latency differences between requests.
//
// SlidingWindow measures real (monotonic) time; it does not use the Client's
// injected clock, which only governs token expiry. It is safe for
// concurrent use.
type SlidingWindow struct {
	n      int
	window time.Duration

	mu    sync.Mutex
	times []time.Time // ring of the last n start times
	next  int         // index of the oldest entry once the ring is full
}

// NewSlidingWindow returns a limiter allowing n requests per window.
// n < 1 is treated as 1.
func NewSlidingWindow(n int, window time.Duration) *SlidingWindow {
	if n < 1 {
		n = 1
	}
	return &SlidingWindow{n: n, window: window, times: make([]time.Time, 0, n)}
}

// Wait implements Limiter.
func (l *SlidingWindow) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := time.Now()
		if len(l.times) < l.n {
			l.times = append(l.times, now)
			l.mu.Unlock()
			return nil
		}
		ready := l.times[l.next].Add(l.window)
		if !now.Before(ready) {
			l.times[l.next] = now
			l.next = (l.next + 1) % l.n
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		t := time.NewTimer(ready.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Unlimited is a Limiter that never waits (for tests that provoke 429s).
type Unlimited struct{}

// Wait implements Limiter; it only reports a cancelled context.
func (Unlimited) Wait(ctx context.Context) error { return ctx.Err() }

// sharedLimiters holds the default limiter of each (API URL, client id,
// tenant) in this process, so that several Clients for the same tenant share
// one allowance.
var sharedLimiters sync.Map // string → *SlidingWindow

func sharedLimiter(key string) Limiter {
	if l, ok := sharedLimiters.Load(key); ok {
		return l.(Limiter)
	}
	l, _ := sharedLimiters.LoadOrStore(key, NewSlidingWindow(DefaultLimit, DefaultWindow))
	return l.(Limiter)
}
