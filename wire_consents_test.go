package functions

import (
	"testing"

	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/functions/reflections"
)

// TestConsentsRecomputeProfiles: onConsentsWritten recomputes profiles when
// sensitive_data changes, so it is wired to the profile service and has
// the memory onUserWritten needs for the same computation (the birthplace
// table and the ephemeris).
func TestConsentsRecomputeProfiles(t *testing.T) {
	if _, ok := consentProfiles(nil).(*profile.Service); !ok {
		t.Errorf("consentProfiles is %T, want *profile.Service", consentProfiles(nil))
	}
	mem := map[string]string{}
	for _, f := range Registry() {
		mem[f.Name] = f.Memory
	}
	if mem["onConsentsWritten"] == "" || mem["onConsentsWritten"] != mem["onUserWritten"] {
		t.Errorf("onConsentsWritten memory %q, want onUserWritten's %q", mem["onConsentsWritten"], mem["onUserWritten"])
	}
}

// TestConsentsRemoveAIAnalyses: onConsentsWritten is wired to the
// reflection service's removal of AI analyses, so that revoking
// ai_analysis removes log.aiAnalysis from the user's entries.
func TestConsentsRemoveAIAnalyses(t *testing.T) {
	if _, ok := consentAnalyses(nil).(*reflections.Service); !ok {
		t.Errorf("consentAnalyses is %T, want *reflections.Service", consentAnalyses(nil))
	}
}
