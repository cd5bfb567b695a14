package astro

import (
	"fmt"
	"math"
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

// CalculationVersion identifies the algorithms and tables behind a Chart.
// Bump it whenever a change can move a stored value, so that stored charts
// can be recomputed.
const CalculationVersion = "astro-2"

// Confidence grades a chart by the completeness of its birth data.
type Confidence string

// The confidence levels:
//   - high: birth time and place known; every field is computed.
//   - medium: the place is unknown (no Ascendant, Midheaven or houses), or
//     the birth time is unknown but no body changes sign during the day.
//   - low: the birth time is unknown and at least one body (usually the
//     Moon) changes sign during the local day of birth.
const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
)

// Signs are the twelve tropical signs, from 0° Aries.
var Signs = [12]string{"Aries", "Taurus", "Gemini", "Cancer", "Leo", "Virgo", "Libra", "Scorpio", "Sagittarius", "Capricorn", "Aquarius", "Pisces"}

// SignOf returns the sign of an ecliptic longitude in degrees.
func SignOf(lon float64) string { return Signs[signIndex(lon)] }

func signIndex(lon float64) int { return int(norm360(lon)/30) % 12 }

// Location is a place on the Earth, in degrees: latitude north positive,
// longitude east positive.
type Location struct {
	Latitude  float64 `json:"latitude" firestore:"latitude"`
	Longitude float64 `json:"longitude" firestore:"longitude"`
}

// LocalDay is a civil day of birth as a UTC interval [Start, End).
type LocalDay struct {
	Start time.Time
	End   time.Time
}

// DayIn returns the local civil day year-month-day in zone as a UTC
// interval, with zone's historical offsets: Start is the first instant at
// which the clock in zone reads that date and End the instant after the
// last one. A day with a daylight-saving change lasts 23 or 25 hours, and
// a day whose midnight the clocks skip (Chile each September, Brazil until
// 2019: 00:00 → 01:00) starts at the jump, at 01:00 local time; the day
// before it then ends at that same instant. zone nil means UTC.
//
// Errors: fault.Invalid for a date that does not exist on the calendar
// (2023-02-30) or in zone (Samoa skipped 2011-12-30 in Pacific/Apia).
func DayIn(year int, month time.Month, day int, zone *time.Location) (LocalDay, error) {
	if zone == nil {
		zone = time.UTC
	}
	// wall is the local midnight written as if it were UTC: an instant u
	// reads as date d in a stretch of constant offset off exactly when
	// u+off is in [wall, wall+24h).
	wall := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if wall.Year() != year || wall.Month() != month || wall.Day() != day {
		return LocalDay{}, fault.Invalid("date %04d-%02d-%02d does not exist", year, int(month), day)
	}
	var start, end time.Time
	// Offsets stay within ±26 h, and no zone changes its offset more than
	// a few times in four days: the stretches from two days before to two
	// days after hold every instant of the day.
	t := wall.Add(-48 * time.Hour)
	for range 16 {
		l := t.In(zone)
		_, off := l.Zone()
		from, to := l.ZoneBounds() // zero: unbounded
		lo := wall.Add(-time.Duration(off) * time.Second)
		hi := lo.Add(24 * time.Hour)
		if !from.IsZero() && from.After(lo) {
			lo = from
		}
		if !to.IsZero() && to.Before(hi) {
			hi = to
		}
		if lo.Before(hi) {
			if start.IsZero() || lo.Before(start) {
				start = lo
			}
			if end.IsZero() || hi.After(end) {
				end = hi
			}
		}
		if to.IsZero() || to.After(wall.Add(72*time.Hour)) {
			break
		}
		t = to
	}
	if start.IsZero() {
		return LocalDay{}, fault.Invalid("date %04d-%02d-%02d does not exist in %s", year, int(month), day, zone)
	}
	return LocalDay{Start: start.UTC(), End: end.UTC()}, nil
}

// ChartInput is the birth data of a chart.
type ChartInput struct {
	// Time is the birth instant (any zone), required unless TimeUnknown.
	Time time.Time
	// TimeUnknown says that only the local date of birth is known. Day
	// must then be set (see DayIn); Time is ignored. The chart has no
	// Ascendant, Midheaven or houses; bodies are computed at the middle of
	// the day, and a body that changes sign during the day is flagged.
	TimeUnknown bool
	// Day is the local day of birth, used when TimeUnknown.
	Day LocalDay
	// Location is the birthplace, nil when unknown (no Ascendant,
	// Midheaven or houses then).
	Location *Location
	// HouseSystem: Placidus when empty.
	HouseSystem HouseSystem
	// PolarFallback replaces Placidus within the polar circles: Porphyry
	// when empty, or WholeSign.
	PolarFallback HouseSystem
	// Orbs of the natal aspects: NatalOrbs when nil.
	Orbs *Orbs
}

// Point is an ecliptic point of a chart.
type Point struct {
	// Longitude is the ecliptic longitude in degrees [0, 360), tropical,
	// true equinox of date.
	Longitude float64 `json:"longitude" firestore:"longitude"`
	// Sign is the zodiac sign ("Aries" … "Pisces").
	Sign string `json:"sign" firestore:"sign"`
	// Degree is the position within the sign, degrees [0, 30).
	Degree float64 `json:"degree" firestore:"degree"`
}

// Placement is a body in a chart.
type Placement struct {
	// Longitude is the apparent geocentric ecliptic longitude in degrees
	// [0, 360), tropical, true equinox of date.
	Longitude float64 `json:"longitude" firestore:"longitude"`
	// Sign is the zodiac sign ("Aries" … "Pisces").
	Sign string `json:"sign" firestore:"sign"`
	// Degree is the position within the sign, degrees [0, 30).
	Degree float64 `json:"degree" firestore:"degree"`
	// House is the house (1–12) holding the body; 0 (omitted) without
	// houses.
	House int `json:"house,omitempty" firestore:"house,omitempty"`
	// Retrograde is true when the body moves backwards in the zodiac.
	Retrograde bool `json:"retrograde" firestore:"retrograde"`
	// Speed is the motion in longitude, degrees per day.
	Speed float64 `json:"speed" firestore:"speed"`
	// SignUncertain is true when the birth time is unknown and the body
	// changes sign during the day of birth; PossibleSigns then lists the
	// signs it occupies during that day, in order.
	SignUncertain bool     `json:"signUncertain,omitempty" firestore:"signUncertain,omitempty"`
	PossibleSigns []string `json:"possibleSigns,omitempty" firestore:"possibleSigns,omitempty"`
}

// Bodies holds the placement of every body, by name.
type Bodies struct {
	Sun     Placement `json:"sun" firestore:"sun"`
	Moon    Placement `json:"moon" firestore:"moon"`
	Mercury Placement `json:"mercury" firestore:"mercury"`
	Venus   Placement `json:"venus" firestore:"venus"`
	Mars    Placement `json:"mars" firestore:"mars"`
	Jupiter Placement `json:"jupiter" firestore:"jupiter"`
	Saturn  Placement `json:"saturn" firestore:"saturn"`
	Uranus  Placement `json:"uranus" firestore:"uranus"`
	Neptune Placement `json:"neptune" firestore:"neptune"`
	Pluto   Placement `json:"pluto" firestore:"pluto"`
}

// Get returns the placement of body b (nil for an unknown body).
func (s *Bodies) Get(b Body) *Placement {
	switch b {
	case Sun:
		return &s.Sun
	case Moon:
		return &s.Moon
	case Mercury:
		return &s.Mercury
	case Venus:
		return &s.Venus
	case Mars:
		return &s.Mars
	case Jupiter:
		return &s.Jupiter
	case Saturn:
		return &s.Saturn
	case Uranus:
		return &s.Uranus
	case Neptune:
		return &s.Neptune
	case Pluto:
		return &s.Pluto
	}
	return nil
}

// Chart is a natal chart: the document the profile stores (JSON and
// Firestore use the same camelCase field names).
type Chart struct {
	// CalculationVersion is the CalculationVersion that computed the chart.
	CalculationVersion string `json:"calculationVersion" firestore:"calculationVersion"`
	// Confidence grades the completeness of the birth data.
	Confidence Confidence `json:"confidence" firestore:"confidence"`
	// BirthTimeKnown is false for a date-only chart.
	BirthTimeKnown bool `json:"birthTimeKnown" firestore:"birthTimeKnown"`
	// Instant is the UTC instant the positions are computed for: the
	// birth instant, or the middle of the local day when the time is
	// unknown.
	Instant time.Time `json:"instant" firestore:"instant"`
	// JulianDayUT is Instant as a Julian Day (UT).
	JulianDayUT float64 `json:"julianDayUt" firestore:"julianDayUt"`
	// Location is the birthplace, when known.
	Location *Location `json:"location,omitempty" firestore:"location,omitempty"`
	// Bodies are the Sun, the Moon and the planets through Pluto.
	Bodies Bodies `json:"bodies" firestore:"bodies"`
	// Ascendant is the ecliptic degree rising in the east; nil without
	// birth time or place.
	Ascendant *Point `json:"ascendant,omitempty" firestore:"ascendant,omitempty"`
	// Midheaven is the ecliptic degree culminating; nil without birth time
	// or place.
	Midheaven *Point `json:"midheaven,omitempty" firestore:"midheaven,omitempty"`
	// Houses are the house cusps; nil without birth time or place.
	Houses *Houses `json:"houses,omitempty" firestore:"houses,omitempty"`
	// Aspects are the major aspects between bodies, tightest first.
	Aspects []Aspect `json:"aspects" firestore:"aspects"`
	// Notes explain what was not computed or was approximated, in plain
	// English (no personal data).
	Notes []string `json:"notes,omitempty" firestore:"notes,omitempty"`
}

// round6 rounds to 1e-6 (0.0036″ for degrees): stored values carry no
// spurious digits.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// pointOf builds a Point from a longitude in degrees, rounded to 1e-6°,
// with sign and degree derived from the rounded value.
func pointOf(lon float64) Point {
	lon = round6(norm360(lon))
	if lon >= 360 {
		lon = 0
	}
	s := signIndex(lon)
	return Point{Longitude: lon, Sign: Signs[s], Degree: round6(lon - 30*float64(s))}
}

// ComputeChart computes a natal chart.
//
// Errors (all fault.Invalid, wrapped as "chart: …"): a zero Time with a
// known birth time; an instant or day outside [MinTime, MaxTime); a Day
// that is empty, reversed or longer than 48 hours; coordinates that are
// not finite or out of range (|latitude| < 90, |longitude| ≤ 180); an
// unknown house system.
func ComputeChart(in ChartInput) (Chart, error) {
	c, err := computeChart(&in)
	if err != nil {
		return Chart{}, fmt.Errorf("chart: %w", err)
	}
	return c, nil
}

func computeChart(in *ChartInput) (Chart, error) {
	c := Chart{CalculationVersion: CalculationVersion, BirthTimeKnown: !in.TimeUnknown}
	var t time.Time
	if in.TimeUnknown {
		d := in.Day
		switch {
		case d.Start.IsZero() || d.End.IsZero():
			return c, fault.Invalid("birth time unknown but the local day of birth is not set")
		case !d.End.After(d.Start) || d.End.Sub(d.Start) > 48*time.Hour:
			return c, fault.Invalid("local day of birth %s to %s is not a day", d.Start.UTC().Format(time.RFC3339), d.End.UTC().Format(time.RFC3339))
		}
		t = d.Start.Add(d.End.Sub(d.Start) / 2)
		if err := checkJD(JulianDay(d.Start)); err != nil {
			return c, err
		}
		if err := checkJD(JulianDay(d.End) - 1e-9); err != nil {
			return c, err
		}
	} else {
		if in.Time.IsZero() {
			return c, fault.Invalid("birth time is not set (set TimeUnknown for a date-only chart)")
		}
		t = in.Time
	}
	jd := JulianDay(t)
	if err := checkJD(jd); err != nil {
		return c, err
	}
	if in.Location != nil {
		if err := checkPlace(in.Location.Latitude, in.Location.Longitude); err != nil {
			return c, err
		}
		loc := *in.Location
		c.Location = &loc
	}
	orbs := &NatalOrbs
	if in.Orbs != nil {
		orbs = in.Orbs
	}
	c.Instant = t.UTC()
	c.JulianDayUT = jd

	var pos [NumBodies]Position
	fr := computePositions(jd, &pos)

	var houses *Houses
	if !in.TimeUnknown && c.Location != nil {
		a := localAngles(jd, c.Location.Latitude, c.Location.Longitude, fr.dpsi, fr.eps)
		h, err := HouseCusps(a, c.Location.Latitude, in.HouseSystem, in.PolarFallback)
		if err != nil {
			return c, err
		}
		for i := range h.Cusps {
			h.Cusps[i] = pointOf(h.Cusps[i]).Longitude
		}
		asc, mc := pointOf(a.Ascendant), pointOf(a.Midheaven)
		c.Ascendant, c.Midheaven, c.Houses, houses = &asc, &mc, &h, &h
		if h.FallbackReason != "" {
			c.Notes = append(c.Notes, h.FallbackReason)
		}
	} else if in.HouseSystem != "" || in.PolarFallback != "" {
		if _, err := HouseCusps(Angles{}, 0, in.HouseSystem, in.PolarFallback); err != nil {
			return c, err
		}
	}

	for b := range NumBodies {
		p := c.Bodies.Get(Body(b))
		pt := pointOf(pos[b].Longitude)
		p.Longitude, p.Sign, p.Degree = pt.Longitude, pt.Sign, pt.Degree
		p.Speed = round6(pos[b].Speed)
		p.Retrograde = pos[b].Speed < 0
		if houses != nil {
			p.House = houses.HouseOf(p.Longitude)
		}
	}

	switch {
	case in.TimeUnknown:
		c.Confidence = ConfidenceMedium
		c.Notes = append(c.Notes, "birth time unknown: positions at the middle of the local day; no ascendant, midheaven or houses")
		var first, last [NumBodies]Position
		computePositions(JulianDay(in.Day.Start), &first)
		computePositions(JulianDay(in.Day.End)-1e-9, &last)
		for b := range NumBodies {
			if s0, s1 := signIndex(first[b].Longitude), signIndex(last[b].Longitude); s0 != s1 {
				p := c.Bodies.Get(Body(b))
				p.SignUncertain = true
				p.PossibleSigns = signsBetween(s0, s1, pos[b].Speed < 0)
				c.Confidence = ConfidenceLow
				c.Notes = append(c.Notes, fmt.Sprintf("the %s changes sign during the day of birth: %s or %s", bodyTitles[b], Signs[s0], Signs[s1]))
			}
		}
	case c.Location == nil:
		c.Confidence = ConfidenceMedium
		c.Notes = append(c.Notes, "birthplace unknown: no ascendant, midheaven or houses")
	default:
		c.Confidence = ConfidenceHigh
	}

	c.Aspects = natalAspects(&pos, orbs, make([]Aspect, 0, 16))
	return c, nil
}

// signsBetween lists the signs from s0 to s1 in the direction of motion.
func signsBetween(s0, s1 int, retro bool) []string {
	step := 1
	if retro {
		step = 11
	}
	out := []string{Signs[s0]}
	for s := s0; s != s1 && len(out) < 12; {
		s = (s + step) % 12
		out = append(out, Signs[s])
	}
	return out
}
