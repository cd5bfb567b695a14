package callable_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/callable"
)

// reply is a decoded callable reply.
type reply struct {
	Result map[string]any `json:"result"`
	Error  *struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

// invoke POSTs {"data":{"say":"hi"}} with headers to h and returns the
// HTTP status, the decoded reply and the raw body.
func invoke(t *testing.T, h http.Handler, headers map[string]string) (int, reply, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/call", strings.NewReader(`{"data":{"say":"hi"}}`))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out reply
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("reply is not JSON: %s", rec.Body.String())
	}
	return rec.Code, out, strings.TrimSpace(rec.Body.String())
}

// TestAppCheckVerifierUnavailable: building the App Check verifier fetches
// Google's JWKS and can fail. A callable that does not enforce App Check
// treats that like an invalid token (logged, served without an app id),
// or an App Check outage would block every client that has App Check
// turned on; only an enforcing callable answers UNAVAILABLE.
func TestAppCheckVerifierUnavailable(t *testing.T) {
	down := callable.Deps{AppCheck: func(context.Context) (callable.AppCheckVerifier, error) {
		return nil, errors.New("fetch JWKS: dial tcp: i/o timeout")
	}}
	tests := []struct {
		name       string
		opts       callable.Options
		deps       callable.Deps
		wantStatus int
		wantErr    string
	}{
		{name: "not enforced, verifier down", opts: callable.Options{Name: "open"}, deps: down, wantStatus: 200},
		{name: "not enforced, no verifier wired", opts: callable.Options{Name: "open"}, deps: callable.Deps{}, wantStatus: 200},
		{name: "enforced, verifier down", opts: callable.Options{Name: "strict", EnforceAppCheck: true}, deps: down, wantStatus: 503, wantErr: "UNAVAILABLE"},
		{name: "enforced, no verifier wired", opts: callable.Options{Name: "strict", EnforceAppCheck: true}, deps: callable.Deps{}, wantStatus: 500, wantErr: "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := callable.New(echo, tt.opts, tt.deps)
			code, out, body := invoke(t, h, map[string]string{"X-Firebase-AppCheck": "good-app-check"})
			if code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", code, tt.wantStatus, body)
			}
			if tt.wantErr == "" {
				if out.Result["say"] != "hi" || out.Result["appId"] != "" {
					t.Errorf("got %s, want the call served without an app id", body)
				}
			} else if out.Error == nil || out.Error.Status != tt.wantErr {
				t.Errorf("got %s, want error %s", body, tt.wantErr)
			}
		})
	}
}

// TestAppCheckVerifierCreationRetried: a verifier that could not be built
// is asked for again on the next call, so App Check works as soon as the
// JWKS can be fetched (no failure is cached by the callable).
func TestAppCheckVerifierCreationRetried(t *testing.T) {
	attempts := 0
	deps := callable.Deps{AppCheck: func(context.Context) (callable.AppCheckVerifier, error) {
		attempts++
		if attempts == 1 {
			return nil, errors.New("fetch JWKS: 503")
		}
		return fakeAppCheck{}, nil
	}}
	for _, tt := range []struct {
		name    string
		enforce bool
	}{{"not enforced", false}, {"enforced", true}} {
		t.Run(tt.name, func(t *testing.T) {
			attempts = 0
			h := callable.New(echo, callable.Options{Name: "retry", EnforceAppCheck: tt.enforce}, deps)
			hdr := map[string]string{"X-Firebase-AppCheck": "good-app-check"}
			if code, out, body := invoke(t, h, hdr); code == 200 && out.Result["appId"] != "" {
				t.Fatalf("first call verified App Check with a verifier that failed: %s", body)
			}
			code, out, body := invoke(t, h, hdr)
			if code != 200 || out.Result["appId"] != "1:123:web:abc" {
				t.Errorf("second call: %d %s, want the app id once the verifier is built", code, body)
			}
			if attempts != 2 {
				t.Errorf("%d verifier creations, want 2", attempts)
			}
		})
	}
}

// TestAppCheckEnforcedByConfiguration: Deps.EnforceAppCheck (IJ_APP_CHECK
// in the functions) decides per call whether App Check is required,
// whatever the callable's own option: enforced, a call without a token is
// UNAUTHENTICATED and one with a valid token served; monitored, a call
// without one is served; a configuration that cannot be read enforces.
func TestAppCheckEnforcedByConfiguration(t *testing.T) {
	verifier := func(context.Context) (callable.AppCheckVerifier, error) { return fakeAppCheck{}, nil }
	setting := func(enforce bool, err error) func(context.Context) (bool, error) {
		return func(context.Context) (bool, error) { return enforce, err }
	}
	tests := []struct {
		name       string
		enforce    func(context.Context) (bool, error)
		token      string
		wantStatus int
	}{
		{"enforce, no token", setting(true, nil), "", 401},
		{"enforce, valid token", setting(true, nil), "good-app-check", 200},
		{"monitor, no token", setting(false, nil), "", 200},
		{"configuration unreadable, no token", setting(false, errors.New("config")), "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := callable.New(echo, callable.Options{Name: "cfg"}, callable.Deps{AppCheck: verifier, EnforceAppCheck: tt.enforce})
			headers := map[string]string{}
			if tt.token != "" {
				headers["X-Firebase-AppCheck"] = tt.token
			}
			if code, _, body := invoke(t, h, headers); code != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", code, tt.wantStatus, body)
			}
		})
	}
}
