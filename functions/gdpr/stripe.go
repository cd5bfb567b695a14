package gdpr

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/customer"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
)

// StripeAPI deletes customers through the Stripe API (stripe-mock locally).
type StripeAPI struct {
	c customer.Client
}

// NewStripeAPI returns a StripeAPI with the secret key, at baseURL when
// set (cfg.StripeAPIURL), else api.stripe.com.
func NewStripeAPI(key config.Secret, baseURL string) *StripeAPI {
	bc := &stripe.BackendConfig{HTTPClient: &http.Client{Timeout: 30 * time.Second},
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}, MaxNetworkRetries: stripe.Int64(2)}
	if baseURL != "" {
		bc.URL = stripe.String(baseURL)
	}
	return &StripeAPI{c: customer.Client{B: stripe.GetBackendWithConfig(stripe.APIBackend, bc), Key: key.Reveal()}}
}

// Delete implements StripeCustomers: the customer is deleted (Stripe
// cancels its subscriptions and removes its payment methods); a customer
// that no longer exists counts as deleted. Transient failures are
// Unavailable (retryable); a rejected request FailedPrecondition.
func (a *StripeAPI) Delete(_ context.Context, customerID string) error {
	_, err := a.c.Del(customerID, nil)
	if err == nil {
		return nil
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.Code == stripe.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound:
			return nil
		case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500:
			return fault.Wrap(err, fault.Unavailable, "stripe: delete customer")
		}
		return fault.Wrap(err, fault.FailedPrecondition, "stripe: delete customer")
	}
	return fault.Wrap(err, fault.Unavailable, "stripe: delete customer")
}
