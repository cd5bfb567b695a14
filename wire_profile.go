package functions

import (
	"context"

	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
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

	ack := onCall("acknowledgeWellbeingEvent", callable.Options{RequireAuth: true, RequireAdmin: true}, profileService, (*profile.Service).AcknowledgeWellbeingEvent)
	ack.Doc = "Admin: acknowledges a wellbeing event (ackedAt, ackedBy) and closes the user's episode."

	return []Function{written, recompute, outbox, deliver, ack}
}
