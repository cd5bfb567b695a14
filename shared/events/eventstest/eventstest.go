// Package eventstest builds Firestore and Pub/Sub events exactly as each
// transport delivers them, for tests of event handlers: production Eventarc
// (protobuf), JSON, the local Firestore emulator (base64 protobuf, its odd
// source), the functions-framework Pub/Sub CloudEvent and the raw Pub/Sub
// push body. It also turns Go values into Firestore protobuf values.
//
// It is test support: nothing in production imports it.
package eventstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/cloudevents/sdk-go/v2/event"
	"google.golang.org/genproto/googleapis/type/latlng"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/innerjourney/functions/shared/events"
)

// Encoding is how a Firestore event's data travels.
type Encoding int

// The encodings.
const (
	// Protobuf is production Eventarc: binary DocumentEventData,
	// content type application/protobuf.
	Protobuf Encoding = iota
	// JSON is the protojson form of DocumentEventData, application/json.
	JSON
	// EmulatorBase64 is the local Firestore emulator: the protobuf
	// base64-encoded as text, still labelled application/protobuf, with the
	// source spelled //firestore.googleapis.com/projects/projects/{p}/….
	EmulatorBase64
)

// String names the encoding.
func (e Encoding) String() string {
	switch e {
	case Protobuf:
		return "protobuf"
	case JSON:
		return "json"
	case EmulatorBase64:
		return "emulator-base64"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Encodings lists every encoding, for table tests.
var Encodings = []Encoding{Protobuf, JSON, EmulatorBase64}

// Ref is a document reference value: the full resource name
// projects/{p}/databases/{d}/documents/{path}. See RefTo.
type Ref string

// RefTo returns the reference to the document at path in project's default
// database.
func RefTo(project, path string) Ref {
	return Ref("projects/" + project + "/databases/(default)/documents/" + path)
}

type config struct {
	id                     string
	time                   time.Time
	database               string
	mask                   []string
	beforeCreate, beforeUp time.Time
	afterCreate, afterUp   time.Time
	authType, authID       string
}

// Option adjusts an event built by NewFirestoreCloudEvent.
type Option func(*config)

// WithID sets the CloudEvent id (default: random).
func WithID(id string) Option { return func(c *config) { c.id = id } }

// WithTime sets the CloudEvent time (default: now, truncated to
// microseconds), from which the document times are derived.
func WithTime(t time.Time) Option { return func(c *config) { c.time = t } }

// WithDatabase sets the database id (default "(default)").
func WithDatabase(db string) Option { return func(c *config) { c.database = db } }

// WithUpdateMask sets the update mask's field paths (default: none, as the
// emulator sends).
func WithUpdateMask(paths ...string) Option { return func(c *config) { c.mask = paths } }

// WithDocumentTimes sets the create and update times of the old and the new
// document (defaults: old created an hour and updated a minute before the
// event time; new created when the old one was, or at the event time, and
// updated at the event time).
func WithDocumentTimes(beforeCreate, beforeUpdate, afterCreate, afterUpdate time.Time) Option {
	return func(c *config) {
		c.beforeCreate, c.beforeUp, c.afterCreate, c.afterUp = beforeCreate, beforeUpdate, afterCreate, afterUpdate
	}
}

// WithAuthContext makes the event a ".withAuthContext" event carrying the
// authtype and authid extensions (e.g. "service_account", its email).
func WithAuthContext(authType, authID string) Option {
	return func(c *config) { c.authType, c.authID = authType, authID }
}

// documentPath reports whether p has an even, non-zero number of non-empty
// segments.
func documentPath(p string) bool {
	segs := strings.Split(p, "/")
	if len(segs)%2 != 0 {
		return false
	}
	for _, s := range segs {
		if s == "" {
			return false
		}
	}
	return true
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewFirestoreCloudEvent builds a Firestore document CloudEvent as the
// transport enc delivers it. typ is a full type
// ("google.cloud.firestore.document.v1.created") or its last word ("created",
// "updated", "deleted", "written"); before or after nil means that document
// is absent. Field values are converted with Value.
//
// Errors: an unknown type, an invalid document path, or a value Value cannot
// convert.
func NewFirestoreCloudEvent(enc Encoding, typ, project, path string, before, after map[string]any, opts ...Option) (event.Event, error) {
	c := config{database: "(default)", time: time.Now().UTC().Truncate(time.Microsecond)}
	for _, o := range opts {
		o(&c)
	}
	if !strings.Contains(typ, ".") {
		typ = "google.cloud.firestore.document.v1." + typ
	}
	switch strings.TrimSuffix(typ, events.TypeSuffixWithAuthContext) {
	case events.TypeCreated, events.TypeUpdated, events.TypeDeleted, events.TypeWritten:
	default:
		return event.Event{}, fmt.Errorf("eventstest: unknown Firestore event type %q", typ)
	}
	if c.authType != "" || c.authID != "" {
		if !strings.HasSuffix(typ, events.TypeSuffixWithAuthContext) {
			typ += events.TypeSuffixWithAuthContext
		}
	}
	if !documentPath(path) {
		return event.Event{}, fmt.Errorf("eventstest: %q is not a document path", path)
	}
	if c.id == "" {
		c.id = randomID()
	}
	name := "projects/" + project + "/databases/" + c.database + "/documents/" + path
	if c.beforeUp.IsZero() {
		c.beforeCreate, c.beforeUp = c.time.Add(-time.Hour), c.time.Add(-time.Minute)
		c.afterCreate, c.afterUp = c.time, c.time
		if before != nil {
			c.afterCreate = c.beforeCreate
		}
	}
	var bd, ad *firestorepb.Document
	var err error
	if before != nil {
		if bd, err = Document(name, before, c.beforeCreate, c.beforeUp); err != nil {
			return event.Event{}, err
		}
	}
	if after != nil {
		if ad, err = Document(name, after, c.afterCreate, c.afterUp); err != nil {
			return event.Event{}, err
		}
	}
	body, ct, err := EncodeDocumentEventData(enc, bd, ad, c.mask)
	if err != nil {
		return event.Event{}, err
	}

	e := event.New(event.CloudEventsVersionV1)
	e.SetID(c.id)
	e.SetType(typ)
	src := "//firestore.googleapis.com/projects/" + project + "/databases/" + c.database
	if enc == EmulatorBase64 {
		src = "//firestore.googleapis.com/projects/projects/" + project + "/databases/" + c.database
	}
	e.SetSource(src)
	e.SetSubject("documents/" + path)
	e.SetTime(c.time)
	e.SetDataSchema(events.DataSchemaFirestore)
	e.SetExtension("location", "us-central1")
	e.SetExtension("project", project)
	e.SetExtension("database", c.database)
	e.SetExtension("namespace", "(default)")
	e.SetExtension("document", path)
	if c.authType != "" {
		e.SetExtension("authtype", c.authType)
	}
	if c.authID != "" {
		e.SetExtension("authid", c.authID)
	}
	e.SetDataContentType(ct)
	e.DataEncoded = body
	e.DataBase64 = enc != JSON
	if err := e.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("eventstest: %w", err)
	}
	return e, nil
}

// MustFirestoreCloudEvent is NewFirestoreCloudEvent that fails the test on
// error.
func MustFirestoreCloudEvent(t testing.TB, enc Encoding, typ, project, path string, before, after map[string]any, opts ...Option) event.Event {
	t.Helper()
	e, err := NewFirestoreCloudEvent(enc, typ, project, path, before, after, opts...)
	if err != nil {
		t.Fatalf("NewFirestoreCloudEvent: %v", err)
	}
	return e
}

// EncodeDocumentEventData serializes a DocumentEventData (value = after,
// old_value = before, update_mask = mask) in encoding enc and returns the
// body and its content type.
func EncodeDocumentEventData(enc Encoding, before, after *firestorepb.Document, mask []string) (body []byte, contentType string, err error) {
	switch enc {
	case Protobuf, EmulatorBase64:
		opts := proto.MarshalOptions{Deterministic: true}
		for _, f := range []struct {
			num protowire.Number
			m   proto.Message
		}{{1, after}, {2, before}, {3, maskOrNil(mask)}} {
			if reflect.ValueOf(f.m).IsNil() {
				continue
			}
			b, err := opts.Marshal(f.m)
			if err != nil {
				return nil, "", fmt.Errorf("eventstest: %w", err)
			}
			body = protowire.AppendTag(body, f.num, protowire.BytesType)
			body = protowire.AppendBytes(body, b)
		}
		if enc == EmulatorBase64 {
			body = []byte(base64.StdEncoding.EncodeToString(body))
		}
		return body, "application/protobuf", nil
	case JSON:
		out := map[string]json.RawMessage{}
		for _, f := range []struct {
			key string
			m   proto.Message
		}{{"value", after}, {"oldValue", before}, {"updateMask", maskOrNil(mask)}} {
			if reflect.ValueOf(f.m).IsNil() {
				continue
			}
			b, err := protojson.Marshal(f.m)
			if err != nil {
				return nil, "", fmt.Errorf("eventstest: %w", err)
			}
			out[f.key] = b
		}
		body, err := json.Marshal(out)
		if err != nil {
			return nil, "", fmt.Errorf("eventstest: %w", err)
		}
		return body, "application/json", nil
	}
	return nil, "", fmt.Errorf("eventstest: unknown encoding %d", enc)
}

func maskOrNil(mask []string) *firestorepb.DocumentMask {
	if len(mask) == 0 {
		return nil
	}
	return &firestorepb.DocumentMask{FieldPaths: mask}
}

// Document builds a firestorepb.Document named name (the full resource name)
// from Go field values (see Value). Zero times are left unset.
func Document(name string, fields map[string]any, createTime, updateTime time.Time) (*firestorepb.Document, error) {
	fs, err := Fields(fields)
	if err != nil {
		return nil, err
	}
	d := &firestorepb.Document{Name: name, Fields: fs}
	if !createTime.IsZero() {
		d.CreateTime = timestamppb.New(createTime)
	}
	if !updateTime.IsZero() {
		d.UpdateTime = timestamppb.New(updateTime)
	}
	return d, nil
}

// Fields converts a map of Go values with Value.
func Fields(m map[string]any) (map[string]*firestorepb.Value, error) {
	out := make(map[string]*firestorepb.Value, len(m))
	for k, v := range m {
		pv, err := Value(v)
		if err != nil {
			return nil, fmt.Errorf("eventstest: field %q: %w", k, err)
		}
		out[k] = pv
	}
	return out, nil
}

var (
	typeOfTime   = reflect.TypeFor[time.Time]()
	typeOfBytes  = reflect.TypeFor[[]byte]()
	typeOfLatLng = reflect.TypeFor[*latlng.LatLng]()
)

// Value converts a Go value to a Firestore value as the Firestore client
// would store it: nil → null; bool; signed and unsigned integers → integer
// (unsigned above MaxInt64 is an error); float32/float64 → double; string;
// []byte → bytes; time.Time → timestamp; *latlng.LatLng → geo point; Ref →
// reference; *firestorepb.Value as is; slices and arrays → array; maps with
// string keys → map; structs → map named by `firestore` tags (else `json`
// tags, else field names; "-" skips; ",omitempty" omits zero values);
// pointers → their element or null.
func Value(v any) (*firestorepb.Value, error) {
	if v == nil {
		return nullValue(), nil
	}
	switch x := v.(type) {
	case *firestorepb.Value:
		return x, nil
	case Ref:
		return &firestorepb.Value{ValueType: &firestorepb.Value_ReferenceValue{ReferenceValue: string(x)}}, nil
	}
	return reflectValue(reflect.ValueOf(v), 0)
}

func nullValue() *firestorepb.Value {
	return &firestorepb.Value{ValueType: &firestorepb.Value_NullValue{NullValue: structpb.NullValue_NULL_VALUE}}
}

func reflectValue(rv reflect.Value, depth int) (*firestorepb.Value, error) {
	if depth > 100 {
		return nil, errors.New("value nested too deeply (cycle?)")
	}
	if !rv.IsValid() {
		return nullValue(), nil
	}
	if rv.CanInterface() {
		switch x := rv.Interface().(type) {
		case *firestorepb.Value:
			if x == nil {
				return nullValue(), nil
			}
			return x, nil
		case Ref:
			return &firestorepb.Value{ValueType: &firestorepb.Value_ReferenceValue{ReferenceValue: string(x)}}, nil
		}
	}
	switch rv.Type() {
	case typeOfTime:
		return &firestorepb.Value{ValueType: &firestorepb.Value_TimestampValue{
			TimestampValue: timestamppb.New(rv.Interface().(time.Time))}}, nil
	case typeOfBytes:
		return &firestorepb.Value{ValueType: &firestorepb.Value_BytesValue{BytesValue: rv.Bytes()}}, nil
	case typeOfLatLng:
		if rv.IsNil() {
			return nullValue(), nil
		}
		return &firestorepb.Value{ValueType: &firestorepb.Value_GeoPointValue{
			GeoPointValue: proto.Clone(rv.Interface().(*latlng.LatLng)).(*latlng.LatLng)}}, nil
	}
	switch rv.Kind() {
	case reflect.Bool:
		return &firestorepb.Value{ValueType: &firestorepb.Value_BooleanValue{BooleanValue: rv.Bool()}}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: rv.Int()}}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return nil, errors.New("unsigned integer overflows int64")
		}
		return &firestorepb.Value{ValueType: &firestorepb.Value_IntegerValue{IntegerValue: int64(u)}}, nil
	case reflect.Float32, reflect.Float64:
		return &firestorepb.Value{ValueType: &firestorepb.Value_DoubleValue{DoubleValue: rv.Float()}}, nil
	case reflect.String:
		return &firestorepb.Value{ValueType: &firestorepb.Value_StringValue{StringValue: rv.String()}}, nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nullValue(), nil
		}
		vals := make([]*firestorepb.Value, rv.Len())
		for i := range rv.Len() {
			pv, err := reflectValue(rv.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			vals[i] = pv
		}
		return &firestorepb.Value{ValueType: &firestorepb.Value_ArrayValue{ArrayValue: &firestorepb.ArrayValue{Values: vals}}}, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key type %s is not a string", rv.Type().Key())
		}
		if rv.IsNil() {
			return nullValue(), nil
		}
		fs := make(map[string]*firestorepb.Value, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			pv, err := reflectValue(it.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			fs[it.Key().String()] = pv
		}
		return mapValue(fs), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nullValue(), nil
		}
		return reflectValue(rv.Elem(), depth+1)
	case reflect.Struct:
		fs := map[string]*firestorepb.Value{}
		if err := structValue(rv, fs, depth); err != nil {
			return nil, err
		}
		return mapValue(fs), nil
	}
	return nil, fmt.Errorf("cannot convert %s", rv.Type())
}

func mapValue(fs map[string]*firestorepb.Value) *firestorepb.Value {
	return &firestorepb.Value{ValueType: &firestorepb.Value_MapValue{MapValue: &firestorepb.MapValue{Fields: fs}}}
}

func structValue(rv reflect.Value, fs map[string]*firestorepb.Value, depth int) error {
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, omitempty, skip := tag(f)
		if skip {
			continue
		}
		fv := rv.Field(i)
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				et, fv = et.Elem(), fv.Elem()
			}
			if et.Kind() == reflect.Struct && et != typeOfTime {
				if err := structValue(fv, fs, depth+1); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if omitempty && fv.IsZero() {
			continue
		}
		pv, err := reflectValue(fv, depth+1)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fs[name] = pv
	}
	return nil
}

func tag(f reflect.StructField) (name string, omitempty, skip bool) {
	for _, key := range []string{"firestore", "json"} {
		t, ok := f.Tag.Lookup(key)
		if !ok {
			continue
		}
		name, opts, _ := strings.Cut(t, ",")
		if name == "-" {
			return "", false, true
		}
		return name, strings.Contains(","+opts+",", ",omitempty,"), false
	}
	return "", false, false
}

// NewPubSubCloudEvent builds the google.cloud.pubsub.topic.v1.messagePublished
// CloudEvent that functions-framework-go hands to a handler for a push to
// /projects/{p}/topics/{t}: data is {"message": {"data": base64,
// "attributes", "messageId", "publishTime"}} (no subscription). An empty id
// gets a random one.
func NewPubSubCloudEvent(data []byte, attrs map[string]string, id string) event.Event {
	if id == "" {
		id = randomID()
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	msg := map[string]any{
		"@type":       "type.googleapis.com/google.pubsub.v1.PubsubMessage",
		"data":        base64.StdEncoding.EncodeToString(data),
		"attributes":  attrs,
		"messageId":   id,
		"publishTime": now.Format(time.RFC3339Nano),
	}
	body, _ := json.Marshal(map[string]any{"message": msg})
	e := event.New(event.CloudEventsVersionV1)
	e.SetID(id)
	e.SetType(events.TypePubSubPublished)
	e.SetSource("//pubsub.googleapis.com/projects/demo-test/topics/test")
	e.SetTime(now)
	e.SetDataContentType("application/json")
	e.DataEncoded = body
	return e
}

// NewPushEnvelope builds the body Pub/Sub POSTs to a push endpoint (the
// "wrapped" format the emulator also sends). A zero publishTime means now.
func NewPushEnvelope(subscription string, data []byte, attrs map[string]string, id string, publishTime time.Time) []byte {
	if publishTime.IsZero() {
		publishTime = time.Now().UTC()
	}
	body, _ := json.Marshal(map[string]any{
		"subscription": subscription,
		"message": map[string]any{
			"data":        base64.StdEncoding.EncodeToString(data),
			"attributes":  attrs,
			"messageId":   id,
			"message_id":  id,
			"publishTime": publishTime.UTC().Format(time.RFC3339Nano),
		},
	})
	return body
}

// NewEmulatorRequest builds the HTTP request the Firestore emulator POSTs to
// its functions emulator for trigger trigger: binary-mode CloudEvent headers
// (ce-*), both ce-datacontenttype and Content-Type set to
// application/protobuf, the base64 body, and source
// //firestore.googleapis.com/projects/projects/{project}/…. baseURL is the
// local server ("http://127.0.0.1:8081").
func NewEmulatorRequest(ctx context.Context, baseURL, trigger, typ, project, path string, before, after map[string]any, opts ...Option) (*http.Request, error) {
	e, err := NewFirestoreCloudEvent(EmulatorBase64, typ, project, path, before, after, opts...)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(baseURL, "/") + "/functions/projects/" + project + "/triggers/" + trigger
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(e.Data()))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("ce-specversion", e.SpecVersion())
	h.Set("ce-type", e.Type())
	h.Set("ce-source", e.Source())
	h.Set("ce-id", e.ID())
	h.Set("ce-subject", e.Subject())
	h.Set("ce-time", e.Time().UTC().Format(time.RFC3339))
	h.Set("ce-datacontenttype", "application/protobuf")
	h.Set("ce-dataschema", events.DataSchemaFirestore)
	for k, v := range e.Extensions() {
		h.Set("ce-"+k, fmt.Sprint(v))
	}
	h.Set("Content-Type", "application/protobuf")
	return req, nil
}
