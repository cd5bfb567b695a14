package logging

import (
	"net/http"
	"testing"
)

// TestReview12TraceparentFlagsAndInvalidIDs: a W3C traceparent is read as
// the Trace Context recommendation says. Sampled is bit 0 of trace-flags,
// so "03" (sampled, with Level 2's random flag that current
// OpenTelemetry SDKs set) is sampled. A header of version ff, or with an
// all-zero trace id or parent id, is invalid: it is ignored, and the
// X-Cloud-Trace-Context header, when valid, is read instead; otherwise
// every request carrying such a header would log under the one trace
// projects/P/traces/000…0.
func TestReview12TraceparentFlagsAndInvalidIDs(t *testing.T) {
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
		zeros32 = "00000000000000000000000000000000"
		zeros16 = "0000000000000000"
		cloud   = "105445aa7843bc8bf206b12000100000/1;o=1"
	)
	cloudTrace := Trace{TraceID: "105445aa7843bc8bf206b12000100000", SpanID: "0000000000000001", Sampled: true}
	tests := []struct {
		name   string
		header map[string]string
		want   Trace
		ok     bool
	}{
		{"sampled with the random flag", map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-03"},
			Trace{TraceID: traceID, SpanID: spanID, Sampled: true}, true},
		{"not sampled with the random flag", map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-02"},
			Trace{TraceID: traceID, SpanID: spanID}, true},
		{"all-zero trace id", map[string]string{"traceparent": "00-" + zeros32 + "-" + spanID + "-01"},
			Trace{}, false},
		{"all-zero parent id", map[string]string{"traceparent": "00-" + traceID + "-" + zeros16 + "-01"},
			Trace{}, false},
		{"version ff", map[string]string{"traceparent": "ff-" + traceID + "-" + spanID + "-01"},
			Trace{}, false},
		{"all-zero trace id falls back to X-Cloud-Trace-Context", map[string]string{
			"traceparent": "00-" + zeros32 + "-" + spanID + "-01", "X-Cloud-Trace-Context": cloud},
			cloudTrace, true},
		{"version ff falls back to X-Cloud-Trace-Context", map[string]string{
			"traceparent": "ff-" + traceID + "-" + spanID + "-01", "X-Cloud-Trace-Context": cloud},
			cloudTrace, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := ParseTrace(h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseTrace(%v) = %+v, %v; want %+v, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}
