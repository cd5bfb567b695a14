package functions

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/testenv"
)

// TestCallablesAuthorizeWithTheAccountsRoles: the deployed callables read
// the admin role from the account at the time of the call. An admin
// whose claim was removed is refused runPayouts (which moves money) at
// once, with the ID token minted while they were admin; a user made admin
// after signing in passes the role check (and goes on to the payouts
// service, which has no database here).
func TestCallablesAuthorizeWithTheAccountsRoles(t *testing.T) {
	a := testenv.AuthEmulator(t)
	t.Setenv("GOOGLE_CLOUD_PROJECT", testenv.AuthProject)
	ctx := context.Background()
	demoted := a.SignIn(t, "wr-demoted", map[string]any{"admin": true})
	promoted := a.SignIn(t, "wr-promoted", nil)
	if err := a.Client.SetCustomUserClaims(ctx, "wr-demoted", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Client.SetCustomUserClaims(ctx, "wr-promoted", map[string]any{"admin": true}); err != nil {
		t.Fatal(err)
	}
	var run http.HandlerFunc
	for _, f := range Registry() {
		if f.Name == "runPayouts" {
			run = f.HTTP
		}
	}
	call := func(tok string) (int, string) {
		req := httptest.NewRequest("POST", "/runPayouts", strings.NewReader(`{"data":{"dryRun":true}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		run(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, body := call(demoted); code != http.StatusForbidden {
		t.Errorf("demoted admin: %d %s, want 403", code, body)
	}
	if code, body := call(promoted); code == http.StatusForbidden || code == http.StatusUnauthorized {
		t.Errorf("admin since sign-in: %d %s, want past the role check", code, body)
	}
}
