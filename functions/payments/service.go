// Package payments is the Stripe side of Inner Journey: the webhook that
// turns Stripe's events into payments, enrolments, subscriptions,
// entitlements (custom claims), disputes, coaches' Connect state and payout
// statuses; the callables that start a Checkout, open the billing portal
// and onboard a coach to Connect; and the daily reconciliation that replays
// events that never reached the inbox.
//
// Every webhook effect is written in one Firestore transaction together
// with its inbox document webhook_events/{eventId}, so an event takes effect
// exactly once however often Stripe delivers it. Every effect is a merge
// guarded by the Stripe object's own timestamps and status precedence, so
// events applied in any order converge on the same state.
package payments

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/innerjourney/functions/shared/config"
)

// ClaimsClient reads and sets a user's custom claims (*auth.Client
// implements it). Errors are the Auth SDK's; auth.IsUserNotFound is
// honoured (a deleted user has no claims to keep in step).
type ClaimsClient interface {
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
	SetCustomUserClaims(ctx context.Context, uid string, customClaims map[string]interface{}) error
}

// Settings are the payments area's configuration.
type Settings struct {
	// WebhookSecrets are the signing secrets a webhook may be signed with
	// (platform endpoint, Connect endpoint, an old one during rotation).
	WebhookSecrets []config.Secret
	// LiveMode is whether the Stripe key is live; an event's livemode must
	// match it.
	LiveMode bool
	// AppURL is the default place Checkout, the billing portal and Connect
	// onboarding return to (https://PROJECT.web.app by default).
	AppURL string
	// ReturnOrigins are further origins a client may name in returnUrl
	// (the configured CORS origins, "*" excluded).
	ReturnOrigins []string
	// ConnectCountry is the country of new Connect Express accounts.
	ConnectCountry string
	// MaxBodyBytes bounds a webhook body (MaxWebhookBytes when 0).
	MaxBodyBytes int64
}

// SettingsFrom derives Settings from the process configuration.
func SettingsFrom(cfg *config.Config) Settings {
	st := Settings{
		WebhookSecrets: cfg.StripeWebhookSecrets,
		LiveMode:       cfg.LiveMode(),
		ConnectCountry: "SE",
	}
	if cfg.ProjectID != "" {
		st.AppURL = "https://" + cfg.ProjectID + ".web.app"
	}
	for _, o := range cfg.CORSOrigins {
		if o != "*" {
			st.ReturnOrigins = append(st.ReturnOrigins, o)
		}
	}
	return st
}

// Service holds the payments handlers' dependencies. All fields but the
// test hook are required (the callables alone do not use PseudonymKey).
type Service struct {
	Firestore *firestore.Client
	// Stripe is the API client; see NewStripe.
	Stripe *client.API
	// Auth sets entitlements as custom claims.
	Auth ClaimsClient
	// Now is the clock (UTC).
	Now    func() time.Time
	Config Settings
	// PseudonymKey is the GDPR pseudonym key (IJ_PSEUDONYM_KEY, as
	// gdpr.Service.PseudonymKey). The webhook uses it to find a user's
	// finished erasure (gdpr_requests/{pseudonym.ErasureRequestID}) before
	// it writes anything about the user, and to pseudonymise the payments
	// it then keeps for the books. Checked at first use: an event that
	// needs it fails (and Stripe retries) while it is missing.
	PseudonymKey []byte

	// beforeCommit, when set (tests only), runs inside the webhook
	// transaction after the effect and the inbox document are staged; an
	// error aborts the transaction as a failed commit would.
	beforeCommit func(ctx context.Context, eventID string) error
}

// NewStripe returns a Stripe API client with key. apiURL, when not empty,
// replaces Stripe's base URL (stripe-mock locally); httpClient, when not
// nil, carries the requests (tests record them). The stripe-go logger is
// silenced: the handlers log ids themselves and never request bodies.
func NewStripe(key, apiURL string, httpClient *http.Client) *client.API {
	backend := func(t stripe.SupportedBackend) stripe.Backend {
		bc := &stripe.BackendConfig{
			HTTPClient:        httpClient,
			LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
			MaxNetworkRetries: stripe.Int64(2),
		}
		if apiURL != "" {
			bc.URL = stripe.String(apiURL)
		}
		return stripe.GetBackendWithConfig(t, bc)
	}
	return client.New(key, &stripe.Backends{
		API:     backend(stripe.APIBackend),
		Connect: backend(stripe.ConnectBackend),
		Uploads: backend(stripe.UploadsBackend),
	})
}

// origin returns scheme://host of a URL, "" when it has none.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

func (s *Service) now() time.Time { return s.Now().UTC() }
