package payments

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// CheckoutRequest is createCheckoutSession's input: exactly one of
// ProgramID (a program purchase) and PlanID (a subscription). The price
// is read from programs/{programId} or billing_plans/{planId}; a client
// cannot send one (unknown fields are rejected).
type CheckoutRequest struct {
	ProgramID string `json:"programId,omitempty"`
	PlanID    string `json:"planId,omitempty"`
	// ReturnURL is where Checkout returns to (default: the app URL); its
	// origin must be the app's or a configured CORS origin.
	ReturnURL string `json:"returnUrl,omitempty"`
	// RequestID, optional, makes a client's retry of the same click return
	// the same session (it is part of the idempotency key).
	RequestID string `json:"requestId,omitempty"`
}

// CheckoutResult is createCheckoutSession's output. A free program is
// enrolled at once: Enrolled is true and there is no session.
type CheckoutResult struct {
	SessionID string `json:"sessionId,omitempty"`
	URL       string `json:"url,omitempty"`
	ExpiresAt int64  `json:"expiresAt,omitempty"` // Unix seconds
	Enrolled  bool   `json:"enrolled,omitempty"`
}

// PortalRequest is createBillingPortalSession's input.
type PortalRequest struct {
	ReturnURL string `json:"returnUrl,omitempty"`
}

// LinkResult is the output of createBillingPortalSession and
// createConnectOnboardingLink.
type LinkResult struct {
	URL       string `json:"url"`
	ExpiresAt int64  `json:"expiresAt,omitempty"` // Unix seconds
	AccountID string `json:"accountId,omitempty"`
}

// OnboardingRequest is createConnectOnboardingLink's input.
type OnboardingRequest struct {
	ReturnURL string `json:"returnUrl,omitempty"`
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CreateCheckoutSession starts a Stripe Checkout for the signed-in user:
// a program purchase (mode payment, the program's price and currency) or
// a plan's subscription (mode subscription, the plan's Stripe price).
//
// Errors: UNAUTHENTICATED without a user; INVALID_ARGUMENT for bad input;
// NOT_FOUND for an unknown program or plan; FAILED_PRECONDITION for a
// program without a valid price or an inactive plan; ALREADY_EXISTS when
// the user is already enrolled or subscribed; UNAVAILABLE when Stripe or
// Firestore fail.
func (s *Service) CreateCheckoutSession(ctx context.Context, req *callable.Request) (any, error) {
	uid, err := req.RequireUID()
	if err != nil {
		return nil, err
	}
	var in CheckoutRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if (in.ProgramID == "") == (in.PlanID == "") {
		return nil, fault.Invalid("give exactly one of programId and planId")
	}
	if in.ProgramID != "" && !model.ValidDocID(in.ProgramID) || in.PlanID != "" && !model.ValidDocID(in.PlanID) {
		return nil, fault.Invalid("invalid programId or planId")
	}
	if in.RequestID != "" && !requestIDRE.MatchString(in.RequestID) {
		return nil, fault.Invalid("requestId must be 1–64 letters, digits, '-' or '_'")
	}
	ret, err := s.returnURL(in.ReturnURL)
	if err != nil {
		return nil, err
	}
	if in.ProgramID != "" {
		return s.checkoutProgram(ctx, uid, in, ret)
	}
	return s.checkoutPlan(ctx, uid, in, ret)
}

func (s *Service) checkoutProgram(ctx context.Context, uid string, in CheckoutRequest, ret string) (any, error) {
	snap, err := s.Firestore.Collection(model.ColPrograms).Doc(in.ProgramID).Get(ctx)
	if store.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "program not found")
	}
	if err != nil {
		return nil, store.Classify("createCheckoutSession", err)
	}
	prog := readProgramInfo(snap)
	en, err := s.Firestore.Collection(model.ColEnrollments).Doc(EnrollmentID(uid, in.ProgramID)).Get(ctx)
	if err != nil && !store.IsNotFound(err) {
		return nil, store.Classify("createCheckoutSession", err)
	}
	// An active enrolment of an older version of the program (deleted and
	// created again since) does not block: buying this version moves it.
	if err == nil && en.Data()["status"] == EnrollmentActive && !olderVersion(en.Data()["programCreated"], snap.CreateTime) {
		return nil, fault.New(fault.AlreadyExists, "already enrolled in this program")
	}
	if prog.free {
		return s.enrollFree(ctx, uid, in.ProgramID, snap.CreateTime)
	}
	cur := model.NormalizeCurrency(prog.currency)
	if prog.price == nil || *prog.price < 0 || !model.ValidCurrency(cur) {
		return nil, fault.New(fault.FailedPrecondition, "the program has no valid price")
	}
	if !model.Chargeable(*prog.price, cur) {
		// Stripe would refuse the session (invalid_request): the buyer
		// learns why instead of getting INTERNAL.
		return nil, fault.New(fault.FailedPrecondition, "the program's price cannot be paid by card (%d to %d minor units of %s)",
			model.MinCharge[cur], model.MaxCharge, cur)
	}
	cus, err := s.EnsureCustomer(ctx, uid)
	if err != nil {
		return nil, err
	}
	name := nonEmpty(prog.title, "Program")
	meta := map[string]string{metaUID: uid, metaProgramID: in.ProgramID, metaKind: "program"}
	// The program's version (its document's create time) goes with its
	// id, so that the webhook can tell the program bought from one deleted
	// and created again under the id before the payment is recorded
	// (payments.programCreated).
	created := ""
	if !snap.CreateTime.IsZero() {
		created = formatProgramCreated(snap.CreateTime)
		meta[metaProgramCreated] = created
	}
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		Customer:          stripe.String(cus),
		ClientReferenceID: stripe.String(uid),
		SuccessURL:        stripe.String(withQuery(ret, "checkout=success&session_id={CHECKOUT_SESSION_ID}")),
		CancelURL:         stripe.String(withQuery(ret, "checkout=cancel")),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:   stripe.String(strings.ToLower(cur)),
				UnitAmount: stripe.Int64(*prog.price),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{
					Name:     stripe.String(name),
					Metadata: map[string]string{metaProgramID: in.ProgramID},
				},
			},
		}},
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta},
	}
	// Every parameter that can change is part of the key, since Stripe
	// refuses a key reused with other parameters for 24 h: the program's
	// version (a program created again with the same price sends other
	// metadata) and its title (the product's name, which its coach may edit
	// between a click and its retry).
	p.SetIdempotencyKey(s.idemKey("checkout", uid, "program", in.ProgramID, created, fmt.Sprint(*prog.price), cur, name, cus, ret, s.requestKey(in.RequestID)))
	return s.newCheckout(ctx, p, uid)
}

func (s *Service) checkoutPlan(ctx context.Context, uid string, in CheckoutRequest, ret string) (any, error) {
	snap, err := s.Firestore.Collection(model.ColBillingPlans).Doc(in.PlanID).Get(ctx)
	if store.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "plan not found")
	}
	if err != nil {
		return nil, store.Classify("createCheckoutSession", err)
	}
	var plan model.BillingPlan
	if err := snap.DataTo(&plan); err != nil {
		return nil, fmt.Errorf("createCheckoutSession: decode plan: %w", err)
	}
	if !plan.Active || !strings.HasPrefix(plan.StripePriceID, "price_") {
		return nil, fault.New(fault.FailedPrecondition, "the plan is not available")
	}
	subs, err := indexes.MustLookup(indexes.QMySubscriptions).MustBuild(s.Firestore, uid).Documents(ctx).GetAll()
	if err != nil {
		return nil, store.Classify("createCheckoutSession", err)
	}
	for _, d := range subs {
		var sub model.Subscription
		if d.DataTo(&sub) == nil && EntitledStatuses[sub.Status] && containsString(sub.PriceIDs, plan.StripePriceID) {
			return nil, fault.New(fault.AlreadyExists, "already subscribed to this plan")
		}
	}
	cus, err := s.EnsureCustomer(ctx, uid)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{metaUID: uid, metaPlanID: in.PlanID, metaKind: "subscription"}
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(cus),
		ClientReferenceID: stripe.String(uid),
		SuccessURL:        stripe.String(withQuery(ret, "checkout=success&session_id={CHECKOUT_SESSION_ID}")),
		CancelURL:         stripe.String(withQuery(ret, "checkout=cancel")),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(plan.StripePriceID), Quantity: stripe.Int64(1)}},
		Metadata:          meta,
		SubscriptionData:  &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta},
	}
	p.SetIdempotencyKey(s.idemKey("checkout", uid, "plan", in.PlanID, plan.StripePriceID, cus, ret, s.requestKey(in.RequestID)))
	return s.newCheckout(ctx, p, uid)
}

func (s *Service) newCheckout(ctx context.Context, p *stripe.CheckoutSessionParams, uid string) (any, error) {
	p.Context = ctx
	cs, err := s.Stripe.CheckoutSessions.New(p)
	if err != nil {
		return nil, stripeFault("create checkout session", err)
	}
	slog.InfoContext(ctx, "checkout session created", "uid", uid, "session", cs.ID)
	return CheckoutResult{SessionID: cs.ID, URL: cs.URL, ExpiresAt: cs.ExpiresAt}, nil
}

// olderVersion reports whether an enrolment's programCreated names
// another version of the program than the one created at created.
func olderVersion(recorded any, created time.Time) bool {
	t, ok := recorded.(time.Time)
	return ok && !t.Equal(created)
}

// errProgramChanged refuses a free enrolment whose program was given a
// price, or deleted and created again, since the callable read it.
var errProgramChanged = fault.New(fault.FailedPrecondition, "the program changed; try again")

// enrollFree enrols the user in a free program at once: in the version
// created at version, the one the callable read, and only while it is
// still free (errProgramChanged otherwise; a program deleted meanwhile is
// NotFound).
func (s *Service) enrollFree(ctx context.Context, uid, programID string, version time.Time) (any, error) {
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		e, err := s.readEnrollment(tx, uid, programID)
		if err != nil {
			return err
		}
		switch {
		case e.program == nil:
			return fault.New(fault.NotFound, "program not found")
		case !e.program.free || !sameTime(e.program.terms.ProgramCreateTime, version):
			return errProgramChanged
		}
		return e.grant(tx, "", s.now())
	})
	if fault.CodeOf(err) == fault.NotFound || errors.Is(err, errProgramChanged) {
		return nil, err
	}
	if err != nil {
		return nil, store.Classify("createCheckoutSession", err)
	}
	slog.InfoContext(ctx, "free enrolment", "uid", uid, "programId", programID)
	return CheckoutResult{Enrolled: true}, nil
}

// EnsureCustomer returns the user's Stripe customer id, creating the
// customer (idempotency key per user) and both mappings
// (users/{uid}/private/billing and stripe_customers/{cus}) on first use.
//
// Errors: UNAVAILABLE when Stripe or Firestore fail; INTERNAL when Stripe
// returns a customer already mapped to another user.
func (s *Service) EnsureCustomer(ctx context.Context, uid string) (string, error) {
	ref := s.billingRef(uid)
	snap, err := ref.Get(ctx)
	if err == nil {
		var b model.BillingAccount
		if err := snap.DataTo(&b); err == nil && b.StripeCustomerID != "" {
			return b.StripeCustomerID, nil
		}
	} else if !store.IsNotFound(err) {
		return "", store.Classify("customer", err)
	}
	p := &stripe.CustomerParams{Params: stripe.Params{Context: ctx}}
	p.AddMetadata(metaUID, uid)
	p.SetIdempotencyKey(s.idemKey("customer", uid))
	c, err := s.Stripe.Customers.New(p)
	if err != nil {
		return "", stripeFault("create customer", err)
	}
	cus := c.ID
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err == nil {
			var b model.BillingAccount
			if snap.DataTo(&b) == nil && b.StripeCustomerID != "" {
				cus = b.StripeCustomerID
				return nil
			}
		} else if !store.IsNotFound(err) {
			return err
		}
		cus = c.ID
		mref := s.Firestore.Collection(model.ColStripeCustomers).Doc(cus)
		msnap, err := tx.Get(mref)
		if err == nil {
			if other, _ := msnap.Data()["userId"].(string); other != uid {
				return fault.New(fault.Internal, "stripe customer already mapped to another user")
			}
		} else if !store.IsNotFound(err) {
			return err
		}
		now := s.now()
		if err := tx.Set(ref, model.BillingAccount{StripeCustomerID: cus, CreatedAt: now}); err != nil {
			return err
		}
		return tx.Set(mref, model.StripeCustomer{CustomerID: cus, UserID: uid, CreatedAt: now})
	})
	if err != nil {
		return "", store.Classify("customer", err)
	}
	return cus, nil
}

func (s *Service) billingRef(uid string) *firestore.DocumentRef {
	return s.Firestore.Collection(model.ColUsers).Doc(uid).Collection(model.SubColPrivate).Doc(model.DocBilling)
}

// CreateBillingPortalSession opens Stripe's billing portal for the
// signed-in user (manage or cancel subscriptions, invoices). Every call
// creates a new portal session (its URL is single-use).
//
// Errors: UNAUTHENTICATED; INVALID_ARGUMENT for a bad returnUrl;
// FAILED_PRECONDITION when the user has no Stripe customer yet;
// UNAVAILABLE when Stripe or Firestore fail.
func (s *Service) CreateBillingPortalSession(ctx context.Context, req *callable.Request) (any, error) {
	uid, err := req.RequireUID()
	if err != nil {
		return nil, err
	}
	var in PortalRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	ret, err := s.returnURL(in.ReturnURL)
	if err != nil {
		return nil, err
	}
	snap, err := s.billingRef(uid).Get(ctx)
	if store.IsNotFound(err) {
		return nil, fault.New(fault.FailedPrecondition, "no billing account yet")
	}
	if err != nil {
		return nil, store.Classify("createBillingPortalSession", err)
	}
	var b model.BillingAccount
	if err := snap.DataTo(&b); err != nil || b.StripeCustomerID == "" {
		return nil, fault.New(fault.FailedPrecondition, "no billing account yet")
	}
	p := &stripe.BillingPortalSessionParams{Customer: stripe.String(b.StripeCustomerID), ReturnURL: stripe.String(ret)}
	p.Context = ctx
	// A portal session URL is single-use and short-lived and moves no
	// money: every call gets a new one (a key derived from the inputs would
	// replay a used URL).
	p.SetIdempotencyKey(callKey("portal"))
	ps, err := s.Stripe.BillingPortalSessions.New(p)
	if err != nil {
		return nil, stripeFault("create billing portal session", err)
	}
	return LinkResult{URL: ps.URL}, nil
}

// CreateConnectOnboardingLink returns a Stripe Connect onboarding link
// for the signed-in coach, creating the coach's Express account (metadata
// coachUid, idempotency key per coach) and recording it in
// coach_profiles/{uid}/private/connect (stripeAccountId) on first use.
// Every call creates a new account link (links are single-use; the app
// calls again from refresh_url).
//
// Errors: UNAUTHENTICATED; PERMISSION_DENIED without the coach claim (the
// callable's options); INVALID_ARGUMENT for a bad returnUrl; UNAVAILABLE
// when Stripe or Firestore fail.
func (s *Service) CreateConnectOnboardingLink(ctx context.Context, req *callable.Request) (any, error) {
	uid, err := req.RequireUID()
	if err != nil {
		return nil, err
	}
	if !req.Auth.Coach && !req.Auth.Admin {
		return nil, fault.New(fault.PermissionDenied, "coaches only")
	}
	var in OnboardingRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	ret, err := s.returnURL(in.ReturnURL)
	if err != nil {
		return nil, err
	}
	acct, err := s.ensureConnectAccount(ctx, uid)
	if err != nil {
		return nil, err
	}
	p := &stripe.AccountLinkParams{
		Account:    stripe.String(acct),
		RefreshURL: stripe.String(withQuery(ret, "connect=refresh")),
		ReturnURL:  stripe.String(withQuery(ret, "connect=return")),
		Type:       stripe.String("account_onboarding"),
	}
	p.Context = ctx
	// An account link is single-use: when it was visited or expired Stripe
	// sends the coach to refresh_url and the app asks again with the same
	// input, so every call gets a new link (a key derived from the input
	// would replay the used one). Creating a link moves no money.
	p.SetIdempotencyKey(callKey("connect-link"))
	link, err := s.Stripe.AccountLinks.New(p)
	if err != nil {
		return nil, stripeFault("create account link", err)
	}
	return LinkResult{URL: link.URL, ExpiresAt: link.ExpiresAt, AccountID: acct}, nil
}

// ensureConnectAccount returns the coach's Express account id, creating
// the account on first use. Two concurrent calls create at most one
// account (Stripe's idempotency key per coach) and record one id: the
// transaction keeps an id already stored (by another call or by an
// account.updated event that overtook this one). An account the daily
// reconciliation found deleted (payoutsReason ReasonAccountNotFound) is
// replaced by a new one, so that the coach can onboard again: the new
// account's idempotency key names the dead account, and the transaction
// replaces the id only while the dead one is still the one recorded.
func (s *Service) ensureConnectAccount(ctx context.Context, uid string) (string, error) {
	ref := s.connectRef(uid)
	dead := "" // the recorded account Stripe no longer has
	snap, err := ref.Get(ctx)
	if err == nil {
		if c := model.DecodeCoachConnect(snap.Data()); c.StripeAccountID != "" {
			if c.PayoutsReason != ReasonAccountNotFound {
				return c.StripeAccountID, nil
			}
			dead = c.StripeAccountID
		}
	} else if !store.IsNotFound(err) {
		return "", store.Classify("connect account", err)
	}
	country := nonEmpty(s.Config.ConnectCountry, "SE")
	p := &stripe.AccountParams{
		Type:    stripe.String(string(stripe.AccountTypeExpress)),
		Country: stripe.String(country),
		Capabilities: &stripe.AccountCapabilitiesParams{
			Transfers: &stripe.AccountCapabilitiesTransfersParams{Requested: stripe.Bool(true)},
		},
	}
	p.Context = ctx
	p.AddMetadata(metaCoachUID, uid)
	if dead == "" {
		p.SetIdempotencyKey(s.idemKey("connect-account", uid))
	} else {
		p.SetIdempotencyKey(s.idemKey("connect-account", uid, dead))
	}
	a, err := s.Stripe.Accounts.New(p)
	if err != nil {
		return "", stripeFault("create connect account", err)
	}
	acct := a.ID
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		acct = a.ID
		snap, err := tx.Get(ref)
		if err == nil {
			if cur := model.DecodeCoachConnect(snap.Data()).StripeAccountID; cur != "" && cur != dead {
				acct = cur
				return nil
			}
		} else if !store.IsNotFound(err) {
			return err
		}
		return tx.Set(ref, map[string]any{
			"coachId": uid, "stripeAccountId": a.ID, "payoutsEnabled": false, "payoutsReason": "onboarding_incomplete",
		}, firestore.MergeAll)
	})
	if err != nil {
		return "", store.Classify("connect account", err)
	}
	return acct, nil
}

// returnURL validates a client's return URL (default: the app URL).
func (s *Service) returnURL(raw string) (string, error) {
	if raw == "" {
		if s.Config.AppURL == "" {
			return "", fault.Invalid("returnUrl is required")
		}
		return s.Config.AppURL, nil
	}
	if len(raw) > 2048 {
		return "", fault.Invalid("returnUrl too long")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fault.Invalid("returnUrl must be an absolute http(s) URL without fragment")
	}
	o := origin(raw)
	allowed := o == origin(s.Config.AppURL)
	for _, a := range s.Config.ReturnOrigins {
		if strings.EqualFold(strings.TrimRight(a, "/"), o) {
			allowed = true
		}
	}
	if !allowed {
		return "", fault.Invalid("returnUrl origin is not allowed")
	}
	if u.Scheme == "http" && u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" {
		return "", fault.Invalid("returnUrl must use https")
	}
	return raw, nil
}

func withQuery(u, q string) string {
	if strings.Contains(u, "?") {
		return u + "&" + q
	}
	return u + "?" + q
}

// idemKey is a Stripe idempotency key: a purpose and a hash of the inputs
// that identify the request (Stripe keeps keys 24 h).
func (s *Service) idemKey(purpose string, parts ...string) string {
	return "ij-" + purpose + "-" + store.Hash(parts)[:40]
}

// callKey is a Stripe idempotency key of this call only, for creations
// that move no money and must not be replayed (single-use links): a
// purpose and a random part. Stripe-go retries of the call reuse it.
func callKey(purpose string) string {
	return "ij-" + purpose + "-call-" + rand.Text()
}

// requestKey is the client's request id, or the current 10-minute window
// when it sent none (a retry soon after returns the same object).
func (s *Service) requestKey(id string) string {
	if id != "" {
		return "r:" + id
	}
	return "w:" + s.now().Truncate(10*time.Minute).Format(time.RFC3339)
}

// stripeFault maps a Stripe error: invalid requests are our bug
// (INTERNAL, logged), the rest is UNAVAILABLE (retry).
func stripeFault(op string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		switch se.Type {
		case stripe.ErrorTypeInvalidRequest, stripe.ErrorTypeIdempotency:
			// Our request is wrong (an idempotency key reused with other
			// parameters stays refused for 24 h): retrying cannot help.
			return &fault.Error{Code: fault.Internal, Message: op, Err: err}
		case stripe.ErrorTypeCard:
			return &fault.Error{Code: fault.FailedPrecondition, Message: op + ": " + string(se.Code), Err: err}
		}
	}
	return &fault.Error{Code: fault.Unavailable, Message: op, Err: err}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
