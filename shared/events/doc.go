// Package events decodes the events Inner Journey's Cloud Functions receive:
// Firestore document events (google.cloud.firestore.document.v1.*) and
// Pub/Sub messages, in every form the platform and the local emulators
// deliver them.
//
// Firestore event data comes in three encodings, all accepted by
// DecodeFirestore:
//
//   - production Eventarc: the serialized
//     google.events.cloud.firestore.v1.DocumentEventData protobuf
//     (content type application/protobuf);
//   - JSON (application/json): the protojson form of the same message;
//   - the local Firestore emulator: the same protobuf, base64-encoded as text
//     in the body (while still labelled application/protobuf).
//
// The encodings are told apart by the content type and the content together
// (each plausible one is tried; the binary tag is checked before any white
// space is trimmed): see DecodeFirestore.
//
// Pub/Sub messages arrive either as a google.cloud.pubsub.topic.v1.messagePublished
// CloudEvent (DecodePubSub) or as a raw push-subscription body
// (DecodePushEnvelope).
//
// # Errors
//
// Every decoding error for malformed input is (or wraps) a
// fault.InvalidArgument error, so fault.Retryable reports false and callers
// drop the event instead of retrying. Error messages name fields and types,
// never field values.
//
// # Handlers
//
// FirestoreHandler and PubSubHandler adapt a typed handler to the
// functions-framework-go CloudEvent signature: malformed events are logged
// (ids only) and dropped, handler errors are returned to the platform (and so
// retried) only when fault.Retryable says a retry can help.
//
// Tests of other packages build events exactly as each transport delivers
// them with the subpackage eventstest.
package events

import (
	"fmt"

	"github.com/innerjourney/functions/shared/fault"
)

// invalid returns a fault.InvalidArgument error with a caller-safe message,
// wrapping cause (which may be nil), prefixed with the operation name.
func invalid(op string, cause error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", op, &fault.Error{
		Code:    fault.InvalidArgument,
		Message: fmt.Sprintf(format, args...),
		Err:     cause,
	})
}
