package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
)

// Auth is the running Firebase Auth emulator.
type Auth struct {
	// Host is host:port of the emulator.
	Host string
	// Client is an Admin SDK client for AuthProject talking to it.
	Client *auth.Client
}

// AuthEmulator returns the shared Auth emulator, starting it if needed,
// and points FIREBASE_AUTH_EMULATOR_HOST of this process at it.
func AuthEmulator(t testing.TB) *Auth {
	t.Helper()
	h := ensure(t, authService)
	os.Setenv("FIREBASE_AUTH_EMULATOR_HOST", h)
	app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: AuthProject})
	if err != nil {
		t.Fatalf("testenv: firebase app: %v", err)
	}
	c, err := app.Auth(context.Background())
	if err != nil {
		t.Fatalf("testenv: auth client: %v", err)
	}
	return &Auth{Host: h, Client: c}
}

// SignIn creates (or replaces) the user uid with the custom claims, signs
// in with a password through the emulator's REST API and returns the ID
// token, exactly as a client SDK would obtain it.
func (a *Auth) SignIn(t testing.TB, uid string, claims map[string]any) string {
	t.Helper()
	ctx := context.Background()
	_ = a.Client.DeleteUser(ctx, uid)
	email := uid + "@example.test"
	if _, err := a.Client.CreateUser(ctx, (&auth.UserToCreate{}).UID(uid).Email(email).Password("secret-pass-1")); err != nil {
		t.Fatalf("testenv: create user: %v", err)
	}
	if claims != nil {
		if err := a.Client.SetCustomUserClaims(ctx, uid, claims); err != nil {
			t.Fatalf("testenv: claims: %v", err)
		}
	}
	t.Cleanup(func() { _ = a.Client.DeleteUser(context.Background(), uid) })
	body, _ := json.Marshal(map[string]any{"email": email, "password": "secret-pass-1", "returnSecureToken": true})
	url := fmt.Sprintf("http://%s/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any", a.Host)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("testenv: sign in: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"idToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.IDToken == "" {
		t.Fatalf("testenv: sign in: status %d, %v", resp.StatusCode, err)
	}
	return out.IDToken
}
