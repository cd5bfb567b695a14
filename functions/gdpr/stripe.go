package gdpr

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/account"
	"github.com/stripe/stripe-go/v76/customer"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
)

// StripeAPI deletes customers and Connect accounts through the Stripe API
// (stripe-mock locally).
type StripeAPI struct {
	c customer.Client
	a account.Client
}

// NewStripeAPI returns a StripeAPI with the secret key, at baseURL when
// set (cfg.StripeAPIURL), else api.stripe.com.
func NewStripeAPI(key config.Secret, baseURL string) *StripeAPI {
	bc := &stripe.BackendConfig{HTTPClient: &http.Client{Timeout: 30 * time.Second},
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}, MaxNetworkRetries: stripe.Int64(2)}
	if baseURL != "" {
		bc.URL = stripe.String(baseURL)
	}
	b := stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	return &StripeAPI{c: customer.Client{B: b, Key: key.Reveal()}, a: account.Client{B: b, Key: key.Reveal()}}
}

// Delete implements StripeCustomers: the customer is deleted (Stripe
// cancels its subscriptions and removes its payment methods). A customer
// that no longer exists (deleted earlier: Stripe's 404 resource_missing,
// "No such customer") is gone, no error. Transient failures are
// Unavailable (retryable); a rejected request, and a key of the wrong
// mode, FailedPrecondition.
func (a *StripeAPI) Delete(_ context.Context, customerID string) (gone bool, err error) {
	_, err = a.c.Del(customerID, nil)
	return stripeDeleted("stripe: delete customer", err)
}

// DeleteAccount implements StripeAccounts: the coach's Connect account is
// deleted (Stripe allows it for the platform's Express and Custom accounts
// once their balances are zero); an account that no longer exists (a 404)
// is gone, no error. Transient failures are Unavailable (retryable); a
// rejected request (a balance left, a Standard account) FailedPrecondition,
// which fails the erasure for an admin to settle.
func (a *StripeAPI) DeleteAccount(_ context.Context, accountID string) (gone bool, err error) {
	_, err = a.a.Del(accountID, nil)
	return stripeDeleted("stripe: delete connect account", err)
}

// stripeDeleted classifies the outcome of a Stripe DELETE. Success is the
// object with deleted: true (stripe-mock answers so for every id, a
// repeated one too), deleted by this call. A 404 is an object already
// gone, and so is a 403 account_invalid (a Connect account deleted, or no
// longer the platform's): gone, no error. A 404 that says a similar object
// exists in the other mode (a key of the wrong mode: the object is not
// gone) is FailedPrecondition. Rate limits, server and network errors are
// Unavailable; any other rejected request FailedPrecondition.
func stripeDeleted(op string, err error) (gone bool, _ error) {
	if err == nil {
		return false, nil
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case strings.Contains(se.Msg, "similar object exists"):
			// A key of the other mode: the object exists, this key cannot
			// see it (as functions/payments accountNotFound decides). Not
			// deleted: a person fixes the key, the erasure fails meanwhile.
			return false, fault.Wrap(err, fault.FailedPrecondition, op+": the Stripe key is of the other mode (test/live)")
		case se.Code == stripe.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound ||
			se.Code == stripe.ErrorCodeAccountInvalid:
			// account_invalid (403): the Connect account no longer exists
			// or the platform lost access to it, as functions/payments
			// accountNotFound reads it; nothing is left for the platform
			// to delete, so the erasure goes on.
			return true, nil
		case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500:
			return false, fault.Wrap(err, fault.Unavailable, op)
		}
		return false, fault.Wrap(err, fault.FailedPrecondition, op)
	}
	return false, fault.Wrap(err, fault.Unavailable, op)
}
