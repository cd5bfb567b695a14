package payments

import (
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestConnectedAccountEventsOfSalesIgnored: an event of a connected
// account's own objects (a coach's payment, refund, dispute, subscription
// or checkout on their Express account) comes with its account field set
// and is signed with the Connect endpoint's secret. It named a platform
// user and program in its metadata and was taken as the platform's sale:
// payment recorded, user enrolled, and the coach's share paid out again
// from platform funds by the payouts run. Such events are recorded as
// ignored; the platform's own (no account) and a connected account's
// account and payout events are still taken.
func TestConnectedAccountEventsOfSalesIgnored(t *testing.T) {
	h := newHarness(t)
	h.seed()
	meta := map[string]any{"uid": "u1", "programId": "prog-1", "kind": "program"}
	acct := map[string]any{"account": "acct_someone_else"}
	tests := []struct {
		name string
		body []byte
	}{
		{"payment_intent.succeeded", eventWith("evt_ca_pi", "payment_intent.succeeded", t0+10,
			objPI("pi_ca_1", "cus_1", "succeeded", 49900, meta, false), acct)},
		{"checkout.session.completed", eventWith("evt_ca_cs", "checkout.session.completed", t0+11,
			objCheckout("cs_ca_1", "pi_ca_2", "cus_1", "u1", "prog-1", 49900, "paid"), acct)},
		{"charge.refunded", eventWith("evt_ca_ch", "charge.refunded", t0+12,
			objCharge("ch_ca_1", "pi_ca_1", "cus_1", 49900, 49900), acct)},
		{"customer.subscription.created", eventWith("evt_ca_sub", "customer.subscription.created", t0+13,
			objSub("sub_ca_1", "cus_1", "active", []string{"price_premium"}, t0+86400*30, nil), acct)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := testenv.DumpDatabase(t, h.db, nil)
			code, out := h.post(tt.body, sign(tt.body, secretConnect, time.Now()))
			if code != 200 || out["status"] != "ignored" {
				t.Errorf("%d %v, want 200 ignored", code, out)
			}
			for _, d := range testenv.DiffDumps(before, testenv.DumpDatabase(t, h.db, nil)) {
				if !strings.Contains(d, "webhook_events/") {
					t.Errorf("wrote beyond its inbox record: %s", d)
				}
			}
		})
	}
	// The platform's own sale is taken.
	body := eventWith("evt_ca_own", "payment_intent.succeeded", t0+20, objPI("pi_own_1", "cus_1", "succeeded", 49900, meta, false), nil)
	if code, out := h.post(body, sign(body, secretPlatform, time.Now())); code != 200 || out["status"] != "processed" {
		t.Errorf("the platform's own payment: %d %v", code, out)
	}
	var en model.Enrollment
	if !h.get("enrollments/"+EnrollmentID("u1", "prog-1"), &en) || en.PaymentID != "pi_own_1" {
		t.Errorf("enrolment %+v, want the platform's payment's", en)
	}
}
