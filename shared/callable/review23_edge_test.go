package callable_test

// Review "edge": what the Firebase client SDKs send and expect.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"firebase.google.com/go/v4/auth"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/store"
)

// edgeVerifier accepts "good" as uid u1, fails "down" as the Auth backend
// would, and rejects everything else as a bad token.
type edgeVerifier struct{}

func (edgeVerifier) VerifyIDTokenAndCheckRevoked(_ context.Context, tok string) (*auth.Token, error) {
	switch tok {
	case "good":
		return &auth.Token{UID: "u1", Claims: map[string]any{}}, nil
	case "down":
		return nil, errors.New("identitytoolkit: 503")
	}
	return nil, errors.New("not a jwt") // not an auth.IsIDTokenInvalid error: see below
}

func edgeDeps() callable.Deps {
	return callable.Deps{
		Verifier: func(context.Context) (callable.IDTokenVerifier, error) { return edgeVerifier{}, nil },
		AppCheck: func(context.Context) (callable.AppCheckVerifier, error) { return fakeAppCheck{}, nil },
	}
}

type edgeReply struct {
	code   int
	ctype  string
	result json.RawMessage
	err    *struct {
		Status  string          `json:"status"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	}
	raw string
}

func edgeDo(t *testing.T, h http.Handler, method string, hdr map[string]string, body string) edgeReply {
	t.Helper()
	req := httptest.NewRequest(method, "/fn", strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Result().Body)
	r := edgeReply{code: rec.Code, ctype: rec.Header().Get("Content-Type"), raw: string(raw)}
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Status  string          `json:"status"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &out)
	r.result, r.err = out.Result, out.Error
	return r
}

// jsSDKCode is firebase-js-sdk packages/functions/src/error.ts
// codeForHTTPStatus: what the SDK surfaces from the HTTP code alone.
func jsSDKCode(status int) string {
	if status >= 200 && status < 300 {
		return "OK"
	}
	switch status {
	case 0:
		return "INTERNAL"
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 500:
		return "INTERNAL"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	return "UNKNOWN"
}

// TestReview23EdgeStatusPerCode: each code a handler returns reaches the
// SDK as that code (body status) with the HTTP status firebase-functions
// (Node) uses, a non-empty message, and no "details" key when none.
func TestReview23EdgeStatusPerCode(t *testing.T) {
	node := map[fault.Code]int{ // firebase-functions https.ts errorCodeMap
		fault.Cancelled: 499, fault.Unknown: 500, fault.InvalidArgument: 400, fault.DeadlineExceeded: 504,
		fault.NotFound: 404, fault.AlreadyExists: 409, fault.PermissionDenied: 403, fault.Unauthenticated: 401,
		fault.ResourceExhausted: 429, fault.FailedPrecondition: 400, fault.Aborted: 409, fault.OutOfRange: 400,
		fault.Unimplemented: 501, fault.Internal: 500, fault.Unavailable: 503, fault.DataLoss: 500,
	}
	for code, wantHTTP := range node {
		h := callable.New(func(context.Context, *callable.Request) (any, error) {
			return nil, fault.New(code, "because")
		}, callable.Options{Name: "codes"}, edgeDeps())
		r := edgeDo(t, h, "POST", map[string]string{"Content-Type": "application/json"}, `{"data":null}`)
		wantStatus := string(code)
		if code == fault.Unknown || code == fault.DataLoss {
			wantStatus = "INTERNAL"
		}
		if r.code != wantHTTP || r.err == nil || r.err.Status != wantStatus || r.err.Message == "" || r.err.Details != nil {
			t.Errorf("%s: %d %s, want %d status %s", code, r.code, r.raw, wantHTTP, wantStatus)
		}
		if r.code != 400 && r.code != 409 && jsSDKCode(r.code) != wantStatus {
			t.Errorf("%s: HTTP %d alone reads as %s in the JS SDK", code, r.code, jsSDKCode(r.code))
		}
	}
}

// TestReview23EdgeWhatSDKsSend: requests exactly as the official SDKs build
// them are served.
func TestReview23EdgeWhatSDKsSend(t *testing.T) {
	h := callable.New(func(_ context.Context, req *callable.Request) (any, error) {
		var in struct {
			N   int64  `json:"n"`
			Say string `json:"say"`
		}
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		uid := ""
		if req.Auth != nil {
			uid = req.Auth.UID
		}
		return map[string]any{"n": in.N, "say": in.Say, "uid": uid}, nil
	}, callable.Options{Name: "sdk"}, edgeDeps())
	for _, c := range []struct {
		name string
		hdr  map[string]string
		body string
		want string
	}{
		// JS: httpsCallable(f)() → {"data":null}, fetch with Content-Type application/json.
		{"js no args", map[string]string{"Content-Type": "application/json"}, `{"data":null}`, `"uid":""`},
		// Android (OkHttp adds the charset) with a Kotlin Long wrapped.
		{"android long", map[string]string{"Content-Type": "application/json; charset=utf-8", "Authorization": "Bearer good"},
			`{"data":{"n":{"@type":"type.googleapis.com/google.protobuf.Int64Value","value":"9007199254740993"}}}`, `"n":9007199254740993`},
		// iOS: every Swift Int is sent as Int64Value.
		{"ios int", map[string]string{"Content-Type": "application/json", "X-Firebase-AppCheck": "good-app-check"},
			`{"data":{"n":{"@type":"type.googleapis.com/google.protobuf.Int64Value","value":"-5"},"say":"hej"}}`, `"n":-5`},
		// Upper-case charset (some HTTP stacks).
		{"charset case", map[string]string{"Content-Type": "Application/JSON; charset=UTF-8"}, `{"data":{}}`, `"uid":""`},
		// JS sends undefined fields as null.
		{"js undefined field", map[string]string{"Content-Type": "application/json"}, `{"data":{"say":null}}`, `"say":""`},
	} {
		r := edgeDo(t, h, "POST", c.hdr, c.body)
		if r.code != 200 || !strings.Contains(string(r.result), c.want) {
			t.Errorf("%s: %d %s", c.name, r.code, r.raw)
		}
	}
	// Expired/forged token on an open callable: 401 UNAUTHENTICATED as in
	// Node; Auth backend failure: 503 UNAVAILABLE.
	r := edgeDo(t, h, "POST", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer down"}, `{"data":{}}`)
	if r.code != 503 || r.err == nil || r.err.Status != "UNAVAILABLE" {
		t.Errorf("auth backend down: %d %s", r.code, r.raw)
	}
}

// TestReview23EdgePreflightJSHeaders: the preflight of the JS SDK's request
// (headers it may send: Authorization, Content-Type,
// Firebase-Instance-ID-Token, X-Firebase-AppCheck) is allowed for an
// allowed origin and not for another.
func TestReview23EdgePreflightJSHeaders(t *testing.T) {
	h := callable.New(echo, callable.Options{AllowedOrigins: []string{"https://app.innerjourney.se"}}, edgeDeps())
	for _, c := range []struct {
		origin string
		allow  bool
	}{{"https://app.innerjourney.se", true}, {"https://evil.example", false}} {
		req := httptest.NewRequest("OPTIONS", "/fn", nil)
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,firebase-instance-id-token,x-firebase-appcheck")
		rec := httptest.NewRecorder()
		h(rec, req)
		allowHdr := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
		ok := rec.Header().Get("Access-Control-Allow-Origin") == c.origin
		for _, want := range []string{"authorization", "content-type", "firebase-instance-id-token", "x-firebase-appcheck"} {
			if !strings.Contains(allowHdr, want) {
				ok = false
			}
		}
		if ok != c.allow {
			t.Errorf("%s: allowed=%v, headers %v", c.origin, ok, rec.Header())
		}
	}
}

// TestReview23EdgeDependencyCodeNotCallers: a Firestore error that says
// nothing about the caller (a missing index's FAILED_PRECONDITION, a
// request built wrong, a document the function expected) reaches the
// client as INTERNAL, its text withheld, as the Node runtime answers
// anything but an HttpsError: the callables use those codes for business
// outcomes ("plan not available"). Transient codes pass, for the client
// to retry; a handler's own domain error keeps its code.
func TestReview23EdgeDependencyCodeNotCallers(t *testing.T) {
	const text = "The query requires an index. You can create it here: https://console.firebase.google.com/..."
	for _, c := range []struct {
		err      error
		httpCode int
		status   string
	}{
		{store.Classify("gdpr: create request", status.Error(codes.FailedPrecondition, text)), 500, "INTERNAL"},
		{store.Classify("gdpr: create request", status.Error(codes.InvalidArgument, text)), 500, "INTERNAL"},
		{store.Classify("gdpr: create request", status.Error(codes.OutOfRange, text)), 500, "INTERNAL"},
		{store.Classify("gdpr: create request", status.Error(codes.NotFound, text)), 500, "INTERNAL"},
		{store.Classify("gdpr: create request", status.Error(codes.AlreadyExists, text)), 500, "INTERNAL"},
		{store.Classify("gdpr: create request", status.Error(codes.PermissionDenied, text)), 500, "INTERNAL"},
		{store.Classify("gdpr: create request", status.Error(codes.Unavailable, text)), 503, "UNAVAILABLE"},
		{store.Classify("gdpr: create request", status.Error(codes.Aborted, text)), 409, "ABORTED"},
		{store.Classify("gdpr: create request", status.Error(codes.ResourceExhausted, text)), 429, "RESOURCE_EXHAUSTED"},
		{fault.New(fault.FailedPrecondition, "plan not available"), 400, "FAILED_PRECONDITION"},
		{fault.New(fault.NotFound, "no such request"), 404, "NOT_FOUND"},
	} {
		h := callable.New(func(context.Context, *callable.Request) (any, error) { return nil, c.err },
			callable.Options{Name: "dep"}, edgeDeps())
		r := edgeDo(t, h, "POST", map[string]string{"Content-Type": "application/json"}, `{"data":{}}`)
		if r.code != c.httpCode || r.err == nil || r.err.Status != c.status {
			t.Errorf("%v: the SDK gets %d %s, want %d %s", c.err, r.code, r.raw, c.httpCode, c.status)
		}
		if strings.Contains(r.raw, "index") {
			t.Errorf("%v: the dependency's text reaches the client: %s", c.err, r.raw)
		}
	}
}
