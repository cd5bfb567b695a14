package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// callables serves the three callables with the Auth emulator verifying
// ID tokens, as onCall wires them.
type callables struct {
	checkout, portal, connect string
	auth                      *testenv.Auth
}

func serveCallables(t *testing.T, h *harness) *callables {
	t.Helper()
	a := testenv.AuthEmulator(t)
	deps := callable.Deps{Verifier: func(context.Context) (callable.IDTokenVerifier, error) { return a.Client, nil }}
	serve := func(name string, opts callable.Options, m func(*Service, context.Context, *callable.Request) (any, error)) string {
		opts.Name = name
		srv := httptest.NewServer(callable.New(func(ctx context.Context, r *callable.Request) (any, error) { return m(h.svc, ctx, r) }, opts, deps))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	return &callables{
		checkout: serve("createCheckoutSession", callable.Options{RequireAuth: true}, (*Service).CreateCheckoutSession),
		portal:   serve("createBillingPortalSession", callable.Options{RequireAuth: true}, (*Service).CreateBillingPortalSession),
		connect:  serve("createConnectOnboardingLink", callable.Options{RequireCoach: true}, (*Service).CreateConnectOnboardingLink),
		auth:     a,
	}
}

// call invokes a callable and returns the HTTP status, the result and the
// error status name.
func call(t *testing.T, url, token string, data any) (int, map[string]any, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"data": data})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Result map[string]any `json:"result"`
		Error  *struct {
			Status, Message string
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	st := ""
	if out.Error != nil {
		st = out.Error.Status
	}
	return resp.StatusCode, out.Result, st
}

func TestCreateCheckoutSession(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	buyer := h.project + "-buyer"
	tok := c.auth.SignIn(t, buyer, nil)
	inactive := model.BillingPlan{PlanID: "old", StripePriceID: "price_old", Active: false}
	h.set("billing_plans/old", inactive)
	neg, cur := int64(-5), "SEK"
	h.set("programs/prog-bad", model.Program{ProgramID: "prog-bad", Title: "Bad", Price: &neg, Currency: &cur})

	bad := []struct {
		name  string
		token string
		data  any
		want  string
	}{
		{"no auth", "", map[string]any{"programId": "prog-1"}, "UNAUTHENTICATED"},
		{"forged token", "not-a-token", map[string]any{"programId": "prog-1"}, "UNAUTHENTICATED"},
		{"client sends a price", tok, map[string]any{"programId": "prog-1", "amount": 1}, "INVALID_ARGUMENT"},
		{"client sends a Stripe price", tok, map[string]any{"planId": "premium", "priceId": "price_cheap"}, "INVALID_ARGUMENT"},
		{"neither id", tok, map[string]any{}, "INVALID_ARGUMENT"},
		{"both ids", tok, map[string]any{"programId": "prog-1", "planId": "premium"}, "INVALID_ARGUMENT"},
		{"bad id", tok, map[string]any{"programId": "a/b"}, "INVALID_ARGUMENT"},
		{"foreign return URL", tok, map[string]any{"programId": "prog-1", "returnUrl": "https://evil.test/x"}, "INVALID_ARGUMENT"},
		{"bad request id", tok, map[string]any{"programId": "prog-1", "requestId": "a b"}, "INVALID_ARGUMENT"},
		{"unknown program", tok, map[string]any{"programId": "nope"}, "NOT_FOUND"},
		{"unknown plan", tok, map[string]any{"planId": "nope"}, "NOT_FOUND"},
		{"inactive plan", tok, map[string]any{"planId": "old"}, "FAILED_PRECONDITION"},
		{"program without a valid price", tok, map[string]any{"programId": "prog-bad"}, "FAILED_PRECONDITION"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			if _, _, st := call(t, c.checkout, b.token, b.data); st != b.want {
				t.Errorf("status %q, want %q", st, b.want)
			}
		})
	}
	if n := len(h.rec.find("POST", "/v1/checkout/sessions")); n != 0 {
		t.Fatalf("%d checkout sessions created by rejected calls", n)
	}

	// A program: the amount and currency come from programs/prog-1.
	code, res, st := call(t, c.checkout, tok, map[string]any{"programId": "prog-1", "returnUrl": "https://app.example.test/programs/prog-1", "requestId": "click-1"})
	if code != 200 || st != "" || !strings.HasPrefix(res["sessionId"].(string), "cs_") || res["url"] == "" {
		t.Fatalf("program checkout: %d %v %s", code, res, st)
	}
	reqs := h.rec.find("POST", "/v1/checkout/sessions")
	if len(reqs) != 1 {
		t.Fatalf("%d checkout requests", len(reqs))
	}
	f := reqs[0].Form
	for k, want := range map[string]string{
		"mode": "payment", "line_items[0][price_data][unit_amount]": "49900", "line_items[0][price_data][currency]": "sek",
		"client_reference_id": buyer, "metadata[programId]": "prog-1", "payment_intent_data[metadata][uid]": buyer,
		"success_url": "https://app.example.test/programs/prog-1?checkout=success&session_id={CHECKOUT_SESSION_ID}",
	} {
		if got := f.Get(k); got != want {
			t.Errorf("checkout %s = %q, want %q", k, got, want)
		}
	}
	if k := reqs[0].Header.Get("Idempotency-Key"); !strings.HasPrefix(k, "ij-checkout-") {
		t.Errorf("checkout idempotency key %q", k)
	}
	cus := h.rec.find("POST", "/v1/customers")
	if len(cus) != 1 || !strings.HasPrefix(cus[0].Header.Get("Idempotency-Key"), "ij-customer-") || cus[0].Form.Get("metadata[uid]") != buyer {
		t.Fatalf("customer requests = %+v", cus)
	}
	var ba model.BillingAccount
	if !h.get("users/"+buyer+"/private/billing", &ba) || !strings.HasPrefix(ba.StripeCustomerID, "cus_") {
		t.Fatalf("billing account = %+v", ba)
	}
	var sc model.StripeCustomer
	if !h.get("stripe_customers/"+ba.StripeCustomerID, &sc) || sc.UserID != buyer {
		t.Errorf("customer mapping = %+v", sc)
	}
	if f.Get("customer") != ba.StripeCustomerID {
		t.Errorf("checkout customer %q", f.Get("customer"))
	}

	// The same click again: same idempotency key, no second customer.
	call(t, c.checkout, tok, map[string]any{"programId": "prog-1", "returnUrl": "https://app.example.test/programs/prog-1", "requestId": "click-1"})
	reqs = h.rec.find("POST", "/v1/checkout/sessions")
	if len(reqs) != 2 || reqs[1].Header.Get("Idempotency-Key") != reqs[0].Header.Get("Idempotency-Key") {
		t.Errorf("retry did not reuse the idempotency key")
	}
	if n := len(h.rec.find("POST", "/v1/customers")); n != 1 {
		t.Errorf("%d customers created", n)
	}

	// A subscription: the Stripe price comes from billing_plans/premium.
	code, res, st = call(t, c.checkout, tok, map[string]any{"planId": "premium"})
	if code != 200 || st != "" {
		t.Fatalf("plan checkout: %d %v %s", code, res, st)
	}
	reqs = h.rec.find("POST", "/v1/checkout/sessions")
	f = reqs[len(reqs)-1].Form
	if f.Get("mode") != "subscription" || f.Get("line_items[0][price]") != "price_premium" ||
		f.Get("subscription_data[metadata][uid]") != buyer || f.Get("subscription_data[metadata][planId]") != "premium" ||
		!strings.HasPrefix(f.Get("success_url"), "https://demo-ij.web.app?checkout=success") {
		t.Errorf("subscription checkout form = %v", f)
	}

	// Already subscribed, already enrolled.
	h.set("subscriptions/sub_x", model.Subscription{SubscriptionID: "sub_x", UserID: buyer, Status: "active", PriceIDs: []string{"price_premium"}})
	if _, _, st := call(t, c.checkout, tok, map[string]any{"planId": "premium"}); st != "ALREADY_EXISTS" {
		t.Errorf("subscribed twice: %q", st)
	}
	h.set("enrollments/"+buyer+"_prog-1", model.Enrollment{UserID: buyer, ProgramID: "prog-1", Status: EnrollmentActive})
	if _, _, st := call(t, c.checkout, tok, map[string]any{"programId": "prog-1"}); st != "ALREADY_EXISTS" {
		t.Errorf("enrolled twice: %q", st)
	}

	// A free program: enrolled at once, coach assigned, no Stripe call.
	before := len(h.rec.find("POST", "/v1/checkout/sessions"))
	code, res, _ = call(t, c.checkout, tok, map[string]any{"programId": "prog-free"})
	if code != 200 || res["enrolled"] != true {
		t.Fatalf("free program: %d %v", code, res)
	}
	var e model.Enrollment
	if !h.get("enrollments/"+buyer+"_prog-free", &e) || e.Status != EnrollmentActive || e.PaymentID != "" {
		t.Errorf("free enrollment = %+v", e)
	}
	var a model.CoachAssignment
	if !h.get("users/"+buyer+"/coaches/coach-1", &a) || a.Source != model.AssignedByEnrollment {
		t.Errorf("free program coach assignment = %+v", a)
	}
	if n := len(h.rec.find("POST", "/v1/checkout/sessions")); n != before {
		t.Errorf("free program called Stripe")
	}
}

func TestBillingPortalAndConnect(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	user := h.project + "-user"
	coach := h.project + "-coach"
	utok := c.auth.SignIn(t, user, nil)
	ctok := c.auth.SignIn(t, coach, map[string]any{"coach": true})

	if _, _, st := call(t, c.portal, "", map[string]any{}); st != "UNAUTHENTICATED" {
		t.Errorf("portal without auth: %q", st)
	}
	if _, _, st := call(t, c.portal, utok, map[string]any{}); st != "FAILED_PRECONDITION" {
		t.Errorf("portal without customer: %q", st)
	}
	if _, _, st := call(t, c.portal, utok, map[string]any{"returnUrl": "javascript:alert(1)"}); st != "INVALID_ARGUMENT" {
		t.Errorf("portal bad returnUrl: %q", st)
	}
	h.set("users/"+user+"/private/billing", model.BillingAccount{StripeCustomerID: "cus_portal"})
	code, res, st := call(t, c.portal, utok, map[string]any{"returnUrl": "https://demo-ij.web.app/account"})
	if code != 200 || res["url"] == "" {
		t.Fatalf("portal: %d %v %s", code, res, st)
	}
	pr := h.rec.find("POST", "/v1/billing_portal/sessions")
	if len(pr) != 1 || pr[0].Form.Get("customer") != "cus_portal" || pr[0].Form.Get("return_url") != "https://demo-ij.web.app/account" ||
		!strings.HasPrefix(pr[0].Header.Get("Idempotency-Key"), "ij-portal-") {
		t.Errorf("portal request = %+v", pr)
	}

	if _, _, st := call(t, c.connect, "", map[string]any{}); st != "UNAUTHENTICATED" {
		t.Errorf("connect without auth: %q", st)
	}
	if _, _, st := call(t, c.connect, utok, map[string]any{}); st != "PERMISSION_DENIED" {
		t.Errorf("connect as a user: %q", st)
	}
	code, res, st = call(t, c.connect, ctok, map[string]any{})
	if code != 200 || res["url"] == "" || !strings.HasPrefix(res["accountId"].(string), "acct_") {
		t.Fatalf("connect: %d %v %s", code, res, st)
	}
	acct := res["accountId"].(string)
	ar := h.rec.find("POST", "/v1/accounts")
	if len(ar) != 1 || ar[0].Form.Get("type") != "express" || ar[0].Form.Get("metadata[coachUid]") != coach ||
		ar[0].Form.Get("capabilities[transfers][requested]") != "true" || !strings.HasPrefix(ar[0].Header.Get("Idempotency-Key"), "ij-connect-account-") {
		t.Errorf("account request = %+v", ar)
	}
	var cc model.CoachConnect
	if !h.get("coach_profiles/"+coach+"/private/connect", &cc) || cc.StripeAccountID != acct || cc.PayoutsEnabled ||
		cc.PayoutsReason != "onboarding_incomplete" || cc.CoachID != coach {
		t.Errorf("connect state = %+v", cc)
	}
	// The callable writes no public profile (the coach writes that one).
	if h.get("coach_profiles/"+coach, &map[string]any{}) {
		t.Error("the callable created a public coach profile")
	}
	// A second link reuses the account.
	call(t, c.connect, ctok, map[string]any{"returnUrl": "https://app.example.test/coach"})
	if n := len(h.rec.find("POST", "/v1/accounts")); n != 1 {
		t.Errorf("%d accounts created", n)
	}
	links := h.rec.find("POST", "/v1/account_links")
	if len(links) != 2 || links[1].Form.Get("account") != acct || links[1].Form.Get("type") != "account_onboarding" ||
		links[1].Form.Get("return_url") != "https://app.example.test/coach?connect=return" {
		t.Errorf("account links = %+v", links)
	}
}

// TestCheckoutMalformedProgramFields: createCheckoutSession reads only the
// price, currency and title of a program, so a malformed client-written
// field it does not use (tags: [1], modules as a string) does not make
// checkout fail; a price of the wrong type is no valid price (never a
// free enrolment), and a title of the wrong type falls back to "Program".
func TestCheckoutMalformedProgramFields(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	buyer := h.project + "-buyer"
	tok := c.auth.SignIn(t, buyer, nil)
	base := func(extra map[string]any) map[string]any {
		d := map[string]any{"programId": "p", "title": "Calm Mind", "createdBy": []any{"coach-1"},
			"price": int64(49900), "currency": "SEK", "tags": []any{int64(1)}, "modules": "not-a-list", "difficulty": 7}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	tests := []struct {
		name     string
		doc      map[string]any
		want     string // error status, "" for a checkout
		enrolled bool   // a free enrolment instead of a checkout
		amount   string
		title    string
	}{
		{name: "malformed tags and modules", doc: base(nil), amount: "49900", title: "Calm Mind"},
		{name: "title not a string", doc: base(map[string]any{"title": []any{"x"}}), amount: "49900", title: "Program"},
		{name: "free with malformed fields", doc: base(map[string]any{"price": nil}), enrolled: true},
		{name: "price as a string", doc: base(map[string]any{"price": "49900"}), want: "FAILED_PRECONDITION"},
		{name: "price as a float", doc: base(map[string]any{"price": 499.0}), want: "FAILED_PRECONDITION"},
		{name: "currency not a string", doc: base(map[string]any{"currency": int64(752)}), want: "FAILED_PRECONDITION"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("prog-m%d", i)
			h.set("programs/"+id, tc.doc)
			before := len(h.rec.find("POST", "/v1/checkout/sessions"))
			code, res, st := call(t, c.checkout, tok, map[string]any{"programId": id})
			reqs := h.rec.find("POST", "/v1/checkout/sessions")
			switch {
			case tc.want != "":
				if st != tc.want || len(reqs) != before {
					t.Errorf("status %q, %d checkout requests, want %s and none", st, len(reqs)-before, tc.want)
				}
			case tc.enrolled:
				var e model.Enrollment
				if code != 200 || res["enrolled"] != true || !h.get("enrollments/"+EnrollmentID(buyer, id), &e) || e.Status != EnrollmentActive {
					t.Errorf("free program: %d %v %s, enrolment %+v", code, res, st, e)
				}
			default:
				if code != 200 || st != "" || len(reqs) != before+1 {
					t.Fatalf("checkout: %d %v %s", code, res, st)
				}
				f := reqs[len(reqs)-1].Form
				if got := f.Get("line_items[0][price_data][unit_amount]"); got != tc.amount {
					t.Errorf("unit_amount = %q, want %q", got, tc.amount)
				}
				if got := f.Get("line_items[0][price_data][product_data][name]"); got != tc.title {
					t.Errorf("product name = %q, want %q", got, tc.title)
				}
				if got := f.Get("line_items[0][price_data][currency]"); got != "sek" {
					t.Errorf("currency = %q, want sek", got)
				}
			}
		})
	}
}

// TestSingleUseLinksNotReplayed: account links and billing portal
// sessions are single-use, short-lived URLs. When a coach comes back
// through refresh_url (link visited or expired) the app asks again with the
// same input, and a user may open the portal twice in a row; each call must
// create a new one. An idempotency key derived from the input and the
// 10-minute window made Stripe replay the first, already used URL, and the
// coach looped refresh_url → same link → refresh_url until the window
// rolled over.
func TestSingleUseLinksNotReplayed(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	user := h.project + "-single-use-user"
	coach := h.project + "-single-use-coach"
	utok := c.auth.SignIn(t, user, nil)
	ctok := c.auth.SignIn(t, coach, map[string]any{"coach": true})
	h.set("users/"+user+"/private/billing", model.BillingAccount{StripeCustomerID: "cus_single_use"})

	tests := []struct {
		name      string
		url       string
		token     string
		data      map[string]any
		path      string
		keyPrefix string
	}{
		{name: "connect onboarding link", url: c.connect, token: ctok, data: map[string]any{"returnUrl": "https://app.example.test/coach"},
			path: "/v1/account_links", keyPrefix: "ij-connect-link-"},
		{name: "billing portal session", url: c.portal, token: utok, data: map[string]any{"returnUrl": "https://demo-ij.web.app/account"},
			path: "/v1/billing_portal/sessions", keyPrefix: "ij-portal-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.rec.find("POST", tt.path))
			// The first link; then, at the same instant and with the same
			// input, the request from refresh_url.
			for i := range 2 {
				if code, res, st := call(t, tt.url, tt.token, tt.data); code != 200 || res["url"] == "" {
					t.Fatalf("call %d: %d %v %s", i+1, code, res, st)
				}
			}
			reqs := h.rec.find("POST", tt.path)[before:]
			if len(reqs) != 2 {
				t.Fatalf("%d Stripe requests, want 2", len(reqs))
			}
			k1, k2 := reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key")
			if !strings.HasPrefix(k1, tt.keyPrefix) || !strings.HasPrefix(k2, tt.keyPrefix) {
				t.Errorf("idempotency keys %q, %q, want prefix %s", k1, k2, tt.keyPrefix)
			}
			if k1 == k2 {
				t.Errorf("the second call reuses Idempotency-Key %s: Stripe replays the first, single-use URL", k1)
			}
		})
	}
}
