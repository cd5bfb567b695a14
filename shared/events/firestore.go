package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"strings"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The Firestore CloudEvent types. Each may also arrive with the suffix
// TypeSuffixWithAuthContext, which DecodeFirestore accepts.
const (
	TypeCreated = "google.cloud.firestore.document.v1.created"
	TypeUpdated = "google.cloud.firestore.document.v1.updated"
	TypeDeleted = "google.cloud.firestore.document.v1.deleted"
	TypeWritten = "google.cloud.firestore.document.v1.written"

	// TypeSuffixWithAuthContext marks event types that also carry the
	// authtype and authid extensions.
	TypeSuffixWithAuthContext = ".withAuthContext"
)

// DataSchemaFirestore is the dataschema attribute Eventarc (and the
// emulator) set on Firestore events.
const DataSchemaFirestore = "https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/firestore/v1/data.proto"

// Op is what happened to the document.
type Op int

// The operations. OpUnknown only for a zero FirestoreEvent.
const (
	OpUnknown Op = iota
	OpCreate
	OpUpdate
	OpDelete
)

// String returns "create", "update", "delete" or "unknown".
func (o Op) String() string {
	switch o {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "unknown"
}

// FirestoreEvent is a decoded
// google.cloud.firestore.document.v1.{created,updated,deleted,written}
// CloudEvent.
type FirestoreEvent struct {
	// ID, Type, Source and Subject are the CloudEvent attributes as received
	// (Type may carry the ".withAuthContext" suffix).
	ID, Type, Source, Subject string
	// Time is the CloudEvent time (the time of the write).
	Time time.Time
	// Project and Database identify the database, e.g. "demo-p", "(default)".
	Project, Database string
	// Path is the document path relative to the database, e.g. "users/abc" or
	// "users/abc/daily_insights/2026-11-21".
	Path string
	// Before and After are the document before and after the write; nil when
	// absent (create: Before nil; delete: After nil).
	Before, After *Document
	// UpdateMask lists the changed field paths of an update; it may be empty
	// (the emulator sends none), so do not rely on it alone: see Changed.
	UpdateMask []string
	// AuthType and AuthID are the authtype and authid extensions of
	// ".withAuthContext" events (e.g. "service_account" and its email); empty
	// otherwise.
	AuthType, AuthID string
}

// Op reports whether the write created, updated or deleted the document.
func (e *FirestoreEvent) Op() Op {
	switch {
	case e.Before == nil && e.After != nil:
		return OpCreate
	case e.Before != nil && e.After != nil:
		return OpUpdate
	case e.Before != nil:
		return OpDelete
	}
	return OpUnknown
}

// Params matches the event's document path against pattern (see
// MatchPattern) and returns the captured parameters.
func (e *FirestoreEvent) Params(pattern string) (map[string]string, bool) {
	return MatchPattern(pattern, e.Path)
}

// Changed reports whether any of the given field paths (dotted, as for
// Document.Get) differs between Before and After, comparing the stored values
// exactly; a field present on one side only counts as changed. With no paths
// it reports whether any field differs. A create or delete is always a
// change. Malformed field paths are compared as absent on both sides.
func (e *FirestoreEvent) Changed(fieldPaths ...string) bool {
	if e.Before == nil || e.After == nil {
		return e.Before != e.After
	}
	if len(fieldPaths) == 0 {
		return !proto.Equal(
			&firestorepb.MapValue{Fields: e.Before.pb.GetFields()},
			&firestorepb.MapValue{Fields: e.After.pb.GetFields()})
	}
	for _, p := range fieldPaths {
		segs, err := splitFieldPath(p)
		if err != nil {
			continue
		}
		b, a := e.Before.protoAt(segs), e.After.protoAt(segs)
		if (a == nil) != (b == nil) || !proto.Equal(a, b) {
			return true
		}
	}
	return false
}

// LogAttrs returns the ids that identify the event in logs: event id, type,
// document path. They contain no field values.
func (e *FirestoreEvent) LogAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("eventId", e.ID),
		slog.String("eventType", e.Type),
		slog.String("document", e.Path),
	}
}

// DecodeFirestore decodes a Firestore document CloudEvent in any of its three
// encodings. The data encoding is chosen by content type and content; each
// plausible encoding is tried in this order and the first that parses wins:
//
//   - JSON first when the content type is JSON (application/json, text/json,
//     +json): the protojson form of DocumentEventData (keys "value",
//     "oldValue", "updateMask", or their snake_case proto names);
//   - raw protobuf when the first byte of the body, as received and not
//     trimmed, is the tag of DocumentEventData field 1, 2 or 3 (0x0A, 0x12,
//     0x1A). A raw protobuf body may well continue with '{' (0x0A 0x7B is a
//     123-byte new document) or with bytes that read as white space, so this
//     check comes before any JSON guess;
//   - JSON when the body starts with '{' after white space (JSON mislabelled
//     application/protobuf, or with no content type);
//   - base64 when the body is made only of base64 characters (standard or
//     URL alphabet, optional padding, line breaks allowed): decoded, then
//     parsed as protobuf (the emulator's form);
//   - raw protobuf when none of the above applies.
//
// When no candidate parses, the error of the first one is reported.
//
// Path, Project and Database come from the documents' names, else from the
// document/project/database extensions, the subject ("documents/users/abc")
// and the source ("//firestore.googleapis.com/projects/{p}/databases/{d}",
// also in the emulator's "projects/projects/{p}" spelling).
//
// Errors: a fault.InvalidArgument error, prefixed "decode firestore event",
// when the type is not a Firestore document event, the data is empty or
// malformed, the documents do not fit the type (created without a new
// document, deleted without an old one, updated without both), or no valid
// document path can be found.
func DecodeFirestore(e event.Event) (*FirestoreEvent, error) {
	const op = "decode firestore event"
	base := strings.TrimSuffix(e.Type(), TypeSuffixWithAuthContext)
	switch base {
	case TypeCreated, TypeUpdated, TypeDeleted, TypeWritten:
	default:
		return nil, invalid(op, nil, "not a Firestore document event type")
	}
	before, after, mask, err := decodeDocumentEventData(e.Data(), e.DataContentType())
	if err != nil {
		return nil, invalid(op, err, "malformed document event data")
	}
	ev := &FirestoreEvent{
		ID: e.ID(), Type: e.Type(), Source: e.Source(), Subject: e.Subject(), Time: e.Time(),
		UpdateMask: mask,
	}
	if ev.ID == "" {
		return nil, invalid(op, nil, "event has no id")
	}
	if before != nil {
		if ev.Before, err = newDocument(before); err != nil {
			return nil, invalid(op, err, "malformed old document")
		}
	}
	if after != nil {
		if ev.After, err = newDocument(after); err != nil {
			return nil, invalid(op, err, "malformed new document")
		}
	}
	switch {
	case base == TypeCreated && ev.After == nil:
		return nil, invalid(op, nil, "created event without a new document")
	case base == TypeDeleted && ev.Before == nil:
		return nil, invalid(op, nil, "deleted event without an old document")
	case base == TypeUpdated && (ev.Before == nil || ev.After == nil):
		return nil, invalid(op, nil, "updated event without both documents")
	case ev.Before == nil && ev.After == nil:
		return nil, invalid(op, nil, "event without documents")
	}
	if err := ev.locate(e); err != nil {
		return nil, invalid(op, err, "cannot locate the document")
	}
	ext := e.Extensions()
	ev.AuthType = extString(ext, "authtype")
	ev.AuthID = extString(ext, "authid")
	return ev, nil
}

// locate fills Project, Database and Path, and each document's Name and Path.
func (ev *FirestoreEvent) locate(e event.Event) error {
	ext := e.Extensions()
	var names []string
	for _, d := range []*Document{ev.Before, ev.After} {
		if d != nil && d.Name != "" {
			names = append(names, d.Name)
		}
	}
	if len(names) == 2 && names[0] != names[1] {
		return errors.New("old and new document names differ")
	}
	if len(names) > 0 {
		ev.Project, ev.Database, ev.Path, _ = parseDocumentName(names[0])
	} else {
		srcProject, srcDatabase := parseSource(e.Source())
		ev.Path = extString(ext, "document")
		if ev.Path == "" {
			ev.Path, _ = strings.CutPrefix(e.Subject(), "documents/")
		}
		ev.Project = firstNonEmpty(extString(ext, "project"), srcProject)
		ev.Database = firstNonEmpty(extString(ext, "database"), srcDatabase, "(default)")
		if !validDocumentPath(ev.Path) {
			return errors.New("no valid document path in the event")
		}
		if ev.Project == "" {
			return errors.New("no project in the event")
		}
	}
	name := "projects/" + ev.Project + "/databases/" + ev.Database + "/documents/" + ev.Path
	for _, d := range []*Document{ev.Before, ev.After} {
		if d != nil {
			d.Name, d.Path = name, ev.Path
		}
	}
	return nil
}

// parseSource reads project and database from a Firestore event source,
// "//firestore.googleapis.com/projects/{p}/databases/{d}", tolerating the
// emulator's "projects/projects/{p}".
func parseSource(src string) (project, database string) {
	_, rest, ok := strings.Cut(src, "/projects/")
	if !ok {
		return "", ""
	}
	segs := strings.Split(rest, "/")
	if len(segs) >= 2 && segs[0] == "projects" && segs[1] != "databases" {
		segs = segs[1:]
	}
	project = segs[0]
	for i := 1; i+1 < len(segs); i++ {
		if segs[i] == "databases" {
			database = segs[i+1]
			break
		}
	}
	return project, database
}

func extString(ext map[string]any, name string) string {
	v, ok := ext[name]
	if !ok {
		return ""
	}
	s, err := types.ToString(v)
	if err != nil {
		return ""
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// eventDataDecoder decodes the event data in one encoding.
type eventDataDecoder func() (before, after *firestorepb.Document, mask []string, err error)

// decodeDocumentEventData picks the encoding of body (see DecodeFirestore)
// and decodes it. It tries the plausible encodings in order of preference and
// returns the first that parses; when none does, it returns the error of the
// preferred one. The binary tag check always looks at the untrimmed first
// byte: trimming would strip a 0x0A tag (and a length varint holding bytes
// that read as Unicode white space) and could expose a '{' length byte.
func decodeDocumentEventData(body []byte, contentType string) (before, after *firestorepb.Document, mask []string, err error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil, nil, errors.New("empty data")
	}
	decodeJSON := func() (*firestorepb.Document, *firestorepb.Document, []string, error) {
		return decodeEventDataJSON(trimmed)
	}
	decodeProto := func() (*firestorepb.Document, *firestorepb.Document, []string, error) {
		return decodeEventDataProto(body)
	}
	decodeBase64 := func() (*firestorepb.Document, *firestorepb.Document, []string, error) {
		raw, err := decodeBase64Text(trimmed)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("base64: %w", err)
		}
		if len(raw) == 0 {
			return nil, nil, nil, errors.New("empty data")
		}
		return decodeEventDataProto(raw)
	}
	binary, jsonText, base64Text := isEventDataTag(body[0]), trimmed[0] == '{', isBase64Text(trimmed)

	var order []eventDataDecoder
	if isJSONContentType(contentType) {
		order = append(order, decodeJSON)
		jsonText = false
	}
	if binary {
		order = append(order, decodeProto)
	}
	if jsonText {
		order = append(order, decodeJSON)
	}
	if base64Text {
		order = append(order, decodeBase64)
	}
	if len(order) == 0 {
		order = append(order, decodeProto)
	}
	for i, decode := range order {
		b, a, m, e := decode()
		if e == nil {
			return b, a, m, nil
		}
		if i == 0 {
			err = e
		}
	}
	return nil, nil, nil, err
}

// isJSONContentType reports whether the media type of contentType is JSON
// (application/json, text/json or any +json type).
func isJSONContentType(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// isEventDataTag reports whether b is the protobuf tag of DocumentEventData
// field 1, 2 or 3 with wire type "bytes".
func isEventDataTag(b byte) bool {
	return b == 0x0A || b == 0x12 || b == 0x1A
}

// isBase64Text reports whether b consists only of base64 characters
// (standard and URL-safe alphabets), '=' padding at the end, and line breaks.
func isBase64Text(b []byte) bool {
	pad := false
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '+', c == '/', c == '-', c == '_':
			if pad {
				return false
			}
		case c == '=':
			pad = true
		case c == '\r' || c == '\n':
		default:
			return false
		}
	}
	return true
}

// decodeBase64Text decodes standard or URL-safe base64, padded or not,
// ignoring line breaks.
func decodeBase64Text(b []byte) ([]byte, error) {
	s := strings.NewReplacer("\r", "", "\n", "").Replace(string(b))
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	return enc.DecodeString(s)
}

// decodeEventDataProto parses a serialized DocumentEventData. Fields 1 and 2
// (value, old_value) are firestorepb.Document, field 3 (update_mask) is
// firestorepb.DocumentMask; repeated occurrences merge as protobuf requires;
// unknown fields are skipped; a known field with the wrong wire type is an
// error.
func decodeEventDataProto(b []byte) (before, after *firestorepb.Document, mask []string, err error) {
	var dm *firestorepb.DocumentMask
	unmarshal := proto.UnmarshalOptions{Merge: true}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, nil, fmt.Errorf("protobuf: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch num {
		case 1, 2, 3:
			if typ != protowire.BytesType {
				return nil, nil, nil, fmt.Errorf("protobuf: field %d has wire type %d", num, typ)
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, nil, nil, fmt.Errorf("protobuf: field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			var m proto.Message
			switch num {
			case 1:
				if after == nil {
					after = &firestorepb.Document{}
				}
				m = after
			case 2:
				if before == nil {
					before = &firestorepb.Document{}
				}
				m = before
			default:
				if dm == nil {
					dm = &firestorepb.DocumentMask{}
				}
				m = dm
			}
			if err := unmarshal.Unmarshal(v, m); err != nil {
				return nil, nil, nil, fmt.Errorf("protobuf: field %d: %w", num, err)
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, nil, nil, fmt.Errorf("protobuf: field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	return before, after, dm.GetFieldPaths(), nil
}

// decodeEventDataJSON parses the protojson form of DocumentEventData.
func decodeEventDataJSON(b []byte) (before, after *firestorepb.Document, mask []string, err error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, nil, nil, fmt.Errorf("json: %w", err)
	}
	if raw == nil {
		return nil, nil, nil, errors.New("json: data is null")
	}
	pick := func(names ...string) (json.RawMessage, error) {
		var found json.RawMessage
		for _, n := range names {
			if v, ok := raw[n]; ok {
				if found != nil {
					return nil, fmt.Errorf("json: both %s and %s present", names[0], names[1])
				}
				found = v
			}
		}
		if bytes.Equal(bytes.TrimSpace(found), []byte("null")) {
			return nil, nil
		}
		return found, nil
	}
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	doc := func(names ...string) (*firestorepb.Document, error) {
		v, err := pick(names...)
		if err != nil || v == nil {
			return nil, err
		}
		d := &firestorepb.Document{}
		if err := opts.Unmarshal(v, d); err != nil {
			return nil, fmt.Errorf("json: %s: %w", names[0], err)
		}
		return d, nil
	}
	if after, err = doc("value"); err != nil {
		return nil, nil, nil, err
	}
	if before, err = doc("oldValue", "old_value"); err != nil {
		return nil, nil, nil, err
	}
	v, err := pick("updateMask", "update_mask")
	if err != nil {
		return nil, nil, nil, err
	}
	if v != nil {
		dm := &firestorepb.DocumentMask{}
		if err := opts.Unmarshal(v, dm); err != nil {
			return nil, nil, nil, fmt.Errorf("json: updateMask: %w", err)
		}
		mask = dm.GetFieldPaths()
	}
	return before, after, mask, nil
}
