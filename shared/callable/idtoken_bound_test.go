package callable_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/callable"
)

// hungIDVerifier is an ID-token verifier whose check hangs (an Auth
// backend or key endpoint that never answers).
type hungIDVerifier struct{}

func (hungIDVerifier) VerifyIDTokenAndCheckRevoked(ctx context.Context, _ string) (*auth.Token, error) {
	return nil, hang(ctx)
}

// TestIDTokenStepBounded: when the ID-token verifier cannot be had or its
// check hangs, a call carrying an ID token is answered UNAVAILABLE (the
// token was not found invalid: the client retries rather than signing the
// user out) once Options.IDTokenTimeout has passed, though the request
// itself has no deadline. The bubble's fake clock measures the delay.
func TestIDTokenStepBounded(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		deps    callable.Deps
		want    time.Duration
	}{
		{"verifier creation hangs", 0, callable.Deps{Verifier: func(ctx context.Context) (callable.IDTokenVerifier, error) {
			return nil, hang(ctx)
		}}, callable.DefaultIDTokenTimeout},
		{"verification hangs", 0, callable.Deps{Verifier: func(context.Context) (callable.IDTokenVerifier, error) {
			return hungIDVerifier{}, nil
		}}, callable.DefaultIDTokenTimeout},
		{"verification hangs, own bound", 2 * time.Second, callable.Deps{Verifier: func(context.Context) (callable.IDTokenVerifier, error) {
			return hungIDVerifier{}, nil
		}}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := callable.New(echo, callable.Options{Name: "bounded", RequireAuth: true, IDTokenTimeout: tt.timeout}, tt.deps)
				req := httptest.NewRequest("POST", "/call", strings.NewReader(`{"data":{"say":"hi"}}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer some-id-token")
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				if took := time.Since(start); took != tt.want {
					t.Errorf("call took %s, want the bound %s", took, tt.want)
				}
				if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"UNAVAILABLE"`) {
					t.Errorf("got %d %s, want UNAVAILABLE", rec.Code, rec.Body)
				}
			})
		})
	}
}

// TestDefaultIDTokenTimeoutShort: the bound is seconds, well inside a
// callable's 60 s function timeout.
func TestDefaultIDTokenTimeoutShort(t *testing.T) {
	if d := callable.DefaultIDTokenTimeout; d < 2*time.Second || d > 20*time.Second {
		t.Errorf("DefaultIDTokenTimeout = %s, want seconds", d)
	}
}
