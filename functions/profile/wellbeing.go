package profile

import (
	"context"
	"log/slog"
	"time"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// OnWellbeingEventCreated is the outbox of the wellbeing protocol: for each
// new wellbeing_events/{eventId} (from screening or reflection analysis) it
// publishes the ids-only alert to wellbeing.Topic once (see
// wellbeing.PublishAlert). A failed publish is retried by redelivery.
func (s *Service) OnWellbeingEventCreated(ctx context.Context, ev *events.FirestoreEvent) error {
	params, ok := ev.Params("wellbeing_events/{eventId}")
	if !ok || ev.After == nil {
		return nil
	}
	published, err := wellbeing.PublishAlert(ctx, s.Firestore, s.Publisher, s.Now, params["eventId"])
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "wellbeing alert outbox", "wellbeingEventId", params["eventId"], "published", published)
	return nil
}

// DeliverWellbeingAlert is the Pub/Sub worker of wellbeing.Topic: it
// delivers the alert to the on-call channel (see wellbeing.Deliverer).
// A malformed message is dropped (logged); a failed delivery is retried.
func (s *Service) DeliverWellbeingAlert(ctx context.Context, msg *events.PubSubMessage) error {
	var a wellbeing.Alert
	if err := msg.JSON(&a); err != nil {
		return err
	}
	d, err := s.Deliverer.Deliver(ctx, a)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "wellbeing alert delivery", "wellbeingEventId", a.EventID, "status", d.Status, "deliveredTo", d.DeliveredTo)
	return nil
}

// ackRequest is the data of acknowledgeWellbeingEvent.
type ackRequest struct {
	EventID string `json:"eventId"`
}

// AckResult is what acknowledgeWellbeingEvent returns.
type AckResult struct {
	EventID     string     `json:"eventId"`
	UserID      string     `json:"userId"`
	Source      string     `json:"source"`
	CreatedAt   time.Time  `json:"createdAt"`
	NotifiedAt  *time.Time `json:"notifiedAt,omitempty"`
	DeliveredTo string     `json:"deliveredTo,omitempty"`
	AckedAt     *time.Time `json:"ackedAt"`
	AckedBy     string     `json:"ackedBy"`
}

// AcknowledgeWellbeingEvent is the admin callable acknowledgeWellbeingEvent
// {"eventId"}: it records that a human has seen the event (ackedAt, ackedBy
// = the admin's uid) and closes the user's episode. A repeated call
// returns the first acknowledgment.
//
// Errors: UNAUTHENTICATED / PERMISSION_DENIED (admins only, enforced by the
// callable options); INVALID_ARGUMENT without an eventId; NOT_FOUND for an
// unknown event.
func (s *Service) AcknowledgeWellbeingEvent(ctx context.Context, req *callable.Request) (any, error) {
	var in ackRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if req.Auth == nil || !req.Auth.Admin {
		return nil, fault.New(fault.PermissionDenied, "only an admin may acknowledge wellbeing events")
	}
	if in.EventID == "" {
		return nil, fault.Invalid("eventId is required")
	}
	ev, err := wellbeing.Acknowledge(ctx, s.Firestore, s.now(), in.EventID, req.Auth.UID)
	if err != nil {
		return nil, err
	}
	return AckResult{EventID: ev.EventID, UserID: ev.UserID, Source: ev.Source, CreatedAt: ev.CreatedAt,
		NotifiedAt: ev.NotifiedAt, DeliveredTo: ev.DeliveredTo, AckedAt: ev.AckedAt, AckedBy: ev.AckedBy}, nil
}
