package events_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
)

func TestDecodePushEnvelope(t *testing.T) {
	pt := time.Date(2026, 11, 21, 7, 0, 0, 123000000, time.UTC)
	tests := []struct {
		name string
		body string
		want events.PubSubMessage
	}{
		{"camelCase",
			`{"subscription":"projects/p/subscriptions/s","message":{"data":"eyJhIjoxfQ==","attributes":{"k":"v"},"messageId":"m1","publishTime":"2026-11-21T07:00:00.123Z","orderingKey":"o"},"deliveryAttempt":3}`,
			events.PubSubMessage{ID: "m1", Data: []byte(`{"a":1}`), Attributes: map[string]string{"k": "v"}, PublishTime: pt,
				OrderingKey: "o", Subscription: "projects/p/subscriptions/s", DeliveryAttempt: 3}},
		{"snake_case",
			`{"subscription":"s","message":{"data":"eyJhIjoxfQ","attributes":{"k":"v"},"message_id":"m2","publish_time":"2026-11-21T09:00:00.123+02:00","ordering_key":"o"},"delivery_attempt":2}`,
			events.PubSubMessage{ID: "m2", Data: []byte(`{"a":1}`), Attributes: map[string]string{"k": "v"}, PublishTime: pt,
				OrderingKey: "o", Subscription: "s", DeliveryAttempt: 2}},
		{"both id spellings, camel wins",
			`{"message":{"messageId":"m3","message_id":"m3-other"}}`,
			events.PubSubMessage{ID: "m3", Attributes: map[string]string{}}},
		{"no data, null attributes",
			`{"message":{"messageId":"m4","attributes":null}}`,
			events.PubSubMessage{ID: "m4", Attributes: map[string]string{}}},
		{"url-safe base64 and extra keys",
			`{"message":{"@type":"x","data":"-_8=","messageId":"m5","future":1},"subscription":"s","extra":true}`,
			events.PubSubMessage{ID: "m5", Data: []byte{0xfb, 0xff}, Attributes: map[string]string{}, Subscription: "s"}},
		{"empty data string",
			`{"message":{"data":"","messageId":"m6"}}`,
			events.PubSubMessage{ID: "m6", Data: []byte{}, Attributes: map[string]string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := events.DecodePushEnvelope([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}

	t.Run("eventstest envelope", func(t *testing.T) {
		body := eventstest.NewPushEnvelope("projects/p/subscriptions/s", []byte("hi"), map[string]string{"a": "b"}, "m7", pt)
		got, err := events.DecodePushEnvelope(body)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "m7" || string(got.Data) != "hi" || got.Attributes["a"] != "b" || !got.PublishTime.Equal(pt) {
			t.Errorf("got %+v", got)
		}
	})
}

func TestDecodePushEnvelopeMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"empty":             ``,
		"not json":          `hello`,
		"array":             `[{"message":{}}]`,
		"null":              `null`,
		"truncated":         `{"message":{"messageId":"m"`,
		"no message":        `{"subscription":"s"}`,
		"null message":      `{"message":null}`,
		"no id":             `{"message":{"data":"aGk="}}`,
		"bad base64":        `{"message":{"data":"!!!","messageId":"m"}}`,
		"data not a string": `{"message":{"data":5,"messageId":"m"}}`,
		"bad attributes":    `{"message":{"attributes":{"k":1},"messageId":"m"}}`,
		"bad publish time":  `{"message":{"messageId":"m","publishTime":"yesterday"}}`,
		"negative attempt":  `{"message":{"messageId":"m"},"deliveryAttempt":-1}`,
		"string attempt":    `{"message":{"messageId":"m"},"deliveryAttempt":"2"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := events.DecodePushEnvelope([]byte(body))
			assertInvalid(t, err)
		})
	}
}

func TestDecodePubSub(t *testing.T) {
	t.Run("eventstest event", func(t *testing.T) {
		e := eventstest.NewPubSubCloudEvent([]byte(`{"uid":"u1"}`), map[string]string{"kind": "tick"}, "msg-1")
		m, err := events.DecodePubSub(e)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != "msg-1" || string(m.Data) != `{"uid":"u1"}` || m.Attributes["kind"] != "tick" || m.PublishTime.IsZero() {
			t.Errorf("got %+v", m)
		}
		var v struct {
			UID string `json:"uid"`
		}
		if err := m.JSON(&v); err != nil || v.UID != "u1" {
			t.Errorf("JSON = %+v, %v", v, err)
		}
	})
	t.Run("structured JSON CloudEvent as Eventarc sends it", func(t *testing.T) {
		raw := `{"specversion":"1.0","id":"ce-7","type":"google.cloud.pubsub.topic.v1.messagePublished",
			"source":"//pubsub.googleapis.com/projects/p/topics/t","time":"2026-11-21T07:00:00Z","datacontenttype":"application/json",
			"data":{"message":{"data":"aGk=","message_id":"m-7","publish_time":"2026-11-21T06:59:59Z"},"subscription":"projects/p/subscriptions/eventarc-x"}}`
		var e event.Event
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			t.Fatal(err)
		}
		m, err := events.DecodePubSub(e)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != "m-7" || string(m.Data) != "hi" || m.Subscription != "projects/p/subscriptions/eventarc-x" ||
			!m.PublishTime.Equal(time.Date(2026, 11, 21, 6, 59, 59, 0, time.UTC)) {
			t.Errorf("got %+v", m)
		}
	})
	t.Run("id and time fall back to the event", func(t *testing.T) {
		e := event.New()
		e.SetID("ce-8")
		e.SetType(events.TypePubSubPublished)
		e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
		tm := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		e.SetTime(tm)
		_ = e.SetData("application/json", map[string]any{"message": map[string]any{"data": "aGk="}})
		m, err := events.DecodePubSub(e)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != "ce-8" || !m.PublishTime.Equal(tm) {
			t.Errorf("got %+v", m)
		}
	})
}

func TestDecodePubSubMalformed(t *testing.T) {
	mk := func(typ string, data []byte) event.Event {
		e := event.New()
		e.SetID("id")
		e.SetType(typ)
		e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
		e.DataEncoded = data
		return e
	}
	tests := map[string]event.Event{
		"wrong type":      mk(events.TypeCreated, []byte(`{"message":{"messageId":"m"}}`)),
		"empty data":      mk(events.TypePubSubPublished, nil),
		"not json":        mk(events.TypePubSubPublished, []byte("\x0a\x01x")),
		"no message":      mk(events.TypePubSubPublished, []byte(`{}`)),
		"bad base64 data": mk(events.TypePubSubPublished, []byte(`{"message":{"data":"%%"}}`)),
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := events.DecodePubSub(e)
			assertInvalid(t, err)
		})
	}
	t.Run("no id anywhere", func(t *testing.T) {
		e := event.New()
		e.SetType(events.TypePubSubPublished)
		e.DataEncoded = []byte(`{"message":{"data":"aGk="}}`)
		_, err := events.DecodePubSub(e)
		assertInvalid(t, err)
	})
}

func TestPubSubMessageJSON(t *testing.T) {
	type job struct {
		UID  string `json:"uid"`
		Date string `json:"date"`
	}
	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"exact", `{"uid":"u1","date":"2026-11-21"}`, true},
		{"partial", `{"uid":"u1"}`, true},
		{"surrounding space", " {\"uid\":\"u1\"}\n", true},
		{"unknown field", `{"uid":"u1","extra":1}`, false},
		{"wrong type", `{"uid":1}`, false},
		{"trailing value", `{"uid":"u1"}{"uid":"u2"}`, false},
		{"trailing garbage", `{"uid":"u1"} x`, false},
		{"empty", ``, false},
		{"blank", `   `, false},
		{"not json", `uid=u1`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &events.PubSubMessage{ID: "m", Data: []byte(tt.data)}
			var j job
			err := m.JSON(&j)
			if tt.ok {
				if err != nil || j.UID != "u1" {
					t.Errorf("JSON = %+v, %v", j, err)
				}
				return
			}
			assertInvalid(t, err)
			if bytes.Contains([]byte(err.Error()), []byte("u2")) {
				t.Errorf("error leaks data: %v", err)
			}
		})
	}
}
