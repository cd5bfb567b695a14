// Package callable implements the server side of the Firebase callable
// protocol, so that the client SDKs' httpsCallable() and
// httpsCallableFromURL() call our Go functions unmodified.
//
// Request: POST with Content-Type application/json and body {"data": …};
// the Firebase ID token in "Authorization: Bearer …", optionally an App
// Check token in "X-Firebase-AppCheck". Reply: 200 {"result": …}, or an
// error {"error": {"status", "message", "details"}} with the HTTP code of
// the status. Handlers return *fault.Error values; anything else is
// reported as INTERNAL without its text, and so is a dependency's refusal
// of the function's own credentials (a Firestore PERMISSION_DENIED or
// UNAUTHENTICATED: a platform misconfiguration, logged as an error, not
// the caller's refusal).
//
// An ID token is verified with the revocation and disabled checks
// (IDTokenVerifier): a token of an account that has been disabled,
// deleted or had its refresh tokens revoked (the GDPR erasure does all
// three) stops working at once instead of for up to an hour, and with
// FirebaseAuth (what the functions use) the roles (admin, coach) are the
// account's at the time of the call, not the token's. The cost is one
// Auth lookup (GetUser) per call that carries an ID token; when that
// lookup fails, or the step takes longer than Options.IDTokenTimeout,
// the call is answered UNAVAILABLE, which the client may retry.
//
// An App Check token is verified when sent. A callable that enforces App
// Check rejects a missing or invalid token (UNAUTHENTICATED) and answers
// UNAVAILABLE while its verifier cannot be built; one that does not
// enforce only logs an invalid token or an unavailable verifier and
// serves the call without an app id. Either way the App Check step takes
// at most Options.AppCheckTimeout, so a slow or unreachable App Check key
// set delays a call by that much at most.
package callable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/auth"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/logging"
)

// DefaultMaxBodyBytes bounds a request body (the protocol itself allows
// 10 MB; our callables take small JSON).
const DefaultMaxBodyBytes = 1 << 20

// DefaultAppCheckTimeout bounds the App Check step of a call: getting the
// verifier, which may mean waiting for the App Check key set to be
// fetched (the first verifier of an instance downloads it), and
// verifying the token. It is kept above the key fetch's own bound
// (cloud.AppCheckKeyFetchTimeout) so that a fetch gets its full time and,
// when it fails, fails by itself for every call waiting for it. Past it,
// a callable that does not enforce App Check serves the call without an
// app id and one that enforces answers UNAVAILABLE.
const DefaultAppCheckTimeout = 5 * time.Second

// DefaultIDTokenTimeout bounds the ID-token step of a call: getting the
// verifier (the Auth client, created on first use) and verifying the token
// with its revocation check (one Auth backend lookup, and Google's public
// keys when their cache has expired). Both take well under a second when
// healthy; a hanging Auth backend or key endpoint makes the call fail with
// UNAVAILABLE after this long, which the client SDK retries, instead of
// holding it until the function's own timeout.
const DefaultIDTokenTimeout = 10 * time.Second

// Auth is the verified caller.
type Auth struct {
	UID string
	// Token holds every claim of the ID token, custom claims included.
	Token map[string]any
	// Admin and Coach are the role claims the server sets.
	Admin bool
	Coach bool
	// SignedInAt is when the user last signed in (the token's auth_time,
	// which a token refresh keeps); zero when the token has none.
	SignedInAt time.Time
}

// Request is one decoded call.
type Request struct {
	// Data is the raw JSON of the "data" field.
	Data json.RawMessage
	// Auth is nil when the call carried no ID token.
	Auth *Auth
	// AppID is the verified App Check app id, "" when none was sent.
	AppID string
	// HTTP is the underlying request (headers only; the body is consumed).
	HTTP *http.Request
}

// Decode unmarshals Data into v strictly: unknown fields, trailing data or
// a type mismatch give an INVALID_ARGUMENT error. A 64-bit integer the
// Android and Apple SDKs send wrapped, {"@type":
// "type.googleapis.com/google.protobuf.Int64Value", "value": "123"} (or
// UInt64Value), decodes as the number; a wrapper whose value is not such
// an integer is INVALID_ARGUMENT.
func (r *Request) Decode(v any) error {
	data := r.Data
	if len(data) == 0 || string(data) == "null" {
		data = []byte("{}")
	}
	data, err := unwrapLongs(data)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fault.Invalid("invalid data: %s", cleanJSONError(err))
	}
	if dec.More() {
		return fault.Invalid("invalid data: trailing content")
	}
	return nil
}

// RequireUID returns the caller's uid or an UNAUTHENTICATED error.
func (r *Request) RequireUID() (string, error) {
	if r.Auth == nil || r.Auth.UID == "" {
		return "", fault.New(fault.Unauthenticated, "sign in first")
	}
	return r.Auth.UID, nil
}

// RecentSignInReason is the "reason" detail of RequireRecentSignIn's
// error: the app asks the user to sign in again (reauthenticate) and
// repeats the call, as for the client SDK's auth/requires-recent-login.
const RecentSignInReason = "requires-recent-login"

// RequireRecentSignIn refuses a call whose caller signed in longer than
// maxAge before now (or not at all): FAILED_PRECONDITION with details
// {"reason": RecentSignInReason}, the bar the client SDKs set for deleting
// an account. UNAUTHENTICATED without a caller.
func (r *Request) RequireRecentSignIn(now time.Time, maxAge time.Duration) error {
	if _, err := r.RequireUID(); err != nil {
		return err
	}
	if r.Auth.SignedInAt.IsZero() || now.Sub(r.Auth.SignedInAt) > maxAge {
		return fault.New(fault.FailedPrecondition, "sign in again to confirm").
			WithDetails(map[string]string{"reason": RecentSignInReason})
	}
	return nil
}

// SubjectUID resolves whom a call is about: the caller themself when
// requested is "" or their own uid; any uid when the caller is an admin;
// otherwise PERMISSION_DENIED.
func (r *Request) SubjectUID(requested string) (string, error) {
	uid, err := r.RequireUID()
	if err != nil {
		return "", err
	}
	if requested == "" || requested == uid {
		return uid, nil
	}
	if r.Auth.Admin {
		return requested, nil
	}
	return "", fault.New(fault.PermissionDenied, "only an admin may act for another user")
}

// The type URLs of the callable protocol's wrapped 64-bit integers.
const (
	longType         = "type.googleapis.com/google.protobuf.Int64Value"
	unsignedLongType = "type.googleapis.com/google.protobuf.UInt64Value"
)

// unwrapLongs returns data with every wrapped 64-bit integer replaced by
// its JSON number; data itself when it holds none.
func unwrapLongs(data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte("@type")) {
		return data, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fault.Invalid("invalid data: %s", cleanJSONError(err))
	}
	v, err := unwrapValue(v)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fault.Invalid("invalid data: %s", cleanJSONError(err))
	}
	return out, nil
}

func unwrapValue(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if t, ok := x["@type"].(string); ok && len(x) == 2 && (t == longType || t == unsignedLongType) {
			s, _ := x["value"].(string)
			if t == longType {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					return json.Number(strconv.FormatInt(n, 10)), nil
				}
			} else if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				return json.Number(strconv.FormatUint(n, 10)), nil
			}
			return nil, fault.Invalid("invalid data: malformed %s", t[strings.LastIndex(t, ".")+1:])
		}
		for k, e := range x {
			u, err := unwrapValue(e)
			if err != nil {
				return nil, err
			}
			x[k] = u
		}
	case []any:
		for i, e := range x {
			u, err := unwrapValue(e)
			if err != nil {
				return nil, err
			}
			x[i] = u
		}
	}
	return v, nil
}

func cleanJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type.String())
	}
	msg := err.Error()
	return strings.TrimPrefix(msg, "json: ")
}

// Handler is the business logic of one callable: it returns the result
// (any JSON-encodable value) or an error.
type Handler func(ctx context.Context, req *Request) (any, error)

// IDTokenVerifier verifies a Firebase ID token and checks that it has not
// been revoked and that its account exists and is enabled (*auth.Client
// implements it; FirebaseAuth too, and also returns the account's current
// roles, which is what the functions use). The check costs one Auth
// lookup per call.
//
// Errors: auth.IsIDTokenInvalid (malformed, expired, revoked, disabled
// account), auth.IsUserNotFound (deleted account), auth.IsTenantIDMismatch,
// ErrIDTokenRevoked and ErrAccountDisabled reject the token; any other
// error (the Auth backend or Google's key endpoint failing) means the
// token could not be checked.
type IDTokenVerifier interface {
	VerifyIDTokenAndCheckRevoked(ctx context.Context, idToken string) (*auth.Token, error)
}

// AppCheckVerifier verifies App Check tokens and returns the app id.
type AppCheckVerifier interface {
	VerifyAppCheck(ctx context.Context, token string) (appID string, err error)
}

// Options configure one callable.
type Options struct {
	// Name of the function, for logs.
	Name string
	// RequireAuth rejects calls without a valid ID token (UNAUTHENTICATED).
	RequireAuth bool
	// RequireAdmin rejects callers without the admin claim.
	RequireAdmin bool
	// RequireCoach rejects callers without the coach (or admin) claim.
	RequireCoach bool
	// EnforceAppCheck rejects calls without a valid App Check token.
	EnforceAppCheck bool
	// AppCheckTimeout bounds the App Check step of a call
	// (DefaultAppCheckTimeout when 0).
	AppCheckTimeout time.Duration
	// IDTokenTimeout bounds the ID-token step of a call
	// (DefaultIDTokenTimeout when 0).
	IDTokenTimeout time.Duration
	// MaxBodyBytes bounds the body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// AllowedOrigins for CORS; empty or "*" allows every origin.
	AllowedOrigins []string
}

// Deps resolve the verifiers on first use (they are created lazily). They
// are called on every call that needs them, so a factory that failed is
// tried again on the next call (cloud.Lazy does not cache failures).
// They must return once their ctx is done: Verifier's ctx ends after
// Options.IDTokenTimeout, AppCheck's after Options.AppCheckTimeout.
type Deps struct {
	Verifier func(ctx context.Context) (IDTokenVerifier, error)
	AppCheck func(ctx context.Context) (AppCheckVerifier, error)
	// Origins, when set, supplies the allowed CORS origins at request time
	// (from configuration), overriding Options.AllowedOrigins. When it
	// fails, no origin is allowed for that request (CORS fails closed:
	// an empty list would allow every origin).
	Origins func(ctx context.Context) ([]string, error)
	// EnforceAppCheck, when set, decides at request time (from
	// configuration) whether the call needs a valid App Check token,
	// overriding Options.EnforceAppCheck. When it fails, the call is
	// treated as enforcing (fail closed).
	EnforceAppCheck func(ctx context.Context) (bool, error)
}

// New returns the HTTP handler of a callable.
func New(h Handler, opts Options, deps Deps) http.HandlerFunc {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.AppCheckTimeout == 0 {
		opts.AppCheckTimeout = DefaultAppCheckTimeout
	}
	if opts.IDTokenTimeout == 0 {
		opts.IDTokenTimeout = DefaultIDTokenTimeout
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := logging.FromRequest(r)
		origins := opts.AllowedOrigins
		if deps.Origins != nil {
			var err error
			if origins, err = deps.Origins(ctx); err != nil {
				// The call fails on the same configuration and logs it.
				origins = []string{noOrigin}
			}
		}
		setCORS(w, r, origins)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		result, err := serve(ctx, r, h, opts, deps)
		if err != nil {
			writeError(ctx, w, opts.Name, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"result": result})
	}
}

func serve(ctx context.Context, r *http.Request, h Handler, opts Options, deps Deps) (any, error) {
	if r.Method != http.MethodPost {
		return nil, fault.Invalid("the callable protocol requires POST")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, fault.Invalid("Content-Type must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fault.Invalid("request body larger than %d bytes", opts.MaxBodyBytes)
		}
		return nil, fault.Invalid("unreadable request body")
	}
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(body, &envelope); err != nil {
		return nil, fault.Invalid("body must be a JSON object {\"data\": …}")
	}
	data, ok := envelope["data"]
	if !ok {
		return nil, fault.Invalid("body must have a \"data\" field")
	}
	for k := range envelope {
		if k != "data" {
			return nil, fault.Invalid("unknown field %q in request body", k)
		}
	}
	req := &Request{Data: data, HTTP: r}

	if authz := r.Header.Get("Authorization"); authz != "" {
		tok, ok := strings.CutPrefix(authz, "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			return nil, fault.New(fault.Unauthenticated, "malformed Authorization header")
		}
		t, err := verifyIDToken(ctx, strings.TrimSpace(tok), opts, deps)
		if err != nil {
			return nil, err
		}
		req.Auth = &Auth{UID: t.UID, Token: t.Claims, Admin: t.Claims["admin"] == true, Coach: t.Claims["coach"] == true}
		if t.AuthTime > 0 {
			req.Auth.SignedInAt = time.Unix(t.AuthTime, 0).UTC()
		}
	}
	if opts.RequireAuth || opts.RequireAdmin || opts.RequireCoach {
		if req.Auth == nil {
			return nil, fault.New(fault.Unauthenticated, "sign in first")
		}
	}
	if opts.RequireAdmin && !req.Auth.Admin {
		return nil, fault.New(fault.PermissionDenied, "admins only")
	}
	if opts.RequireCoach && !req.Auth.Coach && !req.Auth.Admin {
		return nil, fault.New(fault.PermissionDenied, "coaches only")
	}

	if deps.EnforceAppCheck != nil {
		enforce, err := deps.EnforceAppCheck(ctx)
		opts.EnforceAppCheck = enforce || err != nil
	}
	if tok := r.Header.Get("X-Firebase-AppCheck"); tok != "" || opts.EnforceAppCheck {
		appID, err := verifyAppCheck(ctx, tok, opts, deps)
		if err != nil {
			return nil, err
		}
		req.AppID = appID
	}
	return call(ctx, h, req)
}

// call runs h, turning a panic into an Internal error: the caller gets
// the protocol's INTERNAL answer, and the log gives the panic's type and
// where it happened without the panic's value (it may hold the request's
// data), instead of the framework printing it raw and closing the
// connection.
func call(ctx context.Context, h Handler, req *Request) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.ErrorContext(ctx, "callable handler panicked", "panicType", fmt.Sprintf("%T", r), "stack", frames(3))
			result, err = nil, fault.New(fault.Internal, "handler panicked (%T)", r)
		}
	}()
	return h(ctx, req)
}

// frames returns the calling goroutine's stack, skip frames left out (as
// runtime.Callers counts them), as function names and file:line only. A
// traceback (debug.Stack) also prints each frame's argument words, and
// those can be the request's data: a birth date's year, month and day
// passed as ints read 0x7c6, 0x5, 0xf.
func frames(skip int) string {
	pcs := make([]uintptr, 64)
	fs := runtime.CallersFrames(pcs[:runtime.Callers(skip, pcs)])
	var b strings.Builder
	for {
		f, more := fs.Next()
		fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			return b.String()
		}
	}
}

// verifyIDToken verifies tok with deps.Verifier within
// opts.IDTokenTimeout. A token the client must replace is UNAUTHENTICATED;
// a verifier that cannot be had or does not answer in time is UNAVAILABLE
// (idTokenFault).
func verifyIDToken(ctx context.Context, tok string, opts Options, deps Deps) (*auth.Token, error) {
	if deps.Verifier == nil {
		return nil, fault.New(fault.Internal, "no token verifier")
	}
	ctx, cancel := context.WithTimeout(ctx, opts.IDTokenTimeout)
	defer cancel()
	v, err := deps.Verifier(ctx)
	if err != nil {
		return nil, fault.Wrap(err, fault.Unavailable, "token verifier unavailable")
	}
	t, err := v.VerifyIDTokenAndCheckRevoked(ctx, tok)
	if err != nil {
		return nil, idTokenFault(err)
	}
	return t, nil
}

// idTokenFault maps an IDTokenVerifier error. A token the client must
// replace (malformed, expired, revoked, of a disabled, deleted or foreign
// tenant's account) is UNAUTHENTICATED, with one message that does not
// say which; any other error means the token could not be checked (Auth
// backend, key fetch, timeout) and is UNAVAILABLE, so the client retries
// instead of signing the user out.
func idTokenFault(err error) error {
	if auth.IsIDTokenInvalid(err) || auth.IsUserNotFound(err) || auth.IsTenantIDMismatch(err) ||
		errors.Is(err, ErrIDTokenRevoked) || errors.Is(err, ErrAccountDisabled) {
		return &fault.Error{Code: fault.Unauthenticated, Message: "invalid ID token, sign in again", Err: err}
	}
	return &fault.Error{Code: fault.Unavailable, Message: "could not verify the ID token, try again", Err: fmt.Errorf("verify ID token: %w", err)}
}

// verifyAppCheck returns the app id of the App Check token tok ("" when
// the callable does not enforce App Check and the token is invalid or
// cannot be checked). It returns within opts.AppCheckTimeout.
//
// Errors, only when opts.EnforceAppCheck: UNAUTHENTICATED for a missing or
// invalid token; UNAVAILABLE when the verifier cannot be built (its
// creation fetches Google's JWKS) or the step runs out of time; INTERNAL
// when no verifier is wired.
func verifyAppCheck(ctx context.Context, tok string, opts Options, deps Deps) (string, error) {
	if tok == "" {
		return "", fault.New(fault.Unauthenticated, "App Check token required")
	}
	if deps.AppCheck == nil {
		if opts.EnforceAppCheck {
			return "", fault.New(fault.Internal, "no App Check verifier")
		}
		slog.WarnContext(ctx, "no App Check verifier on a non-enforcing callable; serving without app id", "function", opts.Name)
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, opts.AppCheckTimeout)
	defer cancel()
	v, err := deps.AppCheck(ctx)
	if err != nil {
		if opts.EnforceAppCheck {
			return "", fault.Wrap(fmt.Errorf("app check verifier: %w", err), fault.Unavailable, "App Check verifier unavailable")
		}
		slog.WarnContext(ctx, "App Check verifier unavailable on a non-enforcing callable; serving without app id", "function", opts.Name, "error", err.Error())
		return "", nil
	}
	appID, err := v.VerifyAppCheck(ctx, tok)
	if err != nil && ctx.Err() != nil {
		// Out of time: the token could not be checked, which does not
		// make it invalid.
		if opts.EnforceAppCheck {
			return "", fault.Wrap(fmt.Errorf("verify App Check token: %w", err), fault.Unavailable, "App Check verifier unavailable")
		}
		slog.WarnContext(ctx, "App Check token not verified in time on a non-enforcing callable; serving without app id", "function", opts.Name, "error", err.Error())
		return "", nil
	}
	if err != nil {
		if opts.EnforceAppCheck {
			return "", &fault.Error{Code: fault.Unauthenticated, Message: "invalid App Check token", Err: err}
		}
		slog.WarnContext(ctx, "invalid App Check token on a non-enforcing callable", "function", opts.Name)
		return "", nil
	}
	return appID, nil
}

// HTTPStatus maps a code to the HTTP status the callable protocol uses.
func HTTPStatus(c fault.Code) int {
	switch c {
	case fault.OK:
		return http.StatusOK
	case fault.Cancelled:
		return 499
	case fault.InvalidArgument, fault.FailedPrecondition, fault.OutOfRange:
		return http.StatusBadRequest
	case fault.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case fault.NotFound:
		return http.StatusNotFound
	case fault.AlreadyExists, fault.Aborted:
		return http.StatusConflict
	case fault.PermissionDenied:
		return http.StatusForbidden
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.ResourceExhausted:
		return http.StatusTooManyRequests
	case fault.Unimplemented:
		return http.StatusNotImplemented
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	default: // Unknown, Internal, DataLoss
		return http.StatusInternalServerError
	}
}

type wireError struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func writeError(ctx context.Context, w http.ResponseWriter, name string, err error) {
	code := fault.CodeOf(err)
	if dependencyFault(err, code) {
		code = fault.Internal
		err = fmt.Errorf("a dependency failed (%s): %w", fault.CodeOf(err), err)
	}
	var fe *fault.Error
	we := wireError{Status: string(code)}
	if errors.As(err, &fe) && fe.Code == code && code != fault.Internal && code != fault.Unknown && code != fault.DataLoss {
		we.Message, we.Details = fe.Message, fe.Details
	}
	switch code {
	case fault.Unknown, fault.Internal, fault.DataLoss:
		// Never leak internals; the protocol's client shows "INTERNAL".
		we.Status, we.Message = string(fault.Internal), "INTERNAL"
		slog.ErrorContext(ctx, "callable failed", "function", name, "error", err.Error())
	case fault.Unavailable, fault.DeadlineExceeded:
		if we.Message == "" {
			we.Message = "service unavailable, try again"
		}
		slog.WarnContext(ctx, "callable dependency unavailable", "function", name, "error", err.Error())
	default:
		if we.Message == "" {
			we.Message = string(code)
		}
		slog.InfoContext(ctx, "callable rejected", "function", name, "status", string(code))
	}
	writeJSON(w, HTTPStatus(fault.Code(we.Status)), map[string]any{"error": we})
}

// dependencyFault reports whether err, of code, is a dependency's
// (Firestore's, a Google API's: a gRPC status in its chain) failure that
// says nothing about the caller: its refusal of the function's own
// credentials (PERMISSION_DENIED, UNAUTHENTICATED: IAM, a key), a missing
// index or a stale precondition (FAILED_PRECONDITION), a request the
// function built wrong (INVALID_ARGUMENT, OUT_OF_RANGE), a document it
// expected (NOT_FOUND, ALREADY_EXISTS). The callables use those codes for
// the caller's own mistakes and business outcomes ("plan not available"),
// so a dependency's is answered INTERNAL and logged as an error, as the
// Node runtime answers anything but an HttpsError. The transient codes
// (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED, CANCELLED)
// pass: the client may retry them. The callable's own checks and the
// handlers' domain errors carry no gRPC status.
func dependencyFault(err error, code fault.Code) bool {
	switch code {
	case fault.Unavailable, fault.DeadlineExceeded, fault.Aborted, fault.ResourceExhausted, fault.Cancelled,
		fault.Internal, fault.Unknown, fault.DataLoss:
		return false
	}
	var gs interface{ GRPCStatus() *status.Status }
	return errors.As(err, &gs)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// noOrigin is an allowed-origins entry that matches no request's Origin
// header (it is not a URL), so a list holding only it allows none.
const noOrigin = "\x00none"

func setCORS(w http.ResponseWriter, r *http.Request, allowed []string) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	ok := len(allowed) == 0
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, origin) {
			ok = true
		}
	}
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Firebase-AppCheck, X-Firebase-GMPID, Firebase-Instance-ID-Token, X-Client-Version, X-Firebase-Client, traceparent, X-Cloud-Trace-Context")
		h.Set("Access-Control-Max-Age", "3600")
	}
}
