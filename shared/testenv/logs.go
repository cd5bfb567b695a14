package testenv

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Logs holds what the default logger wrote while a test ran (CaptureLogs):
// one JSON record a line. It is safe for concurrent use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// CaptureLogs sends the default logger's records, at every level, to the
// returned Logs until t ends, when the previous default logger comes back.
// The default logger is process-wide: a test that captures must not run in
// parallel with others that log.
func CaptureLogs(t testing.TB) *Logs {
	t.Helper()
	l := &Logs{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return l
}

// Write implements io.Writer for the handler.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Records returns the records logged so far whose attribute key equals
// value (as JSON decodes it: strings, float64 numbers, bools), every
// record when key is "".
func (l *Logs) Records(key string, value any) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		var rec map[string]any
		if line == "" || json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if key == "" || rec[key] == value {
			out = append(out, rec)
		}
	}
	return out
}

// Alerts returns the field attribute of the records whose "alert" is
// alert, and fails t when anything logged contains never (a marker the
// test wrote into data that must not be logged).
func (l *Logs) Alerts(t testing.TB, alert, field, never string) []any {
	t.Helper()
	if never != "" && strings.Contains(l.String(), never) {
		t.Errorf("logged %q:\n%s", never, l)
	}
	var out []any
	for _, rec := range l.Records("alert", alert) {
		out = append(out, rec[field])
	}
	return out
}
