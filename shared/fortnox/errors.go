package fortnox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/innerjourney/functions/shared/fault"
)

// Error is an error answered by Fortnox: by the API
// ({"ErrorInformation":{"error":1,"message":"…","code":2000587}}, whose key
// casing varies between endpoints: ErrorInformation/errorInformation,
// Message/message, Code/code) or by the OAuth token endpoint
// ({"error":"invalid_grant","error_description":"…"}).
//
// Error unwraps to a *fault.Error whose code follows the HTTP status (400 →
// InvalidArgument, 401 → Unauthenticated, 403 → PermissionDenied, 404 →
// NotFound, 429 → ResourceExhausted, 5xx → Unavailable) or the OAuth error
// (invalid_client, invalid_grant, unauthorized_client → Unauthenticated), so
// that fault.CodeOf and fault.Retryable work on any error of this package,
// while errors.As(err, **fortnox.Error) still reaches the details.
type Error struct {
	// HTTPStatus is the status code of the answer.
	HTTPStatus int
	// Code is Fortnox's numeric error code (ErrorInformation.code), 0 when
	// the answer carried none.
	Code int
	// OAuthError is the OAuth error code of a token-endpoint answer
	// ("invalid_grant", "invalid_client", …), empty otherwise.
	OAuthError string
	// Message is Fortnox's message (or the OAuth error_description).
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fortnox: HTTP %d", e.HTTPStatus)
	if e.OAuthError != "" {
		b.WriteString(" " + e.OAuthError)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Fortnox's codes for a refused login: the access token (or client
// secret) missing or wrong, which an expired token is.
const (
	CodeInvalidLogin = 2000310
	CodeLoginMissing = 2000311
)

// tokenRefused reports whether an answer says the access token was not
// accepted, so that a fresh token may succeed: 401, or 403 with an invalid
// login code (Fortnox documents 403 "Failed authentication" as well). A
// 403 for a missing permission or scope is not: a new token cannot help.
func tokenRefused(status int, body []byte) bool {
	if status == http.StatusUnauthorized {
		return true
	}
	if status != http.StatusForbidden {
		return false
	}
	code := decodeError(status, body).Code
	return code == CodeInvalidLogin || code == CodeLoginMissing
}

// FaultCode is the fault code the error maps to (see Error).
func (e *Error) FaultCode() fault.Code {
	switch e.OAuthError {
	case "invalid_client", "invalid_grant", "unauthorized_client":
		return fault.Unauthenticated
	case "invalid_request", "unsupported_grant_type", "invalid_scope":
		return fault.InvalidArgument
	}
	switch s := e.HTTPStatus; {
	case s == http.StatusBadRequest:
		return fault.InvalidArgument
	case s == http.StatusUnauthorized:
		return fault.Unauthenticated
	case s == http.StatusForbidden:
		return fault.PermissionDenied
	case s == http.StatusNotFound:
		return fault.NotFound
	case s == http.StatusConflict:
		return fault.FailedPrecondition
	case s == http.StatusTooManyRequests:
		return fault.ResourceExhausted
	case s >= 500:
		return fault.Unavailable
	case s >= 400:
		return fault.InvalidArgument
	}
	return fault.Unknown
}

// Unwrap returns the *fault.Error this error maps to.
func (e *Error) Unwrap() error {
	return &fault.Error{Code: e.FaultCode(), Message: e.Error()}
}

// ErrOutcomeUnknown reports that a voucher POST was sent but its outcome is
// unknown (timeout, dropped connection, 5xx) and reconciliation could not
// settle it either. Errors wrapping it carry fault code Unavailable. The
// Client remembers the marker: a later CreateVoucherOnce with the same
// marker looks for the voucher before posting. Another process must call
// FindVoucher itself before posting again.
var ErrOutcomeUnknown = errors.New("fortnox: outcome of voucher create unknown")

// errorBody is the union of Fortnox's error shapes. encoding/json matches
// keys case-insensitively, which covers the varying casing.
type errorBody struct {
	ErrorInformation *struct {
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
	} `json:"ErrorInformation"`
	// Error is a string in OAuth answers ("invalid_grant").
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
	// Message appears alone in some gateway answers ({"message":"…"}).
	Message string `json:"message"`
}

// decodeError builds the *Error of a non-2xx answer. It never fails: an
// unreadable body leaves Code and Message empty (Message falls back to the
// status text).
func decodeError(status int, body []byte) *Error {
	e := &Error{HTTPStatus: status}
	var b errorBody
	if err := json.Unmarshal(bytes.TrimSpace(body), &b); err == nil {
		if ei := b.ErrorInformation; ei != nil {
			e.Message = ei.Message
			e.Code = parseCode(ei.Code)
		}
		if len(b.Error) > 0 && b.Error[0] == '"' {
			_ = json.Unmarshal(b.Error, &e.OAuthError)
			if e.Message == "" {
				e.Message = b.ErrorDescription
			}
		}
		if e.Message == "" {
			e.Message = b.Message
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// parseCode reads a code sent as a number (2000587) or a string ("2000587").
func parseCode(raw json.RawMessage) int {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

func invalidf(format string, args ...any) error {
	return fault.Invalid(format, args...)
}
