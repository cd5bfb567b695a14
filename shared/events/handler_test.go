package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/logging"
	"github.com/innerjourney/functions/shared/testenv"
)

const secret = "very private journal text"

func TestFirestoreHandler(t *testing.T) {
	good := eventstest.MustFirestoreCloudEvent(t, eventstest.EmulatorBase64, "written", project, "user_activations/ua1",
		nil, map[string]any{"log": map[string]any{"text": secret}}, eventstest.WithID("ev-1"))
	malformed := good.Clone()
	malformed.DataEncoded = []byte(secret)

	tests := []struct {
		name      string
		e         event.Event
		fnErr     error
		panics    bool
		wantCall  bool
		wantErr   bool
		wantLog   string
		wantLevel string
	}{
		{"success", good, nil, false, true, false, "", ""},
		{"malformed dropped", malformed, nil, false, false, false, "malformed event dropped", "WARN"},
		{"retryable returned", good, fault.New(fault.Unavailable, "firestore down"), false, true, true, "asking for redelivery", "ERROR"},
		{"plain error is retryable", good, errors.New("boom"), false, true, true, "asking for redelivery", "ERROR"},
		{"cut short by the instance shutting down", good, fmt.Errorf("write insight: %w", context.Canceled), false, true, true, "asking for redelivery", "ERROR"},
		{"permanent dropped", good, fault.Invalid("bad birth date"), false, true, false, "failed permanently", "WARN"},
		{"not found dropped", good, fault.New(fault.NotFound, "user gone"), false, true, false, "failed permanently", "WARN"},
		{"panic dropped", good, nil, true, true, false, "panicked", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := testenv.CaptureLogs(t)
			called := false
			h := events.FirestoreHandler("onActivation", func(ctx context.Context, ev *events.FirestoreEvent) error {
				called = true
				if ev.Path != "user_activations/ua1" || ev.ID != "ev-1" {
					t.Errorf("event = %q %q", ev.Path, ev.ID)
				}
				if tt.panics {
					panic(secret)
				}
				return tt.fnErr
			})
			err := h(context.Background(), tt.e)
			if called != tt.wantCall {
				t.Errorf("called = %v, want %v", called, tt.wantCall)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr && (!errors.Is(err, tt.fnErr) || !strings.HasPrefix(err.Error(), "onActivation: ")) {
				t.Errorf("returned error = %v", err)
			}
			out := logs.String()
			if tt.wantLog != "" && (!strings.Contains(out, tt.wantLog) || !strings.Contains(out, `"level":"`+tt.wantLevel+`"`)) {
				t.Errorf("log = %s, want %q at %s", out, tt.wantLog, tt.wantLevel)
			}
			if tt.wantLog != "" && !strings.Contains(out, `"eventId":"ev-1"`) {
				t.Errorf("log lacks the event id: %s", out)
			}
			if strings.Contains(out, secret) {
				t.Errorf("log leaks a field value: %s", out)
			}
		})
	}
}

func TestPubSubHandler(t *testing.T) {
	good := eventstest.NewPubSubCloudEvent([]byte(`{"uid":"`+secret+`"}`), nil, "m-1")
	bad := good.Clone()
	bad.DataEncoded = []byte(`{"message":` + secret)
	tests := []struct {
		name     string
		e        event.Event
		fnErr    error
		wantCall bool
		wantErr  bool
	}{
		{"success", good, nil, true, false},
		{"malformed dropped", bad, nil, false, false},
		{"retryable returned", good, fault.New(fault.DeadlineExceeded, "slow"), true, true},
		{"invalid payload dropped", good, fault.Invalid("bad payload"), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := testenv.CaptureLogs(t)
			called := false
			h := events.PubSubHandler("dailyWorker", func(ctx context.Context, m *events.PubSubMessage) error {
				called = true
				if m.ID != "m-1" {
					t.Errorf("id = %q", m.ID)
				}
				return tt.fnErr
			})
			err := h(context.Background(), tt.e)
			if called != tt.wantCall || (err != nil) != tt.wantErr {
				t.Errorf("called = %v, err = %v", called, err)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("log leaks data: %s", logs.String())
			}
		})
	}
}

func TestHandlerAttachesTrace(t *testing.T) {
	e := eventstest.NewPubSubCloudEvent([]byte(`{}`), nil, "m-1")
	e.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	var got logging.Trace
	h := events.PubSubHandler("w", func(ctx context.Context, m *events.PubSubMessage) error {
		got, _ = logging.TraceFrom(ctx)
		return nil
	})
	if err := h(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || got.SpanID != "00f067aa0ba902b7" || !got.Sampled {
		t.Errorf("trace = %+v", got)
	}
}
