package events_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
)

// Each fuzz target checks that a decoder never panics, that every failure is
// INVALID_ARGUMENT, and that whatever decodes can be used (Get, DataTo,
// Changed, Params, JSON) without panicking.

// fuzzSeeds returns the data of events built with every test document in
// encoding enc.
func fuzzSeeds(f *testing.F, enc eventstest.Encoding) [][]byte {
	f.Helper()
	old := map[string]any{"log": map[string]any{"text": "t"}, "n": int64(1)}
	var out [][]byte
	for _, c := range []struct {
		typ           string
		before, after map[string]any
	}{
		{"created", nil, allTypes()},
		{"updated", old, allTypes()},
		{"deleted", old, nil},
		{"written", nil, map[string]any{}},
	} {
		e := eventstest.MustFirestoreCloudEvent(f, enc, c.typ, project, "users/u1/daily_insights/d1", c.before, c.after,
			eventstest.WithUpdateMask("log.text"))
		out = append(out, e.Data())
	}
	return out
}

func emulatorFixtureBodies(f *testing.F) [][]byte {
	f.Helper()
	files, _ := filepath.Glob("testdata/emulator/*.json")
	var out [][]byte
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var fx struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(raw, &fx); err != nil {
			f.Fatal(err)
		}
		out = append(out, []byte(fx.Body))
	}
	return out
}

type fuzzTarget struct {
	Log struct {
		Text string    `firestore:"text"`
		At   time.Time `firestore:"at"`
	} `firestore:"log"`
	N     int64          `firestore:"n"`
	Tags  []string       `firestore:"tags"`
	Any   any            `firestore:"any"`
	Map   map[string]int `firestore:"map"`
	Ts    *time.Time     `firestore:"ts"`
	Bytes []byte         `firestore:"bytes"`
}

func fuzzFirestore(t *testing.T, contentType string, data []byte) {
	e := event.New()
	e.SetID("fuzz")
	e.SetType(events.TypeWritten)
	e.SetSource("//firestore.googleapis.com/projects/projects/p/databases/(default)")
	e.SetSubject("documents/users/u1")
	if contentType != "" {
		e.SetDataContentType(contentType)
	}
	e.DataEncoded = data
	ev, err := events.DecodeFirestore(e)
	if err != nil {
		if fault.CodeOf(err) != fault.InvalidArgument {
			t.Fatalf("error code %s: %v", fault.CodeOf(err), err)
		}
		return
	}
	if ev.Path == "" || ev.Project == "" || (ev.Before == nil && ev.After == nil) {
		t.Fatalf("decoded event lacks location or documents: %+v", ev)
	}
	for _, d := range []*events.Document{ev.Before, ev.After} {
		if d == nil {
			continue
		}
		var m map[string]any
		if err := d.DataTo(&m); err != nil {
			t.Fatalf("DataTo map: %v", err)
		}
		var s fuzzTarget
		_ = d.DataTo(&s)
		for k := range d.Fields {
			d.Get(k)
			d.Get(k + ".x")
		}
	}
	ev.Changed()
	ev.Changed("log.text", "`a`.b")
	ev.Params("users/{uid}/{rest=**}")
	ev.Op()
}

func FuzzDecodeFirestoreProtobuf(f *testing.F) {
	for _, s := range fuzzSeeds(f, eventstest.Protobuf) {
		f.Add(s)
	}
	f.Add([]byte{0x0a, 0x00})
	f.Add([]byte{0x1a, 0x03, 0x0a, 0x01, 'x'})
	f.Add([]byte{0x0a, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFirestore(t, "application/protobuf", data)
	})
}

func FuzzDecodeFirestoreJSON(f *testing.F) {
	for _, s := range fuzzSeeds(f, eventstest.JSON) {
		f.Add(s)
	}
	f.Add([]byte(`{"value":{"fields":{"a":{"mapValue":{"fields":{"b":{"arrayValue":{"values":[{"nullValue":null}]}}}}}}}}`))
	f.Add([]byte(`{"old_value":{"name":"projects/p/databases/d/documents/a/b"},"update_mask":{"field_paths":["x"]}}`))
	f.Add([]byte(`{"value":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFirestore(t, "application/json", data)
	})
}

func FuzzDecodeFirestoreBase64(f *testing.F) {
	for _, s := range fuzzSeeds(f, eventstest.EmulatorBase64) {
		f.Add(s)
	}
	for _, s := range emulatorFixtureBodies(f) {
		f.Add(s)
	}
	f.Add([]byte("Cg=="))
	f.Add([]byte("CgA\r\nCgA"))
	f.Add([]byte("-_-_"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFirestore(t, "", data)
	})
}

func fuzzPubSubMessage(t *testing.T, m *events.PubSubMessage, err error) {
	if err != nil {
		if fault.CodeOf(err) != fault.InvalidArgument {
			t.Fatalf("error code %s: %v", fault.CodeOf(err), err)
		}
		return
	}
	if m.ID == "" || m.Attributes == nil || m.DeliveryAttempt < 0 {
		t.Fatalf("decoded message invalid: %+v", m)
	}
	var v map[string]any
	if err := m.JSON(&v); err != nil && fault.CodeOf(err) != fault.InvalidArgument {
		t.Fatalf("JSON error code %s", fault.CodeOf(err))
	}
	m.LogAttrs()
}

func FuzzDecodePushEnvelope(f *testing.F) {
	pt := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	f.Add(eventstest.NewPushEnvelope("projects/p/subscriptions/s", []byte(`{"uid":"u1"}`), map[string]string{"a": "b"}, "m1", pt))
	f.Add([]byte(`{"subscription":"s","message":{"data":"eyJhIjoxfQ","message_id":"m2","publish_time":"2026-11-21T09:00:00+02:00","ordering_key":"o"},"delivery_attempt":2}`))
	f.Add([]byte(`{"message":{"messageId":"m","data":"-_8="},"deliveryAttempt":1}`))
	f.Add([]byte(`{"message":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := events.DecodePushEnvelope(body)
		fuzzPubSubMessage(t, m, err)
	})
}

func FuzzDecodePubSub(f *testing.F) {
	f.Add(eventstest.NewPubSubCloudEvent([]byte(`{"uid":"u1","date":"2026-11-21"}`), map[string]string{"k": "v"}, "m1").Data())
	f.Add([]byte(`{"message":{"data":"aGk=","message_id":"m-7","publish_time":"2026-11-21T06:59:59Z"},"subscription":"projects/p/subscriptions/x"}`))
	f.Add([]byte(`{"message":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := event.New()
		e.SetID("ce-id")
		e.SetType(events.TypePubSubPublished)
		e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
		e.SetDataContentType("application/json")
		e.DataEncoded = data
		m, err := events.DecodePubSub(e)
		fuzzPubSubMessage(t, m, err)
	})
}
