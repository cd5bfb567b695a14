package profile

import (
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/geo"
	"github.com/innerjourney/functions/shared/model"
)

// TestReview12AmbiguousZoneNeedsEveryMatch: an ambiguous birthplace gives
// the birth time its zone only when every matching place's zone reads it
// alike (README, Birth data rules). geo.Lookup lists at most
// geo.MaxCandidates places; "Middletown" matches 27, the ten listed all on
// Eastern time, and Middletown, California is among the unlisted. Comparing
// only the listed ones read a Californian's 14:30 as Eastern time, three
// hours off, as if the place had settled it.
func TestReview12AmbiguousZoneNeedsEveryMatch(t *testing.T) {
	r, err := geo.Lookup("Middletown")
	if err != nil || !r.Ambiguous || r.Matches <= len(r.Candidates) {
		t.Fatalf("precondition: Middletown should be ambiguous with unlisted matches: %d of %d listed, %v", len(r.Candidates), r.Matches, err)
	}
	for _, p := range r.Candidates {
		if p.TimeZone != "America/New_York" && !strings.HasPrefix(p.TimeZone, "America/Kentucky/") {
			t.Fatalf("precondition: listed candidate %s in %s, want Eastern time only", p.Label, p.TimeZone)
		}
	}
	tests := []struct {
		name, date, clock, userZone string
		wantSource, wantZone        string
		wantChart, wantTime         string
	}{
		{"birth time, user zone", "2015-01-15", "14:30", "Europe/Stockholm", "user_time_zone", "Europe/Stockholm", "no_houses", StateKnown},
		{"birth time, no user zone", "2015-01-15", "14:30", "", "none", "", "date_only", StateUnknown},
		{"date only, no user zone", "2015-01-15", "", "", "none", "", "date_only", StateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &model.User{UserID: "mid", BirthDate: tt.date, BirthTime: tt.clock, BirthLocation: "Middletown", TimeZone: tt.userZone}
			c := Compute(u, Consent{}, now)
			bd := c.Meta.BirthData
			if bd.Place != PlaceAmbig || bd.PlaceCandidates != r.Matches {
				t.Fatalf("place %s (%d candidates), want %s (%d)", bd.Place, bd.PlaceCandidates, PlaceAmbig, r.Matches)
			}
			if bd.ZoneSource != tt.wantSource || bd.Zone != tt.wantZone || bd.Chart != tt.wantChart || bd.Time != tt.wantTime {
				t.Errorf("zone %q (%s), chart %s, time %s; want %q (%s), %s, %s; notes %q",
					bd.Zone, bd.ZoneSource, bd.Chart, bd.Time, tt.wantZone, tt.wantSource, tt.wantChart, tt.wantTime, bd.Notes)
			}
		})
	}
}
