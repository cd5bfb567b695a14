package payments

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/fault"
)

// TestCheckoutKeyCoversEveryParameter: Stripe refuses a request that
// reuses an idempotency key with other parameters (idempotency_error), so
// two checkout requests under one key must send the same form. A coach
// may edit the program's title (the Checkout product's name) at any time:
// a buyer's retry of the same click after the edit (the same requestId,
// or no requestId within the 10-minute window) reused the key with the new
// name, and Stripe would refuse the checkout until the key expired (24 h
// for a requestId).
func TestCheckoutKeyCoversEveryParameter(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	tok := c.auth.SignIn(t, h.project+"-buyer", nil)
	inputs := []map[string]any{
		{"programId": "prog-1", "requestId": "click-1"},
		{"programId": "prog-1"}, // keyed by the 10-minute window (the clock is fixed)
	}
	checkoutAll := func() {
		t.Helper()
		for _, in := range inputs {
			if code, res, st := call(t, c.checkout, tok, in); code != 200 || st != "" {
				t.Fatalf("checkout %v: %d %v %s", in, code, res, st)
			}
		}
	}

	checkoutAll()
	if _, err := h.db.Doc("programs/prog-1").Update(context.Background(),
		[]firestore.Update{{Path: "title", Value: "Calm Mind, 2nd edition"}}); err != nil {
		t.Fatalf("edit title: %v", err)
	}
	checkoutAll()

	reqs := h.rec.find("POST", "/v1/checkout/sessions")
	if len(reqs) != 2*len(inputs) {
		t.Fatalf("%d checkout requests, want %d", len(reqs), 2*len(inputs))
	}
	byKey := map[string]recorded{}
	for _, r := range reqs {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			t.Fatalf("checkout request without an idempotency key")
		}
		first, seen := byKey[key]
		if !seen {
			byKey[key] = r
			continue
		}
		if !reflect.DeepEqual(first.Form, r.Form) {
			t.Errorf("key %s sent with other parameters: product name %q, then %q", key,
				first.Form.Get("line_items[0][price_data][product_data][name]"), r.Form.Get("line_items[0][price_data][product_data][name]"))
		}
	}
}

// TestStripeFaultIdempotencyErrorIsNotRetryable: a key Stripe refuses
// because it was used with other parameters stays refused for 24 h, so
// the caller must not be told to retry (UNAVAILABLE) but get INTERNAL.
func TestStripeFaultIdempotencyErrorIsNotRetryable(t *testing.T) {
	for _, tt := range []struct {
		typ  stripe.ErrorType
		want fault.Code
	}{
		{stripe.ErrorTypeIdempotency, fault.Internal},
		{stripe.ErrorTypeInvalidRequest, fault.Internal},
		{stripe.ErrorTypeCard, fault.FailedPrecondition},
		{stripe.ErrorTypeAPI, fault.Unavailable},
	} {
		if got := fault.CodeOf(stripeFault("checkout", &stripe.Error{Type: tt.typ})); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.typ, got, tt.want)
		}
	}
}

// TestCheckoutPriceStripeCannotCharge: a program priced below Stripe's
// smallest charge for its currency (or above its largest) would have every
// checkout refused by Stripe and reach the buyer as INTERNAL; it is a
// FAILED_PRECONDITION that names the limits, and nothing is sent to Stripe.
func TestCheckoutPriceStripeCannotCharge(t *testing.T) {
	for _, tt := range []struct {
		price    int64
		currency string
		wantOK   bool
	}{
		{299, "SEK", false},
		{300, "SEK", true},
		{49, "EUR", false},
		{50, "EUR", true},
		{100_000_000, "SEK", false},
	} {
		t.Run(fmt.Sprintf("%d %s", tt.price, tt.currency), func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			c := serveCallables(t, h)
			if _, err := h.db.Doc("programs/prog-1").Update(context.Background(), []firestore.Update{
				{Path: "price", Value: tt.price}, {Path: "currency", Value: tt.currency}}); err != nil {
				t.Fatal(err)
			}
			tok := c.auth.SignIn(t, h.project+"-buyer", nil)
			code, res, st := call(t, c.checkout, tok, map[string]any{"programId": "prog-1"})
			sent := len(h.rec.find("POST", "/v1/checkout/sessions"))
			switch {
			case tt.wantOK && (code != 200 || sent != 1):
				t.Errorf("checkout: %d %v %s, %d sessions requested", code, res, st, sent)
			case !tt.wantOK && (st != "FAILED_PRECONDITION" || sent != 0):
				t.Errorf("checkout: %d %v %s, %d sessions requested; want FAILED_PRECONDITION and none", code, res, st, sent)
			}
		})
	}
}
