package devserver_test

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	ff "github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/innerjourney/functions/shared/devserver"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// received carries what the test-only functions saw.
var (
	firestoreSeen = make(chan *events.FirestoreEvent, 16)
	pubsubSeen    = make(chan *events.PubSubMessage, 16)
)

func init() {
	ff.CloudEvent("e2eProbe", events.FirestoreHandler("e2eProbe", func(_ context.Context, ev *events.FirestoreEvent) error {
		firestoreSeen <- ev
		return nil
	}))
	ff.CloudEvent("e2ePubSub", events.PubSubHandler("e2ePubSub", func(_ context.Context, m *events.PubSubMessage) error {
		pubsubSeen <- m
		return nil
	}))
}

const probeRules = `rules_version = '2';
service cloud.firestore {
  match /databases/{db}/documents {
    match /probes/{uid} {
      allow read, write: if request.auth != null && request.auth.uid == uid;
    }
  }
}`

// TestTriggerRoundTrip writes a document through the emulator's REST API as
// a signed-in user and checks that the event reaches the registered
// function through the adapter and functions-framework-go, decoded.
func TestTriggerRoundTrip(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	project := fs.NewProject(t)
	fs.LoadRules(t, project, probeRules)
	l := testenv.TriggerListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fw, err := devserver.StartFramework(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: devserver.Adapter(fw)}
	go srv.Serve(l)
	defer srv.Close()
	fs.RegisterTrigger(t, project, "e2eProbe", "google.cloud.firestore.document.v1.written", "probes/{uid}")

	alice := testenv.UnsignedIDToken(project, "alice", nil)
	doc := map[string]any{"fields": map[string]any{
		"mood":  map[string]any{"stringValue": "calm"},
		"count": map[string]any{"integerValue": "3"},
	}}
	if status, body := fs.REST(project, "PATCH", "/probes/alice", alice, doc); status != 200 {
		t.Fatalf("write as alice: %d %v", status, body)
	}
	// A denied write never reaches the function.
	mallory := testenv.UnsignedIDToken(project, "mallory", nil)
	if status, _ := fs.REST(project, "PATCH", "/probes/alice", mallory, doc); status != 403 {
		t.Fatalf("write as mallory: %d, want 403", status)
	}

	select {
	case ev := <-firestoreSeen:
		if ev.Path != "probes/alice" || ev.Project != project || ev.Before != nil || ev.After == nil {
			t.Fatalf("event = %+v", ev)
		}
		if v, _ := ev.After.Get("mood"); v != "calm" {
			t.Errorf("mood = %v", v)
		}
		if v, _ := ev.After.Get("count"); v != int64(3) {
			t.Errorf("count = %v (%T)", v, v)
		}
		if p, ok := ev.Params("probes/{uid}"); !ok || p["uid"] != "alice" {
			t.Errorf("params = %v", p)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the trigger never reached the function")
	}
	select {
	case ev := <-firestoreSeen:
		t.Fatalf("unexpected second event %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
}

// TestPubSubPushRoundTrip publishes to the Pub/Sub emulator with a push
// subscription to the adapter and checks the function receives the
// message as a messagePublished CloudEvent.
func TestPubSubPushRoundTrip(t *testing.T) {
	testenv.PubSub(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fw, err := devserver.StartFramework(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: devserver.Adapter(fw)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	project := "demo-push-" + base64.RawURLEncoding.EncodeToString([]byte(t.Name()))[:8]
	pc, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := queue.EnsureTopic(ctx, pc, "probe-topic"); err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String() + "/pubsub/e2ePubSub?topic=" + url.QueryEscape(queue.TopicName(project, "probe-topic"))
	if err := queue.EnsurePushSubscription(ctx, pc, "probe-push", "probe-topic", endpoint); err != nil {
		t.Fatal(err)
	}
	p := &queue.PubSub{Client: pc}
	defer p.Stop()
	id, err := p.Publish(ctx, "probe-topic", []byte(`{"hour":"2026-11-21T07:00:00Z"}`), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-pubsubSeen:
		if m.ID != id || string(m.Data) != `{"hour":"2026-11-21T07:00:00Z"}` || m.Attributes["k"] != "v" {
			t.Errorf("message = %+v", m)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the push never reached the function")
	}
}

func TestDecodeEmulatorBody(t *testing.T) {
	raw := []byte{0x0a, 0x03, 'a', 'b', 'c'}
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"base64", []byte(base64.StdEncoding.EncodeToString(raw)), raw},
		{"base64 with newline", []byte(base64.StdEncoding.EncodeToString(raw) + "\n"), raw},
		{"raw protobuf stays", raw, raw},
		{"json stays", []byte(`{"value":{}}`), []byte(`{"value":{}}`)},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		if got := devserver.DecodeEmulatorBody(tt.in); string(got) != string(tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPushToCloudEventRejectsGarbage(t *testing.T) {
	for _, body := range []string{`nope`, `{"message":{}}`} {
		if _, _, err := devserver.PushToCloudEvent([]byte(body), "projects/p/topics/t"); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
}
