package functions

import (
	"testing"
	"time"
)

// TestReflectionsTimeoutCoversGemini: onUserActivationWritten must outlive
// the Gemini provider's worst case (every attempt timing out, the longest
// waits), with room for the offline analysis and the transaction that
// commits the crisis result; the platform default of 60 s did not.
func TestReflectionsTimeoutCoversGemini(t *testing.T) {
	const margin = 30 * time.Second // reads, offline analysis, transaction
	worst := geminiBudget.WorstCase()
	if want := 3*20*time.Second + 1875*time.Millisecond; worst != want {
		t.Errorf("geminiBudget.WorstCase() = %s, want %s (3 × 20 s + 0.625 s + 1.25 s)", worst, want)
	}
	var found bool
	for _, f := range Registry() {
		if f.Name != "onUserActivationWritten" {
			continue
		}
		found = true
		if f.Timeout < worst+margin {
			t.Errorf("timeout %s, want at least %s (Gemini worst case %s + %s)", f.Timeout, worst+margin, worst, margin)
		}
		if f.Timeout > 540*time.Second {
			t.Errorf("timeout %s is above the 540 s limit of event-driven functions", f.Timeout)
		}
	}
	if !found {
		t.Fatal("onUserActivationWritten is not registered")
	}
}
