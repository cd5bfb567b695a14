package events_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/latlng"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
)

// after decodes a created event holding fields and returns its document.
func after(t *testing.T, enc eventstest.Encoding, fields map[string]any) *events.Document {
	t.Helper()
	e := eventstest.MustFirestoreCloudEvent(t, enc, "created", project, "users/u1", nil, fields)
	ev, err := events.DecodeFirestore(e)
	if err != nil {
		t.Fatal(err)
	}
	return ev.After
}

func TestDocumentGet(t *testing.T) {
	d := after(t, eventstest.Protobuf, allTypes())
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"str", "hé \"quoted\" ✓", true},
		{"map.text", "hello", true},
		{"map.nested.n", 2.25, true},
		{"`map`.`nested`.n", 2.25, true},
		{"`dotted.key`", "quoted", true},
		{"dotted.key", nil, false},
		{"map.missing", nil, false},
		{"str.sub", nil, false},
		{"null", nil, true},
		{"ref", "users/other", true},
		{"", nil, false},
		{"map.", nil, false},
		{".map", nil, false},
		{"`unterminated", nil, false},
		{"`a`b", nil, false},
		{"``", nil, false},
	}
	for _, tt := range tests {
		got, ok := d.Get(tt.path)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%q) = %#v, %v; want %#v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	var nilDoc *events.Document
	if _, ok := nilDoc.Get("x"); ok {
		t.Error("Get on nil document reported ok")
	}
	esc := after(t, eventstest.JSON, map[string]any{"a`b": map[string]any{`c\d`: int64(1)}})
	if v, ok := esc.Get("`a\\`b`.`c\\\\d`"); !ok || v != int64(1) {
		t.Errorf("escaped Get = %v, %v", v, ok)
	}
}

type Embedded struct {
	Source string `firestore:"source" json:"source"`
}

type logEntry struct {
	Text      string    `firestore:"text" json:"text"`
	Mood      int       `firestore:"mood" json:"mood"`
	WrittenAt time.Time `firestore:"writtenAt" json:"writtenAt"`
}

type profile struct {
	Embedded
	Name       string                 `firestore:"name" json:"name"`
	Count      int64                  `firestore:"count" json:"count"`
	Small      int8                   `firestore:"small" json:"small"`
	Unsigned   uint32                 `firestore:"unsigned" json:"unsigned"`
	Score      float64                `firestore:"score" json:"score"`
	Ratio      float32                `firestore:"ratio" json:"ratio"`
	Active     bool                   `firestore:"active" json:"active"`
	Created    time.Time              `firestore:"created" json:"created"`
	Deleted    *time.Time             `firestore:"deleted,omitempty" json:"deleted,omitempty"`
	Reviewed   *time.Time             `firestore:"reviewed" json:"reviewed"`
	Proto      *timestamppb.Timestamp `firestore:"proto" json:"proto"`
	Log        logEntry               `firestore:"log" json:"log"`
	LogPtr     *logEntry              `firestore:"logPtr" json:"logPtr"`
	Tags       []string               `firestore:"tags" json:"tags"`
	Entries    []logEntry             `firestore:"entries" json:"entries"`
	Pair       [2]int                 `firestore:"pair" json:"pair"`
	Labels     map[string]string      `firestore:"labels" json:"labels"`
	Raw        []byte                 `firestore:"raw" json:"raw"`
	Where      *latlng.LatLng         `firestore:"where" json:"where"`
	Ref        string                 `firestore:"ref" json:"ref"`
	Anything   any                    `firestore:"anything" json:"anything"`
	JSONOnly   string                 `json:"jsonOnly"`
	NoTag      string
	Skipped    string  `firestore:"-" json:"-"`
	Nullable   *string `firestore:"nullable" json:"nullable"`
	Kept       string  `firestore:"kept" json:"kept"`
	WholeFloat int     `firestore:"wholeFloat" json:"wholeFloat"`
	unexported string
}

func TestDataTo(t *testing.T) {
	fields := map[string]any{
		"source":     "embedded",
		"name":       "Ada",
		"count":      int64(math.MaxInt64),
		"small":      int64(-128),
		"unsigned":   int64(4000000000),
		"score":      int64(3),
		"ratio":      0.5,
		"active":     true,
		"created":    ts1,
		"reviewed":   ts2,
		"proto":      ts1,
		"log":        map[string]any{"text": "hello", "mood": int64(4), "writtenAt": ts2, "extra": "ignored"},
		"logPtr":     map[string]any{"text": "p"},
		"tags":       []any{"a", "b"},
		"entries":    []any{map[string]any{"text": "e1"}, map[string]any{"mood": int64(-1)}},
		"pair":       []any{int64(1)},
		"labels":     map[string]any{"k": "v"},
		"raw":        []byte{9, 8},
		"where":      &latlng.LatLng{Latitude: 1, Longitude: 2},
		"ref":        eventstest.RefTo(project, "users/x"),
		"anything":   map[string]any{"n": int64(1)},
		"jsonOnly":   "j",
		"NOTAG":      "case-insensitive",
		"Skipped":    "no",
		"nullable":   nil,
		"kept":       nil,
		"wholeFloat": 42.0,
		"unknown":    "ignored",
	}
	for _, enc := range eventstest.Encodings {
		t.Run(enc.String(), func(t *testing.T) {
			d := after(t, enc, fields)
			s := "preset"
			p := profile{Kept: "keep", Nullable: &s, Pair: [2]int{7, 7}, unexported: "u"}
			if err := d.DataTo(&p); err != nil {
				t.Fatal(err)
			}
			want := profile{
				Embedded: Embedded{Source: "embedded"},
				Name:     "Ada", Count: math.MaxInt64, Small: -128, Unsigned: 4000000000, Score: 3, Ratio: 0.5, Active: true,
				Created:  ts1,
				Log:      logEntry{Text: "hello", Mood: 4, WrittenAt: ts2},
				LogPtr:   &logEntry{Text: "p"},
				Tags:     []string{"a", "b"},
				Entries:  []logEntry{{Text: "e1"}, {Mood: -1}},
				Pair:     [2]int{1, 0},
				Labels:   map[string]string{"k": "v"},
				Raw:      []byte{9, 8},
				Ref:      "users/x",
				Anything: map[string]any{"n": int64(1)},
				JSONOnly: "j", NoTag: "case-insensitive", Kept: "keep", WholeFloat: 42, unexported: "u",
			}
			if p.Reviewed == nil || !p.Reviewed.Equal(ts2) || p.Proto == nil || !p.Proto.AsTime().Equal(ts1) {
				t.Errorf("pointer times = %v %v", p.Reviewed, p.Proto)
			}
			if p.Where.GetLatitude() != 1 || p.Where.GetLongitude() != 2 {
				t.Errorf("where = %v", p.Where)
			}
			if p.Created.Location() != time.UTC {
				t.Errorf("created location = %v", p.Created.Location())
			}
			p.Reviewed, p.Proto, p.Where = nil, nil, nil
			if !reflect.DeepEqual(p, want) {
				t.Errorf("DataTo =\n%+v\nwant\n%+v", p, want)
			}
		})
	}
}

func TestDataToMapAndInterface(t *testing.T) {
	d := after(t, eventstest.Protobuf, map[string]any{"a": int64(1), "b": "x"})
	var m map[string]any
	if err := d.DataTo(&m); err != nil || m["a"] != int64(1) || m["b"] != "x" {
		t.Errorf("map: %v %v", m, err)
	}
	var v any
	if err := d.DataTo(&v); err != nil || v.(map[string]any)["a"] != int64(1) {
		t.Errorf("interface: %v %v", v, err)
	}
}

func TestDataToErrors(t *testing.T) {
	type ints struct {
		I8  int8    `firestore:"v"`
		U   uint    `firestore:"u"`
		F32 float32 `firestore:"f"`
	}
	type str struct {
		S string `firestore:"v"`
	}
	type tm struct {
		T time.Time `firestore:"v"`
	}
	type bad struct {
		M map[int]string `firestore:"v"`
	}
	type iface struct {
		E error `firestore:"v"`
	}
	type ch struct {
		C chan int `firestore:"v"`
	}
	tests := []struct {
		name   string
		fields map[string]any
		dst    any
	}{
		{"int overflow", map[string]any{"v": int64(300)}, &ints{}},
		{"fractional double into int", map[string]any{"v": 1.5}, &ints{}},
		{"huge double into int", map[string]any{"v": 1e30}, &ints{}},
		{"negative into uint", map[string]any{"u": int64(-1)}, &ints{}},
		{"float32 overflow", map[string]any{"f": 1e300}, &ints{}},
		{"string into int", map[string]any{"v": "1"}, &ints{}},
		{"int into string", map[string]any{"v": int64(1)}, &str{}},
		{"string into time", map[string]any{"v": "2026-01-01T00:00:00Z"}, &tm{}},
		{"map into slice", map[string]any{"v": map[string]any{}}, &struct {
			S []int `firestore:"v"`
		}{}},
		{"non-string map key", map[string]any{"v": map[string]any{"1": "a"}}, &bad{}},
		{"non-empty interface", map[string]any{"v": "x"}, &iface{}},
		{"unsupported kind", map[string]any{"v": int64(1)}, &ch{}},
		{"array element", map[string]any{"v": []any{"a", int64(1)}}, &struct {
			S []string `firestore:"v"`
		}{}},
		{"not a pointer", map[string]any{"v": int64(1)}, str{}},
		{"nil pointer", map[string]any{"v": int64(1)}, (*str)(nil)},
		{"scalar destination", map[string]any{"v": int64(1)}, new(int)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := after(t, eventstest.Protobuf, tt.fields)
			err := d.DataTo(tt.dst)
			assertInvalid(t, err)
			if strings.Contains(err.Error(), "1e+30") || strings.Contains(err.Error(), "300") {
				t.Errorf("error leaks the value: %v", err)
			}
		})
	}
	var nilDoc *events.Document
	assertInvalid(t, nilDoc.DataTo(&str{}))
}

// TestDataToRoundTrip writes a struct with eventstest.Value (the Firestore
// client's encoding rules) and reads it back with DataTo, in every encoding.
func TestDataToRoundTrip(t *testing.T) {
	type item struct {
		Label string   `firestore:"label" json:"label"`
		Qty   int      `firestore:"qty" json:"qty"`
		Tags  []string `firestore:"tags" json:"tags"`
	}
	type order struct {
		ID        string            `firestore:"id" json:"id"`
		Amount    int64             `firestore:"amount" json:"amount"`
		Currency  string            `firestore:"currency" json:"currency"`
		Rate      float64           `firestore:"rate" json:"rate"`
		Paid      bool              `firestore:"paid" json:"paid"`
		CreatedAt time.Time         `firestore:"createdAt" json:"createdAt"`
		ClosedAt  *time.Time        `firestore:"closedAt,omitempty" json:"closedAt,omitempty"`
		Items     []item            `firestore:"items" json:"items"`
		Meta      map[string]string `firestore:"meta" json:"meta"`
		Receipt   []byte            `firestore:"receipt" json:"receipt"`
	}
	closed := ts1.Add(time.Hour)
	in := order{ID: "o1", Amount: 129900, Currency: "SEK", Rate: 0.25, Paid: true, CreatedAt: ts1, ClosedAt: &closed,
		Items: []item{{"a", 2, []string{"x"}}, {"b", 1, []string{}}}, Meta: map[string]string{"k": "v"}, Receipt: []byte("pdf")}
	v, err := eventstest.Value(in)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]any{}
	for k, fv := range v.GetMapValue().GetFields() {
		fields[k] = fv
	}
	for _, enc := range eventstest.Encodings {
		t.Run(enc.String(), func(t *testing.T) {
			var out order
			if err := after(t, enc, fields).DataTo(&out); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, in) {
				t.Errorf("round trip =\n%+v\nwant\n%+v", out, in)
			}
		})
	}
}

func TestDataToEmbeddedPointer(t *testing.T) {
	type withPtr struct {
		*Embedded
		X int `firestore:"x"`
	}
	var w withPtr
	if err := after(t, eventstest.Protobuf, map[string]any{"source": "s", "x": int64(1)}).DataTo(&w); err != nil {
		t.Fatal(err)
	}
	if w.Embedded == nil || w.Source != "s" || w.X != 1 {
		t.Errorf("got %+v", w)
	}
}
