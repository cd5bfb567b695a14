package payments

import (
	"context"
	"slices"
	"testing"

	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestEntitlementClaimsOnAuthEmulator: the claim is the union over all
// entitled subscriptions, merged with the user's other claims, against the
// real Auth Admin client.
func TestEntitlementClaimsOnAuthEmulator(t *testing.T) {
	h := newHarness(t)
	h.seed()
	a := testenv.AuthEmulator(t)
	h.svc.Auth = a.Client
	ctx := context.Background()
	uid := h.project + "-subscriber"
	_ = a.Client.DeleteUser(ctx, uid)
	if _, err := a.Client.CreateUser(ctx, (&auth.UserToCreate{}).UID(uid)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Client.DeleteUser(context.Background(), uid) })
	if err := a.Client.SetCustomUserClaims(ctx, uid, map[string]any{"admin": true, "coach": true}); err != nil {
		t.Fatal(err)
	}
	h.set("stripe_customers/cus_s", model.StripeCustomer{CustomerID: "cus_s", UserID: uid})
	claims := func() map[string]any {
		t.Helper()
		u, err := a.Client.GetUser(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		return u.CustomClaims
	}
	ents := func(c map[string]any) []string { return claimList(c["entitlements"]) }

	steps := []struct {
		id, typ string
		obj     map[string]any
		want    []string
	}{
		{"evt_cl1", "customer.subscription.created", objSub("sub_p", "cus_s", "active", []string{"price_premium"}, t0+86400, nil), []string{"premium"}},
		{"evt_cl2", "customer.subscription.created", objSub("sub_j", "cus_s", "trialing", []string{"price_journal"}, t0+86400, nil), []string{"journal_plus", "premium"}},
		{"evt_cl3", "customer.subscription.deleted", objSub("sub_p", "cus_s", "canceled", []string{"price_premium"}, t0+86400, nil), []string{"journal_plus"}},
		{"evt_cl4", "customer.subscription.updated", objSub("sub_j", "cus_s", "unpaid", []string{"price_journal"}, t0+86400, nil), []string{}},
	}
	for i, st := range steps {
		if code, body := h.deliver(event(st.id, st.typ, t0+int64(i+1)*60, st.obj)); code != 200 {
			t.Fatalf("%s: %d %v", st.id, code, body)
		}
		c := claims()
		if c["admin"] != true || c["coach"] != true || !slices.Equal(ents(c), st.want) {
			t.Errorf("after %s: claims %v, want entitlements %v", st.id, c, st.want)
		}
	}
	if _, ok := claims()["entitlements"]; ok {
		t.Error("empty entitlements left a claim")
	}
	if err := h.svc.SyncEntitlements(ctx, h.project+"-nobody"); err != nil {
		t.Errorf("unknown auth user: %v", err)
	}
}
