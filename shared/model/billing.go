package model

import "time"

// Billing collections added by the payments area.
const (
	// ColBillingPlans is billing_plans/{planId}: the subscription plans a
	// user can buy (server/admin-written). createCheckoutSession reads the
	// Stripe price id from here, never from the client; the webhook maps a
	// subscription's price ids back to entitlements through stripePriceId.
	ColBillingPlans = "billing_plans"
	// DocBilling is users/{uid}/private/billing: the user → Stripe
	// customer mapping (the reverse of stripe_customers/{cus}).
	DocBilling = "billing"
)

// BillingPlan is billing_plans/{planId}.
type BillingPlan struct {
	PlanID        string   `firestore:"planId" json:"planId"`
	Title         string   `firestore:"title" json:"title"`
	StripePriceID string   `firestore:"stripePriceId" json:"stripePriceId"`
	Entitlements  []string `firestore:"entitlements" json:"entitlements"`
	Active        bool     `firestore:"active" json:"active"`
}

// BillingAccount is users/{uid}/private/billing (server-only).
type BillingAccount struct {
	StripeCustomerID string    `firestore:"stripeCustomerId" json:"stripeCustomerId"`
	CreatedAt        time.Time `firestore:"createdAt" json:"createdAt"`
}
