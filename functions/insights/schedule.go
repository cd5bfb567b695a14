package insights

import (
	"sync"
	"time"
	_ "time/tzdata" // zones resolve the same on every host

	"github.com/innerjourney/functions/shared/geo"
	"github.com/innerjourney/functions/shared/numerology"
)

// DefaultHour is the local delivery hour when a user has not chosen one.
const DefaultHour = 7

// quiet is how far from a clock change an instant must be for its wall
// time to have no other reading in the zone: farther than any two of a
// zone's UTC offsets differ (−12 to +14 hours today, local mean times
// included), and as far as shared/geo looks around a wall time.
const quiet = 48 * time.Hour

// at returns hour:00 of the local civil date y-m-d in loc, resolved as
// geo.LocalToUTC resolves it (the rule the profile function's
// NextLocalHour uses for the first insightDueAt): in a gap (the clocks
// jumped over hour:00) the hour is read with the offset in force before
// the jump, so 02:00 in a 02:00 → 03:00 spring-forward is 03:00 summer
// time; in an overlap (hour:00 occurred twice) the first occurrence.
//
// Away from clock changes, time.Date already gives the only reading, so
// the common case allocates nothing; within quiet of a change the answer
// is geo.LocalToUTC's.
func at(y int, m time.Month, d, hour int, loc *time.Location) time.Time {
	y, m, d = time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date() // d may be past the month's end
	c := time.Date(y, m, d, hour, 0, 0, 0, loc)
	start, end := c.ZoneBounds()
	if cy, cm, cd := c.Date(); cy == y && cm == m && cd == d && c.Hour() == hour && c.Minute() == 0 &&
		(start.IsZero() || c.Sub(start) > quiet) && (end.IsZero() || end.Sub(c) > quiet) {
		return c
	}
	in, err := geo.LocalToUTC(geo.Civil{Year: y, Month: m, Day: d, Hour: hour}, loc.String())
	if err != nil {
		return c // a zone geo does not know by name (not one Zone returns)
	}
	return in.UTC.In(loc)
}

// Delivery returns, for a user due at tick, the local date whose insight
// is delivered now and the next due instant (UTC).
//
// The date is that of the latest scheduled delivery (hour:00 local) at or
// before tick: a user due at 07:00 whose ticks failed until 09:00 still
// gets that day's insight, and one whose ticks failed for days gets
// today's, not a stale one. The next due instant is the delivery on the
// following local date. An out-of-range hour is taken as DefaultHour and
// a nil loc as UTC.
func Delivery(tick time.Time, loc *time.Location, hour int) (numerology.Date, time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	if hour < 0 || hour > 23 {
		hour = DefaultHour
	}
	y, m, d := tick.In(loc).Date()
	if at(y, m, d, hour, loc).After(tick) {
		y, m, d = time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC).Date()
	}
	ny, nm, nd := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC).Date()
	return numerology.Date{Year: y, Month: m, Day: d}, at(ny, nm, nd, hour, loc).UTC()
}

// NextDue returns the first delivery instant (hour:00 in loc) strictly
// after t, in UTC: the value of users/{uid}.insightDueAt for a user who
// opts in, or changes hour or zone, at t.
func NextDue(t time.Time, loc *time.Location, hour int) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if hour < 0 || hour > 23 {
		hour = DefaultHour
	}
	y, m, d := t.In(loc).Date()
	for i := 0; i < 3; i++ {
		if c := at(y, m, d+i, hour, loc); c.After(t) {
			return c.UTC()
		}
	}
	return at(y, m, d+3, hour, loc).UTC() // unreachable
}

var zones sync.Map // name → *time.Location

// Zone returns the IANA zone name's location (cached), UTC when the name
// is empty or unknown.
func Zone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC // not cached: the set of bad names is unbounded
	}
	zones.Store(name, loc)
	return loc
}
