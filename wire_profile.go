package functions

import (
	"context"
	"time"

	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/wellbeing"
)

var profileService = service(func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*profile.Service, error) {
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := c.Publisher(ctx)
	if err != nil {
		return nil, err
	}
	return &profile.Service{
		Firestore: fs,
		Wellbeing: &wellbeing.Protocol{Now: now},
		Publisher: pub,
		Deliverer: &wellbeing.Deliverer{Firestore: fs, WebhookURL: cfg.OnCallWebhookURL, Now: now},
		Now:       now,
	}, nil
})

// wellbeingSweeper is the delivery backstop of wellbeing alerts: the same
// Deliverer (webhook secret, lease) as deliverWellbeingAlert.
var wellbeingSweeper = service(func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*wellbeing.Sweeper, error) {
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	return &wellbeing.Sweeper{
		Firestore: fs,
		Deliverer: &wellbeing.Deliverer{Firestore: fs, WebhookURL: cfg.OnCallWebhookURL, Now: now},
		Now:       now,
	}, nil
})

// sweepWellbeingAlerts runs one sweep (the scheduled message carries
// nothing); it fails only when Firestore does, not when the webhook is down
// (Sweep reports that at CRITICAL severity).
func sweepWellbeingAlerts(s *wellbeing.Sweeper, ctx context.Context, _ *events.PubSubMessage) error {
	_, err := s.Sweep(ctx)
	return err
}

// wellbeingSweepSchedule: every 5 minutes. A lost alert is a suicide-risk
// signal nobody sees, so it is re-driven at most DefaultSweepGrace (10 min)
// + 5 min after the event (hourly would leave it unseen for over an hour);
// a sweep that finds nothing costs a document read and an indexed query
// (≈ 8,600 runs a month).
const wellbeingSweepSchedule = "*/5 * * * *"

func profileFunctions() []Function {
	written := onFirestore("onUserWritten", profileService, (*profile.Service).OnUserWritten)
	written.EventType, written.Document = DocumentWritten, "users/{uid}"
	written.Memory = "512Mi" // the birthplace table (~25 MB retained) and the ephemeris
	written.Doc = "Computes the profile (chart, numerology, traits, screening scores and flags) when birth data or answers change; raises the wellbeing protocol."

	recompute := onCall("recomputeProfile", callable.Options{RequireAuth: true}, profileService, (*profile.Service).RecomputeProfile)
	recompute.Memory = "512Mi"
	recompute.Doc = "Recomputes and returns the caller's profile (an admin: any user's, data {\"uid\"})."

	outbox := onFirestore("onWellbeingEventCreated", profileService, (*profile.Service).OnWellbeingEventCreated)
	outbox.EventType, outbox.Document = DocumentCreated, "wellbeing_events/{eventId}"
	outbox.Doc = "Publishes each new wellbeing event to the wellbeing-alerts topic (ids only), once."

	deliver := onPubSub("deliverWellbeingAlert", wellbeing.Topic, profileService, (*profile.Service).DeliverWellbeingAlert)
	deliver.Secrets = []string{"IJ_ONCALL_WEBHOOK_URL"}
	deliver.Doc = "Delivers wellbeing alerts to the on-call webhook (logs at CRITICAL when none is configured) and records notifiedAt."

	sweep := onPubSub("sweepWellbeingAlerts", wellbeing.TopicSweep, wellbeingSweeper, sweepWellbeingAlerts)
	sweep.Schedule, sweep.ScheduleZone, sweep.ScheduleBody = wellbeingSweepSchedule, "Etc/UTC", "{}"
	// Deliveries stop after DefaultSweepBudget (2 min); one more webhook
	// call (10 s) and the bookkeeping fit well within 4 minutes, under the
	// 5-minute period; one instance, so sweeps do not overlap (the lease
	// keeps deliveries single anyway).
	sweep.Timeout, sweep.MaxInstances = 240*time.Second, 1
	sweep.Secrets = []string{"IJ_ONCALL_WEBHOOK_URL"}
	sweep.Doc = "Every 5 min: delivers wellbeing alerts still undelivered after 10 min (lost publish, webhook down past Pub/Sub retention) under the same lease; logs CRITICAL (alert=wellbeing_undelivered) for those older than 1 h."

	ack := onCall("acknowledgeWellbeingEvent", callable.Options{RequireAuth: true, RequireAdmin: true}, profileService, (*profile.Service).AcknowledgeWellbeingEvent)
	ack.Doc = "Admin: acknowledges a wellbeing event (ackedAt, ackedBy) and closes the user's episode."

	return []Function{written, recompute, outbox, deliver, sweep, ack}
}
