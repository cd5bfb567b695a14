package astro

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones for DayIn in any environment

	"github.com/innerjourney/functions/shared/fault"
)

func mustChart(t *testing.T, in ChartInput) Chart {
	t.Helper()
	c, err := ComputeChart(in)
	if err != nil {
		t.Fatalf("ComputeChart: %v", err)
	}
	return c
}

func TestComputeChartFull(t *testing.T) {
	c := mustChart(t, ChartInput{Time: time.Date(2000, 1, 1, 18, 0, 0, 0, time.UTC), Location: &Location{Latitude: 32.72, Longitude: -117.16}})
	if c.CalculationVersion != CalculationVersion || c.Confidence != ConfidenceHigh || !c.BirthTimeKnown {
		t.Errorf("version %q confidence %q known %v", c.CalculationVersion, c.Confidence, c.BirthTimeKnown)
	}
	if c.JulianDayUT != 2451545.25 || !c.Instant.Equal(time.Date(2000, 1, 1, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("instant %v JD %v", c.Instant, c.JulianDayUT)
	}
	// Values checked against swetest by the oracle tests; here the shape.
	want := map[Body]string{Sun: "Capricorn", Moon: "Scorpio", Mercury: "Capricorn", Venus: "Sagittarius", Mars: "Aquarius", Jupiter: "Aries", Saturn: "Taurus", Uranus: "Aquarius", Neptune: "Aquarius", Pluto: "Sagittarius"}
	for b, sign := range want {
		p := c.Bodies.Get(b)
		if p.Sign != sign {
			t.Errorf("%s in %s, want %s", b, p.Sign, sign)
		}
		if p.House < 1 || p.House > 12 {
			t.Errorf("%s house %d", b, p.House)
		}
		if math.Abs(p.Longitude-(30*float64(signIndex(p.Longitude))+p.Degree)) > 1e-6 || p.Degree < 0 || p.Degree >= 30 {
			t.Errorf("%s longitude %v degree %v", b, p.Longitude, p.Degree)
		}
		if p.Retrograde != (p.Speed < 0) {
			t.Errorf("%s retrograde %v speed %v", b, p.Retrograde, p.Speed)
		}
	}
	if !c.Bodies.Saturn.Retrograde {
		t.Error("Saturn was retrograde on 2000-01-01")
	}
	if c.Ascendant == nil || c.Ascendant.Sign != "Pisces" || c.Midheaven == nil || c.Midheaven.Sign != "Sagittarius" {
		t.Errorf("ascendant %+v midheaven %+v", c.Ascendant, c.Midheaven)
	}
	if c.Houses == nil || c.Houses.System != Placidus || c.Houses.FallbackReason != "" {
		t.Fatalf("houses %+v", c.Houses)
	}
	if c.Houses.Cusps[0] != c.Ascendant.Longitude || c.Houses.Cusps[9] != c.Midheaven.Longitude {
		t.Errorf("cusps 1/10 %v/%v, angles %v/%v", c.Houses.Cusps[0], c.Houses.Cusps[9], c.Ascendant.Longitude, c.Midheaven.Longitude)
	}
	if len(c.Aspects) == 0 {
		t.Fatal("no aspects")
	}
	for i, a := range c.Aspects {
		if i > 0 && a.Orb < c.Aspects[i-1].Orb {
			t.Errorf("aspects not sorted by orb")
		}
	}
	if c.Aspects[0] != (Aspect{A: "sun", B: "saturn", Type: Trine, Orb: 0.233, Applying: false}) {
		t.Errorf("tightest aspect %+v", c.Aspects[0])
	}
}

// TestChartJSONShape pins the stored document's field names.
func TestChartJSONShape(t *testing.T) {
	c := mustChart(t, ChartInput{Time: time.Date(1990, 5, 15, 12, 30, 0, 0, time.UTC), Location: &Location{Latitude: 59.33, Longitude: 18.07}})
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"calculationVersion", "confidence", "birthTimeKnown", "instant", "julianDayUt", "location", "bodies", "ascendant", "midheaven", "houses", "aspects"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	sun := m["bodies"].(map[string]any)["sun"].(map[string]any)
	for _, k := range []string{"longitude", "sign", "degree", "house", "retrograde", "speed"} {
		if _, ok := sun[k]; !ok {
			t.Errorf("body JSON lacks %q: %v", k, sun)
		}
	}
	houses := m["houses"].(map[string]any)
	if houses["system"] != "placidus" || len(houses["cusps"].([]any)) != 12 {
		t.Errorf("houses JSON %v", houses)
	}
	asp := m["aspects"].([]any)[0].(map[string]any)
	for _, k := range []string{"a", "b", "type", "orb", "applying"} {
		if _, ok := asp[k]; !ok {
			t.Errorf("aspect JSON lacks %q: %v", k, asp)
		}
	}
	var back Chart
	if err := json.Unmarshal(b, &back); err != nil || back.Bodies.Sun.Longitude != c.Bodies.Sun.Longitude || back.Bodies.Sun.Sign != c.Bodies.Sun.Sign || *back.Houses != *c.Houses {
		t.Errorf("round trip: %v", err)
	}
}

// moonDay finds a UTC day from start on which the Moon changes sign
// (changes true) or stays in one sign (changes false).
func moonDay(t *testing.T, start time.Time, changes bool) time.Time {
	t.Helper()
	for d := start; d.Before(start.AddDate(0, 0, 10)); d = d.AddDate(0, 0, 1) {
		a, _ := Positions(JulianDay(d))
		b, _ := Positions(JulianDay(d.AddDate(0, 0, 1)) - 1e-9)
		if (signIndex(a[Moon].Longitude) != signIndex(b[Moon].Longitude)) == changes {
			return d
		}
	}
	t.Fatal("no such day")
	return time.Time{}
}

func TestChartTimeUnknown(t *testing.T) {
	start := time.Date(1985, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, changes := range []bool{true, false} {
		d := moonDay(t, start, changes)
		day, err := DayIn(d.Year(), d.Month(), d.Day(), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		c := mustChart(t, ChartInput{TimeUnknown: true, Day: day, Location: &Location{Latitude: 59.33, Longitude: 18.07}, Time: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)})
		if c.BirthTimeKnown || c.Ascendant != nil || c.Midheaven != nil || c.Houses != nil {
			t.Errorf("time unknown but angles/houses computed: %+v", c)
		}
		if !c.Instant.Equal(d.Add(12 * time.Hour)) {
			t.Errorf("instant %v, want local noon", c.Instant)
		}
		for b := range NumBodies {
			if c.Bodies.Get(Body(b)).House != 0 {
				t.Errorf("%s has a house without birth time", Body(b))
			}
		}
		m := c.Bodies.Moon
		if m.SignUncertain != changes {
			t.Errorf("%s: moon sign uncertain %v, want %v", d.Format("2006-01-02"), m.SignUncertain, changes)
		}
		if changes {
			if c.Confidence != ConfidenceLow || len(m.PossibleSigns) != 2 || m.PossibleSigns[1] != Signs[(signIndex(signStart(m.PossibleSigns[0]))+1)%12] {
				t.Errorf("confidence %s possible %v", c.Confidence, m.PossibleSigns)
			}
		} else if c.Confidence != ConfidenceMedium || m.PossibleSigns != nil {
			t.Errorf("confidence %s possible %v", c.Confidence, m.PossibleSigns)
		}
	}
}

// signStart returns the longitude where the named sign begins.
func signStart(name string) float64 {
	for i, s := range Signs {
		if s == name {
			return float64(30 * i)
		}
	}
	return -1
}

// TestChartLocalDayZone: the local day of a zone, with its offsets and
// DST, is the interval the date-only chart uses.
func TestChartLocalDayZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	day, err := DayIn(2024, 3, 10, tokyo)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 3, 9, 15, 0, 0, 0, time.UTC); !day.Start.Equal(want) || day.End.Sub(day.Start) != 24*time.Hour {
		t.Errorf("Tokyo day %v–%v", day.Start, day.End)
	}
	ny, _ := time.LoadLocation("America/New_York")
	day, _ = DayIn(2024, 3, 10, ny) // DST starts: a 23-hour day
	if day.End.Sub(day.Start) != 23*time.Hour {
		t.Errorf("New York 2024-03-10 lasts %v", day.End.Sub(day.Start))
	}
	c := mustChart(t, ChartInput{TimeUnknown: true, Day: day})
	if c.Location != nil || c.Houses != nil {
		t.Errorf("no place, yet %+v", c)
	}
	if _, err := DayIn(2023, 2, 29, tokyo); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("DayIn 2023-02-29: %v", err)
	}
}

// TestDayInClockChangeAtMidnight: a day's bounds are the first and last
// instants whose local date is that day, also when the clocks skip or
// repeat midnight (time.Date moves a skipped midnight into the day
// before).
func TestDayInClockChangeAtMidnight(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name       string
		zone       string
		y          int
		m          time.Month
		d          int
		start, end string
	}{
		// Santiago, 2019-09-08: 00:00 −04 → 01:00 −03 (a 23-hour day
		// that starts at 01:00); the day before lasts a full 24 hours.
		{"Santiago gap day", "America/Santiago", 2019, 9, 8, "2019-09-08T04:00:00Z", "2019-09-09T03:00:00Z"},
		{"Santiago day before gap", "America/Santiago", 2019, 9, 7, "2019-09-07T04:00:00Z", "2019-09-08T04:00:00Z"},
		// São Paulo, 2018-11-04: 00:00 −03 → 01:00 −02.
		{"São Paulo gap day", "America/Sao_Paulo", 2018, 11, 4, "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"},
		{"São Paulo day before gap", "America/Sao_Paulo", 2018, 11, 3, "2018-11-03T03:00:00Z", "2018-11-04T03:00:00Z"},
		// Havana, 2012-04-01: 00:00 −05 → 01:00 −04.
		{"Havana gap day", "America/Havana", 2012, 4, 1, "2012-04-01T05:00:00Z", "2012-04-02T04:00:00Z"},
		// Santiago, 2019-04-07: 24:00 −03 → 23:00 −04 on the 6th, which
		// lasts 25 hours, until its second 23:59.
		{"Santiago repeated hour before midnight", "America/Santiago", 2019, 4, 6, "2019-04-06T03:00:00Z", "2019-04-07T04:00:00Z"},
		{"Santiago day after repeated hour", "America/Santiago", 2019, 4, 7, "2019-04-07T04:00:00Z", "2019-04-08T04:00:00Z"},
		// Havana, 2012-11-04: 01:00 −04 → 00:00 −05, midnight occurs
		// twice; the day starts at the first.
		{"Havana repeated midnight", "America/Havana", 2012, 11, 4, "2012-11-04T04:00:00Z", "2012-11-05T05:00:00Z"},
		// Ordinary days and changes away from midnight.
		{"Stockholm summer", "Europe/Stockholm", 1990, 5, 15, "1990-05-14T22:00:00Z", "1990-05-15T22:00:00Z"},
		{"New York DST starts", "America/New_York", 2024, 3, 10, "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z"},
		{"New York DST ends", "America/New_York", 2024, 11, 3, "2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z"},
		// Samoa crossed the date line: 2011-12-29 24:00 −10 → 2011-12-31 00:00 +14.
		{"Apia before the skipped day", "Pacific/Apia", 2011, 12, 29, "2011-12-29T10:00:00Z", "2011-12-30T10:00:00Z"},
		{"Apia after the skipped day", "Pacific/Apia", 2011, 12, 31, "2011-12-30T10:00:00Z", "2011-12-31T10:00:00Z"},
		{"UTC", "UTC", 2000, 1, 1, "2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			day, err := DayIn(tt.y, tt.m, tt.d, loc)
			if err != nil {
				t.Fatalf("DayIn: %v", err)
			}
			if !day.Start.Equal(utc(tt.start)) || !day.End.Equal(utc(tt.end)) {
				t.Errorf("DayIn = %v – %v, want %s – %s", day.Start, day.End, tt.start, tt.end)
			}
			if got := day.Start.In(loc).Format("2006-01-02"); got != fmt.Sprintf("%04d-%02d-%02d", tt.y, int(tt.m), tt.d) {
				t.Errorf("the day starts on local date %s", got)
			}
			if got := day.End.Add(-time.Nanosecond).In(loc).Format("2006-01-02"); got != fmt.Sprintf("%04d-%02d-%02d", tt.y, int(tt.m), tt.d) {
				t.Errorf("the day ends on local date %s", got)
			}
			if _, err := ComputeChart(ChartInput{TimeUnknown: true, Day: day}); err != nil {
				t.Errorf("date-only chart: %v", err)
			}
		})
	}
	apia, _ := time.LoadLocation("Pacific/Apia")
	if d, err := DayIn(2011, 12, 30, apia); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("Apia 2011-12-30 (skipped) = %v – %v, %v; want INVALID_ARGUMENT", d.Start, d.End, err)
	}
}

func TestChartNoPlace(t *testing.T) {
	c := mustChart(t, ChartInput{Time: time.Date(1975, 7, 1, 8, 0, 0, 0, time.UTC)})
	if c.Confidence != ConfidenceMedium || c.Ascendant != nil || c.Houses != nil || len(c.Notes) == 0 {
		t.Errorf("%+v", c)
	}
}

func TestChartPolar(t *testing.T) {
	for _, fb := range []HouseSystem{"", Porphyry, WholeSign} {
		c := mustChart(t, ChartInput{Time: time.Date(2000, 1, 1, 18, 0, 0, 0, time.UTC), Location: &Location{Latitude: 69.65, Longitude: 18.95}, PolarFallback: fb})
		want := fb
		if want == "" {
			want = Porphyry
		}
		if c.Houses.System != want || !strings.Contains(c.Houses.FallbackReason, "polar circle") || len(c.Notes) == 0 {
			t.Errorf("fallback %q: %+v notes %v", fb, c.Houses, c.Notes)
		}
		if want == WholeSign && c.Houses.Cusps[0] != 30*math.Floor(c.Ascendant.Longitude/30) {
			t.Errorf("whole sign cusp 1 %v, ascendant %v", c.Houses.Cusps[0], c.Ascendant.Longitude)
		}
	}
	// Just inside the polar circle is Placidus' last latitude.
	c := mustChart(t, ChartInput{Time: time.Date(2000, 1, 1, 18, 0, 0, 0, time.UTC), Location: &Location{Latitude: -66.5, Longitude: 0}})
	if c.Houses.System != Placidus {
		t.Errorf("-66.5°: %+v", c.Houses)
	}
	c = mustChart(t, ChartInput{Time: time.Date(2000, 1, 1, 18, 0, 0, 0, time.UTC), Location: &Location{Latitude: 40, Longitude: 0}, HouseSystem: WholeSign})
	if c.Houses.System != WholeSign || c.Houses.FallbackReason != "" {
		t.Errorf("whole sign: %+v", c.Houses)
	}
}

func TestChartInvalid(t *testing.T) {
	ok := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	day, _ := DayIn(2000, 1, 1, nil)
	tests := []struct {
		name string
		in   ChartInput
		msg  string
	}{
		{"zero time", ChartInput{}, "birth time is not set"},
		{"too early", ChartInput{Time: time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside the supported range"},
		{"too late", ChartInput{Time: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside the supported range"},
		{"NaN latitude", ChartInput{Time: ok, Location: &Location{Latitude: math.NaN()}}, "finite"},
		{"latitude 91", ChartInput{Time: ok, Location: &Location{Latitude: 91}}, "latitude 91"},
		{"pole", ChartInput{Time: ok, Location: &Location{Latitude: -90}}, "poles"},
		{"longitude 181", ChartInput{Time: ok, Location: &Location{Longitude: 181}}, "longitude 181"},
		{"infinite longitude", ChartInput{Time: ok, Location: &Location{Longitude: math.Inf(1)}}, "finite"},
		{"house system", ChartInput{Time: ok, Location: &Location{}, HouseSystem: "koch"}, "unknown house system"},
		{"house system without place", ChartInput{Time: ok, HouseSystem: "koch"}, "unknown house system"},
		{"fallback", ChartInput{Time: ok, Location: &Location{}, PolarFallback: "equal"}, "polar fallback"},
		{"day unset", ChartInput{TimeUnknown: true}, "local day of birth is not set"},
		{"day reversed", ChartInput{TimeUnknown: true, Day: LocalDay{Start: day.End, End: day.Start}}, "is not a day"},
		{"day too long", ChartInput{TimeUnknown: true, Day: LocalDay{Start: day.Start, End: day.Start.Add(72 * time.Hour)}}, "is not a day"},
		{"day out of range", ChartInput{TimeUnknown: true, Day: LocalDay{Start: time.Date(2099, 12, 31, 12, 0, 0, 0, time.UTC), End: time.Date(2100, 1, 1, 12, 0, 0, 0, time.UTC)}}, "outside the supported range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ComputeChart(tc.in)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.InvalidArgument {
				t.Fatalf("error %v, want fault.Invalid", err)
			}
			if !strings.HasPrefix(err.Error(), "chart: ") || !strings.Contains(fe.Message, tc.msg) {
				t.Errorf("error %q, want chart: …%s…", err, tc.msg)
			}
		})
	}
	if _, err := Positions(math.NaN()); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("Positions(NaN): %v", err)
	}
	if _, err := LocalAngles(2451545, 95, 0); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("LocalAngles lat 95: %v", err)
	}
	if _, err := SkyAt(time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("SkyAt 1700: %v", err)
	}
}

func TestFindAspect(t *testing.T) {
	orbs := NatalOrbs.byIndex()
	tests := []struct {
		name           string
		la, va, lb, vb float64
		typ            AspectType
		orb            float64
		applying, ok   bool
	}{
		{"conjunction closing", 10, 1, 14, 0, Conjunction, 4, true, true},
		{"conjunction opening", 14, 1, 10, 0, Conjunction, 4, false, true},
		{"across 0°", 358, 1, 2, 0.5, Conjunction, 4, true, true},
		{"opposition closing", 0, 1, 185, 0, Opposition, 5, true, true},
		{"opposition separating", 0, -1, 185, 0, Opposition, 5, false, true},
		{"trine", 100, 0, 223, 1, Trine, 3, false, true},
		{"square retrograde", 90, 0, 183, -0.1, Square, 3, true, true},
		{"sextile", 0, 0, 296, 0.2, Sextile, 4, true, true},
		{"none", 0, 0, 45, 0, "", 0, false, false},
		{"sextile too wide", 0, 0, 66, 0, "", 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i, orb, app, ok := findAspect(tc.la, tc.va, tc.lb, tc.vb, &orbs, 0)
			if ok != tc.ok {
				t.Fatalf("found %v", ok)
			}
			if ok && (aspectTypes[i] != tc.typ || math.Abs(orb-tc.orb) > 1e-9 || app != tc.applying) {
				t.Errorf("%s orb %v applying %v", aspectTypes[i], orb, app)
			}
		})
	}
}

func TestTransits(t *testing.T) {
	natal := mustChart(t, ChartInput{Time: time.Date(1990, 5, 15, 12, 30, 0, 0, time.UTC), Location: &Location{Latitude: 59.33, Longitude: 18.07}})
	sky, err := SkyAt(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]Aspect, 0, 64)
	got := sky.Transits(&natal, nil, dst)
	limits := map[AspectType]float64{Conjunction: 2, Opposition: 2, Trine: 2, Square: 2, Sextile: 1.5}
	for _, a := range got {
		if a.Orb > limits[a.Type] {
			t.Errorf("%+v beyond the transit orb", a)
		}
	}
	// Every natal body and angle is checked: brute force agrees.
	n := 0
	points := []float64{}
	for b := range NumBodies {
		points = append(points, natal.Bodies.Get(Body(b)).Longitude)
	}
	points = append(points, natal.Ascendant.Longitude, natal.Midheaven.Longitude)
	for b := range NumBodies {
		for _, p := range points {
			sep := math.Abs(diff180(sky.Positions[b].Longitude, p))
			for i, ang := range aspectAngles {
				if math.Abs(sep-ang) <= TransitOrbs.byIndex()[i] {
					n++
				}
			}
		}
	}
	if n != len(got) {
		t.Errorf("%d transits, brute force %d", len(got), n)
	}
	if allocs := testing.AllocsPerRun(100, func() { dst = sky.Transits(&natal, nil, dst[:0]) }); allocs != 0 {
		t.Errorf("Transits allocates %v times", allocs)
	}
}

func TestHouseOf(t *testing.T) {
	h := Houses{Cusps: [12]float64{350, 20, 50, 80, 110, 140, 170, 200, 230, 260, 290, 320}}
	for _, tc := range []struct {
		lon  float64
		want int
	}{{350, 1}, {355, 1}, {0, 1}, {19.999, 1}, {20, 2}, {349.99, 12}, {170, 7}} {
		if got := h.HouseOf(tc.lon); got != tc.want {
			t.Errorf("HouseOf(%v) = %d, want %d", tc.lon, got, tc.want)
		}
	}
}

func TestSignsBetween(t *testing.T) {
	if got := signsBetween(11, 0, false); len(got) != 2 || got[0] != "Pisces" || got[1] != "Aries" {
		t.Errorf("direct: %v", got)
	}
	if got := signsBetween(0, 11, true); len(got) != 2 || got[0] != "Aries" || got[1] != "Pisces" {
		t.Errorf("retrograde: %v", got)
	}
}

// TestAscendantRises checks at many latitudes and sidereal times that the
// Ascendant is on the horizon and rising, and follows the Midheaven by
// less than 180° (so Porphyry quadrants are in order).
func TestAscendantRises(t *testing.T) {
	for lat := -89.0; lat <= 89; lat += 1.5 {
		for ramc := 0.0; ramc < 360; ramc += 2.5 {
			for _, eps := range []float64{23.43, 23.45} {
				asc := ascendant(ramc, lat, eps*deg2rad)
				if alt, rising := isRising(asc, lat, ramc, eps); math.Abs(alt) > 1e-9 || !rising {
					t.Fatalf("lat %v ramc %v: ascendant %v altitude %v rising %v", lat, ramc, asc, alt, rising)
				}
				if d := norm360(asc - midheaven(ramc, eps*deg2rad)); d >= 180 {
					t.Fatalf("lat %v ramc %v: ascendant %v is %v° past the midheaven", lat, ramc, asc, d)
				}
			}
		}
	}
}

// TestConcurrentCharts: charts computed in parallel (shared tables, pooled
// phasor buffers) equal the serial ones. Run with -race.
func TestConcurrentCharts(t *testing.T) {
	in := benchInputs(64)
	want := make([]Chart, len(in))
	for i := range in {
		want[i] = mustChart(t, in[i])
	}
	errs := make(chan string, len(in)*4)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range in {
				j := (i + 16*g) % len(in)
				c, err := ComputeChart(in[j])
				if err != nil || c.Bodies.Moon.Longitude != want[j].Bodies.Moon.Longitude || c.Bodies.Pluto.Speed != want[j].Bodies.Pluto.Speed || *c.Houses != *want[j].Houses {
					errs <- in[j].Time.String()
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Errorf("parallel chart differs at %s", e)
	}
}
