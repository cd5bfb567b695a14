package profile

import (
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/geo"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/numerology"
)

// A birth date whose local midnight the clocks skipped (Chile every
// September, Brazil every spring until 2019: 00:00 → 01:00) is a real
// date: without a birth time it gets its date-only chart, for the day
// that starts at the jump.
func TestComputeDateOnlyChartWhenMidnightSkipped(t *testing.T) {
	for _, tt := range []struct {
		u          *model.User
		zone, next string
	}{
		{&model.User{UserID: "cl", BirthDate: "2019-09-08", BirthLocation: "Santiago, Chile"}, "America/Santiago", "2019-09-09"},
		{&model.User{UserID: "br", BirthDate: "2018-11-04", BirthLocation: "São Paulo, Brazil"}, "America/Sao_Paulo", "2018-11-05"},
		// No birthplace: the day is read in the user's current zone.
		{&model.User{UserID: "tz", BirthDate: "2019-09-08", TimeZone: "America/Santiago"}, "America/Santiago", "2019-09-09"},
	} {
		c := Compute(tt.u, Consent{}, now)
		if c.Chart == nil || c.PersonalityType.AstroSign == "" || c.Meta.BirthData.Chart != "date_only" {
			t.Errorf("%s %s (%s): no date-only chart; birthData %+v", tt.u.BirthDate, tt.u.BirthLocation, tt.u.TimeZone, c.Meta.BirthData)
			continue
		}
		// The day runs from 01:00 (the jump) to the next midnight: 23 hours.
		d, _ := geo.ParseCivil(tt.u.BirthDate, "01:00")
		start, _ := geo.LocalToUTC(d, tt.zone)
		n, _ := geo.ParseCivil(tt.next, "00:00")
		end, _ := geo.LocalToUTC(n, tt.zone)
		if want := start.UTC.Add(end.UTC.Sub(start.UTC) / 2); !c.Chart.Instant.Equal(want) || end.UTC.Sub(start.UTC) != 23*time.Hour {
			t.Errorf("%s in %s: chart at %v, want the middle of the 23-hour day %v – %v", tt.u.BirthDate, tt.zone, c.Chart.Instant, start.UTC, end.UTC)
		}
	}
}

// The day before a skipped midnight lasts until the first instant of the
// next day (Santiago 2019-09-07 00:00 −04 = 04:00Z until 2019-09-08 01:00
// −03 = 04:00Z): its date-only chart is for 16:00Z, local noon.
func TestComputeDateOnlyChartDayBeforeSkippedMidnight(t *testing.T) {
	u := &model.User{UserID: "cl", BirthDate: "2019-09-07", BirthLocation: "Santiago, Chile"}
	c := Compute(u, Consent{}, now)
	if c.Chart == nil {
		t.Fatalf("no chart: %+v", c.Meta.BirthData)
	}
	if want := time.Date(2019, 9, 7, 16, 0, 0, 0, time.UTC); !c.Chart.Instant.Equal(want) {
		loc, _ := time.LoadLocation("America/Santiago")
		d, _ := astro.DayIn(2019, 9, 7, loc)
		t.Errorf("date-only chart at %v, want the middle of the local day %v (DayIn gave %v – %v)", c.Chart.Instant, want, d.Start, d.End)
	}
}

// The birth time is read in the resolved place's zone. GeoNames lists a
// wrong zone for some places: Zhanjiang and Maoming (Guangdong; all of
// China keeps Beijing time) carry Asia/Urumqi (UTC+6), Lévis (Québec)
// America/Blanc-Sablon (AST, no DST). shared/geo's table carries the zone
// at the place's coordinates instead (its generator checks every place),
// so the profile reads the birth time in the corrected zone as the
// birthplace's own, without a note. A listed zone that agrees, that is in
// force within a few kilometres (a border town), or that is Xinjiang time
// in Xinjiang is kept.
func TestComputePlaceZoneCorrectedByTable(t *testing.T) {
	for _, tt := range []struct {
		date, clock, place, zone string
	}{
		{"1995-05-15", "14:30", "Zhanjiang, China", "Asia/Shanghai"},
		{"1995-05-15", "14:30", "Maoming", "Asia/Shanghai"},
		{"1995-01-15", "12:00", "Lévis, Canada", "America/Toronto"},
		{"1995-05-15", "", "Zhanjiang, China", "Asia/Shanghai"}, // date only
		// North Vietnam kept UTC+7 while the south had UTC+8 (1959–1975);
		// Móng Cái, on the Chinese border, too (Beijing time across the
		// border agreeing with the listed zone at that date no longer keeps
		// it: the border-town rule asks for the same offsets at all dates).
		{"1965-05-15", "14:30", "Hanoi, Vietnam", "Asia/Bangkok"},
		{"1965-05-15", "14:30", "Móng Cái", "Asia/Bangkok"},
		// Kept: the zones agree; border towns (the boundary data puts
		// Paso Canoas in Panama, Skeldon in Suriname); Xinjiang time in
		// Xinjiang.
		{"1990-05-15", "14:30", "Stockholm, Sweden", "Europe/Stockholm"},
		{"1990-05-15", "14:30", "Canoas, Costa Rica", "America/Costa_Rica"},
		{"1990-05-15", "14:30", "Skeldon, Guyana", "America/Guyana"},
		{"1990-05-15", "14:30", "Kashgar", "Asia/Urumqi"},
	} {
		u := &model.User{UserID: "z", BirthDate: tt.date, BirthTime: tt.clock, BirthLocation: tt.place}
		c := Compute(u, Consent{}, now)
		bd := c.Meta.BirthData
		if c.Chart == nil || bd.Place != PlaceResolved {
			t.Errorf("%s: no resolved chart: %+v", tt.place, bd)
			continue
		}
		if bd.Zone != tt.zone || bd.ZoneSource != "birthplace" || c.BirthPlace.TimeZone != tt.zone {
			t.Errorf("%s: zone %s (%s), birthPlace zone %s; want %s (birthplace)", tt.place, bd.Zone, bd.ZoneSource, c.BirthPlace.TimeZone, tt.zone)
		}
		if notes := strings.Join(bd.Notes, "|"); strings.Contains(notes, "time zone") {
			t.Errorf("%s: notes %q mention the time zone", tt.place, bd.Notes)
		}
		clock := tt.clock
		if clock == "" {
			continue
		}
		civil, _ := geo.ParseCivil(tt.date, clock)
		want, err := geo.LocalToUTC(civil, tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Chart.Instant.Equal(want.UTC) {
			t.Errorf("%s %s %s: birth instant %v, want %v (%s)", tt.place, tt.date, tt.clock, c.Chart.Instant, want.UTC, tt.zone)
		}
	}
}

// A displayName that is an e-mail address counts only its part before
// the '@': "anna.svensson@gmail.com" has the numbers of "Anna Svensson",
// not of "ANNA SVENSSON GMAIL COM".
func TestComputeEmailDisplayNameUsesLocalPart(t *testing.T) {
	for _, name := range []string{"anna.svensson@gmail.com", "Anna Svensson@example.org"} {
		u := &model.User{UserID: "e", BirthDate: "1990-05-15", DisplayName: name}
		c := Compute(u, Consent{}, now)
		want, _ := numerology.Name("Anna Svensson")
		got := c.Numerology
		if got == nil || got.ExpressionNumber != want.Expression || got.SoulUrgeNumber != want.SoulUrge ||
			got.PersonalityNumber != want.Personality || !equalInts(got.KarmicLessons, want.KarmicLessons) {
			t.Errorf("%q: numerology %+v, want that of \"Anna Svensson\" %+v", name, got, want)
		}
		if !strings.Contains(strings.Join(c.Meta.BirthData.Notes, "|"), "e-mail address") {
			t.Errorf("%q: notes %q", name, c.Meta.BirthData.Notes)
		}
	}
	// An '@' with nothing before it (a handle) is not an address.
	c := Compute(&model.User{UserID: "h", BirthDate: "1990-05-15", DisplayName: "@annasvensson"}, Consent{}, now)
	if c.Numerology == nil || c.Numerology.ExpressionNumber == 0 || strings.Contains(strings.Join(c.Meta.BirthData.Notes, "|"), "e-mail") {
		t.Errorf("handle: %+v %q", c.Numerology, c.Meta.BirthData.Notes)
	}
}

// The name numbers' length limit counts letters, and the note says why
// the name numbers are missing: a 100-character display name of a name
// and emoji (358 bytes) is used; one with more than 300 letters is "too
// long", not "without Latin letters".
func TestComputeDisplayNameLimitAndNotes(t *testing.T) {
	want, _ := numerology.Name("Anna Svensson")
	for _, tt := range []struct {
		name, note string
		numbers    bool
	}{
		{"Anna Svensson " + strings.Repeat("🌸", 86), "", true},
		{strings.Repeat("Anna ", 76), "more than 300 letters", false}, // 304 letters
		{"山田 🌸", "no usable Latin letters", false},
	} {
		c := Compute(&model.User{UserID: "l", BirthDate: "1990-05-15", DisplayName: tt.name}, Consent{}, now)
		notes := strings.Join(c.Meta.BirthData.Notes, "|")
		if c.Numerology == nil || c.Numerology.LifePathNumber != 3 {
			t.Fatalf("%d bytes: numerology %+v", len(tt.name), c.Numerology)
		}
		if got := c.Numerology.ExpressionNumber != 0; got != tt.numbers {
			t.Errorf("%d bytes: expression number %d", len(tt.name), c.Numerology.ExpressionNumber)
		}
		if tt.numbers && c.Numerology.ExpressionNumber != want.Expression {
			t.Errorf("name and emoji: expression %d, want %d", c.Numerology.ExpressionNumber, want.Expression)
		}
		if (tt.note == "" && strings.Contains(notes, "display name")) || !strings.Contains(notes, tt.note) {
			t.Errorf("%d bytes: notes %q, want %q", len(tt.name), notes, tt.note)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
