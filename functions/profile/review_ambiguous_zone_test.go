package profile

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/geo"
	"github.com/innerjourney/functions/shared/model"
)

// An ambiguous birthplace still gives the birth time its zone when every
// candidate's zone reads it as the same instant. Since shared/geo's table
// carries corrected zones, candidates that GeoNames gave one zone may
// carry two names that agree at most dates: "Thanh Hóa, Vietnam" matches
// Thanh Hóa (north, Asia/Bangkok) and Thạnh Hóa (Asia/Ho_Chi_Minh), both
// UTC+7 since 1975. Comparing names only, the birth time fell back to the
// user's current zone (Stockholm here), hours off. Where the candidates'
// zones disagree at the birth moment (1965: north UTC+7, south UTC+8) the
// place says nothing about the time and the user's zone is still used.
func TestComputeAmbiguousBirthplaceZoneAgreeingAtBirth(t *testing.T) {
	tests := []struct {
		name, place, date, clock string
		wantSource               string
		wantZone                 string // the zone the birth day and time are read in
	}{
		{"zones agree at the birth time", "Thanh Hóa, Vietnam", "1990-05-15", "14:30", "ambiguous_birthplace", "Asia/Bangkok"},
		{"zones agree all day, date only", "Thanh Hóa, Vietnam", "1990-05-15", "", "ambiguous_birthplace", "Asia/Bangkok"},
		{"another corrected place", "Phù Ninh, Vietnam", "1988-02-01", "06:10", "ambiguous_birthplace", "Asia/Bangkok"},
		{"zones disagree at the birth time", "Thanh Hóa, Vietnam", "1965-05-15", "14:30", "user_time_zone", "Europe/Stockholm"},
		{"one zone for every candidate", "Hòa Bình, Vietnam", "1965-05-15", "14:30", "ambiguous_birthplace", "Asia/Bangkok"},
		{"zones disagree (Paris)", "Paris", "1990-05-15", "14:30", "user_time_zone", "Europe/Stockholm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &model.User{UserID: "amb", BirthDate: tt.date, BirthTime: tt.clock, BirthLocation: tt.place, TimeZone: "Europe/Stockholm"}
			c := Compute(u, Consent{}, now)
			bd := c.Meta.BirthData
			if bd.Place != PlaceAmbig {
				t.Fatalf("%s: place %s, want %s", tt.place, bd.Place, PlaceAmbig)
			}
			if bd.ZoneSource != tt.wantSource || bd.Zone != tt.wantZone {
				t.Errorf("%s %s %s: zone %q (%s), want %q (%s); notes %q", tt.place, tt.date, tt.clock, bd.Zone, bd.ZoneSource, tt.wantZone, tt.wantSource, bd.Notes)
			}
			if c.Chart == nil {
				t.Fatalf("no chart: %+v", bd)
			}
			if tt.clock == "" {
				if bd.Chart != "date_only" {
					t.Errorf("chart %s, want date_only", bd.Chart)
				}
				return
			}
			civil, err := geo.ParseCivil(tt.date, tt.clock)
			if err != nil {
				t.Fatal(err)
			}
			want, err := geo.LocalToUTC(civil, tt.wantZone)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Chart.Instant.Equal(want.UTC) {
				t.Errorf("birth instant %s, want %s (%s in %s)", c.Chart.Instant.Format(time.RFC3339), want.UTC.Format(time.RFC3339), tt.clock, tt.wantZone)
			}
		})
	}
}
