package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

// TestReview7UserAttrNamedLevel: ReplaceAttr is called for every
// top-level attribute, the caller's too, not only slog's built-ins. An
// attribute that happens to be called "level" (a screening level, a
// risk level, a log level in an ops message) must be written like any
// other, not crash the log call (and with it the request or event).
func TestReview7UserAttrNamedLevel(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, "demo-p", slog.LevelDebug))
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("logging an attribute named \"level\" panicked: %v", r)
			}
		}()
		log.InfoContext(context.Background(), "screening scored", "uid", "u1", "level", "moderate")
	}()
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if line["severity"] != "INFO" || line["message"] != "screening scored" {
		t.Errorf("line = %s", buf.String())
	}
}

// TestCallerAttrsNamedLikeEntryKeys: a caller's attribute named msg,
// message, time or severity is written under "attr."+name, so the line
// has one message, one time and one severity (duplicate JSON keys are
// resolved by whichever the reader keeps).
func TestCallerAttrsNamedLikeEntryKeys(t *testing.T) {
	for _, key := range []string{"msg", "message", "time", "severity"} {
		t.Run(key, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(NewHandler(&buf, "demo-p", slog.LevelDebug))
			log.InfoContext(context.Background(), "entry", key, "caller's")
			log.With(key, "with's").InfoContext(context.Background(), "entry")
			for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
				if n := bytes.Count(line, []byte(`"`+jsonKey(key)+`":`)); n != 1 {
					t.Errorf("%d %q keys in %s", n, jsonKey(key), line)
				}
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil {
					t.Fatalf("not JSON: %v: %s", err, line)
				}
				if m["message"] != "entry" || m["severity"] != "INFO" || m["attr."+key] == nil {
					t.Errorf("line = %s", line)
				}
			}
		})
	}
}

// jsonKey is the key slog's own attribute key is written under.
func jsonKey(key string) string {
	if key == "msg" {
		return "message"
	}
	return key
}
