package payments

import (
	"net/http"
	"testing"
	"time"
)

// TestReview23ConnectTestEventOnLiveEndpoint: Stripe sends a live
// platform's Connect endpoint both live and test events of connected
// accounts, signed with that endpoint's secret ("check the livemode value
// ... to know what action, if any", stripe.com/docs/connect/webhooks). A
// test event is acknowledged and ignored, nothing written: a 400 would be
// retried for three days and count the endpoint as failing. A live event
// reaching a test environment stays a 400: that is a misconfiguration an
// operator must see.
func TestReview23ConnectTestEventOnLiveEndpoint(t *testing.T) {
	for _, c := range []struct {
		name             string
		envLive, evtLive bool
		wantCode         int
	}{
		{"test event, live environment", true, false, http.StatusOK},
		{"live event, test environment", false, true, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.Config.LiveMode = c.envLive
			ev := eventWith("evt_r23_conn", "account.updated", t0,
				objAccount("acct_r23", "coach-r23", false, false, []string{"external_account"}, ""),
				map[string]any{"livemode": c.evtLive, "account": "acct_r23"})
			code, body := h.post(ev, sign(ev, secretConnect, time.Now()))
			if code != c.wantCode {
				t.Errorf("answered %d %v, want %d", code, body, c.wantCode)
			}
			for _, col := range []string{"webhook_events", "coach_profiles"} {
				if n := h.count(col); n != 0 {
					t.Errorf("%d documents written in %s", n, col)
				}
			}
		})
	}
}
