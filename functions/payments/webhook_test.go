package payments

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/model"
)

// TestWebhookEveryHandledType delivers a signed fixture of every handled
// event type once and checks its effect and inbox record.
func TestWebhookEveryHandledType(t *testing.T) {
	h := newHarness(t)
	h.seed()
	type tc struct {
		typ   string
		obj   map[string]any
		check func(t *testing.T)
	}
	payment := func(id string, want model.PaymentStatus) func(t *testing.T) {
		return func(t *testing.T) {
			var p model.Payment
			if !h.get("payments/"+id, &p) {
				t.Fatalf("payments/%s missing", id)
			}
			if p.Status != want || p.Processor != "stripe" || p.ProcessorPaymentID != id {
				t.Errorf("payment %s = %+v, want status %s", id, p, want)
			}
		}
	}
	sub := func(id, want string) func(t *testing.T) {
		return func(t *testing.T) {
			var s model.Subscription
			if !h.get("subscriptions/"+id, &s) || s.Status != want || s.UserID != "u1" {
				t.Errorf("subscription %s = %+v, want %s", id, s, want)
			}
		}
	}
	payout := func(id string, want model.PayoutStatus) func(t *testing.T) {
		return func(t *testing.T) {
			var p model.Payout
			if !h.get("payouts/"+id, &p) || p.Status != want {
				t.Errorf("payout %s = %+v, want %s", id, p, want)
			}
		}
	}
	cases := []tc{
		{"checkout.session.completed", objCheckout("cs_1", "pi_a", "cus_1", "u1", "prog-1", 49900, "paid"), func(t *testing.T) {
			payment("pi_a", model.PaymentSucceeded)(t)
			var e model.Enrollment
			if !h.get("enrollments/u1_prog-1", &e) || e.Status != EnrollmentActive || e.PaymentID != "pi_a" ||
				!slices.Equal(e.CoachIDs, []string{"coach-1", "coach-2"}) {
				t.Errorf("enrollment = %+v", e)
			}
			var a model.CoachAssignment
			if !h.get("users/u1/coaches/coach-1", &a) || a.Source != model.AssignedByEnrollment || a.SourceID != "u1_prog-1" {
				t.Errorf("coach assignment = %+v", a)
			}
			var cp model.ClientProfile
			if !h.get("client_profiles/u1", &cp) || !slices.Equal(cp.CoachIDs, []string{"coach-1", "coach-2"}) {
				t.Errorf("client profile = %+v", cp)
			}
		}},
		{"checkout.session.async_payment_succeeded", objCheckout("cs_2", "pi_b", "cus_1", "u1", "prog-free", 0, "paid"), payment("pi_b", model.PaymentSucceeded)},
		{"checkout.session.async_payment_failed", objCheckout("cs_3", "pi_c", "cus_1", "u1", "", 100, "unpaid"), payment("pi_c", model.PaymentFailed)},
		{"payment_intent.succeeded", objPI("pi_d", "cus_1", "succeeded", 1000, nil, false), payment("pi_d", model.PaymentSucceeded)},
		{"payment_intent.payment_failed", objPI("pi_e", "cus_1", "requires_payment_method", 1000, nil, true), payment("pi_e", model.PaymentFailed)},
		{"payment_intent.processing", objPI("pi_f", "cus_1", "processing", 1000, nil, false), payment("pi_f", model.PaymentPending)},
		{"payment_intent.canceled", objPI("pi_g", "cus_1", "canceled", 1000, nil, false), payment("pi_g", model.PaymentFailed)},
		{"charge.succeeded", objCharge("ch_h", "pi_h", "cus_1", 1000, 0), payment("pi_h", model.PaymentSucceeded)},
		{"charge.refunded", objCharge("ch_d", "pi_d", "cus_1", 1000, 400), func(t *testing.T) {
			payment("pi_d", model.PaymentPartiallyRefunded)(t)
			var p model.Payment
			h.get("payments/pi_d", &p)
			if p.RefundDetails == nil || p.RefundDetails.AmountRefunded != 400 || p.ChargeID != "ch_d" {
				t.Errorf("refund details = %+v", p.RefundDetails)
			}
		}},
		{"refund.created", objRefund("re_1", "pi_d", "ch_d", 400, "succeeded", t0+50), func(t *testing.T) {
			var p model.Payment
			h.get("payments/pi_d", &p)
			if p.RefundDetails == nil || len(p.RefundDetails.Refunds) != 1 || p.RefundDetails.Refunds[0].RefundID != "re_1" {
				t.Errorf("refunds = %+v", p.RefundDetails)
			}
		}},
		{"refund.updated", objRefund("re_2", "pi_d", "ch_d", 600, "pending", t0+60), func(t *testing.T) {
			var p model.Payment
			h.get("payments/pi_d", &p)
			if p.Status != model.PaymentRefunded || p.RefundDetails.AmountRefunded != 1000 {
				t.Errorf("payment = %+v %+v", p.Status, p.RefundDetails)
			}
		}},
		{"charge.refund.updated", objRefund("re_2", "pi_d", "ch_d", 600, "succeeded", t0+60), func(t *testing.T) {
			var p model.Payment
			h.get("payments/pi_d", &p)
			if len(p.RefundDetails.Refunds) != 2 || p.RefundDetails.Refunds[1].Status != "succeeded" {
				t.Errorf("refunds = %+v", p.RefundDetails.Refunds)
			}
		}},
		{"charge.dispute.created", objDispute("dp_1", "pi_h", "ch_h", 1000, "needs_response"), func(t *testing.T) {
			var p model.Payment
			if h.get("payments/pi_h", &p); p.Dispute == nil || !p.Dispute.Open || p.Dispute.DisputeID != "dp_1" {
				t.Errorf("dispute = %+v", p.Dispute)
			}
		}},
		{"charge.dispute.updated", objDispute("dp_1", "pi_h", "ch_h", 1000, "under_review"), nil},
		{"charge.dispute.funds_withdrawn", objDispute("dp_1", "pi_h", "ch_h", 1000, "under_review"), nil},
		{"charge.dispute.closed", objDispute("dp_1", "pi_h", "ch_h", 1000, "won"), func(t *testing.T) {
			var p model.Payment
			if h.get("payments/pi_h", &p); p.Dispute == nil || p.Dispute.Open || p.Dispute.Lost || p.Dispute.ClosedAt == nil {
				t.Errorf("dispute = %+v", p.Dispute)
			}
		}},
		{"charge.dispute.funds_reinstated", objDispute("dp_1", "pi_h", "ch_h", 1000, "won"), nil},
		{"customer.subscription.created", objSub("sub_1", "cus_1", "incomplete", []string{"price_premium"}, t0+86400*30, nil), sub("sub_1", "incomplete")},
		{"invoice.paid", objInvoice("in_1", "sub_1", "cus_1", "pi_i1", 9900, t0, true), func(t *testing.T) {
			payment("pi_i1", model.PaymentSucceeded)(t)
			var s model.Subscription
			if h.get("subscriptions/sub_1", &s); s.LatestInvoiceState != "paid" || s.LatestInvoiceID != "in_1" {
				t.Errorf("subscription = %+v", s)
			}
		}},
		{"customer.subscription.updated", objSub("sub_1", "cus_1", "active", []string{"price_premium"}, t0+86400*30, nil), func(t *testing.T) {
			sub("sub_1", "active")(t)
			if got := h.claims.users["u1"]["entitlements"]; !slices.Equal(got.([]string), []string{"premium"}) {
				t.Errorf("claims = %v", h.claims.users["u1"])
			}
		}},
		{"customer.subscription.trial_will_end", objSub("sub_1", "cus_1", "active", []string{"price_premium"}, t0+86400*30, nil), nil},
		{"customer.subscription.pending_update_applied", objSub("sub_1", "cus_1", "active", []string{"price_premium"}, t0+86400*30, nil), nil},
		{"customer.subscription.pending_update_expired", objSub("sub_1", "cus_1", "active", []string{"price_premium"}, t0+86400*30, nil), nil},
		{"invoice.payment_failed", objInvoice("in_2", "sub_1", "cus_1", "pi_i2", 9900, t0+86400*30, false), func(t *testing.T) {
			payment("pi_i2", model.PaymentFailed)(t)
		}},
		{"customer.subscription.paused", objSub("sub_1", "cus_1", "paused", []string{"price_premium"}, t0+86400*30, nil), func(t *testing.T) {
			sub("sub_1", "paused")(t)
			if _, ok := h.claims.users["u1"]["entitlements"]; ok {
				t.Errorf("claims after pause = %v", h.claims.users["u1"])
			}
		}},
		{"customer.subscription.resumed", objSub("sub_1", "cus_1", "active", []string{"price_premium"}, t0+86400*30, nil), sub("sub_1", "active")},
		{"customer.subscription.deleted", objSub("sub_1", "cus_1", "canceled", []string{"price_premium"}, t0+86400*30, nil), sub("sub_1", "canceled")},
		{"account.updated", objAccount("acct_1", "coach-1", true, true, nil, ""), func(t *testing.T) {
			var cc model.CoachConnect
			if !h.get("coach_profiles/coach-1/private/connect", &cc) || !cc.PayoutsEnabled || cc.PayoutsReason != "" || cc.StripeAccountID != "acct_1" {
				t.Errorf("connect state = %+v", cc)
			}
			// The public profile is left alone and holds no Connect state.
			var pub map[string]any
			if !h.get("coach_profiles/coach-1", &pub) || len(pub) != 2 || pub["displayName"] != "C" {
				t.Errorf("public coach profile = %v", pub)
			}
		}},
		{"transfer.created", objTransfer("tr_1", "po-1", 30000, 0), payout("po-1", model.PayoutProcessing)},
		// No payoutId metadata: found by processorPayoutId.
		{"transfer.updated", objTransfer("tr_1", "", 30000, 0), payout("po-1", model.PayoutProcessing)},
		{"payout.paid", objPayout("po_1", "po-1", "paid", ""), payout("po-1", model.PayoutCompleted)},
		{"transfer.reversed", objTransfer("tr_2", "po-2", 20000, 20000), payout("po-2", model.PayoutFailed)},
		{"payout.failed", objPayout("po_3", "po-2", "failed", "account_closed"), nil},
		{"payout.canceled", objPayout("po_4", "po-2", "canceled", ""), nil},
	}
	h.claims.users["u1"] = map[string]any{"coach": true}
	seen := map[string]bool{}
	for i, c := range cases {
		seen[c.typ] = true
		id := fmt.Sprintf("evt_every_%02d", i)
		// Events one minute apart, in list order.
		code, body := h.deliver(event(id, c.typ, t0+int64(60*(i+1)), c.obj))
		if code != http.StatusOK || body["status"] != StatusProcessed {
			t.Fatalf("%s: %d %v", c.typ, code, body)
		}
		var in model.WebhookEvent
		if !h.get("webhook_events/"+id, &in) || in.Status != StatusProcessed || in.Attempts != 1 || in.Type != c.typ ||
			in.APIVersion != "2023-10-16" || in.ExpiresAt.IsZero() {
			t.Errorf("%s: inbox = %+v", c.typ, in)
		}
		if c.check != nil {
			t.Run(c.typ, c.check)
		}
	}
	for _, typ := range HandledTypes {
		if !seen[typ] {
			t.Errorf("no fixture for handled type %s", typ)
		}
	}
}

// TestWebhookRejects checks every reason for a 400: nothing is written.
func TestWebhookRejects(t *testing.T) {
	h := newHarness(t)
	good := event("evt_rej_1", "payment_intent.succeeded", t0, objPI("pi_r", "cus_1", "succeeded", 100, nil, false))
	now := time.Now()
	oversized := event("evt_rej_big", "payment_intent.succeeded", t0, map[string]any{
		"id": "pi_big", "object": "payment_intent", "description": strings.Repeat("x", MaxWebhookBytes)})
	otherVersion := eventWith("evt_rej_v", "payment_intent.succeeded", t0, objPI("pi_r", "cus_1", "succeeded", 100, nil, false),
		map[string]any{"api_version": "2022-11-15"})
	live := eventWith("evt_rej_live", "payment_intent.succeeded", t0, objPI("pi_r", "cus_1", "succeeded", 100, nil, false),
		map[string]any{"livemode": true})
	badObject := event("evt_rej_obj", "payment_intent.succeeded", t0, map[string]any{"id": "pi_x", "amount": "lots"})
	noID := event("evt_rej_noid", "payment_intent.succeeded", t0, map[string]any{"object": "payment_intent", "amount": 5})
	badEventID := event("bad/id", "payment_intent.succeeded", t0, objPI("pi_r", "cus_1", "succeeded", 100, nil, false))
	notJSON := []byte(`{"id": "evt_1", "type": `)
	cases := []struct {
		name, want string
		body       []byte
		sig        string
	}{
		{"bad signature", "no valid signature", good, sign(good, "whsec_wrong_secret", now)},
		{"tampered body", "no valid signature", append([]byte(" "), good...), sign(good, secretPlatform, now)},
		{"stale timestamp", "tolerance", good, sign(good, secretPlatform, now.Add(-301*time.Second))},
		{"missing header", "missing Stripe-Signature", good, ""},
		{"garbled header", "malformed Stripe-Signature", good, "t=abc,v1=00"},
		{"other API version", "API version \"2022-11-15\" not supported", otherVersion, sign(otherVersion, secretPlatform, now)},
		{"oversized", "payload larger than", oversized, sign(oversized, secretPlatform, now)},
		{"not JSON", "malformed body", notJSON, sign(notJSON, secretPlatform, now)},
		{"livemode mismatch", "livemode", live, sign(live, secretPlatform, now)},
		{"object of the wrong shape", "malformed event object", badObject, sign(badObject, secretPlatform, now)},
		{"object without id", "malformed event object", noID, sign(noID, secretPlatform, now)},
		{"bad event id", "malformed event", badEventID, sign(badEventID, secretPlatform, now)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := h.post(c.body, c.sig)
			reason, _ := body["error"].(string)
			if code != http.StatusBadRequest || !strings.Contains(reason, c.want) {
				t.Errorf("got %d %q, want 400 containing %q", code, reason, c.want)
			}
		})
	}
	if cols := h.collections(); len(cols) != 0 {
		t.Errorf("rejected requests wrote %v", cols)
	}
	req, _ := http.NewRequest(http.MethodGet, h.url, nil)
	if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp, err)
	}
}

// TestWebhookSecretRotation accepts an event signed with any configured
// secret, and a header carrying an old and a new signature.
func TestWebhookSecretRotation(t *testing.T) {
	h := newHarness(t)
	h.seed()
	a := event("evt_rot_1", "payment_intent.succeeded", t0, objPI("pi_rot1", "cus_1", "succeeded", 100, nil, false))
	if code, body := h.post(a, sign(a, secretConnect, time.Now())); code != 200 {
		t.Errorf("connect secret: %d %v", code, body)
	}
	b := event("evt_rot_2", "payment_intent.succeeded", t0, objPI("pi_rot2", "cus_1", "succeeded", 100, nil, false))
	now := time.Now()
	old := sign(b, "whsec_retired", now)
	cur := sign(b, secretPlatform, now)
	both := old + "," + cur[strings.Index(cur, "v1="):]
	if code, body := h.post(b, both); code != 200 {
		t.Errorf("two signatures: %d %v", code, body)
	}
}

// TestWebhookIgnoredAndDuplicates: an irrelevant type and an unknown
// customer answer 200 and are recorded as ignored; a duplicate has no
// effect.
func TestWebhookIgnoredAndDuplicates(t *testing.T) {
	h := newHarness(t)
	h.seed()
	cases := []struct {
		id, typ, reason string
		obj             map[string]any
	}{
		{"evt_ign_1", "customer.created", "unhandled event type", map[string]any{"id": "cus_9", "object": "customer"}},
		{"evt_ign_2", "payment_intent.succeeded", "unknown customer", objPI("pi_u", "cus_unknown", "succeeded", 100, nil, false)},
		{"evt_ign_3", "customer.subscription.updated", "unknown customer", objSub("sub_u", "cus_unknown", "active", nil, t0, nil)},
		{"evt_ign_4", "account.updated", "unknown account", map[string]any{"id": "acct_x", "object": "account"}},
		{"evt_ign_5", "account.updated", "account not linked", objAccount("acct_other", "coach-1", true, true, nil, "")},
		{"evt_ign_8", "account.updated", "unknown coach", objAccount("acct_9", "coach-gone", true, true, nil, "")},
		{"evt_ign_6", "transfer.created", "unknown payout", objTransfer("tr_x", "po-none", 100, 0)},
		{"evt_ign_7", "invoice.paid", "invoice without a subscription", map[string]any{"id": "in_x", "object": "invoice"}},
	}
	for _, c := range cases {
		payload := event(c.id, c.typ, t0, c.obj)
		for i := 0; i < 2; i++ {
			code, body := h.deliver(payload)
			want := StatusIgnored
			if i == 1 {
				want = StatusDuplicate
			}
			if code != 200 || body["status"] != want {
				t.Errorf("%s #%d: %d %v", c.typ, i, code, body)
			}
		}
		var in model.WebhookEvent
		if !h.get("webhook_events/"+c.id, &in) || in.Status != StatusIgnored || !strings.Contains(in.Reason, c.reason) || in.Attempts != 1 {
			t.Errorf("%s: inbox %+v, want reason %q", c.typ, in, c.reason)
		}
	}
	if n := h.count("payments"); n != 0 {
		t.Errorf("%d payments written for ignored events", n)
	}
}

// TestWebhookFailureMidway injects a Firestore failure inside the
// transaction (the beforeCommit hook): 500, no effect, the failed attempt
// counted; the retry completes cleanly. A failure after the commit
// (setting claims) also answers 500 and the redelivery finishes it.
func TestWebhookFailureMidway(t *testing.T) {
	h := newHarness(t)
	h.seed()
	fail := true
	h.svc.beforeCommit = func(ctx context.Context, id string) error {
		if fail {
			fail = false
			return status.Error(codes.Unavailable, "injected: emulator unavailable")
		}
		return nil
	}
	payload := event("evt_fail_1", "checkout.session.completed", t0, objCheckout("cs_f", "pi_f1", "cus_1", "u1", "prog-1", 49900, "paid"))
	if code, body := h.deliver(payload); code != http.StatusInternalServerError {
		t.Fatalf("first delivery: %d %v", code, body)
	}
	var in model.WebhookEvent
	if !h.get("webhook_events/evt_fail_1", &in) || in.Status != StatusFailed || in.Attempts != 1 {
		t.Errorf("inbox after failure = %+v", in)
	}
	if n := h.count("payments") + h.count("enrollments") + h.count("users/u1/coaches"); n != 0 {
		t.Errorf("failure left %d documents", n)
	}
	if code, body := h.deliver(payload); code != 200 || body["status"] != StatusProcessed {
		t.Fatalf("retry: %d %v", code, body)
	}
	if !h.get("webhook_events/evt_fail_1", &in) || in.Status != StatusProcessed || in.Attempts != 2 {
		t.Errorf("inbox after retry = %+v", in)
	}
	if h.count("payments") != 1 || h.count("enrollments") != 1 || h.count("users/u1/coaches") != 2 {
		t.Errorf("effect after retry: payments %d enrollments %d coaches %d", h.count("payments"), h.count("enrollments"), h.count("users/u1/coaches"))
	}
	if code, body := h.deliver(payload); code != 200 || body["status"] != StatusDuplicate {
		t.Errorf("third delivery: %d %v", code, body)
	}

	// After-commit failure: claims.
	h.claims.users["u1"] = map[string]any{"admin": true}
	h.claims.failNext = true
	sub := event("evt_fail_2", "customer.subscription.created", t0, objSub("sub_f", "cus_1", "active", []string{"price_premium"}, t0+86400, nil))
	if code, body := h.deliver(sub); code != http.StatusInternalServerError {
		t.Fatalf("claims failure: %d %v", code, body)
	}
	if code, body := h.deliver(sub); code != 200 || body["status"] != StatusDuplicate {
		t.Fatalf("claims retry: %d %v", code, body)
	}
	got := h.claims.users["u1"]
	if got["admin"] != true || !slices.Equal(got["entitlements"].([]string), []string{"premium"}) {
		t.Errorf("claims after retry = %v", got)
	}
}

// TestAccountUpdatedBeforeOnboardingWrite: an account.updated event that
// overtakes the onboarding callable's own write creates the coach's
// private Connect state (never the public profile); a later event of
// another account for that coach is not linked.
func TestAccountUpdatedBeforeOnboardingWrite(t *testing.T) {
	h := newHarness(t)
	h.set("users/coach-2", model.User{UserID: "coach-2"})
	code, body := h.deliver(event("evt_early", "account.updated", t0, objAccount("acct_2", "coach-2", false, false, []string{"external_account"}, "")))
	if code != 200 || body["status"] != StatusProcessed {
		t.Fatalf("early account.updated: %d %v", code, body)
	}
	var cc model.CoachConnect
	if !h.get("coach_profiles/coach-2/private/connect", &cc) || cc.CoachID != "coach-2" || cc.StripeAccountID != "acct_2" ||
		cc.PayoutsEnabled || cc.PayoutsReason == "" || cc.AccountUpdated == nil {
		t.Errorf("connect state = %+v", cc)
	}
	if h.get("coach_profiles/coach-2", &map[string]any{}) {
		t.Error("the webhook created a public coach profile")
	}
	code, body = h.deliver(event("evt_other", "account.updated", t0+10, objAccount("acct_3", "coach-2", true, true, nil, "")))
	if code != 200 || body["status"] != StatusIgnored {
		t.Errorf("other account: %d %v", code, body)
	}
}

// TestAccountUpdatedRepairsMalformedConnectState: a Connect document with
// a field of the wrong type does not block the webhook (which used to
// answer 500 forever); the event rewrites it.
func TestAccountUpdatedRepairsMalformedConnectState(t *testing.T) {
	h := newHarness(t)
	h.set("users/coach-4", model.User{UserID: "coach-4"})
	h.set("coach_profiles/coach-4/private/connect", map[string]any{"coachId": "coach-4", "stripeAccountId": "acct_4",
		"payoutsEnabled": "yes", "accountUpdatedAt": "yesterday"})
	code, body := h.deliver(event("evt_fix", "account.updated", t0, objAccount("acct_4", "coach-4", true, true, nil, "")))
	if code != 200 || body["status"] != StatusProcessed {
		t.Fatalf("account.updated over a malformed state: %d %v", code, body)
	}
	var cc model.CoachConnect
	if !h.get("coach_profiles/coach-4/private/connect", &cc) || cc.StripeAccountID != "acct_4" || !cc.PayoutsEnabled || cc.AccountUpdated == nil {
		t.Errorf("connect state = %+v", cc)
	}
}
