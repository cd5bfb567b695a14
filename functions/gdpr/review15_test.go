package gdpr

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// wrongModeStripe answers every request as Stripe does a key of the other
// mode: 404 resource_missing, "a similar object exists in live mode".
func wrongModeStripe(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"resource_missing",` +
			`"message":"No such account: 'acct_live1'; a similar object exists in live mode, but a test mode key was used to make this request."}}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestReview15WrongModeKeyIsNoDeletedStripeObject: a Stripe key of the
// other mode gets 404 resource_missing "a similar object exists in live
// mode" for every object: the object exists, the key cannot see it. The
// payments area never takes that answer for a deleted Connect account
// (functions/payments accountNotFound, TestReconcileAccounts "key of the
// other mode"); the erasure took it for a customer or account already
// deleted, so a coach's erasure finished "done" with the live Connect
// account (and a customer) left at Stripe and the only record of its id
// (coach_profiles/{uid}/private/connect, stripe_customers) deleted: no one
// could erase them afterwards. The erasure must fail instead (a person
// fixes the key), keeping the records that name the objects.
func TestReview15WrongModeKeyIsNoDeletedStripeObject(t *testing.T) {
	api := NewStripeAPI(config.NewSecret("sk_test_123"), wrongModeStripe(t))
	if gone, err := api.DeleteAccount(context.Background(), "acct_live1"); err == nil || gone {
		t.Errorf("DeleteAccount: gone %v, %v: a wrong-mode 404 counted as a deleted Connect account", gone, err)
	} else if fault.Retryable(err) {
		t.Errorf("DeleteAccount: %v is retryable; a key of the wrong mode needs a person", err)
	}
	if gone, err := api.Delete(context.Background(), "cus_live1"); err == nil || gone {
		t.Errorf("Delete: gone %v, %v: a wrong-mode 404 counted as a deleted customer", gone, err)
	}

	e := newEnv(t, true)
	c := uid("coach15")
	e.set("users/"+c, model.User{UserID: c, CreatedAt: e.clock.Now()})
	e.createAccount(c)
	e.set("coach_profiles/"+c, model.CoachProfile{CoachID: c, DisplayName: "c"})
	e.set(model.CoachConnectPath(c), model.CoachConnect{CoachID: c, StripeAccountID: "acct_live1", PayoutsEnabled: true})
	e.s.StripeAccounts = api
	if _, _, err := e.s.StartErasure(e.ctx, c, c, SourceUser, true); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if r := e.request(e.s.ErasureID(c)); r.Status == StatusDone {
		t.Errorf("the coach's erasure is done although Stripe never deleted the Connect account acct_live1")
	}
	if snap, err := e.fs.Doc(model.CoachConnectPath(c)).Get(e.ctx); err != nil || !snap.Exists() {
		t.Errorf("the only record of the coach's live Connect account id is gone (%v)", err)
	}
}
