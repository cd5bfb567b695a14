package gdpr

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// TestErasureNeedsARecentSignIn: requestAccountDeletion starts an
// irreversible erasure at once, so a session that signed in long ago (a
// stolen refresh token, an unlocked phone) is refused, with the reason the
// app reauthenticates on, and nothing is written; the same caller after
// signing in again is served. An admin erasing another user is held to
// the same bar.
func TestErasureNeedsARecentSignIn(t *testing.T) {
	e := newEnv(t, false)
	now := e.clock.Now()
	at := func(uid string, admin bool, data string, signedIn time.Time) *callable.Request {
		return &callable.Request{Data: json.RawMessage(data), Auth: &callable.Auth{UID: uid, Admin: admin, SignedInAt: signedIn}}
	}
	tests := []struct {
		name string
		req  *callable.Request
		want fault.Code
	}{
		{"signed in 30 days ago", at("rs-alice", false, `{}`, now.AddDate(0, 0, -30)), fault.FailedPrecondition},
		{"signed in 6 minutes ago", at("rs-alice", false, `{}`, now.Add(-6*time.Minute)), fault.FailedPrecondition},
		{"no sign-in time", at("rs-alice", false, `{}`, time.Time{}), fault.FailedPrecondition},
		{"admin for another, signed in yesterday", at("rs-admin", true, `{"uid":"rs-bob"}`, now.AddDate(0, 0, -1)), fault.FailedPrecondition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.RequestAccountDeletion(e.ctx, tt.req)
			var f *fault.Error
			if fault.CodeOf(err) != tt.want || !errors.As(err, &f) {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
			if d, _ := json.Marshal(f.Details); string(d) != `{"reason":"requires-recent-login"}` {
				t.Errorf("details %s", d)
			}
		})
	}
	for _, uid := range []string{"rs-alice", "rs-bob"} {
		if _, err := e.fs.Collection(model.ColGDPRRequests).Doc(e.s.ErasureID(uid)).Get(e.ctx); err == nil {
			t.Errorf("%s: an erasure request was written", uid)
		}
	}
	if _, err := e.s.RequestAccountDeletion(e.ctx, at("rs-alice", false, `{}`, now.Add(-2*time.Minute))); err != nil {
		t.Errorf("signed in 2 minutes ago: %v", err)
	}
}
