package insights

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/model"
)

// TestScheduleAgreesWithProfile checks the one rule for insightDueAt on
// both sides, through a year of clock changes: the first due time the
// profile function sets (InsightDue of a user without one) is the worker's (NextDue), and
// every due time the worker advances to is kept by the profile function
// (InsightDue returns it unchanged, so the advance's onUserWritten writes
// nothing) — also after it has passed, while the user waits for a tick.
func TestScheduleAgreesWithProfile(t *testing.T) {
	zones := []string{"America/New_York", "America/Santiago", "Europe/Stockholm", "Australia/Lord_Howe", "America/Havana", "Africa/Cairo", "UTC"}
	start := utc("2026-01-01T00:00:00Z")
	for _, z := range zones {
		loc := Zone(z)
		for h := range 24 {
			for now := start; now.Year() == 2026; now = now.Add(7 * time.Hour) {
				u := &model.User{InsightsOptIn: true, InsightHour: &h, TimeZone: z}
				if got, want := NextDue(now, loc, h), profile.InsightDue(u, now); want == nil || !got.Equal(*want) {
					t.Fatalf("%s %02d:00 at %s: NextDue %s, the profile's first due time %v", z, h, now.Format(time.RFC3339),
						got.Format(time.RFC3339), want)
				}
			}
			due := NextDue(start, loc, h)
			for range 366 {
				_, next := Delivery(due, loc, h)
				u := &model.User{InsightsOptIn: true, InsightHour: &h, TimeZone: z, InsightDueAt: &next}
				for _, at := range []time.Time{due.Add(time.Second), next.Add(30 * time.Minute)} {
					if got := profile.InsightDue(u, at); got == nil || !got.Equal(next) {
						t.Fatalf("%s %02d:00: the worker set %s (%s local); at %s the profile wants %v", z, h,
							next.Format(time.RFC3339), next.In(loc).Format("2006-01-02 15:04 MST"), at.Format(time.RFC3339), got)
					}
				}
				due = next
			}
		}
	}
}
