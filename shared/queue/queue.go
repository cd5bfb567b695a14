// Package queue publishes messages to Pub/Sub topics and sets topics and
// subscriptions up (deploy creates them in production; the local server
// and tests create them on the emulator).
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Publisher publishes one message to a topic and returns its message id.
// An error means the message may not have been published; callers retry
// (a message published twice is handled idempotently downstream).
type Publisher interface {
	Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error)
}

// PublishJSON encodes v as JSON and publishes it.
func PublishJSON(ctx context.Context, p Publisher, topic string, v any, attrs map[string]string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("PublishJSON %s: %w", topic, err)
	}
	return p.Publish(ctx, topic, b, attrs)
}

// PubSub is a Publisher over a Pub/Sub client, keeping one batching
// publisher per topic.
type PubSub struct {
	Client *pubsub.Client
	mu     sync.Mutex
	pubs   map[string]*pubsub.Publisher
}

// Publish implements Publisher.
func (p *PubSub) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	p.mu.Lock()
	if p.pubs == nil {
		p.pubs = map[string]*pubsub.Publisher{}
	}
	pub, ok := p.pubs[topic]
	if !ok {
		pub = p.Client.Publisher(topic)
		p.pubs[topic] = pub
	}
	p.mu.Unlock()
	id, err := pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs}).Get(ctx)
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", topic, err)
	}
	return id, nil
}

// Stop flushes and stops every publisher.
func (p *PubSub) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pub := range p.pubs {
		pub.Stop()
	}
}

// TopicName returns "projects/P/topics/T".
func TopicName(project, topic string) string { return "projects/" + project + "/topics/" + topic }

// EnsureTopic creates the topic unless it exists.
func EnsureTopic(ctx context.Context, c *pubsub.Client, topic string) error {
	_, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: TopicName(c.Project(), topic)})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("EnsureTopic %s: %w", topic, err)
	}
	return nil
}

// EnsurePushSubscription creates (or re-points) a push subscription of
// topic delivering to endpoint.
func EnsurePushSubscription(ctx context.Context, c *pubsub.Client, name, topic, endpoint string) error {
	sub := "projects/" + c.Project() + "/subscriptions/" + name
	_, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: sub, Topic: TopicName(c.Project(), topic),
		PushConfig:         &pubsubpb.PushConfig{PushEndpoint: endpoint},
		AckDeadlineSeconds: 60,
	})
	if status.Code(err) == codes.AlreadyExists {
		err = c.SubscriptionAdminClient.ModifyPushConfig(ctx, &pubsubpb.ModifyPushConfigRequest{
			Subscription: sub, PushConfig: &pubsubpb.PushConfig{PushEndpoint: endpoint}})
	}
	if err != nil {
		return fmt.Errorf("EnsurePushSubscription %s: %w", name, err)
	}
	return nil
}

// Recorder is a Publisher for tests that records what was published.
type Recorder struct {
	mu       sync.Mutex
	Messages []Recorded
	// Err, when set, is returned by Publish instead of recording.
	Err error
}

// Recorded is one message a Recorder received.
type Recorded struct {
	Topic string
	Data  []byte
	Attrs map[string]string
}

// Publish implements Publisher.
func (r *Recorder) Publish(_ context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return "", r.Err
	}
	r.Messages = append(r.Messages, Recorded{Topic: topic, Data: append([]byte(nil), data...), Attrs: attrs})
	return fmt.Sprintf("rec-%d", len(r.Messages)), nil
}

// On returns the messages published to topic.
func (r *Recorder) On(topic string) []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Recorded
	for _, m := range r.Messages {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}
