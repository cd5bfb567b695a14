package store

import (
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// RESTValue encodes a Go value as a Firestore REST API Value (the JSON
// form clients send): nil, strings, bools, integers, floats, time.Time,
// slices and maps of those, and structs through their `json`-tagged
// fields via a map. The local smoke checks and the rules tests write
// through the REST API as a signed-in user with it.
func RESTValue(v any) map[string]any {
	switch x := v.(type) {
	case nil:
		return map[string]any{"nullValue": nil}
	case string:
		return map[string]any{"stringValue": x}
	case bool:
		return map[string]any{"booleanValue": x}
	case int:
		return map[string]any{"integerValue": strconv.Itoa(x)}
	case int64:
		return map[string]any{"integerValue": strconv.FormatInt(x, 10)}
	case float64:
		return map[string]any{"doubleValue": x}
	case time.Time:
		return map[string]any{"timestampValue": x.UTC().Format(time.RFC3339Nano)}
	case map[string]any:
		return map[string]any{"mapValue": map[string]any{"fields": RESTFields(x)}}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		vals := make([]any, rv.Len())
		for i := range vals {
			vals[i] = RESTValue(rv.Index(i).Interface())
		}
		return map[string]any{"arrayValue": map[string]any{"values": vals}}
	}
	if rv.Kind() == reflect.Struct {
		m := map[string]any{}
		t := rv.Type()
		for i := 0; i < t.NumField(); i++ {
			name := t.Field(i).Tag.Get("json")
			if comma := len(name); comma > 0 {
				for j := range name {
					if name[j] == ',' {
						comma = j
						break
					}
				}
				name = name[:comma]
			}
			if name == "" || name == "-" || !t.Field(i).IsExported() {
				continue
			}
			m[name] = rv.Field(i).Interface()
		}
		return RESTValue(m)
	}
	panic(fmt.Sprintf("store.RESTValue: unsupported %T", v))
}

// RESTFields encodes a document's fields for the REST API.
func RESTFields(m map[string]any) map[string]any {
	f := make(map[string]any, len(m))
	for k, v := range m {
		f[k] = RESTValue(v)
	}
	return f
}
