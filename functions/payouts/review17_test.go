package payouts

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestReview17RotatedRefreshTokenSurvivesCancelledSync: a sync whose context
// ends right after Fortnox rotated the refresh token (a timeout, an instance
// shutdown, a lost lease) must still store the new token; otherwise the next
// instance presents the spent one, Fortnox answers invalid_grant, and no
// sync books anything until someone authorises the integration again.
func TestReview17RotatedRefreshTokenSurvivesCancelledSync(t *testing.T) {
	e := newEnv(t)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	seed := s.IssueRefreshToken(s.Tenant())
	client := func(hc *http.Client) *fortnox.Client {
		t.Helper()
		c, err := fortnox.New(fortnox.Config{BaseURL: s.URL, TokenURL: s.TokenURL, ClientID: s.ClientID(), ClientSecret: s.ClientSecret(),
			RefreshToken: seed, RefreshTokens: &TokenStore{Firestore: e.fs, Now: e.clock.Now}, Now: e.clock.Now, HTTPClient: hc,
			Limiter: fortnox.Unlimited{}, ReconcileDelay: 10 * time.Millisecond, BackoffBase: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	e.completed("po_cancel_sek_20260504", 1000, "SEK", t0)

	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	// Once the token endpoint has answered the refresh grant (the
	// single-use token is spent at Fortnox), the sync's context ends
	// before the client sees the answer.
	rt := &testenv.CancelAfterResponse{Prefix: s.TokenURL, Cancel: cancel}
	first := client(&http.Client{Transport: rt})
	e.svc.Fortnox = func(context.Context) (*fortnox.Client, error) { return first, nil }
	if _, err := e.svc.SyncFortnox(ctx, SyncRequest{}); err == nil {
		t.Fatal("the cancelled sync reported success")
	}
	if st := s.Stats(); st.TokenRequests != 1 {
		t.Fatalf("token requests %d, want the one refresh grant", st.TokenRequests)
	}

	// The instance is gone; the next one starts from the store (and the
	// spent seed in its configuration).
	next := client(nil)
	e.svc.Fortnox = func(context.Context) (*fortnox.Client, error) { return next, nil }
	rep, err := e.svc.SyncFortnox(e.ctx, SyncRequest{})
	if err != nil || rep.Booked != 1 {
		tok, _ := (&TokenStore{Firestore: e.fs}).LoadRefreshToken(e.ctx)
		t.Fatalf("next sync: %+v, %v (stored refresh token is the spent seed or none: %v)", rep, err, tok == seed || tok == "")
	}
	checkBooked(t, e, s, "po_cancel_sek_20260504")
}
