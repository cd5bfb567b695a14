package gdpr

import (
	"context"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/model"
)

// slowAuth is the Auth admin of the erasure whose calls take a while by
// the service's clock (the Admin SDK retries a 500 or 503 up to four
// times, honouring a Retry-After of up to two minutes each), and which
// records when the account was disabled.
type slowAuth struct {
	AuthAdmin
	e        *env
	delay    time.Duration
	disabled time.Time
}

func (a *slowAuth) RevokeRefreshTokens(ctx context.Context, uid string) error {
	a.e.clock.Add(a.delay)
	return a.AuthAdmin.RevokeRefreshTokens(ctx, uid)
}

func (a *slowAuth) UpdateUser(ctx context.Context, uid string, u *auth.UserToUpdate) (*auth.UserRecord, error) {
	a.e.clock.Add(a.delay)
	rec, err := a.AuthAdmin.UpdateUser(ctx, uid, u)
	if err == nil && a.disabled.IsZero() {
		a.disabled = a.e.clock.Now()
	}
	return rec, err
}

// TestReview13MarkerOutlivesTokensMintedBeforeTheDisable: until the
// account is disabled its user can still sign in (revoking the refresh
// tokens does not stop a new sign-in), and every ID token minted until
// then is valid for an hour. The marker must therefore be held
// IDTokenWindow from the moment the account is disabled, as the README
// ("1 h 5 min after the erasure disabled the account") and IDTokenWindow's
// doc say, not from the moment it was written before the Auth calls: with
// Auth answering slowly (two calls of 4 minutes each), a token minted
// just before the disable outlives a marker counted from its write, and
// once the retention job has deleted it that token writes under the
// erased uid again.
func TestReview13MarkerOutlivesTokensMintedBeforeTheDisable(t *testing.T) {
	e := newEnv(t, true)
	u := uid("r13slow")
	e.set("users/"+u, model.User{UserID: u, CreatedAt: e.clock.Now()})
	e.createAccount(u)
	a := &slowAuth{AuthAdmin: e.s.Auth, e: e, delay: 4 * time.Minute}
	e.s.Auth = a
	if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if r := e.request(e.s.ErasureID(u)); r.Status != StatusDone {
		t.Fatalf("erasure %s: %s", r.Status, r.Error)
	}
	if a.disabled.IsZero() {
		t.Fatal("the account was never disabled")
	}
	marker := e.fs.Collection(model.ColGDPRRequests).Doc(model.ErasingMarkerID(u))
	snap, err := marker.Get(e.ctx)
	if err != nil {
		t.Fatalf("erasure marker: %v", err)
	}
	until, _ := snap.DataAt("legalHoldUntil")
	if ts, ok := until.(time.Time); !ok || ts.Before(a.disabled.Add(time.Hour)) {
		t.Errorf("marker legalHoldUntil %v: a token minted just before the disable at %v is valid until %v",
			until, a.disabled, a.disabled.Add(time.Hour))
	}
	// The retention job an hour and a minute after the disable keeps it.
	e.clock.Add(a.disabled.Add(time.Hour + time.Minute).Sub(e.clock.Now()))
	if _, err := e.s.Retain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := marker.Get(e.ctx); err != nil {
		t.Errorf("marker deleted an hour and a minute after the disable: %v", err)
	}
}
