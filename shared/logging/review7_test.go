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
