package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// TypePubSubPublished is the CloudEvent type of a Pub/Sub message.
const TypePubSubPublished = "google.cloud.pubsub.topic.v1.messagePublished"

// PubSubMessage is one decoded Pub/Sub message.
type PubSubMessage struct {
	// ID is the message id assigned by Pub/Sub (the CloudEvent id when the
	// data carries none): the key for "process once".
	ID string
	// Data is the payload, base64-decoded; may be empty.
	Data []byte
	// Attributes are the message attributes; never nil.
	Attributes map[string]string
	// PublishTime is when Pub/Sub accepted the message (UTC); zero if unknown.
	PublishTime time.Time
	// OrderingKey is the message's ordering key, if any.
	OrderingKey string
	// Subscription is the full subscription name, when the delivery says.
	Subscription string
	// DeliveryAttempt is the delivery attempt count when the subscription has
	// a dead-letter policy; 0 when unknown.
	DeliveryAttempt int
}

// LogAttrs returns the ids that identify the message in logs (message id and
// subscription), never its data or attributes.
func (m *PubSubMessage) LogAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("messageId", m.ID),
		slog.String("subscription", m.Subscription),
	}
}

// JSON decodes Data, which must hold exactly one JSON value, into v, strictly:
// unknown object keys and trailing data are errors.
//
// Errors: a fault.InvalidArgument error, prefixed "pubsub message data", when
// Data is empty or does not decode into v.
func (m *PubSubMessage) JSON(v any) error {
	const op = "pubsub message data"
	if len(bytes.TrimSpace(m.Data)) == 0 {
		return invalid(op, nil, "empty message data")
	}
	dec := json.NewDecoder(bytes.NewReader(m.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid(op, err, "message data is not the expected JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid(op, nil, "trailing data after the JSON value")
	}
	return nil
}

// wireMessage is a PubsubMessage in JSON, in camelCase (protojson, push) or
// snake_case (proto names) spelling.
type wireMessage struct {
	Data             *string           `json:"data"`
	Attributes       map[string]string `json:"attributes"`
	MessageID        string            `json:"messageId"`
	MessageIDSnake   string            `json:"message_id"`
	PublishTime      string            `json:"publishTime"`
	PublishTimeSnake string            `json:"publish_time"`
	OrderingKey      string            `json:"orderingKey"`
	OrderingKeySnake string            `json:"ordering_key"`
}

// wireEnvelope is a push body or MessagePublishedData.
type wireEnvelope struct {
	Message              *wireMessage `json:"message"`
	Subscription         string       `json:"subscription"`
	DeliveryAttempt      *int         `json:"deliveryAttempt"`
	DeliveryAttemptSnake *int         `json:"delivery_attempt"`
}

// decodeEnvelope parses the wrapped form shared by push bodies and
// messagePublished data. Unknown keys are ignored (the platform adds some,
// such as "@type").
func decodeEnvelope(body []byte) (*PubSubMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body")
	}
	if trimmed[0] != '{' {
		return nil, errors.New("body is not a JSON object")
	}
	var env wireEnvelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if env.Message == nil {
		return nil, errors.New("no message")
	}
	w := env.Message
	m := &PubSubMessage{
		ID:           firstNonEmpty(w.MessageID, w.MessageIDSnake),
		Attributes:   w.Attributes,
		OrderingKey:  firstNonEmpty(w.OrderingKey, w.OrderingKeySnake),
		Subscription: env.Subscription,
	}
	if m.Attributes == nil {
		m.Attributes = map[string]string{}
	}
	if w.Data != nil {
		d, err := decodeBase64Data(*w.Data)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		m.Data = d
	}
	if pt := firstNonEmpty(w.PublishTime, w.PublishTimeSnake); pt != "" {
		t, err := time.Parse(time.RFC3339Nano, pt)
		if err != nil {
			return nil, errors.New("publishTime is not an RFC 3339 time")
		}
		m.PublishTime = t.UTC()
	}
	for _, da := range []*int{env.DeliveryAttempt, env.DeliveryAttemptSnake} {
		if da != nil {
			if *da < 0 {
				return nil, errors.New("negative deliveryAttempt")
			}
			m.DeliveryAttempt = *da
			break
		}
	}
	return m, nil
}

// decodeBase64Data decodes standard or URL-safe base64, padded or not.
func decodeBase64Data(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	return enc.DecodeString(s)
}

// DecodePushEnvelope decodes the body of a Pub/Sub push-subscription request:
// {"subscription": …, "message": {"data": base64, "attributes": {…},
// "messageId": …, "publishTime": …, "orderingKey": …}, "deliveryAttempt": n},
// accepting the snake_case spellings (message_id, publish_time, ordering_key,
// delivery_attempt) too. Unknown keys are ignored.
//
// Errors: a fault.InvalidArgument error, prefixed "decode pubsub push", when
// the body is not such a JSON object, has no message or message id, or holds
// malformed base64 or time values.
func DecodePushEnvelope(body []byte) (*PubSubMessage, error) {
	const op = "decode pubsub push"
	m, err := decodeEnvelope(body)
	if err != nil {
		return nil, invalid(op, err, "malformed push body")
	}
	if m.ID == "" {
		return nil, invalid(op, nil, "message has no id")
	}
	return m, nil
}

// DecodePubSub decodes a google.cloud.pubsub.topic.v1.messagePublished
// CloudEvent, whose data is MessagePublishedData JSON
// {"message": {…}, "subscription": …} (message as for DecodePushEnvelope).
// The message id and publish time fall back to the CloudEvent's id and time.
//
// Errors: a fault.InvalidArgument error, prefixed "decode pubsub event", when
// the type is wrong, the data is not MessagePublishedData, or no id exists.
func DecodePubSub(e event.Event) (*PubSubMessage, error) {
	const op = "decode pubsub event"
	if e.Type() != TypePubSubPublished {
		return nil, invalid(op, nil, "not a Pub/Sub messagePublished event")
	}
	m, err := decodeEnvelope(e.Data())
	if err != nil {
		return nil, invalid(op, err, "malformed message data")
	}
	if m.ID == "" {
		m.ID = e.ID()
	}
	if m.ID == "" {
		return nil, invalid(op, nil, "message has no id")
	}
	if m.PublishTime.IsZero() {
		m.PublishTime = e.Time().UTC()
		if e.Time().IsZero() {
			m.PublishTime = time.Time{}
		}
	}
	return m, nil
}
