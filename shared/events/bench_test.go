package events_test

import (
	"testing"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
)

// BenchmarkDecodeFirestore decodes an update event of the all-types document
// in each encoding.
func BenchmarkDecodeFirestore(b *testing.B) {
	for _, enc := range eventstest.Encodings {
		b.Run(enc.String(), func(b *testing.B) {
			e := eventstest.MustFirestoreCloudEvent(b, enc, "updated", project, "users/u1", allTypes(), allTypes())
			b.SetBytes(int64(len(e.Data())))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := events.DecodeFirestore(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDataTo reads a document into a struct.
func BenchmarkDataTo(b *testing.B) {
	e := eventstest.MustFirestoreCloudEvent(b, eventstest.Protobuf, "created", project, "users/u1", nil, map[string]any{
		"name": "Ada", "count": int64(3), "created": ts1, "log": map[string]any{"text": "hello", "mood": int64(4), "writtenAt": ts2},
		"tags": []any{"a", "b"}, "labels": map[string]any{"k": "v"},
	})
	ev, err := events.DecodeFirestore(e)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var p profile
		if err := ev.After.DataTo(&p); err != nil {
			b.Fatal(err)
		}
	}
}
