package callable_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
)

// hang blocks until ctx ends, as a key-set fetch against an endpoint that
// never answers does once it is bounded by ctx, and returns ctx's error.
// It also waits on a channel of the synctest bubble, so that a ctx that
// never ends shows up as a deadlock of the bubble rather than a hang.
func hang(ctx context.Context) error {
	never := make(chan struct{})
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-never:
		return nil
	}
}

// hungVerifier is an App Check verifier whose VerifyAppCheck hangs.
type hungVerifier struct{}

func (hungVerifier) VerifyAppCheck(ctx context.Context, _ string) (string, error) {
	return "", hang(ctx)
}

// call is one finished call: HTTP status, decoded reply, raw body, and
// how long it took (on the clock of the synctest bubble, where it runs in
// one).
type call struct {
	code int
	out  reply
	body string
	took time.Duration
}

// callAsync serves, in a goroutine, one call to h with ctx that carries
// an App Check token.
func callAsync(ctx context.Context, h http.Handler) <-chan call {
	ch := make(chan call, 1)
	go func() {
		start := time.Now()
		req := httptest.NewRequestWithContext(ctx, "POST", "/call", strings.NewReader(`{"data":{"say":"hi"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Firebase-AppCheck", "good-app-check")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		c := call{code: rec.Code, body: strings.TrimSpace(rec.Body.String()), took: time.Since(start)}
		_ = json.Unmarshal(rec.Body.Bytes(), &c.out)
		ch <- c
	}()
	return ch
}

// safety is how long a real-time test waits for something that should
// happen at once before it reports a hang; it is never what is measured.
const safety = 10 * time.Second

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

// checkServed fails the test unless c was served as wanted: the echo
// without an app id (wantErr "") or the error status wantErr.
func checkServed(t *testing.T, c call, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if c.code != 200 || c.out.Result["say"] != "hi" || c.out.Result["appId"] != "" {
			t.Errorf("got %d %s, want the call served without an app id", c.code, c.body)
		}
		return
	}
	if c.out.Error == nil || c.out.Error.Status != wantErr {
		t.Errorf("got %d %s, want error %s", c.code, c.body, wantErr)
	}
}

// TestAppCheckStepBounded: when the App Check verifier cannot be had (its
// creation waits for a key set that never comes) or its verification
// hangs, a call that carries an App Check token is answered once the App
// Check bound has passed: served without an app id by a callable that
// does not enforce App Check, UNAVAILABLE (not UNAUTHENTICATED: the token
// was not found invalid) from one that does. The request itself has no
// deadline; the bubble's fake clock measures the delay exactly.
func TestAppCheckStepBounded(t *testing.T) {
	hungCreation := callable.Deps{AppCheck: func(ctx context.Context) (callable.AppCheckVerifier, error) {
		return nil, hang(ctx)
	}}
	hungVerification := callable.Deps{AppCheck: func(context.Context) (callable.AppCheckVerifier, error) {
		return hungVerifier{}, nil
	}}
	tests := []struct {
		name    string
		enforce bool
		deps    callable.Deps
		wantErr string
	}{
		{name: "not enforced, verifier creation hangs", deps: hungCreation},
		{name: "not enforced, verification hangs", deps: hungVerification},
		{name: "enforced, verifier creation hangs", enforce: true, deps: hungCreation, wantErr: "UNAVAILABLE"},
		{name: "enforced, verification hangs", enforce: true, deps: hungVerification, wantErr: "UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := callable.New(echo, callable.Options{Name: "bounded", EnforceAppCheck: tt.enforce}, tt.deps)
				c := <-callAsync(context.Background(), h)
				checkServed(t, c, tt.wantErr)
				if c.took != callable.DefaultAppCheckTimeout {
					t.Errorf("call took %s, want the App Check bound %s", c.took, callable.DefaultAppCheckTimeout)
				}
			})
		})
	}
}

// TestDefaultAppCheckTimeoutShort: the bound is a few seconds.
func TestDefaultAppCheckTimeoutShort(t *testing.T) {
	if d := callable.DefaultAppCheckTimeout; d <= cloud.AppCheckKeyFetchTimeout || d > 10*time.Second {
		t.Errorf("DefaultAppCheckTimeout = %s, want a few seconds, above cloud.AppCheckKeyFetchTimeout (%s)", d, cloud.AppCheckKeyFetchTimeout)
	}
}
