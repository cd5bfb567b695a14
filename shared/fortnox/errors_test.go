package fortnox

import (
	"errors"
	"fmt"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		code      int
		oauth     string
		message   string
		fault     fault.Code
		retryable bool
	}{
		{"capitalised", 400, `{"ErrorInformation":{"Error":1,"Message":"Verifikationen är inte i balans","Code":2000587}}`,
			2000587, "", "Verifikationen är inte i balans", fault.InvalidArgument, false},
		{"lower keys", 400, `{"ErrorInformation":{"error":1,"message":"Kunde inte hitta konto","code":2001304}}`,
			2001304, "", "Kunde inte hitta konto", fault.InvalidArgument, false},
		{"lower camel", 404, `{"errorInformation":{"error":1,"message":"hittades inte","code":2000729}}`,
			2000729, "", "hittades inte", fault.NotFound, false},
		{"all lower", 401, `{"errorinformation":{"ERROR":1,"MESSAGE":"Ogiltig inloggning","CODE":"2000310"}}`,
			2000310, "", "Ogiltig inloggning", fault.Unauthenticated, false},
		{"code as string", 400, `{"ErrorInformation":{"message":"x","code":"2000588"}}`,
			2000588, "", "x", fault.InvalidArgument, false},
		{"oauth invalid_grant", 400, `{"error":"invalid_grant","error_description":"Refresh token already used"}`,
			0, "invalid_grant", "Refresh token already used", fault.Unauthenticated, false},
		{"oauth invalid_client", 401, `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			0, "invalid_client", "Client authentication failed", fault.Unauthenticated, false},
		{"oauth invalid_request", 400, `{"error":"invalid_request"}`,
			0, "invalid_request", "Bad Request", fault.InvalidArgument, false},
		{"gateway message", 429, `{"message":"Too Many Requests"}`,
			0, "", "Too Many Requests", fault.ResourceExhausted, true},
		{"html", 502, `<html>bad gateway</html>`, 0, "", "Bad Gateway", fault.Unavailable, true},
		{"empty", 503, ``, 0, "", "Service Unavailable", fault.Unavailable, true},
		{"forbidden", 403, `{"ErrorInformation":{"message":"Api-licens saknas.","code":2001103}}`,
			2001103, "", "Api-licens saknas.", fault.PermissionDenied, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := decodeError(tc.status, []byte(tc.body))
			if e.HTTPStatus != tc.status || e.Code != tc.code || e.OAuthError != tc.oauth || e.Message != tc.message {
				t.Fatalf("got %+v", e)
			}
			err := fmt.Errorf("fortnox: op: %w", e)
			if got := fault.CodeOf(err); got != tc.fault {
				t.Errorf("CodeOf = %s, want %s", got, tc.fault)
			}
			if got := fault.Retryable(err); got != tc.retryable {
				t.Errorf("Retryable = %v, want %v", got, tc.retryable)
			}
			var fe *Error
			if !errors.As(err, &fe) || fe != e {
				t.Errorf("errors.As did not find the *Error")
			}
		})
	}
}
