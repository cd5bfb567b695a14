package events_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/latlng"

	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
)

const project = "demo-events"

var (
	ts1 = time.Date(2026, 11, 21, 8, 0, 0, 123456000, time.UTC)
	ts2 = time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// allTypes is a document holding every Firestore value type, as given to
// eventstest.
func allTypes() map[string]any {
	return map[string]any{
		"null":       nil,
		"bool":       true,
		"int":        int64(-42),
		"maxInt":     int64(math.MaxInt64),
		"double":     1.5,
		"ts":         ts1,
		"str":        "hé \"quoted\" ✓",
		"bytes":      []byte{0, 1, 2, 255},
		"ref":        eventstest.RefTo(project, "users/other"),
		"geo":        &latlng.LatLng{Latitude: 59.3293, Longitude: 18.0686},
		"array":      []any{int64(1), "x", map[string]any{"k": true}, nil},
		"map":        map[string]any{"text": "hello", "nested": map[string]any{"n": 2.25, "when": ts2}},
		"emptyMap":   map[string]any{},
		"emptyArray": []any{},
		"dotted.key": "quoted",
	}
}

// allTypesDecoded is allTypes as Document.Fields holds it.
func allTypesDecoded() map[string]any {
	m := allTypes()
	m["ref"] = "users/other"
	return m
}

// norm makes decoded values comparable with reflect.DeepEqual.
func norm(v any) any {
	switch x := v.(type) {
	case time.Time:
		return "time:" + x.UTC().Format(time.RFC3339Nano)
	case *latlng.LatLng:
		return fmt.Sprintf("geo:%v,%v", x.GetLatitude(), x.GetLongitude())
	case eventstest.Ref:
		return "ref:" + string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = norm(e)
		}
		return out
	}
	return v
}

func assertFields(t *testing.T, got, want map[string]any) {
	t.Helper()
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		var keys []string
		for k := range w.(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !reflect.DeepEqual(g.(map[string]any)[k], w.(map[string]any)[k]) {
				t.Errorf("field %q = %#v, want %#v", k, g.(map[string]any)[k], w.(map[string]any)[k])
			}
		}
		t.Errorf("fields differ:\n got %#v\nwant %#v", g, w)
	}
}

func assertInvalid(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("err = nil, want INVALID_ARGUMENT")
	}
	if c := fault.CodeOf(err); c != fault.InvalidArgument {
		t.Fatalf("code = %s, want INVALID_ARGUMENT (err %v)", c, err)
	}
	if fault.Retryable(err) {
		t.Fatalf("malformed input error is retryable: %v", err)
	}
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Message == "" {
		t.Fatalf("no caller-safe message in %v", err)
	}
}
