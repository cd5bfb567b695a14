// Package logging writes structured JSON log lines that Cloud Logging
// understands (severity, message, logging.googleapis.com/trace) through
// log/slog, and carries the request's trace in the context.
//
// Only ids go into logs (uids, document ids, event ids), never names, birth
// data, journal text or secrets.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Field names Cloud Logging reads from structured JSON payloads.
const (
	TraceKey   = "logging.googleapis.com/trace"
	SpanKey    = "logging.googleapis.com/spanId"
	SampledKey = "logging.googleapis.com/trace_sampled"
)

type traceKey struct{}

// Trace is the trace context of one request.
type Trace struct {
	// TraceID is 32 lowercase hex digits.
	TraceID string
	// SpanID is 16 lowercase hex digits, as Cloud Logging's
	// logging.googleapis.com/spanId wants it; "" when the header had none.
	SpanID  string
	Sampled bool
}

// WithTrace returns a context carrying t.
func WithTrace(ctx context.Context, t Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the trace carried by ctx, if any.
func TraceFrom(ctx context.Context) (Trace, bool) {
	t, ok := ctx.Value(traceKey{}).(Trace)
	return t, ok && t.TraceID != ""
}

var (
	traceparentRE = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)
	cloudTraceRE  = regexp.MustCompile(`^([0-9a-fA-F]{32})(?:/([0-9]+))?(?:;o=([01]))?$`)
)

// ParseTrace reads the W3C `traceparent` header, or else the legacy
// `X-Cloud-Trace-Context` header. ok is false when neither is valid.
//
// A traceparent of version ff, or with an all-zero trace id or parent id,
// is invalid (W3C Trace Context) and ignored; Sampled is bit 0 of its
// trace-flags, whatever the other bits (Level 2's random flag: "03" is
// sampled). The legacy header's decimal span id is returned in hex.
func ParseTrace(h http.Header) (t Trace, ok bool) {
	if m := traceparentRE.FindStringSubmatch(strings.TrimSpace(h.Get("traceparent"))); m != nil &&
		m[1] != "ff" && strings.Trim(m[2], "0") != "" && strings.Trim(m[3], "0") != "" {
		flags, _ := strconv.ParseUint(m[4], 16, 8)
		return Trace{TraceID: m[2], SpanID: m[3], Sampled: flags&1 == 1}, true
	}
	if m := cloudTraceRE.FindStringSubmatch(strings.TrimSpace(h.Get("X-Cloud-Trace-Context"))); m != nil {
		// The legacy header's span id is an unsigned 64-bit decimal; the
		// log field wants it in hex. One that is 0 or overflows is dropped
		// (the trace id still correlates the entries).
		span := ""
		if n, err := strconv.ParseUint(m[2], 10, 64); err == nil && n != 0 {
			span = fmt.Sprintf("%016x", n)
		}
		return Trace{TraceID: strings.ToLower(m[1]), SpanID: span, Sampled: m[3] == "1"}, true
	}
	return Trace{}, false
}

// FromRequest returns r's context with the trace of its headers attached.
func FromRequest(r *http.Request) context.Context {
	if t, ok := ParseTrace(r.Header); ok {
		return WithTrace(r.Context(), t)
	}
	return r.Context()
}

// NewHandler returns a slog.Handler writing Cloud Logging JSON lines to w.
// project is used to qualify trace ids ("projects/P/traces/T"); it may be
// empty, then the bare trace id is written.
func NewHandler(w io.Writer, project string, level slog.Leveler) slog.Handler {
	jh := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: replaceAttr,
	})
	return &traceHandler{Handler: jh, project: project}
}

func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		// ReplaceAttr also sees the caller's attributes: only slog's own
		// level (a slog.Level) becomes the severity.
		if l, ok := a.Value.Any().(slog.Level); ok {
			return slog.String("severity", severity(l))
		}
	case slog.MessageKey:
		a.Key = "message"
	case slog.TimeKey:
		a.Key = "time"
	}
	return a
}

func severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError+4:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// LevelCritical is the slog level written as severity CRITICAL (pages the
// on-call human in the alerting policy).
const LevelCritical = slog.LevelError + 4

type traceHandler struct {
	slog.Handler
	project string
	grouped bool // inside a group: the caller's attributes are nested
}

// entryKeys are the top-level keys the handler writes itself (slog's
// message, time and level as Cloud Logging names them). A caller's
// top-level attribute of one of these names would be a second key of the
// same name in the JSON line (which of the two Cloud Logging keeps is
// unspecified), so it is written as "attr." + its name instead.
var entryKeys = map[string]bool{slog.MessageKey: true, "message": true, slog.TimeKey: true, "severity": true}

// callerAttr returns a, renamed when its key is one of entryKeys.
func callerAttr(a slog.Attr) slog.Attr {
	if entryKeys[a.Key] {
		a.Key = "attr." + a.Key
	}
	return a
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.grouped {
		clash := false
		r.Attrs(func(a slog.Attr) bool {
			clash = entryKeys[a.Key]
			return !clash
		})
		if clash {
			renamed := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
			r.Attrs(func(a slog.Attr) bool {
				renamed.AddAttrs(callerAttr(a))
				return true
			})
			r = renamed
		}
	}
	if t, ok := TraceFrom(ctx); ok {
		id := t.TraceID
		if h.project != "" {
			id = "projects/" + h.project + "/traces/" + t.TraceID
		}
		r.AddAttrs(slog.String(TraceKey, id))
		if t.SpanID != "" {
			r.AddAttrs(slog.String(SpanKey, t.SpanID))
		}
		r.AddAttrs(slog.Bool(SampledKey, t.Sampled))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if !h.grouped {
		renamed := make([]slog.Attr, len(as))
		for i, a := range as {
			renamed[i] = callerAttr(a)
		}
		as = renamed
	}
	return &traceHandler{Handler: h.Handler.WithAttrs(as), project: h.project, grouped: h.grouped}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &traceHandler{Handler: h.Handler.WithGroup(name), project: h.project, grouped: true}
}

var setup sync.Once

// Setup installs the Cloud Logging handler as slog's default, once per
// process. It reads the project from GOOGLE_CLOUD_PROJECT and the level from
// LOG_LEVEL (debug, info, warn, error; default info).
func Setup() {
	setup.Do(func() {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
			lvl = slog.LevelInfo
		}
		slog.SetDefault(slog.New(NewHandler(os.Stderr, os.Getenv("GOOGLE_CLOUD_PROJECT"), lvl)))
	})
}
