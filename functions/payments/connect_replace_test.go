package payments

import (
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/model"
)

// TestConnectReplacesDeletedAccount: once the reconciliation recorded the
// coach's Connect account as deleted (payoutsReason account_not_found),
// the onboarding callable creates a new account, under an idempotency key
// of its own, records it, and links the coach to it; a live account is
// reused as before. Regression: the dead account id was returned for
// ever, so the coach could never onboard again.
func TestConnectReplacesDeletedAccount(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	coach := h.project + "-coach"
	tok := c.auth.SignIn(t, coach, map[string]any{"coach": true})
	path := "coach_profiles/" + coach + "/private/connect"
	h.set(path, map[string]any{"coachId": coach, "stripeAccountId": "acct_dead", "payoutsEnabled": false,
		"payoutsReason": ReasonAccountNotFound})

	code, res, st := call(t, c.connect, tok, map[string]any{})
	if code != 200 || res["accountId"] == "acct_dead" || !strings.HasPrefix(res["accountId"].(string), "acct_") {
		t.Fatalf("connect: %d %v %s, want a new account", code, res, st)
	}
	acct := res["accountId"].(string)
	created := h.rec.find("POST", "/v1/accounts")
	if len(created) != 1 || created[0].Form.Get("metadata[coachUid]") != coach {
		t.Fatalf("account requests %+v, want one for the coach", created)
	}
	key := created[0].Header.Get("Idempotency-Key")
	if key == "" || key == (&Service{}).idemKey("connect-account", coach) {
		t.Errorf("idempotency key %q: the first account's key would replay the dead account", key)
	}
	var cc model.CoachConnect
	if !h.get(path, &cc) || cc.StripeAccountID != acct || cc.PayoutsEnabled || cc.PayoutsReason != "onboarding_incomplete" {
		t.Errorf("connect state %+v, want the new account, onboarding incomplete", cc)
	}
	links := h.rec.find("POST", "/v1/account_links")
	if len(links) != 1 || links[0].Form.Get("account") != acct {
		t.Errorf("account links %+v, want one for the new account", links)
	}
	// The new account is live: the next call reuses it.
	call(t, c.connect, tok, map[string]any{})
	if n := len(h.rec.find("POST", "/v1/accounts")); n != 1 {
		t.Errorf("%d accounts created, want the new one reused", n)
	}
}
