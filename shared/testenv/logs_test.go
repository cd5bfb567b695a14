package testenv

import (
	"log/slog"
	"testing"
)

// TestCaptureLogs: the default logger's records reach the Logs, at every
// level, and Records filters them by an attribute.
func TestCaptureLogs(t *testing.T) {
	logs := CaptureLogs(t)
	slog.Debug("one", "alert", "a", "uid", "u1")
	slog.Error("two", "alert", "b")
	slog.Info("three", "alert", "a", "uid", "u2")
	tests := []struct {
		key   string
		value any
		want  []string // messages
	}{
		{"alert", "a", []string{"one", "three"}},
		{"alert", "b", []string{"two"}},
		{"alert", "c", nil},
		{"", nil, []string{"one", "two", "three"}},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range logs.Records(tt.key, tt.value) {
			got = append(got, r["msg"].(string))
		}
		if len(got) != len(tt.want) || (len(got) > 0 && got[len(got)-1] != tt.want[len(tt.want)-1]) {
			t.Errorf("Records(%q, %v) = %v, want %v", tt.key, tt.value, got, tt.want)
		}
	}
}
