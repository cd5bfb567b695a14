package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/logging"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// Webhook limits.
const (
	// MaxWebhookBytes bounds a webhook body; Stripe's events are far
	// smaller.
	MaxWebhookBytes = 512 << 10
	// SignatureTolerance is how old a signature's timestamp may be.
	SignatureTolerance = 300 * time.Second
	// InboxTTL is how long an inbox document is kept (expiresAt drives a
	// TTL policy); it outlives Stripe's 3-day retries and the 30-day
	// reconciliation window.
	InboxTTL = 90 * 24 * time.Hour
)

// Inbox statuses (webhook_events.status), and the outcome "duplicate"
// that is never stored.
const (
	StatusProcessed = "processed"
	StatusIgnored   = "ignored"
	StatusFailed    = "failed"
	StatusDuplicate = "duplicate"
)

// Result is the outcome of one event.
type Result struct {
	// Status is processed, ignored or duplicate.
	Status string `json:"status"`
	// Reason says why an event was ignored.
	Reason string `json:"reason,omitempty"`
}

// errMalformed marks an event whose object cannot be read: a 400, nothing
// written.
var errMalformed = errors.New("malformed event object")

// Webhook is the HTTP handler of Stripe's webhooks.
//
// It answers 400 with a reason and writes nothing when the body is larger
// than the limit, the signature matches none of the configured secrets,
// the signature's timestamp is outside the tolerance, the event's API
// version is not stripe-go's, it is a live event in a test environment,
// or the body is not a well-formed event. It answers 200 for an event
// taken into effect, a duplicate, an event recorded as ignored (irrelevant
// type, unknown customer), or a test-mode event in the live environment
// (Connect endpoints receive those; nothing written); 500 when handling
// failed (Stripe retries); 503 when the webhook secrets are not
// configured.
func (s *Service) Webhook(w http.ResponseWriter, r *http.Request) {
	ctx := logging.FromRequest(r)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, map[string]any{"error": "POST only"})
		return
	}
	if len(s.Config.WebhookSecrets) == 0 {
		slog.ErrorContext(ctx, "stripe webhook: no STRIPE_WEBHOOK_SECRETS configured")
		reply(w, http.StatusServiceUnavailable, map[string]any{"error": "webhook not configured"})
		return
	}
	ev, reason := s.verify(r)
	if reason == "" && s.Config.LiveMode && !ev.Livemode {
		// Stripe sends a live platform's Connect endpoint its connected
		// accounts' test events too, signed with that endpoint's secret
		// ("check the livemode value to know what action, if any, to
		// take"): acknowledged, nothing written; a retry could not help.
		slog.InfoContext(ctx, "stripe webhook ignored: test-mode event on the live endpoint",
			"eventId", ev.ID, "type", string(ev.Type), "account", ev.Account)
		reply(w, http.StatusOK, map[string]any{"status": "ignored", "reason": "livemode"})
		return
	}
	if reason == "" {
		reason = s.checkLivemode(ev)
	}
	if reason != "" {
		slog.WarnContext(ctx, "stripe webhook rejected", "reason", reason)
		reply(w, http.StatusBadRequest, map[string]any{"error": reason})
		return
	}
	res, err := s.Process(ctx, ev)
	switch {
	case errors.Is(err, errMalformed):
		slog.WarnContext(ctx, "stripe webhook rejected", "eventId", ev.ID, "type", string(ev.Type), "reason", err.Error())
		reply(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
	case err != nil:
		slog.ErrorContext(ctx, "stripe webhook failed", "eventId", ev.ID, "type", string(ev.Type), "error", err.Error())
		reply(w, http.StatusInternalServerError, map[string]any{"error": "handling failed; retry"})
	default:
		slog.InfoContext(ctx, "stripe webhook", "eventId", ev.ID, "type", string(ev.Type), "account", ev.Account,
			"status", res.Status, "reason", res.Reason)
		reply(w, http.StatusOK, map[string]any{"received": true, "status": res.Status, "reason": res.Reason})
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// verify reads the body and returns the verified event, or the reason for
// a 400.
func (s *Service) verify(r *http.Request) (*stripe.Event, string) {
	limit := s.Config.MaxBodyBytes
	if limit <= 0 {
		limit = MaxWebhookBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Sprintf("payload larger than %d bytes", limit)
		}
		return nil, "unreadable body"
	}
	header := r.Header.Get("Stripe-Signature")
	if header == "" {
		return nil, "missing Stripe-Signature header"
	}
	opts := webhook.ConstructEventOptions{Tolerance: SignatureTolerance}
	for _, secret := range s.Config.WebhookSecrets {
		ev, err := webhook.ConstructEventWithOptions(body, header, secret.Reveal(), opts)
		switch {
		case err == nil:
			if reason := checkEnvelope(&ev); reason != "" {
				return nil, reason
			}
			return &ev, ""
		case errors.Is(err, webhook.ErrNoValidSignature):
			continue // maybe another secret
		case errors.Is(err, webhook.ErrTooOld):
			return nil, fmt.Sprintf("signature timestamp outside the %d s tolerance", int(SignatureTolerance.Seconds()))
		case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader):
			return nil, "malformed Stripe-Signature header"
		default:
			// The signature is valid: the body is not JSON or the
			// event's API version is not ours.
			var probe struct {
				APIVersion string `json:"api_version"`
			}
			if json.Unmarshal(body, &probe) != nil {
				return nil, "malformed body: not a JSON event"
			}
			if probe.APIVersion != stripe.APIVersion {
				return nil, fmt.Sprintf("API version %q not supported: the endpoint must use %s", probe.APIVersion, stripe.APIVersion)
			}
			return nil, "malformed body"
		}
	}
	return nil, "no valid signature for any configured secret"
}

// check validates a verified event's envelope and livemode.
func (s *Service) check(ev *stripe.Event) string {
	if reason := checkEnvelope(ev); reason != "" {
		return reason
	}
	return s.checkLivemode(ev)
}

// checkLivemode refuses an event of the other mode than this environment's.
func (s *Service) checkLivemode(ev *stripe.Event) string {
	if ev.Livemode != s.Config.LiveMode {
		return fmt.Sprintf("livemode %t does not match this environment (%t)", ev.Livemode, s.Config.LiveMode)
	}
	return ""
}

// checkEnvelope validates a verified event's id, type, time and object.
func checkEnvelope(ev *stripe.Event) string {
	switch {
	case !strings.HasPrefix(ev.ID, "evt_") || !model.ValidDocID(ev.ID):
		return "malformed event: bad id"
	case ev.Type == "":
		return "malformed event: no type"
	case ev.Created <= 0:
		return "malformed event: no created time"
	case ev.Data == nil || len(ev.Data.Raw) == 0 || ev.Data.Raw[0] != '{':
		return "malformed event: no data.object"
	}
	return ""
}

// effect is one event's change: apply runs inside the transaction (reads
// first, then writes) and returns the outcome; after, when set, runs after
// a commit that processed the event, and again on each duplicate delivery
// (it must be idempotent), so work outside Firestore (custom claims) is
// retried with the event.
type effect struct {
	apply func(ctx context.Context, tx *firestore.Transaction) (Result, error)
	after func(ctx context.Context) error
}

// Process takes a verified event into effect exactly once: the effect and
// the inbox document webhook_events/{id} commit in one transaction; an
// event already processed or ignored is a duplicate with no effect.
//
// Errors: errMalformed (wrapped) when the object cannot be decoded;
// otherwise a Firestore or Auth error, after which the inbox records the
// failed attempt and a redelivery is expected.
func (s *Service) Process(ctx context.Context, ev *stripe.Event) (Result, error) {
	eff, err := s.plan(ev)
	if err != nil {
		return Result{}, err
	}
	ref := s.Firestore.Collection(model.ColWebhookEvents).Doc(ev.ID)
	var res Result
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		res = Result{}
		var prev model.WebhookEvent
		snap, err := tx.Get(ref)
		switch {
		case err == nil:
			if err := snap.DataTo(&prev); err != nil {
				return fmt.Errorf("decode inbox: %w", err)
			}
			if prev.Status == StatusProcessed || prev.Status == StatusIgnored {
				res = Result{Status: StatusDuplicate}
				return nil
			}
		case !store.IsNotFound(err):
			return err
		}
		if eff.apply == nil {
			res = Result{Status: StatusIgnored, Reason: "unhandled event type"}
		} else if res, err = eff.apply(ctx, tx); err != nil {
			return err
		}
		now := s.now()
		rec := inboxRecord(ev, now)
		rec.Status, rec.Reason, rec.Attempts = res.Status, res.Reason, prev.Attempts+1
		if !prev.ReceivedAt.IsZero() {
			rec.ReceivedAt = prev.ReceivedAt
		}
		if err := tx.Set(ref, rec); err != nil {
			return err
		}
		if s.beforeCommit != nil {
			return s.beforeCommit(ctx, ev.ID)
		}
		return nil
	})
	if err != nil {
		s.recordFailure(ctx, ev, err)
		return Result{}, store.Classify("stripe webhook "+string(ev.Type), err)
	}
	if eff.after != nil && (res.Status == StatusProcessed || res.Status == StatusDuplicate) {
		if err := eff.after(ctx); err != nil {
			return Result{}, fmt.Errorf("stripe webhook %s after commit: %w", ev.Type, err)
		}
	}
	return res, nil
}

func inboxRecord(ev *stripe.Event, now time.Time) model.WebhookEvent {
	return model.WebhookEvent{
		EventID: ev.ID, Type: string(ev.Type), Created: unix(ev.Created), Account: ev.Account,
		Livemode: ev.Livemode, APIVersion: ev.APIVersion, ReceivedAt: now, ExpiresAt: now.Add(InboxTTL),
	}
}

// recordFailure counts a failed attempt in the inbox, outside the failed
// transaction, unless a concurrent delivery has processed the event
// meanwhile. Best effort: Firestore may be what failed.
func (s *Service) recordFailure(ctx context.Context, ev *stripe.Event, cause error) {
	if errors.Is(cause, errMalformed) {
		return
	}
	ref := s.Firestore.Collection(model.ColWebhookEvents).Doc(ev.ID)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		now := s.now()
		rec := inboxRecord(ev, now)
		snap, err := tx.Get(ref)
		if err == nil {
			var prev model.WebhookEvent
			if err := snap.DataTo(&prev); err == nil {
				if prev.Status == StatusProcessed || prev.Status == StatusIgnored {
					return nil
				}
				rec.Attempts = prev.Attempts
				if !prev.ReceivedAt.IsZero() {
					rec.ReceivedAt = prev.ReceivedAt
				}
			}
		} else if !store.IsNotFound(err) {
			return err
		}
		rec.Status, rec.Attempts = StatusFailed, rec.Attempts+1
		rec.Reason = string(fault.CodeOf(cause))
		return tx.Set(ref, rec)
	})
	if err != nil {
		slog.WarnContext(ctx, "stripe webhook: could not record the failed attempt", "eventId", ev.ID, "error", err.Error())
	}
}

// plan decodes the event's object and returns its effect; an event type
// the platform does not act on has an effect without apply (ignored).
func (s *Service) plan(ev *stripe.Event) (effect, error) {
	if ev.Data == nil || len(ev.Data.Raw) == 0 || !model.ValidDocID(ev.ID) {
		return effect{}, fmt.Errorf("%w: no data.object or id", errMalformed)
	}
	if ev.Account != "" && !slices.Contains(ConnectedAccountTypes, string(ev.Type)) {
		// An event of a connected account's own objects (a payment, a
		// refund, a subscription on the coach's account): not the
		// platform's money, whatever its metadata names.
		return ignoreEffect("event of a connected account"), nil
	}
	at := unix(ev.Created)
	raw := ev.Data.Raw
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed":
		cs, err := decodeObject(raw, "checkout.session", func(o *stripe.CheckoutSession) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.checkoutEffect(cs, string(ev.Type), at), nil
	case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing", "payment_intent.canceled":
		pi, err := decodeObject(raw, "payment_intent", func(o *stripe.PaymentIntent) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.paymentIntentEffect(pi, at), nil
	case "charge.refunded", "charge.succeeded":
		ch, err := decodeObject(raw, "charge", func(o *stripe.Charge) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.chargeEffect(ch, at), nil
	case "charge.refund.updated", "refund.created", "refund.updated":
		rf, err := decodeObject(raw, "refund", func(o *stripe.Refund) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.refundEffect(rf, at), nil
	case "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
		"charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated":
		d, err := decodeObject(raw, "dispute", func(o *stripe.Dispute) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.disputeEffect(d, at), nil
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
		"customer.subscription.paused", "customer.subscription.resumed", "customer.subscription.trial_will_end",
		"customer.subscription.pending_update_applied", "customer.subscription.pending_update_expired":
		sub, err := decodeObject(raw, "subscription", func(o *stripe.Subscription) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.subscriptionEffect(sub, at), nil
	case "invoice.paid", "invoice.payment_failed":
		inv, err := decodeObject(raw, "invoice", func(o *stripe.Invoice) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.invoiceEffect(inv, string(ev.Type), at), nil
	case "account.updated":
		acct, err := decodeObject(raw, "account", func(o *stripe.Account) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.accountEffect(acct, at), nil
	case "transfer.created", "transfer.updated", "transfer.reversed":
		tr, err := decodeObject(raw, "transfer", func(o *stripe.Transfer) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.transferEffect(tr, at), nil
	case "payout.paid", "payout.failed", "payout.canceled":
		po, err := decodeObject(raw, "payout", func(o *stripe.Payout) string { return o.ID })
		if err != nil {
			return effect{}, err
		}
		return s.payoutEffect(po, string(ev.Type), at), nil
	}
	return effect{}, nil
}

// HandledTypes lists the event types the webhook acts on (others are
// recorded as ignored). Configure the Stripe endpoints with these.
var HandledTypes = []string{
	"checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
	"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing", "payment_intent.canceled",
	"charge.succeeded", "charge.refunded", "charge.refund.updated", "refund.created", "refund.updated",
	"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
	"charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated",
	"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
	"customer.subscription.paused", "customer.subscription.resumed", "customer.subscription.trial_will_end",
	"customer.subscription.pending_update_applied", "customer.subscription.pending_update_expired",
	"invoice.paid", "invoice.payment_failed",
	"account.updated",
	"transfer.created", "transfer.updated", "transfer.reversed",
	"payout.paid", "payout.failed", "payout.canceled",
}

// ConnectedAccountTypes are the HandledTypes the webhook takes from a
// connected account (an event whose account field is set, on the Connect
// endpoint): the coach's account changing, its payouts to the coach's
// bank. Any other event of a connected account is recorded as ignored:
// sales, refunds, disputes and subscriptions are the platform's own
// objects, transfers too (created on the platform's account).
var ConnectedAccountTypes = []string{"account.updated", "payout.paid", "payout.failed", "payout.canceled"}

// decodeObject unmarshals an event's object and checks that it has a
// usable id. Errors wrap errMalformed.
func decodeObject[T any](raw json.RawMessage, kind string, id func(*T) string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errMalformed, kind, err)
	}
	if x := id(v); !model.ValidDocID(x) {
		return nil, fmt.Errorf("%w: %s without a valid id", errMalformed, kind)
	}
	return v, nil
}

func unix(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

func ignored(reason string) Result { return Result{Status: StatusIgnored, Reason: reason} }

var processed = Result{Status: StatusProcessed}
