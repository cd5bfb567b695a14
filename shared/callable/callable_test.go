package callable_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/testenv"
)

type fakeAppCheck struct{}

func (fakeAppCheck) VerifyAppCheck(_ context.Context, tok string) (string, error) {
	if tok == "good-app-check" {
		return "1:123:web:abc", nil
	}
	return "", errors.New("bad token")
}

// echo returns who called and what they sent, or the error the data asks for.
func echo(ctx context.Context, req *callable.Request) (any, error) {
	var in struct {
		Say  string `json:"say"`
		Fail string `json:"fail"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	switch in.Fail {
	case "notfound":
		return nil, fault.New(fault.NotFound, "no such thing")
	case "internal":
		return nil, errors.New("database password is hunter2")
	case "iam":
		// Firestore refusing the function's own service account.
		return nil, store.Classify("echo", status.Error(codes.PermissionDenied, "Missing or insufficient permissions on projects/p"))
	case "forbidden":
		return nil, fault.New(fault.PermissionDenied, "not yours")
	}
	out := map[string]any{"say": in.Say, "appId": req.AppID}
	if req.Auth != nil {
		out["uid"], out["admin"], out["coach"] = req.Auth.UID, req.Auth.Admin, req.Auth.Coach
	}
	return out, nil
}

func TestCallableProtocol(t *testing.T) {
	a := testenv.AuthEmulator(t)
	userTok := a.SignIn(t, "callable-user", nil)
	adminTok := a.SignIn(t, "callable-admin", map[string]any{"admin": true})
	deps := callable.Deps{
		Verifier: func(context.Context) (callable.IDTokenVerifier, error) { return a.Client, nil },
		AppCheck: func(context.Context) (callable.AppCheckVerifier, error) { return fakeAppCheck{}, nil },
	}
	mux := http.NewServeMux()
	mux.Handle("/open", callable.New(echo, callable.Options{Name: "open", MaxBodyBytes: 256}, deps))
	mux.Handle("/auth", callable.New(echo, callable.Options{Name: "auth", RequireAuth: true}, deps))
	mux.Handle("/admin", callable.New(echo, callable.Options{Name: "admin", RequireAdmin: true}, deps))
	mux.Handle("/appcheck", callable.New(echo, callable.Options{Name: "appcheck", EnforceAppCheck: true}, deps))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name        string
		method      string
		path        string
		ctype       string
		headers     map[string]string
		body        string
		wantStatus  int
		wantErr     string // error status name, "" for success
		wantInBody  string
		wantNotBody string
	}{
		{name: "anonymous call", path: "/open", body: `{"data":{"say":"hi"}}`, wantStatus: 200, wantInBody: `"result":{"appId":"","say":"hi"}`},
		{name: "signed-in call carries uid", path: "/auth", headers: map[string]string{"Authorization": "Bearer " + userTok}, body: `{"data":{"say":"hi"}}`, wantStatus: 200, wantInBody: `"uid":"callable-user"`},
		{name: "admin claim", path: "/admin", headers: map[string]string{"Authorization": "Bearer " + adminTok}, body: `{"data":{}}`, wantStatus: 200, wantInBody: `"admin":true`},
		{name: "null data", path: "/open", body: `{"data":null}`, wantStatus: 200},
		{name: "auth required, none sent", path: "/auth", body: `{"data":{}}`, wantStatus: 401, wantErr: "UNAUTHENTICATED"},
		{name: "forged token", path: "/auth", headers: map[string]string{"Authorization": "Bearer not-a-jwt"}, body: `{"data":{}}`, wantStatus: 401, wantErr: "UNAUTHENTICATED"},
		{name: "malformed Authorization", path: "/open", headers: map[string]string{"Authorization": "Basic abc"}, body: `{"data":{}}`, wantStatus: 401, wantErr: "UNAUTHENTICATED"},
		{name: "admin only, user calls", path: "/admin", headers: map[string]string{"Authorization": "Bearer " + userTok}, body: `{"data":{}}`, wantStatus: 403, wantErr: "PERMISSION_DENIED"},
		{name: "GET", method: "GET", path: "/open", wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "wrong content type", path: "/open", ctype: "text/plain", body: `{"data":{}}`, wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "content type with charset", path: "/open", ctype: "application/json; charset=utf-8", body: `{"data":{}}`, wantStatus: 200},
		{name: "malformed JSON", path: "/open", body: `{"data":`, wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "no data field", path: "/open", body: `{"say":"hi"}`, wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "unknown envelope field", path: "/open", body: `{"data":{},"extra":1}`, wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "unknown data field", path: "/open", body: `{"data":{"bogus":1}}`, wantStatus: 400, wantErr: "INVALID_ARGUMENT", wantInBody: "bogus"},
		{name: "wrong data type", path: "/open", body: `{"data":{"say":5}}`, wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "data not an object", path: "/open", body: `{"data":[1]}`, wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "body too large", path: "/open", body: `{"data":{"say":"` + strings.Repeat("x", 300) + `"}}`, wantStatus: 400, wantErr: "INVALID_ARGUMENT"},
		{name: "domain error", path: "/open", body: `{"data":{"fail":"notfound"}}`, wantStatus: 404, wantErr: "NOT_FOUND", wantInBody: "no such thing"},
		{name: "internal error does not leak", path: "/open", body: `{"data":{"fail":"internal"}}`, wantStatus: 500, wantErr: "INTERNAL", wantNotBody: "hunter2"},
		// A dependency refusing the function's own credentials is the
		// platform's fault, not the caller's: INTERNAL (and logged as an
		// error), never PERMISSION_DENIED.
		{name: "dependency refuses our credentials", path: "/open", body: `{"data":{"fail":"iam"}}`, wantStatus: 500, wantErr: "INTERNAL", wantNotBody: "projects/p"},
		{name: "domain permission denied", path: "/open", body: `{"data":{"fail":"forbidden"}}`, wantStatus: 403, wantErr: "PERMISSION_DENIED", wantInBody: "not yours"},
		{name: "app check enforced, missing", path: "/appcheck", body: `{"data":{}}`, wantStatus: 401, wantErr: "UNAUTHENTICATED"},
		{name: "app check enforced, invalid", path: "/appcheck", headers: map[string]string{"X-Firebase-AppCheck": "bad"}, body: `{"data":{}}`, wantStatus: 401, wantErr: "UNAUTHENTICATED"},
		{name: "app check enforced, valid", path: "/appcheck", headers: map[string]string{"X-Firebase-AppCheck": "good-app-check"}, body: `{"data":{}}`, wantStatus: 200, wantInBody: `"appId":"1:123:web:abc"`},
		{name: "app check optional, invalid is tolerated", path: "/open", headers: map[string]string{"X-Firebase-AppCheck": "bad"}, body: `{"data":{}}`, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "POST"
			}
			req, _ := http.NewRequest(method, srv.URL+tt.path, strings.NewReader(tt.body))
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			body := string(raw)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			var out struct {
				Result json.RawMessage `json:"result"`
				Error  *struct {
					Status  string `json:"status"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("reply is not JSON: %s", body)
			}
			if tt.wantErr == "" && (out.Error != nil || out.Result == nil) {
				t.Errorf("want a result, got %s", body)
			}
			if tt.wantErr != "" && (out.Error == nil || out.Error.Status != tt.wantErr || out.Error.Message == "") {
				t.Errorf("want error %s with a message, got %s", tt.wantErr, body)
			}
			if tt.wantInBody != "" && !strings.Contains(body, tt.wantInBody) {
				t.Errorf("body lacks %q: %s", tt.wantInBody, body)
			}
			if tt.wantNotBody != "" && strings.Contains(body, tt.wantNotBody) {
				t.Errorf("body leaks %q: %s", tt.wantNotBody, body)
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	h := callable.New(echo, callable.Options{AllowedOrigins: []string{"https://app.innerjourney.se"}}, callable.Deps{})
	for _, tt := range []struct {
		origin    string
		wantAllow string
	}{
		{"https://app.innerjourney.se", "https://app.innerjourney.se"},
		{"https://evil.example", ""},
	} {
		req := httptest.NewRequest("OPTIONS", "/x", nil)
		req.Header.Set("Origin", tt.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		rec := httptest.NewRecorder()
		h(rec, req)
		if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != tt.wantAllow {
			t.Errorf("origin %s: %d allow=%q", tt.origin, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
		if tt.wantAllow != "" && !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "X-Firebase-AppCheck") {
			t.Errorf("preflight lacks App Check header: %v", rec.Header())
		}
	}
}

// TestCORSFailsClosed: when the configured origins cannot be read, no
// origin is allowed (an empty list would allow all).
func TestCORSFailsClosed(t *testing.T) {
	for _, tt := range []struct {
		name      string
		origins   func(context.Context) ([]string, error)
		wantAllow string
	}{
		{"configured", func(context.Context) ([]string, error) { return []string{"https://app.innerjourney.se"}, nil }, "https://app.innerjourney.se"},
		{"configured as any", func(context.Context) ([]string, error) { return nil, nil }, "https://app.innerjourney.se"},
		{"configuration unavailable", func(context.Context) ([]string, error) { return nil, errors.New("config: bad IJ_ENV") }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := callable.New(echo, callable.Options{}, callable.Deps{Origins: tt.origins})
			req := httptest.NewRequest("OPTIONS", "/x", nil)
			req.Header.Set("Origin", "https://app.innerjourney.se")
			req.Header.Set("Access-Control-Request-Method", "POST")
			rec := httptest.NewRecorder()
			h(rec, req)
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("allow=%q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestSubjectUID(t *testing.T) {
	user := &callable.Request{Auth: &callable.Auth{UID: "u1"}}
	admin := &callable.Request{Auth: &callable.Auth{UID: "a1", Admin: true}}
	anon := &callable.Request{}
	tests := []struct {
		name      string
		req       *callable.Request
		requested string
		want      string
		code      fault.Code
	}{
		{"self by default", user, "", "u1", fault.OK},
		{"self explicitly", user, "u1", "u1", fault.OK},
		{"another user", user, "u2", "", fault.PermissionDenied},
		{"admin for another", admin, "u2", "u2", fault.OK},
		{"anonymous", anon, "", "", fault.Unauthenticated},
	}
	for _, tt := range tests {
		got, err := tt.req.SubjectUID(tt.requested)
		if got != tt.want || fault.CodeOf(err) != tt.code {
			t.Errorf("%s: %q, %v", tt.name, got, err)
		}
	}
}

// TestHandlerPanicIsInternal: a handler that panics answers the protocol's
// INTERNAL error (not a dropped connection), and the log holds neither the
// panic's value nor the request's data.
func TestHandlerPanicIsInternal(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := callable.New(func(ctx context.Context, req *callable.Request) (any, error) {
		panic("secret journal text")
	}, callable.Options{Name: "boom"}, callable.Deps{})
	req := httptest.NewRequest("POST", "/boom", strings.NewReader(`{"data":{"text":"my private words"}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h(rec, req)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"status":"INTERNAL"`) {
		t.Errorf("answer %d %s, want 500 INTERNAL", rec.Code, rec.Body)
	}
	if strings.Contains(logs.String(), "secret journal text") || strings.Contains(logs.String(), "private words") {
		t.Errorf("log holds the panic value or the data: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "callable handler panicked") {
		t.Errorf("panic not logged: %s", logs.String())
	}
}
