package callable

import (
	"encoding/json"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

// TestDecodeWrappedLongs: the Android and Apple SDKs send a Long as
// {"@type": "type.googleapis.com/google.protobuf.Int64Value", "value":
// "…"}; Decode reads it as the number, anywhere in the data.
func TestDecodeWrappedLongs(t *testing.T) {
	type inner struct {
		N int64 `json:"n"`
	}
	type input struct {
		A int64   `json:"a"`
		B uint64  `json:"b"`
		C []int64 `json:"c"`
		D inner   `json:"d"`
		S string  `json:"s"`
	}
	long := func(v string) string {
		return `{"@type":"type.googleapis.com/google.protobuf.Int64Value","value":"` + v + `"}`
	}
	tests := []struct {
		name string
		data string
		want input
		code fault.Code // "" when it decodes
	}{
		{"plain numbers", `{"a":1,"b":2}`, input{A: 1, B: 2}, ""},
		{"wrapped long", `{"a":` + long("-9223372036854775808") + `}`, input{A: -9223372036854775808}, ""},
		{"wrapped unsigned long", `{"b":{"@type":"type.googleapis.com/google.protobuf.UInt64Value","value":"18446744073709551615"}}`,
			input{B: 18446744073709551615}, ""},
		{"in a list and a map", `{"c":[` + long("1") + `,2],"d":{"n":` + long("42") + `}}`, input{C: []int64{1, 2}, D: inner{N: 42}}, ""},
		{"text mentioning @type is left alone", `{"s":"@type"}`, input{S: "@type"}, ""},
		{"leading zeros canonicalised", `{"a":` + long("007") + `}`, input{A: 7}, ""},
		{"not a number", `{"a":` + long("seven") + `}`, input{}, fault.InvalidArgument},
		{"out of range", `{"a":` + long("9223372036854775808") + `}`, input{}, fault.InvalidArgument},
		{"value as a number", `{"a":{"@type":"type.googleapis.com/google.protobuf.Int64Value","value":7}}`, input{}, fault.InvalidArgument},
		{"negative unsigned", `{"b":{"@type":"type.googleapis.com/google.protobuf.UInt64Value","value":"-1"}}`, input{}, fault.InvalidArgument},
		{"other type URL stays an object", `{"a":{"@type":"x","value":"7"}}`, input{}, fault.InvalidArgument},
		{"wrapper with extra keys stays an object", `{"a":{"@type":"type.googleapis.com/google.protobuf.Int64Value","value":"7","x":1}}`, input{}, fault.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got input
			err := (&Request{Data: json.RawMessage(tt.data)}).Decode(&got)
			if tt.code != "" {
				if fault.CodeOf(err) != tt.code {
					t.Fatalf("Decode(%s) = %v; want %s", tt.data, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.data, err)
			}
			if got.A != tt.want.A || got.B != tt.want.B || len(got.C) != len(tt.want.C) || got.D != tt.want.D || got.S != tt.want.S {
				t.Fatalf("Decode(%s) = %+v; want %+v", tt.data, got, tt.want)
			}
			for i := range got.C {
				if got.C[i] != tt.want.C[i] {
					t.Fatalf("Decode(%s) = %+v; want %+v", tt.data, got, tt.want)
				}
			}
		})
	}
}
