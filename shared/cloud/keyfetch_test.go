package cloud

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestAppCheckKeyFetchBounded: a caller without a deadline (an HTTP
// request's context usually has none) still gets an answer when the key
// set hangs, after the key-fetch bound; all callers waiting for that
// creation share its error, and the next caller fetches again.
func TestAppCheckKeyFetchBounded(t *testing.T) {
	s := startJWKS(t, true)
	c := testClients()
	c.keyFetchTimeout = 20 * time.Millisecond

	errc := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.AppCheck(context.Background())
			errc <- err
		}()
	}
	for range 2 {
		err := await(t, errc, "AppCheck with a hung key set and no caller deadline")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "app check client: fetch key set: no answer within 20ms") {
			t.Errorf("AppCheck = %v, want the key-fetch bound's error", err)
		}
	}
	await(t, s.abandoned, "key-set request abandoned by the client")
	if n := s.hits.Load(); n != 1 {
		t.Errorf("key set fetched %d times by 2 concurrent callers, want 1", n)
	}

	if _, err := c.AppCheck(context.Background()); err == nil {
		t.Fatal("AppCheck succeeded against a hung key set")
	}
	if n := s.hits.Load(); n != 2 {
		t.Errorf("key set fetched %d times, want 2 (a failure is not cached)", n)
	}
}

// TestAppCheckKeyFetchTimeoutShort: the bound is a few seconds, well
// below the SDK's own minute.
func TestAppCheckKeyFetchTimeoutShort(t *testing.T) {
	if AppCheckKeyFetchTimeout <= 0 || AppCheckKeyFetchTimeout > 5*time.Second {
		t.Errorf("AppCheckKeyFetchTimeout = %s, want a few seconds", AppCheckKeyFetchTimeout)
	}
	if c := testClients(); c.keyFetchTimeout != AppCheckKeyFetchTimeout {
		t.Errorf("New sets keyFetchTimeout %s, want AppCheckKeyFetchTimeout", c.keyFetchTimeout)
	}
}

// TestUntilCreated: the context given to the App Check SDK is cut short
// when the caller's context ends or the bound passes during creation, and
// never once the client exists (the SDK keeps it for its key-set refresh).
// The bubble's fake clock makes the bound exact.
func TestUntilCreated(t *testing.T) {
	const bound = 3 * time.Second
	tests := []struct {
		name string
		// during runs while the creation is under way, after, once it
		// succeeded; either may end the caller's context or let time pass.
		during, after func(cancel context.CancelFunc)
		wantCreated   bool
		wantCause     error // nil: the context is live at the end
	}{
		{
			name:        "created in time, then the request ends and time passes",
			during:      func(context.CancelFunc) { time.Sleep(bound - time.Millisecond) },
			after:       func(cancel context.CancelFunc) { cancel(); time.Sleep(time.Hour) },
			wantCreated: true,
		},
		{
			name:      "caller's context ends first",
			during:    func(cancel context.CancelFunc) { cancel() },
			wantCause: context.Canceled,
		},
		{
			name:      "bound passes first",
			during:    func(context.CancelFunc) { time.Sleep(bound) },
			wantCause: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cctx, created := untilCreated(ctx, bound)
				tt.during(cancel)
				synctest.Wait()
				if got := created(); got != tt.wantCreated {
					t.Errorf("created() = %v, want %v", got, tt.wantCreated)
				}
				if tt.after != nil {
					tt.after(cancel)
					synctest.Wait()
				}
				if tt.wantCause == nil {
					if err := cctx.Err(); err != nil {
						t.Errorf("context of a created client ended: %v", context.Cause(cctx))
					}
				} else if !errors.Is(context.Cause(cctx), tt.wantCause) {
					t.Errorf("cause %v, want %v", context.Cause(cctx), tt.wantCause)
				}
			})
		})
	}
}
