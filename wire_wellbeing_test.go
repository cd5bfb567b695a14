package functions

import (
	"slices"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/wellbeing"
)

// TestWellbeingSweeperRegistered checks the registration of the alert
// delivery backstop: scheduled on its own topic, one instance, a timeout
// above the sweep's delivery budget, the webhook secret mounted like the
// normal delivery path's, retried on failure.
func TestWellbeingSweeperRegistered(t *testing.T) {
	byName := map[string]Function{}
	for _, f := range Registry() {
		byName[f.Name] = f
	}
	sweep, ok := byName["sweepWellbeingAlerts"]
	if !ok {
		t.Fatal("sweepWellbeingAlerts is not registered")
	}
	deliver := byName["deliverWellbeingAlert"]
	tests := []struct {
		name string
		ok   bool
	}{
		{"Pub/Sub trigger on wellbeing.TopicSweep", sweep.Trigger == PubSub && sweep.Topic == wellbeing.TopicSweep && sweep.Event != nil},
		{"own topic, not the alerts topic", sweep.Topic != wellbeing.Topic},
		{"scheduled every 5 minutes in UTC", sweep.Schedule == "*/5 * * * *" && sweep.ScheduleZone == "Etc/UTC" && sweep.ScheduleBody == "{}"},
		{"timeout above the delivery budget plus a webhook call", sweep.Timeout >= wellbeing.DefaultSweepBudget+30*time.Second && sweep.Timeout < 5*time.Minute},
		{"one instance", sweep.MaxInstances == 1},
		{"retried", sweep.Retry},
		{"webhook secret mounted", slices.Contains(sweep.Secrets, "IJ_ONCALL_WEBHOOK_URL")},
		{"same secrets as deliverWellbeingAlert", slices.Equal(sweep.Secrets, deliver.Secrets)},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("sweepWellbeingAlerts: %s: %+v", tt.name, sweep)
		}
	}
}
