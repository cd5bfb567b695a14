package events_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
)

// Production Eventarc sends raw protobuf whose first byte is the tag of
// DocumentEventData field 1 (0x0A, which is also '\n'), followed by the
// length varint of the new document. A 123-byte document makes the body start
// "\n{", and long documents can have length bytes that read as Unicode white
// space (0xC2 0x85 is U+0085, 0xC2 0xA0 is U+00A0). The decoder once trimmed
// white space before looking for the tag, took such bodies for JSON and
// dropped valid events as malformed. These tests pin every document size.

// sizedDocument returns a nameless document whose serialized size is exactly
// n bytes, with the Go field values it holds, or ok=false when no document
// built from the knobs below has that size. It combines an optional update
// time (seconds of 1 to 5 varint bytes, with or without nanos), an optional empty string field "t" and an optional string field "s"
// whose length is found by binary search (the size grows with it).
func sizedDocument(t *testing.T, n int) (doc *firestorepb.Document, fields map[string]any, ok bool) {
	t.Helper()
	times := []*timestamppb.Timestamp{nil}
	for _, sec := range []int64{0, 1, 1 << 7, 1 << 14, 1 << 21, 1 << 28} {
		for _, nanos := range []int32{0, 1} {
			times = append(times, &timestamppb.Timestamp{Seconds: sec, Nanos: nanos})
		}
	}
	build := func(ts *timestamppb.Timestamp, withT bool, pad int) (*firestorepb.Document, map[string]any) {
		t.Helper()
		f := map[string]any{}
		if withT {
			f["t"] = ""
		}
		if pad >= 0 {
			f["s"] = strings.Repeat("x", pad)
		}
		fs, err := eventstest.Fields(f)
		if err != nil {
			t.Fatalf("eventstest.Fields: %v", err)
		}
		return &firestorepb.Document{Fields: fs, UpdateTime: ts}, f
	}
	for _, ts := range times {
		for _, withT := range []bool{false, true} {
			if d, f := build(ts, withT, -1); proto.Size(d) == n {
				return d, f, true
			}
			lo, hi := 0, n // smallest pad whose size is >= n
			for lo < hi {
				mid := (lo + hi) / 2
				if d, _ := build(ts, withT, mid); proto.Size(d) < n {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			if d, f := build(ts, withT, lo); proto.Size(d) == n {
				return d, f, true
			}
		}
	}
	return nil, nil, false
}

// assertDecodesSized builds a created event whose new document is n bytes,
// checks that its body starts with prefix (when given), and checks that it
// decodes, with its fields, under every content type production or the
// emulator may label it with.
func assertDecodesSized(t *testing.T, n int, prefix []byte) {
	t.Helper()
	doc, fields, ok := sizedDocument(t, n)
	if !ok {
		t.Fatalf("no document of %d bytes", n)
	}
	body, _, err := eventstest.EncodeDocumentEventData(eventstest.Protobuf, nil, doc, nil)
	if err != nil {
		t.Fatalf("EncodeDocumentEventData: %v", err)
	}
	if prefix != nil && !bytes.HasPrefix(body, prefix) {
		t.Fatalf("body starts % x, want % x", body[:min(len(body), len(prefix))], prefix)
	}
	for _, ct := range []string{"application/protobuf", "application/octet-stream", ""} {
		ev, err := events.DecodeFirestore(rawEvent(events.TypeCreated, ct, body))
		if err != nil {
			t.Fatalf("content type %q: %d-byte document (body % x…) rejected: %v", ct, n, body[:min(len(body), 4)], err)
		}
		assertFields(t, ev.After.Fields, fields)
		if want := doc.GetUpdateTime(); want != nil && !ev.After.UpdateTime.Equal(want.AsTime()) {
			t.Errorf("update time = %v, want %v", ev.After.UpdateTime, want.AsTime())
		}
	}
}

func TestDecodeFirestoreProtobufEveryDocumentSize(t *testing.T) {
	// A document holds only length-delimited fields of at least two bytes
	// each, none of which can carry a single byte: 1 and 3 bytes are
	// impossible sizes.
	impossible := map[int]bool{1: true, 3: true}
	for n := 0; n <= 400; n++ {
		if impossible[n] {
			continue
		}
		assertDecodesSized(t, n, nil)
	}
}

func TestDecodeFirestoreProtobufLengthPrefixes(t *testing.T) {
	// lengthWith returns the length whose varint encoding is exactly b.
	lengthWith := func(b ...byte) int {
		v, n := protowire.ConsumeVarint(b)
		if n != len(b) {
			t.Fatalf("% x is not one varint", b)
		}
		return int(v)
	}
	tests := []struct {
		name   string
		size   int
		prefix []byte
	}{
		{"length byte is '{'", 123, []byte{0x0A, '{'}},
		{"largest one-byte length", 127, []byte{0x0A, 0x7F}},
		{"smallest two-byte length", 128, []byte{0x0A, 0x80, 0x01}},
		{"length byte is '{' after a two-byte boundary", 123 + 128, []byte{0x0A, 0xFB, 0x01}},
		{"largest two-byte length", 16383, []byte{0x0A, 0xFF, 0x7F}},
		{"smallest three-byte length", 16384, []byte{0x0A, 0x80, 0x80, 0x01}},
		{"length bytes are U+0085 then '{'", lengthWith(0xC2, 0x85, '{'), []byte{0x0A, 0xC2, 0x85, '{'}},
		{"length bytes are U+00A0 then '{'", lengthWith(0xC2, 0xA0, '{'), []byte{0x0A, 0xC2, 0xA0, '{'}},
		{"largest three-byte length", 1<<21 - 1, []byte{0x0A, 0xFF, 0xFF, 0x7F}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertDecodesSized(t, tt.size, tt.prefix)
		})
	}
}

// TestFirestoreHandlerDeliversBraceLengthEvent is the end-to-end form: a
// production created event (named document, event id, source) whose new
// document is 123 bytes reaches the handler instead of being dropped as a
// malformed event.
func TestFirestoreHandlerDeliversBraceLengthEvent(t *testing.T) {
	hit := 0
	for pad := 0; pad < 120; pad++ {
		want := strings.Repeat("x", pad)
		e := eventstest.MustFirestoreCloudEvent(t, eventstest.Protobuf, "created", project, "users/abc",
			nil, map[string]any{"displayName": want})
		if body := e.Data(); len(body) < 2 || body[0] != 0x0A || body[1] != '{' {
			continue
		}
		hit++
		var got any
		h := events.FirestoreHandler("brace-length", func(_ context.Context, ev *events.FirestoreEvent) error {
			got, _ = ev.After.Get("displayName")
			return nil
		})
		if err := h(context.Background(), e); err != nil {
			t.Fatalf("handler error: %v", err)
		}
		if got != want {
			t.Fatalf("handler saw displayName %v (event dropped?)", got)
		}
	}
	if hit == 0 {
		t.Fatal("no padding produced a 123-byte document; adjust the test")
	}
}

func TestDecodeFirestoreAmbiguousBodies(t *testing.T) {
	fields := map[string]any{"k": "v"}
	jsonBody, _, err := eventstest.EncodeDocumentEventData(eventstest.JSON, nil, mustDoc(t, fields), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, ok := sizedDocument(t, 123)
	if !ok {
		t.Fatal("no 123-byte document")
	}
	brace, _, err := eventstest.EncodeDocumentEventData(eventstest.Protobuf, nil, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, contentType string
		body              []byte
		wantField         string // a field the decoded new document must hold
	}{
		{"json after a newline (tag byte, not protobuf)", "", append([]byte("\n"), jsonBody...), "k"},
		{"json after a newline, labelled protobuf", "application/protobuf", append([]byte("\n"), jsonBody...), "k"},
		{"json after a newline and a tab", "application/json", append([]byte("\n\t"), jsonBody...), "k"},
		{"brace-length protobuf labelled json", "application/json", brace, "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := events.DecodeFirestore(rawEvent(events.TypeCreated, tt.contentType, tt.body))
			if err != nil {
				t.Fatalf("DecodeFirestore: %v", err)
			}
			if _, ok := ev.After.Get(tt.wantField); !ok {
				t.Errorf("field %q missing from %v", tt.wantField, ev.After.Fields)
			}
		})
	}
}
