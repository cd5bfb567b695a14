package eventstest_test

import (
	"context"
	"encoding/base64"
	"math"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"google.golang.org/genproto/googleapis/type/latlng"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
)

type inner struct {
	Text string `firestore:"text"`
}

type Base struct {
	ID string `firestore:"id"`
}

type sample struct {
	Base
	Name     string            `firestore:"name" json:"ignored"`
	JSONName string            `json:"jsonName"`
	Count    uint16            `firestore:"count"`
	When     time.Time         `firestore:"when"`
	Maybe    *time.Time        `firestore:"maybe,omitempty"`
	Null     *inner            `firestore:"null"`
	Inner    inner             `firestore:"inner"`
	List     []inner           `firestore:"list"`
	Labels   map[string]string `firestore:"labels"`
	Skip     string            `firestore:"-"`
	hidden   string
}

func TestValueAndStructs(t *testing.T) {
	when := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	s := sample{Base: Base{ID: "x"}, Name: "n", JSONName: "j", Count: 3, When: when, Inner: inner{"i"},
		List: []inner{{"a"}}, Labels: map[string]string{"k": "v"}, Skip: "s", hidden: "h"}
	v, err := eventstest.Value(s)
	if err != nil {
		t.Fatal(err)
	}
	f := v.GetMapValue().GetFields()
	if f["id"].GetStringValue() != "x" || f["name"].GetStringValue() != "n" || f["jsonName"].GetStringValue() != "j" ||
		f["count"].GetIntegerValue() != 3 || !f["when"].GetTimestampValue().AsTime().Equal(when) ||
		f["inner"].GetMapValue().GetFields()["text"].GetStringValue() != "i" ||
		f["list"].GetArrayValue().GetValues()[0].GetMapValue().GetFields()["text"].GetStringValue() != "a" ||
		f["labels"].GetMapValue().GetFields()["k"].GetStringValue() != "v" {
		t.Errorf("fields = %v", f)
	}
	if _, ok := f["null"].GetValueType().(*firestorepb.Value_NullValue); !ok {
		t.Errorf("nil pointer = %v", f["null"])
	}
	for _, k := range []string{"maybe", "Skip", "hidden", "Base"} {
		if _, ok := f[k]; ok {
			t.Errorf("field %q should be absent", k)
		}
	}

	for _, bad := range []any{uint64(math.MaxUint64), map[int]string{1: "a"}, make(chan int), func() {}} {
		if _, err := eventstest.Value(bad); err == nil {
			t.Errorf("Value(%T) succeeded", bad)
		}
	}
	if v, err := eventstest.Value(&latlng.LatLng{Latitude: 1}); err != nil || v.GetGeoPointValue().GetLatitude() != 1 {
		t.Errorf("geo = %v %v", v, err)
	}
	if v, err := eventstest.Value(eventstest.RefTo("p", "a/b")); err != nil || v.GetReferenceValue() != "projects/p/databases/(default)/documents/a/b" {
		t.Errorf("ref = %v %v", v, err)
	}
}

func TestNewFirestoreCloudEventErrors(t *testing.T) {
	if _, err := eventstest.NewFirestoreCloudEvent(eventstest.Protobuf, "renamed", "p", "a/b", nil, nil); err == nil {
		t.Error("unknown type accepted")
	}
	if _, err := eventstest.NewFirestoreCloudEvent(eventstest.Protobuf, "created", "p", "a", nil, map[string]any{}); err == nil {
		t.Error("collection path accepted")
	}
	if _, err := eventstest.NewFirestoreCloudEvent(eventstest.Protobuf, "created", "p", "a/b", nil, map[string]any{"c": make(chan int)}); err == nil {
		t.Error("unconvertible value accepted")
	}
	if _, err := eventstest.NewFirestoreCloudEvent(eventstest.Encoding(9), "created", "p", "a/b", nil, map[string]any{}); err == nil {
		t.Error("unknown encoding accepted")
	}
}

// TestNewEmulatorRequest shows what the local adapter must do: the CloudEvents
// SDK rejects the emulator's request as is, and accepts it once
// ce-datacontenttype is dropped; DecodeFirestore then reads the base64 body.
func TestNewEmulatorRequest(t *testing.T) {
	req, err := eventstest.NewEmulatorRequest(context.Background(), "http://127.0.0.1:8081/", "onUser", "updated", "demo-p", "users/u1",
		map[string]any{"a": int64(1)}, map[string]any{"a": int64(2)}, eventstest.WithID("e1"))
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "http://127.0.0.1:8081/functions/projects/demo-p/triggers/onUser" {
		t.Errorf("url = %s", req.URL)
	}
	if req.Header.Get("ce-source") != "//firestore.googleapis.com/projects/projects/demo-p/databases/(default)" ||
		req.Header.Get("ce-document") != "users/u1" || req.Header.Get("Content-Type") != "application/protobuf" {
		t.Errorf("headers = %v", req.Header)
	}
	body := make([]byte, req.ContentLength)
	if _, err := req.Body.Read(body); err != nil {
		t.Fatal(err)
	}
	if _, err := base64.StdEncoding.DecodeString(string(body)); err != nil {
		t.Errorf("body is not base64: %v", err)
	}
	newReq := func() *http.Request {
		r, err := eventstest.NewEmulatorRequest(context.Background(), "http://x", "onUser", "updated", "demo-p", "users/u1",
			map[string]any{"a": int64(1)}, map[string]any{"a": int64(2)}, eventstest.WithID("e1"))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if _, err := cehttp.NewEventFromHTTPRequest(newReq()); err == nil {
		t.Log("the SDK now accepts the emulator's duplicate content type")
	}
	req = newReq()
	req.Header.Del("ce-datacontenttype")
	ce, err := cehttp.NewEventFromHTTPRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.DecodeFirestore(*ce)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "e1" || ev.Project != "demo-p" || ev.Path != "users/u1" || !ev.Changed("a") {
		t.Errorf("event = %+v", ev)
	}
}
