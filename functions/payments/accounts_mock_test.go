package payments

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/model"
)

// TestReconcileCorrectsStaleConnectState runs the daily job against
// stripe-mock, whose GET /v1/accounts/{id} answers every id with one fixed
// account: payouts_enabled false, requirements.disabled_reason
// requirements.past_due, no metadata. A coach whose stored state still
// says payouts enabled (its account.updated never arrived) is corrected to
// what Stripe says, stamped with the run's second; a coach without an
// account id is not asked about; the coach's other private document
// (users/{uid}/private/payouts, which carries coachId too) is left alone.
//
// It uses the job's public entry point only, so it also runs against the
// code before the accounts pass, where it fails: nothing asks Stripe about
// the accounts.
func TestReconcileCorrectsStaleConnectState(t *testing.T) {
	h := newHarness(t)
	stale := time.Date(2026, 2, 20, 8, 0, 0, 0, time.UTC)
	h.set("coach_profiles/coach-m1/private/connect", map[string]any{"coachId": "coach-m1", "stripeAccountId": "acct_mock1",
		"payoutsEnabled": true, "payoutsReason": "", "accountUpdatedAt": stale})
	h.set("users/coach-m1/private/payouts", map[string]any{"coachId": "coach-m1", "lastPayoutId": "po-9"})
	h.set("coach_profiles/coach-m2/private/connect", map[string]any{"coachId": "coach-m2", "payoutsEnabled": false,
		"payoutsReason": "onboarding_incomplete"})
	payoutsBefore := h.updateTime("users/coach-m1/private/payouts")
	noAccountBefore := h.updateTime("coach_profiles/coach-m2/private/connect")

	if err := h.svc.Reconcile(t.Context(), &events.PubSubMessage{ID: "m1", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var cc model.CoachConnect
	if !h.get("coach_profiles/coach-m1/private/connect", &cc) {
		t.Fatal("Connect state gone")
	}
	if cc.PayoutsEnabled || cc.PayoutsReason != "requirements.past_due" || cc.StripeAccountID != "acct_mock1" ||
		cc.AccountUpdated == nil || !cc.AccountUpdated.Equal(testNow) {
		t.Errorf("state after the run = %+v (accountUpdatedAt %v), want payouts disabled, requirements.past_due, stamped %v",
			cc, cc.AccountUpdated, testNow)
	}
	gets := h.rec.find("GET", "/v1/accounts/acct_mock1")
	if len(gets) != 1 {
		t.Fatalf("%d requests for the account, want 1", len(gets))
	}
	if acct := gets[0].Header.Get("Stripe-Account"); acct != "" {
		t.Errorf("account retrieved with Stripe-Account %q, want the platform's own request", acct)
	}
	for _, q := range h.rec.reqs {
		if q.Method == "GET" && q.Path != "/v1/events" && q.Path != "/v1/accounts/acct_mock1" {
			t.Errorf("unexpected request %s %s", q.Method, q.Path)
		}
	}
	if !h.updateTime("users/coach-m1/private/payouts").Equal(payoutsBefore) {
		t.Error("users/coach-m1/private/payouts written")
	}
	if !h.updateTime("coach_profiles/coach-m2/private/connect").Equal(noAccountBefore) {
		t.Error("the Connect state without an account was written")
	}
}

// updateTime returns the update time of the document at path (it must
// exist).
func (h *harness) updateTime(path string) time.Time {
	h.t.Helper()
	snap, err := h.db.Doc(path).Get(h.t.Context())
	if err != nil {
		h.t.Fatalf("get %s: %v", path, err)
	}
	return snap.UpdateTime
}
