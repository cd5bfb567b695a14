package testenv

import (
	"context"
	"net/http"
	"testing"
)

func TestFirestoreEmulatorRulesAndClient(t *testing.T) {
	fs := FirestoreEmulator(t)
	p := fs.NewProject(t)
	fs.LoadRules(t, p, `rules_version = '2';
service cloud.firestore {
  match /databases/{db}/documents {
    match /notes/{uid} { allow read, write: if request.auth != null && request.auth.uid == uid; }
  }
}`)
	c := fs.Client(t, p)
	if _, err := c.Doc("notes/alice").Set(context.Background(), map[string]any{"x": 1}); err != nil {
		t.Fatalf("admin write: %v", err)
	}
	alice := UnsignedIDToken(p, "alice", nil)
	bob := UnsignedIDToken(p, "bob", nil)
	tests := []struct {
		name, token string
		want        int
	}{
		{"owner token bypasses rules", "owner", http.StatusOK},
		{"the user reads her own", alice, http.StatusOK},
		{"another user is denied", bob, http.StatusForbidden},
		{"unauthenticated is denied", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		if status, body := fs.REST(p, "GET", "/notes/alice", tt.token, nil); status != tt.want {
			t.Errorf("%s: status %d (%v), want %d", tt.name, status, body, tt.want)
		}
	}
}

func TestAuthEmulatorSignIn(t *testing.T) {
	a := AuthEmulator(t)
	tok := a.SignIn(t, "testenv-user", map[string]any{"coach": true})
	got, err := a.Client.VerifyIDToken(context.Background(), tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.UID != "testenv-user" || got.Claims["coach"] != true {
		t.Errorf("token = %+v", got)
	}
}

func TestPubSubAndStripeMockStart(t *testing.T) {
	if h := PubSub(t); !tcpOpen(h) {
		t.Errorf("pubsub not reachable at %s", h)
	}
	if u := StripeMock(t); u == "" {
		t.Error("no stripe-mock URL")
	}
}
