package geo

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	// Embedded IANA database, so that zones resolve on minimal containers
	// without /usr/share/zoneinfo too. Go reads a host's own zoneinfo
	// (ZONEINFO, /usr/share/zoneinfo) before this copy, so two hosts agree
	// only as far as their IANA releases do.
	_ "time/tzdata"

	"github.com/innerjourney/functions/shared/fault"
)

// Civil is a wall-clock date and time with no zone: what a birth
// certificate says.
type Civil struct {
	Year   int        `json:"year" firestore:"year"`
	Month  time.Month `json:"month" firestore:"month"`
	Day    int        `json:"day" firestore:"day"`
	Hour   int        `json:"hour" firestore:"hour"`
	Minute int        `json:"minute" firestore:"minute"`
	Second int        `json:"second" firestore:"second"`
}

// ParseCivil parses a date "YYYY-MM-DD" and a clock time "HH:MM" or
// "HH:MM:SS" (24-hour). It returns a fault.InvalidArgument error when either
// is malformed or names a day or time that does not exist on a calendar
// (2023-02-29, 24:00, 12:60).
func ParseCivil(date, clock string) (Civil, error) {
	d, err := time.Parse("2006-01-02", strings.TrimSpace(date))
	if err != nil {
		return Civil{}, fault.Invalid("geo: date %q is not a valid YYYY-MM-DD date", date)
	}
	c := Civil{Year: d.Year(), Month: d.Month(), Day: d.Day()}
	parts := strings.Split(strings.TrimSpace(clock), ":")
	if len(parts) != 2 && len(parts) != 3 {
		return Civil{}, fault.Invalid("geo: time %q is not HH:MM or HH:MM:SS", clock)
	}
	vals := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || len(p) < 1 || len(p) > 2 || strings.HasPrefix(p, "+") || strings.HasPrefix(p, "-") {
			return Civil{}, fault.Invalid("geo: time %q is not HH:MM or HH:MM:SS", clock)
		}
		vals[i] = v
	}
	c.Hour, c.Minute, c.Second = vals[0], vals[1], vals[2]
	if err := c.Validate(); err != nil {
		return Civil{}, err
	}
	return c, nil
}

// Validate returns a fault.InvalidArgument error unless c is a real calendar
// date of year 1 to 9999 with hour 0–23, minute 0–59 and second 0–59 (leap
// seconds are not representable).
func (c Civil) Validate() error {
	switch {
	case c.Year < 1 || c.Year > 9999:
		return fault.Invalid("geo: year %d out of range 1–9999", c.Year)
	case c.Month < 1 || c.Month > 12:
		return fault.Invalid("geo: month %d out of range 1–12", c.Month)
	case c.Day < 1 || c.Day > daysIn(c.Year, c.Month):
		return fault.Invalid("geo: %04d-%02d has no day %d", c.Year, c.Month, c.Day)
	case c.Hour < 0 || c.Hour > 23:
		return fault.Invalid("geo: hour %d out of range 0–23", c.Hour)
	case c.Minute < 0 || c.Minute > 59:
		return fault.Invalid("geo: minute %d out of range 0–59", c.Minute)
	case c.Second < 0 || c.Second > 59:
		return fault.Invalid("geo: second %d out of range 0–59", c.Second)
	}
	return nil
}

// String formats c as "YYYY-MM-DDTHH:MM:SS".
func (c Civil) String() string {
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Resolution says how a wall-clock time maps to instants in its zone.
type Resolution string

// The resolutions.
const (
	// Exact: the wall time occurred exactly once.
	Exact Resolution = "exact"
	// Gap: the wall time never occurred, the clocks jumped over it (spring
	// forward, or a zone changing to a larger offset).
	Gap Resolution = "gap"
	// Overlap: the wall time occurred twice, the clocks were set back over
	// it (fall back, or a zone changing to a smaller offset).
	Overlap Resolution = "overlap"
)

// Policy chooses the instant for a wall time in a gap or an overlap.
type Policy int

// The policies. Exact wall times have one instant whatever the policy.
const (
	// PreTransition, the default, reads the wall time with the UTC offset
	// in force before the transition: in an overlap the first occurrence
	// (still on summer time after a fall back), in a gap the offset the
	// clock had not yet left (02:30 in a 02:00→03:00 jump reads as 02:30
	// winter time, i.e. 03:30 summer time). This is what java.time,
	// Python's fold=0 and RFC 5545 do, and it is right for a birth recorded
	// by a clock that had not been changed yet.
	PreTransition Policy = iota
	// Earlier picks the earlier of the two candidate instants.
	Earlier
	// Later picks the later of the two candidate instants.
	Later
	// Reject returns a fault.InvalidArgument error (with the Instant as
	// details) for gaps and overlaps, for callers that ask the person.
	Reject
)

// Instant is a wall time resolved in a zone.
type Instant struct {
	// UTC is the chosen instant.
	UTC time.Time `json:"utc" firestore:"utc"`
	// Local is the same instant in the zone. In a gap it differs from the
	// wall time asked for (02:30 becomes 03:30).
	Local time.Time `json:"local" firestore:"local"`
	// Zone is the IANA zone name.
	Zone string `json:"zone" firestore:"zone"`
	// OffsetSeconds is the zone's UTC offset at UTC (east positive), with
	// the seconds of local mean time kept (Stockholm before 1879: 4332).
	OffsetSeconds int `json:"offsetSeconds" firestore:"offsetSeconds"`
	// Abbreviation is the zone abbreviation at UTC ("CET", "CEST", "LMT").
	Abbreviation string `json:"abbreviation" firestore:"abbreviation"`
	// Resolution is exact, gap or overlap.
	Resolution Resolution `json:"resolution" firestore:"resolution"`
	// Candidates, for a gap or an overlap, are both readings of the wall
	// time, earlier first: in an overlap the two real instants; in a gap
	// the wall time read with the offset after and before the transition.
	Candidates []time.Time `json:"candidates,omitempty" firestore:"candidates,omitempty"`
}

var zoneCache sync.Map // name → *time.Location

// LoadZone returns the IANA zone, from the embedded database when the host
// has none. It returns a fault.InvalidArgument error for an unknown name or
// for "Local" and "" (a birth zone must be explicit).
func LoadZone(name string) (*time.Location, error) {
	if v, ok := zoneCache.Load(name); ok {
		return v.(*time.Location), nil
	}
	if name == "" || name == "Local" {
		return nil, fault.Invalid("geo: a time zone name is required")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fault.Invalid("geo: unknown time zone %q", name)
	}
	zoneCache.Store(name, loc)
	return loc, nil
}

// LocalToUTC converts a wall time in an IANA zone to UTC with the zone's
// historical offsets (local mean time before standard time, wartime and
// double summer time, years without DST), resolving gaps and overlaps by
// PreTransition. See LocalToUTCPolicy.
func LocalToUTC(c Civil, zone string) (Instant, error) {
	return LocalToUTCPolicy(c, zone, PreTransition)
}

// LocalToUTCPolicy converts a wall time in an IANA zone to UTC, resolving a
// wall time that did not exist (Gap) or existed twice (Overlap) by policy;
// the Instant says which case it was and lists both candidates. It returns a
// fault.InvalidArgument error for an invalid Civil, an unknown zone, an
// unknown policy, or (policy Reject) a gap or an overlap.
func LocalToUTCPolicy(c Civil, zone string, policy Policy) (Instant, error) {
	if err := c.Validate(); err != nil {
		return Instant{}, err
	}
	if policy < PreTransition || policy > Reject {
		return Instant{}, fault.Invalid("geo: unknown policy %d", policy)
	}
	loc, err := LoadZone(zone)
	if err != nil {
		return Instant{}, err
	}
	// wall is the wall time as if it were UTC; an instant u reads as wall in
	// loc exactly when u = wall − offset(u).
	wall := time.Date(c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second, 0, time.UTC)
	periods := zonePeriods(wall, loc)

	var sols []time.Time
	for _, p := range periods {
		u := wall.Add(-time.Duration(p.offset) * time.Second)
		if p.contains(u) && !containsTime(sols, u) {
			sols = append(sols, u)
		}
	}
	in := Instant{Zone: zone}
	var chosen time.Time
	switch len(sols) {
	case 1:
		in.Resolution = Exact
		chosen = sols[0]
	case 0:
		before, after, ok := findGap(wall, periods)
		if !ok {
			return Instant{}, fault.New(fault.Internal, "geo: cannot resolve %s in %s", c, zone)
		}
		in.Resolution = Gap
		pre := wall.Add(-time.Duration(before) * time.Second) // later instant
		post := wall.Add(-time.Duration(after) * time.Second) // earlier instant
		in.Candidates = []time.Time{post, pre}
		switch policy {
		case Earlier:
			chosen = post
		default:
			chosen = pre
		}
	default:
		// Two instants: periods are in time order, so sols[0] is the
		// earlier, read with the offset before the transition.
		slicesSortTimes(sols)
		in.Resolution = Overlap
		in.Candidates = []time.Time{sols[0], sols[len(sols)-1]}
		switch policy {
		case Later:
			chosen = sols[len(sols)-1]
		default:
			chosen = sols[0]
		}
	}
	in.UTC = chosen.UTC()
	in.Local = chosen.In(loc)
	in.Abbreviation, in.OffsetSeconds = in.Local.Zone()
	if policy == Reject && in.Resolution != Exact {
		return Instant{}, fault.Invalid("geo: %s in %s is %s (clocks changed); choose one of the candidates",
			c, zone, map[Resolution]string{Gap: "skipped", Overlap: "ambiguous"}[in.Resolution]).WithDetails(in)
	}
	return in, nil
}

// period is one stretch of constant offset; zero start or end is unbounded.
type period struct {
	start, end time.Time
	offset     int
}

func (p period) contains(u time.Time) bool {
	return (p.start.IsZero() || !u.Before(p.start)) && (p.end.IsZero() || u.Before(p.end))
}

// zonePeriods lists the zone's periods that overlap two days either side of
// wall (no zone has two transitions closer than that around one wall time).
func zonePeriods(wall time.Time, loc *time.Location) []period {
	from, to := wall.Add(-48*time.Hour), wall.Add(48*time.Hour)
	var out []period
	t := from.In(loc)
	for range 16 {
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		out = append(out, period{start: start, end: end, offset: off})
		if end.IsZero() || end.After(to) {
			break
		}
		t = end.In(loc)
	}
	return out
}

// findGap finds the transition whose skipped wall times contain wall and
// returns the offsets before and after it.
func findGap(wall time.Time, ps []period) (before, after int, ok bool) {
	for i := 1; i < len(ps); i++ {
		p, q := ps[i-1], ps[i]
		if q.offset <= p.offset || q.start.IsZero() {
			continue
		}
		lo := q.start.Add(time.Duration(p.offset) * time.Second)
		hi := q.start.Add(time.Duration(q.offset) * time.Second)
		if !wall.Before(lo) && wall.Before(hi) {
			return p.offset, q.offset, true
		}
	}
	return 0, 0, false
}

func containsTime(ts []time.Time, u time.Time) bool {
	for _, t := range ts {
		if t.Equal(u) {
			return true
		}
	}
	return false
}

func slicesSortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// quiet is how far from a clock change an instant must be for its wall
// time to have no other reading in the zone: farther than any two of a
// zone's UTC offsets differ (−12 to +14 hours today, local mean times
// included), and as far as LocalToUTC looks around a wall time.
const quiet = 48 * time.Hour

// HourOn returns hour:00 of the local civil date y-m-d in loc (d may run
// past the month's end), resolved as LocalToUTC resolves it: in a gap (the
// clocks jumped over hour:00) the hour is read with the offset in force
// before the jump, so 02:00 in a 02:00 → 03:00 spring-forward is 03:00
// summer time; in an overlap (hour:00 occurred twice) the first
// occurrence. It is the one rule for the daily-insight times: the profile
// function's first users/{uid}.insightDueAt and the insights worker's
// advances.
//
// Away from clock changes, time.Date already gives the only reading, so
// the common case allocates nothing; within quiet of a change the answer
// is LocalToUTC's (time.Date's for a zone LocalToUTC does not know by
// name).
func HourOn(y int, m time.Month, d, hour int, loc *time.Location) time.Time {
	y, m, d = time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date()
	c := time.Date(y, m, d, hour, 0, 0, 0, loc)
	start, end := c.ZoneBounds()
	if cy, cm, cd := c.Date(); cy == y && cm == m && cd == d && c.Hour() == hour && c.Minute() == 0 &&
		(start.IsZero() || c.Sub(start) > quiet) && (end.IsZero() || end.Sub(c) > quiet) {
		return c
	}
	in, err := LocalToUTC(Civil{Year: y, Month: m, Day: d, Hour: hour}, loc.String())
	if err != nil {
		return c
	}
	return in.UTC.In(loc)
}

// NextHour returns the first instant strictly after t at which the clock
// of loc reads hour:00 (HourOn's reading), in UTC.
func NextHour(t time.Time, loc *time.Location, hour int) time.Time {
	y, m, d := t.In(loc).Date()
	for i := 0; i < 3; i++ {
		if c := HourOn(y, m, d+i, hour, loc); c.After(t) {
			return c.UTC()
		}
	}
	return HourOn(y, m, d+3, hour, loc).UTC() // unreachable: a day has an hour:00 after t within two
}
