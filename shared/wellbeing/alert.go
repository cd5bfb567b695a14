package wellbeing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/logging"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/store"
)

// Alert is the message on Topic: ids only, no personal content.
type Alert struct {
	EventID string `json:"eventId"`
	UserID  string `json:"userId"`
	Source  string `json:"source"`
}

// Validate returns a fault.InvalidArgument error unless the alert names an
// event, a user and a known source.
func (a Alert) Validate() error {
	if !model.ValidDocID(a.EventID) || !model.ValidDocID(a.UserID) || !Source(a.Source).Valid() {
		return fault.Invalid("wellbeing alert: eventId, userId and a known source are required")
	}
	return nil
}

// PublishAlert is the outbox step, run by the trigger on a new
// wellbeing_events document: it publishes the event's Alert to Topic and
// stamps publishedAt. It does nothing (false, nil) when the event is gone
// or was published already. A crash between publishing and stamping
// publishes again on redelivery; Deliver is idempotent per event.
//
// Errors: the publisher's error (retry), Firestore errors classified with
// store.Classify.
func PublishAlert(ctx context.Context, c *firestore.Client, pub queue.Publisher, now func() time.Time, eventID string) (bool, error) {
	ref := c.Collection(model.ColWellbeingEvents).Doc(eventID)
	snap, err := ref.Get(ctx)
	if store.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, store.Classify("wellbeing.PublishAlert", err)
	}
	var ev Event
	if err := snap.DataTo(&ev); err != nil {
		return false, fault.Wrap(err, fault.DataLoss, "wellbeing.PublishAlert: decode event")
	}
	if ev.PublishedAt != nil {
		return false, nil
	}
	a := Alert{EventID: eventID, UserID: ev.UserID, Source: ev.Source}
	if _, err := queue.PublishJSON(ctx, pub, Topic, a, map[string]string{"eventId": eventID, "source": ev.Source}); err != nil {
		return false, fault.Wrap(err, fault.Unavailable, "wellbeing.PublishAlert: publish")
	}
	if _, err := ref.Update(ctx, []firestore.Update{{Path: "publishedAt", Value: now().UTC()}}); err != nil {
		return true, store.Classify("wellbeing.PublishAlert: stamp", err)
	}
	return true, nil
}

// ErrWebhookFailed is the cause of Deliver's retryable Unavailable error
// when the on-call webhook failed (5xx, 429, 408, network), as opposed to
// a Firestore outage.
var ErrWebhookFailed = errors.New("on-call webhook unavailable")

// DefaultClaimTTL is how long a delivery lease lasts.
const DefaultClaimTTL = 2 * time.Minute

// Deliverer delivers alerts to the on-call channel.
type Deliverer struct {
	Firestore *firestore.Client
	// WebhookURL is the on-call channel (IJ_ONCALL_WEBHOOK_URL); empty
	// means "log at CRITICAL severity".
	WebhookURL config.Secret
	// HTTP is the client for the webhook (a 10 s timeout client when nil).
	HTTP *http.Client
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// ClaimTTL is the delivery lease (DefaultClaimTTL when 0).
	ClaimTTL time.Duration
}

// Delivery is the outcome of Deliver.
type Delivery struct {
	// Status is "delivered", "already" (notified before) or "missing" (the
	// event no longer exists).
	Status string `json:"status"`
	// DeliveredTo is "webhook" or "log".
	DeliveredTo string `json:"deliveredTo,omitempty"`
}

// webhookMessage is what the on-call channel receives: ids only. "text"
// makes it readable in Slack- and Chat-style incoming webhooks.
type webhookMessage struct {
	Text      string    `json:"text"`
	EventID   string    `json:"eventId"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"createdAt"`
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Deliverer) claimTTL() time.Duration {
	if d.ClaimTTL > 0 {
		return d.ClaimTTL
	}
	return DefaultClaimTTL
}

// Deliver sends the alert of one event to the on-call channel, at most
// once per event as far as the lease allows: an event already notified is
// not sent again; a concurrent delivery holding the lease makes this one
// fail with a retryable Aborted error (redelivered later, it then finds the
// event notified). Without a webhook URL the alert is logged at CRITICAL
// severity and recorded as delivered to "log". A webhook answering 2xx
// records "webhook"; 5xx, 429, 408 or a network error release the lease
// and return a retryable Unavailable error; any other status, a redirect
// included (it is not followed: the page it leads to did not take the
// alert), is a configuration fault that retries cannot fix: the alert is
// logged at CRITICAL severity and recorded as delivered to "log" with the
// error. Every CRITICAL line carries "alert": AlertUndelivered, since the
// event is then notified and the Sweeper no longer escalates it.
//
// Delivery stamps notifiedAt and its query mirror notified: true in one
// write; an event found notified but without the mirror gets it.
//
// Errors: fault.InvalidArgument for an invalid Alert; retryable errors as
// above; Firestore errors classified with store.Classify.
func (d *Deliverer) Deliver(ctx context.Context, a Alert) (Delivery, error) {
	if err := a.Validate(); err != nil {
		return Delivery{}, err
	}
	ttl := d.claimTTL()
	ref := d.Firestore.Collection(model.ColWellbeingEvents).Doc(a.EventID)
	var ev Event
	var status string
	err := d.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		status = ""
		snap, err := tx.Get(ref)
		if store.IsNotFound(err) {
			status = "missing"
			return nil
		}
		if err != nil {
			return err
		}
		ev = Event{}
		if err := snap.DataTo(&ev); err != nil {
			return fault.Wrap(err, fault.DataLoss, "decode event")
		}
		now := d.now()
		switch {
		case ev.NotifiedAt != nil:
			status = "already"
			if !ev.Notified {
				// Repair the query mirror of a legacy or half-written event.
				return tx.Update(ref, []firestore.Update{{Path: "notified", Value: true}})
			}
			return nil
		case ev.DeliveryClaimedAt != nil && now.Sub(*ev.DeliveryClaimedAt) < ttl:
			status = "busy"
			return nil
		}
		return tx.Update(ref, []firestore.Update{
			{Path: "deliveryClaimedAt", Value: now},
			{Path: "deliveryAttempts", Value: firestore.Increment(1)},
		})
	})
	if err != nil {
		return Delivery{}, store.Classify("wellbeing.Deliver", err)
	}
	if status == "busy" {
		return Delivery{}, fault.New(fault.Aborted, "wellbeing alert delivery in progress")
	}
	if status != "" {
		return Delivery{Status: status, DeliveredTo: ev.DeliveredTo}, nil
	}

	attrs := []any{"wellbeingEventId", a.EventID, "uid", a.UserID, "source", a.Source}
	// The CRITICAL lines below are the only page for an alert delivered
	// to the log: it is recorded as notified, so the sweep never
	// escalates it. They carry the alert attribute the paging policy
	// matches.
	critical := append([]any{"alert", AlertUndelivered}, attrs...)
	url := d.WebhookURL.Reveal()
	if url == "" {
		slog.Log(ctx, logging.LevelCritical, "WELLBEING ALERT: no on-call webhook configured (IJ_ONCALL_WEBHOOK_URL); alert delivered to the log — review and acknowledge the event", critical...)
		return d.finish(ctx, ref, "log", "")
	}
	code, err := d.post(ctx, url, webhookMessage{
		Text: fmt.Sprintf("Inner Journey wellbeing alert (%s): event %s needs a human review now. "+
			"Open wellbeing_events/%s in the admin console and acknowledge it (acknowledgeWellbeingEvent).", a.Source, a.EventID, a.EventID),
		EventID: a.EventID, Source: a.Source, CreatedAt: ev.CreatedAt,
	})
	switch {
	case err == nil && code >= 200 && code < 300:
		slog.WarnContext(ctx, "wellbeing alert delivered to the on-call webhook", attrs...)
		return d.finish(ctx, ref, "webhook", "")
	case err != nil || code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout:
		reason := "network"
		if err == nil {
			reason = fmt.Sprintf("http %d", code)
		}
		slog.ErrorContext(ctx, "wellbeing alert: on-call webhook failed, will retry", append(attrs, "reason", reason)...)
		_, uerr := ref.Update(ctx, []firestore.Update{{Path: "deliveryClaimedAt", Value: firestore.Delete}, {Path: "deliveryError", Value: reason}})
		if uerr != nil {
			slog.ErrorContext(ctx, "wellbeing alert: release lease", "wellbeingEventId", a.EventID, "code", string(fault.CodeOf(uerr)))
		}
		return Delivery{}, &fault.Error{Code: fault.Unavailable, Err: ErrWebhookFailed,
			Message: fmt.Sprintf("wellbeing alert: on-call webhook failed (%s)", reason)}
	default:
		reason := fmt.Sprintf("http %d", code)
		slog.Log(ctx, logging.LevelCritical, "WELLBEING ALERT: the on-call webhook rejected the alert (check IJ_ONCALL_WEBHOOK_URL); alert delivered to the log — review and acknowledge the event",
			append(critical, "reason", reason)...)
		return d.finish(ctx, ref, "log", reason)
	}
}

// recordTimeout bounds finish's write, which does not end with the
// caller's context.
const recordTimeout = 30 * time.Second

// finish records the alert as delivered to "webhook" or "log". The alert
// has gone out by then, so the record is written even when ctx has just
// ended (the function timed out, its instance is shutting down): left
// unrecorded, the redelivered message or the sweeper would page on-call
// again once the delivery claim expires.
func (d *Deliverer) finish(ctx context.Context, ref *firestore.DocumentRef, to, reason string) (Delivery, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	ups := []firestore.Update{
		{Path: "notifiedAt", Value: d.now()},
		{Path: "notified", Value: true},
		{Path: "deliveredTo", Value: to},
		{Path: "deliveryClaimedAt", Value: firestore.Delete},
	}
	if reason != "" {
		ups = append(ups, firestore.Update{Path: "deliveryError", Value: reason})
	}
	if _, err := ref.Update(ctx, ups); err != nil {
		return Delivery{}, store.Classify("wellbeing.Deliver: record", err)
	}
	return Delivery{Status: "delivered", DeliveredTo: to}, nil
}

func (d *Deliverer) post(ctx context.Context, url string, msg webhookMessage) (int, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		// A malformed URL is a configuration fault: report it as a 4xx-like
		// rejection rather than retrying forever.
		return http.StatusBadRequest, nil
	}
	req.Header.Set("Content-Type", "application/json")
	hc := d.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	// A redirect is answered as it is, never followed: followed, a POST
	// turns into a GET of wherever it leads (a login page) and that
	// page's 200 would be taken for the webhook's acceptance.
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		return 0, errors.New("network")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// Acknowledge records that a human (admin uid by) has seen the event:
// ackedAt and ackedBy, once (a second acknowledgment returns the first
// unchanged). It also closes the user's open episode when this event opened
// it, so the next signal starts a new episode.
//
// Errors: fault.InvalidArgument for an empty id; fault.NotFound when the
// event does not exist; Firestore errors classified with store.Classify.
func Acknowledge(ctx context.Context, c *firestore.Client, now time.Time, eventID, by string) (Event, error) {
	if !model.ValidDocID(eventID) || by == "" {
		return Event{}, fault.Invalid("eventId is required")
	}
	ref := c.Collection(model.ColWellbeingEvents).Doc(eventID)
	var ev Event
	err := c.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if store.IsNotFound(err) {
			return fault.New(fault.NotFound, "no such wellbeing event")
		}
		if err != nil {
			return err
		}
		ev = Event{}
		if err := snap.DataTo(&ev); err != nil {
			return fault.Wrap(err, fault.DataLoss, "decode event")
		}
		if ev.AckedAt != nil {
			return nil
		}
		stateRef := c.Collection(model.ColUsers).Doc(ev.UserID).Collection(model.SubColPrivate).Doc(StateDoc)
		stSnap, err := tx.Get(stateRef)
		if err != nil && !store.IsNotFound(err) {
			return err
		}
		t := now.UTC()
		ev.AckedAt, ev.AckedBy, ev.Acked = &t, by, true
		if err := tx.Update(ref, []firestore.Update{{Path: "ackedAt", Value: t}, {Path: "ackedBy", Value: by}, {Path: "acked", Value: true}}); err != nil {
			return err
		}
		if exists(stSnap) {
			var st episodeState
			if err := stSnap.DataTo(&st); err == nil && st.EventID == eventID && st.AckedAt == nil {
				return tx.Update(stateRef, []firestore.Update{{Path: "ackedAt", Value: t}})
			}
		}
		return nil
	})
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) && (fe.Code == fault.NotFound || fe.Code == fault.DataLoss) {
			return Event{}, fe
		}
		return Event{}, store.Classify("wellbeing.Acknowledge", err)
	}
	slog.InfoContext(ctx, "wellbeing event acknowledged", "wellbeingEventId", eventID, "by", by)
	return ev, nil
}
