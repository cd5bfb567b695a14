package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
)

func TestParseTrace(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   Trace
		ok     bool
	}{
		{"traceparent", map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
			Trace{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true}, true},
		{"cloud trace", map[string]string{"X-Cloud-Trace-Context": "105445AA7843BC8BF206B12000100000/1;o=1"},
			Trace{"105445aa7843bc8bf206b12000100000", "0000000000000001", true}, true},
		// The legacy header's span id is decimal; Cloud Logging's spanId
		// field is 16 hex digits.
		{"cloud trace span in hex", map[string]string{"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/2205310701640571284;o=1"},
			Trace{"105445aa7843bc8bf206b12000100000", "1e9ad6661ea75994", true}, true},
		{"cloud trace largest span", map[string]string{"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/18446744073709551615"},
			Trace{"105445aa7843bc8bf206b12000100000", "ffffffffffffffff", false}, true},
		{"cloud trace span overflowing 64 bits dropped", map[string]string{"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/18446744073709551616;o=1"},
			Trace{"105445aa7843bc8bf206b12000100000", "", true}, true},
		{"cloud trace span 0 dropped", map[string]string{"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/0;o=0"},
			Trace{TraceID: "105445aa7843bc8bf206b12000100000"}, true},
		{"cloud trace without span", map[string]string{"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000"},
			Trace{TraceID: "105445aa7843bc8bf206b12000100000"}, true},
		{"traceparent wins", map[string]string{
			"traceparent":           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
			"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
			Trace{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", false}, true},
		{"garbage", map[string]string{"traceparent": "nope"}, Trace{}, false},
		{"none", nil, Trace{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := ParseTrace(h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseTrace = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestHandlerWritesCloudLoggingFields(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, "demo-p", slog.LevelDebug))
	ctx := WithTrace(context.Background(), Trace{TraceID: "abc", SpanID: "7", Sampled: true})
	log.WarnContext(ctx, "something happened", "uid", "u1")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	want := map[string]any{
		"severity": "WARNING", "message": "something happened", "uid": "u1",
		TraceKey: "projects/demo-p/traces/abc", SpanKey: "7", SampledKey: true,
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	buf.Reset()
	log.Log(context.Background(), LevelCritical, "page")
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["severity"] != "CRITICAL" {
		t.Errorf("critical line = %s", buf.String())
	}
}
