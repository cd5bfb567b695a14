package functions

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/logging"
)

// paymentsService builds the payments service shared by every function
// below. It takes the GDPR pseudonym key (pseudonymKey: IJ_PSEUDONYM_KEY,
// required outside development), so each of them mounts that secret.
var paymentsService = service(func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*payments.Service, error) {
	if err := cfg.Require("STRIPE_SECRET_KEY"); err != nil {
		return nil, err
	}
	key, err := pseudonymKey(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	ac, err := c.Auth(ctx)
	if err != nil {
		return nil, err
	}
	return &payments.Service{
		Firestore: fs,
		Stripe:    payments.NewStripe(cfg.StripeSecretKey.Reveal(), cfg.StripeAPIURL, nil),
		Auth:      ac,
		Now:       now,
		Config:    payments.SettingsFrom(cfg),
		// The webhook finds a user's finished erasure by its keyed id and
		// keeps that user's payments pseudonymised (gdpr's key).
		PseudonymKey: key,
	}, nil
})

// NewEnrollmentsService builds the payments service onProgramWritten (and
// ops programs sync) uses: enrolments and coach assignments are Firestore
// only, so it needs neither Stripe nor the pseudonym key.
func NewEnrollmentsService(ctx context.Context, c *cloud.Clients, _ *config.Config) (*payments.Service, error) {
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	return &payments.Service{Firestore: fs, Now: now}, nil
}

var enrollmentsService = service(NewEnrollmentsService)

// stripeWebhook serves the webhook once the service is built; a missing
// configuration answers 503 so that Stripe retries after the fix.
func stripeWebhook(w http.ResponseWriter, r *http.Request) {
	s, err := paymentsService.Get(logging.FromRequest(r))
	if err != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "payments unavailable"})
		return
	}
	s.Webhook(w, r)
}

func paymentFunctions() []Function {
	// IJ_PSEUDONYM_KEY: the webhook (and the reconciliation replaying it)
	// checks for a finished GDPR erasure before writing about a user; the
	// callables share the service, which is built with the key.
	stripeKey := []string{"IJ_PSEUDONYM_KEY", "STRIPE_SECRET_KEY"}
	webhook := Function{Name: "stripeWebhook", Trigger: HTTP, HTTP: stripeWebhook,
		Secrets: []string{"IJ_PSEUDONYM_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRETS"},
		Doc:     "Stripe webhooks: verified, deduplicated (webhook_events inbox), order-safe payments, enrolments, subscriptions, entitlements, refunds, disputes, Connect and payouts."}

	checkout := onCall("createCheckoutSession", callable.Options{RequireAuth: true}, paymentsService, (*payments.Service).CreateCheckoutSession)
	checkout.Secrets = stripeKey
	checkout.Doc = "Starts a Stripe Checkout for a program (price from Firestore) or a subscription plan (billing_plans)."

	portal := onCall("createBillingPortalSession", callable.Options{RequireAuth: true}, paymentsService, (*payments.Service).CreateBillingPortalSession)
	portal.Secrets = stripeKey
	portal.Doc = "Opens Stripe's billing portal for the signed-in user."

	connect := onCall("createConnectOnboardingLink", callable.Options{RequireCoach: true}, paymentsService, (*payments.Service).CreateConnectOnboardingLink)
	connect.Secrets = stripeKey
	connect.Doc = "Creates the coach's Stripe Connect Express account on first use and returns an onboarding link."

	reconcile := onPubSub("stripeReconcile", "stripe-reconcile", paymentsService, (*payments.Service).Reconcile)
	reconcile.Schedule, reconcile.ScheduleZone, reconcile.ScheduleBody = "15 3 * * *", "Europe/Stockholm", "{}"
	reconcile.Secrets = stripeKey
	// A first run lists and replays up to 30 days; Replay stops within
	// payments.ReconcileBudget and saves its checkpoint before this limit.
	reconcile.Timeout = 540 * time.Second
	reconcile.Doc = "Daily: lists Stripe events since the checkpoint (at most 30 days) and replays those missing from the inbox, oldest first; then fetches every coach's Connect account and corrects a stale payoutsEnabled/payoutsReason; at most 7 minutes a run, resumed at the checkpoint."

	programs := onFirestore("onProgramWritten", enrollmentsService, (*payments.Service).OnProgramWritten)
	programs.EventType, programs.Document = DocumentWritten, "programs/{programId}"
	// A program with many enrolments: each changed one is a transaction.
	programs.Timeout = 540 * time.Second
	programs.Doc = "Keeps the coaches of a program's active enrolments in step with its createdBy: a coach who left loses the enrolled users (assignments, client_profiles.coachIds), one who joined gets them; a deleted or re-created program's enrolments keep none."

	return []Function{webhook, checkout, portal, connect, reconcile, programs}
}
