package callable_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/testenv"
)

// productionAuth behaves like *auth.Client outside emulator mode: its
// VerifyIDToken checks only the token itself (firebase.google.com/go/v4
// auth/auth.go: revocation and the disabled flag are looked up only in
// emulator mode or when asked), so it accepts a well-formed, unexpired
// token of a disabled, revoked or deleted account.
// (The emulator's tokens are unsigned, so VerifyIDToken here only decodes
// them.) VerifyIDTokenAndCheckRevoked does the lookup, here against the Auth
// emulator (or a dead one), so the errors are the SDK's own.
type productionAuth struct{ checked *auth.Client }

func (productionAuth) VerifyIDToken(_ context.Context, tok string) (*auth.Token, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("verify ID token: malformed")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	// The SDK fills the registered claims (iat, auth_time, …) from the
	// payload too.
	var t auth.Token
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	t.UID, _ = claims["sub"].(string)
	t.Claims = claims
	return &t, nil
}

func (p productionAuth) VerifyIDTokenAndCheckRevoked(ctx context.Context, tok string) (*auth.Token, error) {
	return p.checked.VerifyIDTokenAndCheckRevoked(ctx, tok)
}

// deadAuthClient returns an Admin SDK Auth client whose backend refuses
// connections.
func deadAuthClient(t *testing.T) *auth.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	// The SDK reads the emulator host when the client is created.
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", host)
	app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: testenv.AuthProject})
	if err != nil {
		t.Fatal(err)
	}
	c, err := app.Auth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRevokedDisabledOrDeletedCallerRejected: the GDPR erasure revokes
// the refresh tokens and disables the account first and deletes it last;
// an admin locks a compromised account the same way. The ID token the
// client still holds (valid up to an hour) must stop working on callables
// at once: UNAUTHENTICATED, with the message of any invalid token (it does
// not say why). When the Auth lookup itself fails the call is UNAVAILABLE
// (retryable), never accepted and never UNAUTHENTICATED.
func TestRevokedDisabledOrDeletedCallerRejected(t *testing.T) {
	a := testenv.AuthEmulator(t)
	ctx := context.Background()
	tokens := map[string]string{}
	for _, uid := range []string{"rv-active", "rv-revoked", "rv-disabled", "rv-deleted", "rv-backend-down"} {
		tokens[uid] = a.SignIn(t, uid, nil)
	}
	// Revocation compares whole seconds (iat < tokensValidAfter): revoke
	// in a later second than the sign-in.
	time.Sleep(1100 * time.Millisecond)
	if err := a.Client.RevokeRefreshTokens(ctx, "rv-revoked"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Client.UpdateUser(ctx, "rv-disabled", (&auth.UserToUpdate{}).Disabled(true)); err != nil {
		t.Fatal(err)
	}
	if err := a.Client.DeleteUser(ctx, "rv-deleted"); err != nil {
		t.Fatal(err)
	}
	live := productionAuth{checked: a.Client}
	dead := productionAuth{checked: deadAuthClient(t)}

	const rejected = "invalid ID token, sign in again"
	tests := []struct {
		name        string
		verifier    callable.IDTokenVerifier
		token       string
		wantStatus  int
		wantErr     string
		wantMessage string
		wantUID     string
	}{
		{name: "active account", verifier: live, token: tokens["rv-active"], wantStatus: 200, wantUID: "rv-active"},
		{name: "refresh tokens revoked", verifier: live, token: tokens["rv-revoked"], wantStatus: 401, wantErr: "UNAUTHENTICATED", wantMessage: rejected},
		{name: "account disabled", verifier: live, token: tokens["rv-disabled"], wantStatus: 401, wantErr: "UNAUTHENTICATED", wantMessage: rejected},
		{name: "account deleted", verifier: live, token: tokens["rv-deleted"], wantStatus: 401, wantErr: "UNAUTHENTICATED", wantMessage: rejected},
		{name: "forged token", verifier: live, token: "not-a-jwt", wantStatus: 401, wantErr: "UNAUTHENTICATED", wantMessage: rejected},
		{name: "auth backend down", verifier: dead, token: tokens["rv-backend-down"], wantStatus: 503, wantErr: "UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deps := callable.Deps{
				Verifier: func(context.Context) (callable.IDTokenVerifier, error) { return tt.verifier, nil },
			}
			h := callable.New(echo, callable.Options{Name: "auth", RequireAuth: true}, deps)
			code, out, body := invoke(t, h, map[string]string{"Authorization": "Bearer " + tt.token})
			if code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", code, tt.wantStatus, body)
			}
			if tt.wantErr == "" {
				if out.Result["uid"] != tt.wantUID {
					t.Errorf("uid %v, want %s", out.Result["uid"], tt.wantUID)
				}
				return
			}
			if out.Error == nil || out.Error.Status != tt.wantErr {
				t.Fatalf("want error %s: %s", tt.wantErr, body)
			}
			if tt.wantMessage != "" && out.Error.Message != tt.wantMessage {
				t.Errorf("message %q, want %q", out.Error.Message, tt.wantMessage)
			}
		})
	}
}

func (p productionAuth) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	return p.checked.GetUser(ctx, uid)
}
