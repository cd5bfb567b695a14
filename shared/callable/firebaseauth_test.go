package callable_test

import (
	"context"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestFirebaseAuthRolesAreTheAccountsNow: the roles a callable authorizes
// with are the account's at the time of the call. An admin (or coach)
// whose claim was removed is refused at once, though the ID token minted
// before still says admin for up to an hour (the Admin SDK's
// VerifyIDTokenAndCheckRevoked looks the account up and keeps the token's
// claims); a claim given after sign-in counts at once. FirebaseAuth makes
// the SDK's checks itself with the same one lookup (productionAuth:
// VerifyIDToken checks the token only, as outside the emulator).
func TestFirebaseAuthRolesAreTheAccountsNow(t *testing.T) {
	a := testenv.AuthEmulator(t)
	ctx := context.Background()
	tokens := map[string]string{
		"fa-demoted":  a.SignIn(t, "fa-demoted", map[string]any{"admin": true, "plan": "kept"}),
		"fa-promoted": a.SignIn(t, "fa-promoted", nil),
		"fa-excoach":  a.SignIn(t, "fa-excoach", map[string]any{"coach": true}),
		"fa-admin":    a.SignIn(t, "fa-admin", map[string]any{"admin": true}),
		"fa-revoked":  a.SignIn(t, "fa-revoked", map[string]any{"admin": true}),
		"fa-disabled": a.SignIn(t, "fa-disabled", map[string]any{"admin": true}),
		"fa-deleted":  a.SignIn(t, "fa-deleted", map[string]any{"admin": true}),
	}
	// Revocation compares whole seconds (iat < tokensValidAfter).
	time.Sleep(1100 * time.Millisecond)
	for uid, claims := range map[string]map[string]any{"fa-demoted": {"plan": "kept"}, "fa-promoted": {"admin": true}, "fa-excoach": {}} {
		if err := a.Client.SetCustomUserClaims(ctx, uid, claims); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Client.RevokeRefreshTokens(ctx, "fa-revoked"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Client.UpdateUser(ctx, "fa-disabled", (&auth.UserToUpdate{}).Disabled(true)); err != nil {
		t.Fatal(err)
	}
	if err := a.Client.DeleteUser(ctx, "fa-deleted"); err != nil {
		t.Fatal(err)
	}

	verifier := callable.FirebaseAuth{Client: productionAuth{checked: a.Client}}
	deps := callable.Deps{Verifier: func(context.Context) (callable.IDTokenVerifier, error) { return verifier, nil }}
	admin := callable.New(echo, callable.Options{Name: "admin", RequireAdmin: true}, deps)
	coach := callable.New(echo, callable.Options{Name: "coach", RequireCoach: true}, deps)
	tests := []struct {
		name, uid string
		coach     bool // call the coaches' callable instead of the admins'
		want      int
	}{
		{"admin claim removed after sign-in", "fa-demoted", false, 403},
		{"admin claim given after sign-in", "fa-promoted", false, 200},
		{"coach claim removed after sign-in", "fa-excoach", true, 403},
		{"admin", "fa-admin", false, 200},
		{"refresh tokens revoked", "fa-revoked", false, 401},
		{"account disabled", "fa-disabled", false, 401},
		{"account deleted", "fa-deleted", false, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := admin
			if tt.coach {
				h = coach
			}
			code, out, body := invoke(t, h, map[string]string{"Authorization": "Bearer " + tokens[tt.uid]})
			if code != tt.want {
				t.Fatalf("status %d, want %d: %s", code, tt.want, body)
			}
			if code == 200 && (out.Result["uid"] != tt.uid || out.Result["admin"] != true) {
				t.Errorf("result %v", out.Result)
			}
		})
	}

	// The token's other claims are the token's.
	tok, err := verifier.VerifyIDTokenAndCheckRevoked(ctx, tokens["fa-demoted"])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tok.Claims["admin"]; ok || tok.Claims["plan"] != "kept" || tok.Claims["email"] != "fa-demoted@example.test" {
		t.Errorf("claims %v: want no admin, the token's plan and email", tok.Claims)
	}
}

// TestSignedInAtFromTheToken: the caller's sign-in time reaches the
// handler (the token's auth_time), for RequireRecentSignIn.
func TestSignedInAtFromTheToken(t *testing.T) {
	a := testenv.AuthEmulator(t)
	before := time.Now().Add(-2 * time.Second)
	tok := a.SignIn(t, "fa-signedin", nil)
	var got time.Time
	h := callable.New(func(_ context.Context, req *callable.Request) (any, error) {
		got = req.Auth.SignedInAt
		return map[string]any{}, req.RequireRecentSignIn(time.Now(), time.Minute)
	}, callable.Options{Name: "recent", RequireAuth: true}, callable.Deps{
		Verifier: func(context.Context) (callable.IDTokenVerifier, error) {
			return callable.FirebaseAuth{Client: productionAuth{checked: a.Client}}, nil
		}})
	if code, _, body := invoke(t, h, map[string]string{"Authorization": "Bearer " + tok}); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if got.Before(before) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("SignedInAt %v, want the sign-in just made", got)
	}
}
