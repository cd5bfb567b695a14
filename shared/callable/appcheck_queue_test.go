package callable_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
)

// TestAppCheckHungCreationDoesNotQueueCalls: the verifier comes from a
// cloud.Lazy shared by every callable, as in production, and its
// creation hangs (a key set that never answers) for as long as the call
// that started it allows. A call that arrives meanwhile on a callable
// with the default App Check bound is not queued behind that creation:
// it is answered within its own bound while the creation still hangs,
// without starting a second one.
func TestAppCheckHungCreationDoesNotQueueCalls(t *testing.T) {
	for _, tt := range []struct {
		name    string
		enforce bool
		wantErr string
	}{{"not enforced", false, ""}, {"enforced", true, "UNAVAILABLE"}} {
		t.Run(tt.name, func(t *testing.T) {
			var creations atomic.Int32
			started := make(chan struct{}, 10)
			lazy := &cloud.Lazy[callable.AppCheckVerifier]{New: func(ctx context.Context) (callable.AppCheckVerifier, error) {
				creations.Add(1)
				started <- struct{}{}
				return nil, hang(ctx)
			}}
			deps := callable.Deps{AppCheck: lazy.Get}
			// The first call's creation may take an hour (before this
			// fix it was bounded by nothing shorter than a minute); the
			// second call is on a callable with a short bound.
			slow := callable.New(echo, callable.Options{Name: "slow", EnforceAppCheck: tt.enforce, AppCheckTimeout: time.Hour}, deps)
			fast := callable.New(echo, callable.Options{Name: "fast", EnforceAppCheck: tt.enforce, AppCheckTimeout: 20 * time.Millisecond}, deps)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := callAsync(ctx, slow)
			await(t, started, "first call's verifier creation")

			checkServed(t, await(t, callAsync(context.Background(), fast), "call arriving during another call's hung creation"), tt.wantErr)
			if n := creations.Load(); n != 1 {
				t.Errorf("%d creations while the first hangs, want 1", n)
			}

			cancel() // the first caller goes away
			await(t, first, "first call, after its request was cancelled")
		})
	}
}
