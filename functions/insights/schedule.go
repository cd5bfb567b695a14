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
	if geo.HourOn(y, m, d, hour, loc).After(tick) {
		y, m, d = time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC).Date()
	}
	ny, nm, nd := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC).Date()
	return numerology.Date{Year: y, Month: m, Day: d}, geo.HourOn(ny, nm, nd, hour, loc).UTC()
}

// NextDue returns the first delivery instant (hour:00 in loc, as
// geo.HourOn resolves it) strictly after t, in UTC: the value of
// users/{uid}.insightDueAt for a user who opts in, or changes hour or
// zone, at t (the profile function sets it with geo.NextHour). An
// out-of-range hour is taken as DefaultHour and a nil loc as UTC.
func NextDue(t time.Time, loc *time.Location, hour int) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if hour < 0 || hour > 23 {
		hour = DefaultHour
	}
	return geo.NextHour(t, loc, hour)
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
