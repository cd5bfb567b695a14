package payouts

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
)

// review17CancelAfterToken is a transport that, once the token endpoint has
// answered a refresh grant (the single-use token is spent at Fortnox),
// cancels the sync's context before the client sees the answer: the
// function timed out, its instance is shutting down, or the lease was lost
// just then.
type review17CancelAfterToken struct {
	tokenURL string
	mu       sync.Mutex
	cancel   context.CancelFunc
}

func (rt *review17CancelAfterToken) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.String(), rt.tokenURL) {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rt.mu.Lock()
	if rt.cancel != nil {
		rt.cancel()
		rt.cancel = nil
	}
	rt.mu.Unlock()
	return resp, nil
}

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
	rt := &review17CancelAfterToken{tokenURL: s.TokenURL, cancel: cancel}
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
