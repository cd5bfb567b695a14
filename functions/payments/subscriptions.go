package payments

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// ClaimEntitlements is the custom claim holding a user's entitlements
// (a sorted list of strings, absent when none).
const ClaimEntitlements = "entitlements"

// EntitledStatuses are the Stripe subscription statuses that grant a
// plan's entitlements (past_due: a grace period while Stripe retries).
var EntitledStatuses = map[string]bool{"active": true, "trialing": true, "past_due": true}

// subRank orders subscription statuses for events of the same second.
func subRank(st string) int {
	switch st {
	case "incomplete":
		return 1
	case "trialing":
		return 2
	case "active":
		return 3
	case "past_due":
		return 4
	case "unpaid", "paused":
		return 5
	case "canceled", "incomplete_expired":
		return 6
	}
	return 0 // "" (a record created by an invoice before the subscription event)
}

func subFinal(st string) bool { return st == "canceled" || st == "incomplete_expired" }

// subApplies is the subscription order guard: a final status is never left
// for another; otherwise the later event wins, and of two events of the
// same second the higher status rank.
func subApplies(old *model.Subscription, status string, at time.Time) bool {
	if old == nil || old.Status == "" {
		return true
	}
	if subFinal(old.Status) && !subFinal(status) {
		return false
	}
	return at.After(old.SourceUpdated) || (at.Equal(old.SourceUpdated) && subRank(status) > subRank(old.Status))
}

func (s *Service) subRef(id string) *firestore.DocumentRef {
	return s.Firestore.Collection(model.ColSubscriptions).Doc(id)
}

// subscriptionUser resolves the user a subscription event belongs to: the
// stripe_customers mapping of cus, else the stored subscription's user,
// else the uid in the object's metadata; "" when none is known.
func (s *Service) subscriptionUser(tx *firestore.Transaction, cus string, old *model.Subscription, metaUID string) (string, error) {
	if cus != "" {
		uid, _, err := s.customerUser(tx, cus)
		if err != nil || uid != "" {
			return uid, err
		}
	}
	if old != nil && old.UserID != "" {
		return old.UserID, nil
	}
	return metaUID, nil
}

func (s *Service) readSubscription(tx *firestore.Transaction, id string) (*model.Subscription, error) {
	snap, err := tx.Get(s.subRef(id))
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sub model.Subscription
	if err := snap.DataTo(&sub); err != nil {
		return nil, fmt.Errorf("decode subscription: %w", err)
	}
	return &sub, nil
}

// subscriptionEffect handles customer.subscription.*: the subscription
// record, then (after commit, and on each duplicate) the user's
// entitlement claims.
func (s *Service) subscriptionEffect(sub *stripe.Subscription, at time.Time) effect {
	cus := ""
	if sub.Customer != nil {
		cus = sub.Customer.ID
	}
	var prices []string
	if sub.Items != nil {
		for _, it := range sub.Items.Data {
			if it != nil && it.Price != nil && it.Price.ID != "" && !slices.Contains(prices, it.Price.ID) {
				prices = append(prices, it.Price.ID)
			}
		}
	}
	sort.Strings(prices)
	status := string(sub.Status)
	apply := func(ctx context.Context, tx *firestore.Transaction) (Result, error) {
		old, err := s.readSubscription(tx, sub.ID)
		if err != nil {
			return Result{}, err
		}
		uid, err := s.subscriptionUser(tx, cus, old, sub.Metadata[metaUID])
		if err != nil {
			return Result{}, err
		}
		if uid == "" {
			return ignored("unknown customer"), nil
		}
		// An erased user gets no subscription record and no claims back.
		done, err := s.erasureDone(tx, uid)
		if err != nil {
			return Result{}, err
		}
		if done {
			return ignored(reasonErased), nil
		}
		if !subApplies(old, status, at) {
			return Result{Status: StatusProcessed, Reason: "older than the stored state"}, nil
		}
		ents, err := s.planEntitlements(ctx, tx, prices)
		if err != nil {
			return Result{}, err
		}
		var canceledAt any
		if sub.CanceledAt > 0 {
			canceledAt = unix(sub.CanceledAt)
		}
		err = tx.Set(s.subRef(sub.ID), map[string]any{
			"subscriptionId": sub.ID, "userId": uid, "customerId": cus, "status": status,
			"priceIds": nonNil(prices), "entitlements": ents, "currentPeriodEnd": unix(sub.CurrentPeriodEnd),
			"cancelAtPeriodEnd": sub.CancelAtPeriodEnd, "canceledAt": canceledAt,
			"sourceUpdated": at, "updatedAt": s.now(),
		}, firestore.MergeAll)
		if err != nil {
			return Result{}, err
		}
		return processed, nil
	}
	after := func(ctx context.Context) error {
		snap, err := s.subRef(sub.ID).Get(ctx)
		if store.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		uid, _ := snap.Data()["userId"].(string)
		if uid == "" {
			return nil
		}
		return s.SyncEntitlements(ctx, uid)
	}
	return effect{apply: apply, after: after}
}

// planEntitlements maps price ids to entitlements through
// billing_plans.stripePriceId (a price without a plan grants nothing).
func (s *Service) planEntitlements(ctx context.Context, tx *firestore.Transaction, prices []string) ([]string, error) {
	ents := []string{}
	if len(prices) == 0 {
		return ents, nil
	}
	if len(prices) > 30 {
		prices = prices[:30]
	}
	in := make([]any, len(prices))
	for i, p := range prices {
		in[i] = p
	}
	q, err := indexes.MustLookup(indexes.QBillingPlansByPrice).Build(s.Firestore, in)
	if err != nil {
		return nil, err
	}
	docs, err := tx.Documents(q).GetAll()
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		var p model.BillingPlan
		if err := d.DataTo(&p); err != nil {
			return nil, fmt.Errorf("decode billing plan: %w", err)
		}
		for _, e := range p.Entitlements {
			if e != "" && !slices.Contains(ents, e) {
				ents = append(ents, e)
			}
		}
	}
	sort.Strings(ents)
	_ = ctx
	return ents, nil
}

func invoiceRank(state string) int {
	if state == "paid" {
		return 2
	}
	if state == "payment_failed" {
		return 1
	}
	return 0
}

// invoiceEffect handles invoice.paid and invoice.payment_failed of a
// subscription: the payment record and the subscription's latest invoice
// state (a record is started when the invoice comes before the
// subscription's own event).
func (s *Service) invoiceEffect(inv *stripe.Invoice, typ string, at time.Time) effect {
	if inv.Subscription == nil || inv.Subscription.ID == "" {
		return ignoreEffect("invoice without a subscription")
	}
	subID := inv.Subscription.ID
	state := "paid"
	base := model.PaymentSucceeded
	amount := inv.AmountPaid
	if typ == "invoice.payment_failed" {
		state, base, amount = "payment_failed", model.PaymentFailed, inv.AmountDue
	}
	cus := ""
	if inv.Customer != nil {
		cus = inv.Customer.ID
	}
	metaUIDv := ""
	if inv.SubscriptionDetails != nil {
		metaUIDv = inv.SubscriptionDetails.Metadata[metaUID]
	}
	invAt := unix(inv.Created)
	f := paymentFacts{
		docID: inv.ID, at: at, base: base, amount: amount, currency: string(inv.Currency), customerID: cus,
		subscriptionID: subID, invoiceURL: inv.HostedInvoiceURL, description: descSubscription,
	}
	if inv.PaymentIntent != nil && inv.PaymentIntent.ID != "" {
		f.docID, f.piID = inv.PaymentIntent.ID, inv.PaymentIntent.ID
	}
	if inv.Charge != nil {
		f.chargeID = inv.Charge.ID
	}
	if base == model.PaymentSucceeded && inv.StatusTransitions != nil {
		f.paidAt = unix(inv.StatusTransitions.PaidAt)
	}
	recordPayment := f.piID != "" || amount > 0
	return effect{apply: func(ctx context.Context, tx *firestore.Transaction) (Result, error) {
		old, err := s.readSubscription(tx, subID)
		if err != nil {
			return Result{}, err
		}
		uid, err := s.subscriptionUser(tx, cus, old, metaUIDv)
		if err != nil {
			return Result{}, err
		}
		if uid == "" {
			return ignored("unknown customer"), nil
		}
		// An erased user gets no subscription record back; the payment is
		// kept pseudonymised for the books (readPayment).
		erased, err := s.erasureDone(tx, uid)
		if err != nil {
			return Result{}, err
		}
		if erased && !recordPayment {
			return ignored(reasonErased), nil
		}
		f := f
		f.uid = uid
		var p *paymentTx
		if recordPayment {
			if p, err = s.readPayment(ctx, tx, f); err != nil {
				return Result{}, err
			}
		}
		// Writes.
		if erased {
			if err := p.write(tx, s.now()); err != nil {
				return Result{}, err
			}
			if p.held {
				return heldResult, nil
			}
			return processed, nil
		}
		newer := old == nil || old.LatestInvoiceAt == nil || invAt.After(*old.LatestInvoiceAt) ||
			(invAt.Equal(*old.LatestInvoiceAt) && (inv.ID > old.LatestInvoiceID ||
				inv.ID == old.LatestInvoiceID && invoiceRank(state) > invoiceRank(old.LatestInvoiceState)))
		upd := map[string]any{}
		if old == nil {
			upd = map[string]any{"subscriptionId": subID, "userId": uid, "customerId": cus, "status": "",
				"priceIds": []string{}, "entitlements": []string{}, "cancelAtPeriodEnd": false}
		}
		if newer {
			upd["latestInvoiceId"], upd["latestInvoiceAt"], upd["latestInvoiceState"] = inv.ID, invAt, state
		}
		if len(upd) > 0 {
			upd["updatedAt"] = s.now()
			if err := tx.Set(s.subRef(subID), upd, firestore.MergeAll); err != nil {
				return Result{}, err
			}
		}
		if p != nil {
			if err := p.write(tx, s.now()); err != nil {
				return Result{}, err
			}
		}
		return processed, nil
	}}
}

// Entitlements returns the union of the entitlements of the user's
// subscriptions whose status is in EntitledStatuses, sorted.
func (s *Service) Entitlements(ctx context.Context, uid string) ([]string, error) {
	q := indexes.MustLookup(indexes.QMySubscriptions).MustBuild(s.Firestore, uid)
	docs, err := q.Documents(ctx).GetAll()
	if err != nil {
		return nil, store.Classify("entitlements", err)
	}
	ents := []string{}
	for _, d := range docs {
		var sub model.Subscription
		if err := d.DataTo(&sub); err != nil {
			return nil, fmt.Errorf("entitlements: decode subscription: %w", err)
		}
		if !EntitledStatuses[sub.Status] {
			continue
		}
		for _, e := range sub.Entitlements {
			if e != "" && !slices.Contains(ents, e) {
				ents = append(ents, e)
			}
		}
	}
	sort.Strings(ents)
	return ents, nil
}

// SyncEntitlements sets the user's entitlements claim from all their
// subscriptions, keeping every other claim (admin, coach, …). It writes
// only when the claim would change, and re-reads the subscriptions after a
// write so that a concurrent change is not lost. A user missing from Auth
// (erased) is not an error.
func (s *Service) SyncEntitlements(ctx context.Context, uid string) error {
	for attempt := 0; attempt < 3; attempt++ {
		want, err := s.Entitlements(ctx, uid)
		if err != nil {
			return err
		}
		u, err := s.Auth.GetUser(ctx, uid)
		if auth.IsUserNotFound(err) {
			slog.InfoContext(ctx, "entitlements: no auth user", "uid", uid)
			return nil
		}
		if err != nil {
			return fmt.Errorf("entitlements: get user: %w", err)
		}
		claims := map[string]any{}
		for k, v := range u.CustomClaims {
			claims[k] = v
		}
		if slices.Equal(claimList(claims[ClaimEntitlements]), want) {
			return nil
		}
		if len(want) == 0 {
			delete(claims, ClaimEntitlements)
		} else {
			claims[ClaimEntitlements] = want
		}
		if err := s.Auth.SetCustomUserClaims(ctx, uid, claims); err != nil {
			return fmt.Errorf("entitlements: set claims: %w", err)
		}
		slog.InfoContext(ctx, "entitlements updated", "uid", uid, "count", len(want))
		again, err := s.Entitlements(ctx, uid)
		if err != nil {
			return err
		}
		if slices.Equal(again, want) {
			return nil
		}
	}
	return nil
}

func claimList(v any) []string {
	out := []string{}
	switch l := v.(type) {
	case []any:
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, l...)
	}
	sort.Strings(out)
	return out
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
