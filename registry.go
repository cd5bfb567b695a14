package functions

import (
	"context"
	"net/http"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Trigger says how a function is invoked.
type Trigger string

// Triggers.
const (
	// HTTP is a plain HTTPS endpoint (the Stripe webhook).
	HTTP Trigger = "http"
	// Callable is an HTTPS endpoint speaking the Firebase callable protocol.
	Callable Trigger = "callable"
	// Firestore is a Firestore document event through Eventarc.
	Firestore Trigger = "firestore"
	// PubSub is a Pub/Sub message through Eventarc (also what Cloud
	// Scheduler jobs publish to).
	PubSub Trigger = "pubsub"
)

// Function describes one deployable function: its handler and everything
// deploy and the local server need to wire its trigger.
type Function struct {
	Name    string
	Trigger Trigger
	// EventType and Document (a path pattern such as "users/{uid}") for
	// Firestore triggers.
	EventType string
	Document  string
	// Topic for Pub/Sub triggers (the topic id, not its full name).
	Topic string
	// Schedule, when set, creates a Cloud Scheduler job (cron syntax, in
	// ScheduleZone) that publishes ScheduleBody to Topic.
	Schedule     string
	ScheduleZone string
	ScheduleBody string
	// Secrets are environment variables mounted from Secret Manager.
	Secrets []string
	// Memory (e.g. "256Mi") and Timeout of an instance.
	Memory  string
	Timeout time.Duration
	// Retry enables Eventarc retries of a failed event (event triggers).
	Retry bool
	// MaxInstances caps concurrent instances (0: the platform default),
	// e.g. 1 for a job that must never run twice at once.
	MaxInstances int
	// Doc is one line for the README and --help.
	Doc string

	HTTP  http.HandlerFunc
	Event func(ctx context.Context, e cloudevents.Event) error
}

// Firestore event types.
const (
	DocumentWritten = "google.cloud.firestore.document.v1.written"
	DocumentCreated = "google.cloud.firestore.document.v1.created"
	DocumentUpdated = "google.cloud.firestore.document.v1.updated"
	DocumentDeleted = "google.cloud.firestore.document.v1.deleted"
)

// Registry returns every function of the product.
func Registry() []Function {
	var all []Function
	for _, area := range areas {
		all = append(all, area()...)
	}
	return all
}
