package insights

import (
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// deliveryCase is a case of Delivery: a user of zone and hour due at tick
// gets the insight of date and is next due at next.
type deliveryCase struct {
	name, zone string
	hour       int
	tick       string
	date, next string
}

// check checks Delivery's date and next due time (in UTC) for c, and
// returns the zone and the next due time.
func (c deliveryCase) check(t *testing.T) (loc *time.Location, next time.Time) {
	t.Helper()
	loc = Zone(c.zone)
	d, next := Delivery(utc(c.tick), loc, c.hour)
	if d.String() != c.date || !next.Equal(utc(c.next)) {
		t.Errorf("Delivery = %s, %s (%s local); want %s, %s", d, next.Format(time.RFC3339),
			next.In(loc).Format("2006-01-02 15:04 MST"), c.date, c.next)
	}
	if next.Location() != time.UTC {
		t.Errorf("next not in UTC")
	}
	return loc, next
}

func TestDelivery(t *testing.T) {
	cases := []deliveryCase{
		{"on time", "Europe/Stockholm", 7, "2026-11-21T06:00:04Z", "2026-11-21", "2026-11-22T06:00:00Z"},
		{"caught up two hours late", "Europe/Stockholm", 7, "2026-11-21T08:00:00Z", "2026-11-21", "2026-11-22T06:00:00Z"},
		{"yesterday's, caught up before today's hour", "Europe/Stockholm", 7, "2026-11-21T05:00:00Z", "2026-11-20", "2026-11-21T06:00:00Z"},
		{"days late: today's, not a stale one", "Europe/Stockholm", 7, "2026-11-25T07:00:00Z", "2026-11-25", "2026-11-26T06:00:00Z"},
		{"Tokyo at 22:00 UTC is tomorrow morning", "Asia/Tokyo", 7, "2026-11-21T22:00:00Z", "2026-11-22", "2026-11-22T22:00:00Z"},
		{"Los Angeles at 22:00 UTC is today's afternoon", "America/Los_Angeles", 7, "2026-11-21T22:00:00Z", "2026-11-21", "2026-11-22T15:00:00Z"},
		{"late hour across midnight UTC", "America/New_York", 23, "2026-11-22T04:00:00Z", "2026-11-21", "2026-11-23T04:00:00Z"},
		{"UTC default", "", 7, "2026-11-21T07:00:00Z", "2026-11-21", "2026-11-22T07:00:00Z"},
		{"bad hour means 7", "UTC", 42, "2026-11-21T07:00:00Z", "2026-11-21", "2026-11-22T07:00:00Z"},
		{"before summer time starts", "Europe/Stockholm", 7, "2026-03-28T06:00:00Z", "2026-03-28", "2026-03-29T05:00:00Z"},
		{"after summer time ends", "Europe/Stockholm", 7, "2026-10-24T05:00:00Z", "2026-10-24", "2026-10-25T06:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t) })
	}
}

func TestNextDue(t *testing.T) {
	cases := []struct {
		zone     string
		hour     int
		at, want string
	}{
		{"Europe/Stockholm", 7, "2026-11-21T05:59:00Z", "2026-11-21T06:00:00Z"},
		{"Europe/Stockholm", 7, "2026-11-21T06:00:00Z", "2026-11-22T06:00:00Z"},
		{"Asia/Tokyo", 7, "2026-11-21T12:00:00Z", "2026-11-21T22:00:00Z"},
		{"America/Los_Angeles", 7, "2026-11-21T12:00:00Z", "2026-11-21T15:00:00Z"},
	}
	for _, c := range cases {
		if got := NextDue(utc(c.at), Zone(c.zone), c.hour); !got.Equal(utc(c.want)) {
			t.Errorf("NextDue(%s, %s, %d) = %s, want %s", c.at, c.zone, c.hour, got.Format(time.RFC3339), c.want)
		}
	}
}

// TestDeliveryEveryDay simulates a year of hourly ticks in zones with and
// without summer time, for every delivery hour: each local date is
// delivered exactly once and in order, at or after its hour.
func TestDeliveryEveryDay(t *testing.T) {
	zones := []string{"Europe/Stockholm", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham", "UTC",
		"America/Santiago", "America/Havana", "Australia/Lord_Howe", "Africa/Cairo"}
	start := utc("2026-01-01T00:00:00Z")
	for _, z := range zones {
		loc := Zone(z)
		for hour := 0; hour < 24; hour += 1 {
			due := NextDue(start, loc, hour)
			var last time.Time
			n := 0
			for tick := start; tick.Before(start.AddDate(1, 0, 0)); tick = tick.Add(time.Hour) {
				if due.After(tick) {
					continue
				}
				d, next := Delivery(tick, loc, hour)
				day := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
				if n > 0 && !day.Equal(last.AddDate(0, 0, 1)) {
					t.Fatalf("%s %02d:00: delivered %s after %s", z, hour, day.Format(time.DateOnly), last.Format(time.DateOnly))
				}
				if !next.After(tick) {
					t.Fatalf("%s %02d:00: next %s not after tick %s", z, hour, next, tick)
				}
				last, due = day, next
				n++
			}
			if n < 364 {
				t.Fatalf("%s %02d:00: %d deliveries in a year", z, hour, n)
			}
		}
	}
}

func TestZone(t *testing.T) {
	if Zone("Nowhere/Special") != time.UTC || Zone("") != time.UTC {
		t.Error("unknown zones should be UTC")
	}
	first, again := Zone("Asia/Tokyo"), Zone("Asia/Tokyo")
	if first.String() != "Asia/Tokyo" || first != again {
		t.Error("zone not cached")
	}
}

// TestDeliveryAroundClockChanges pins how a delivery hour is read on the
// days the clocks change, the rule of shared/geo (geo.LocalToUTC) and of
// the profile function's first due time (geo.NextHour): an hour that does not exist is
// read with the offset before the jump (New York's 02:00 on the day of
// spring-forward is 03:00 EDT; Santiago's 00:00 on its midnight jump is
// 01:00 the same date, not the evening before); an hour that occurs
// twice is its first occurrence.
func TestDeliveryAroundClockChanges(t *testing.T) {
	cases := []deliveryCase{
		{"spring gap in New York: 02:00 is 03:00 EDT", "America/New_York", 2, "2026-03-07T07:00:00Z", "2026-03-07", "2026-03-08T07:00:00Z"},
		{"the gap's delivery in New York", "America/New_York", 2, "2026-03-08T07:00:00Z", "2026-03-08", "2026-03-09T06:00:00Z"},
		{"midnight gap in Santiago: 00:00 is 01:00 the same date", "America/Santiago", 0, "2026-09-05T04:00:00Z", "2026-09-05", "2026-09-06T04:00:00Z"},
		{"the midnight gap's delivery in Santiago", "America/Santiago", 0, "2026-09-06T04:00:00Z", "2026-09-06", "2026-09-07T03:00:00Z"},
		{"spring gap in Stockholm: 02:00 is 03:00 CEST", "Europe/Stockholm", 2, "2026-03-28T01:00:00Z", "2026-03-28", "2026-03-29T01:00:00Z"},
		{"half-hour gap on Lord Howe: 02:00 is 02:30", "Australia/Lord_Howe", 2, "2026-10-02T15:30:00Z", "2026-10-03", "2026-10-03T15:30:00Z"},
		{"fall overlap in New York: the first 01:00 (EDT)", "America/New_York", 1, "2026-10-31T05:00:00Z", "2026-10-31", "2026-11-01T05:00:00Z"},
		{"the overlap's delivery in New York", "America/New_York", 1, "2026-11-01T05:00:00Z", "2026-11-01", "2026-11-02T06:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc, next := c.check(t)
			// A user opting in an hour after the tick gets the same next due.
			if got := NextDue(utc(c.tick).Add(time.Hour), loc, c.hour); !got.Equal(next) {
				t.Errorf("NextDue = %s, want %s", got.Format(time.RFC3339), next.Format(time.RFC3339))
			}
		})
	}
}

// TestDeliveryAllocatesNothing: Delivery runs for every user of every
// shard; away from clock changes it allocates nothing.
func TestDeliveryAllocatesNothing(t *testing.T) {
	loc, tick := Zone("Europe/Stockholm"), utc("2026-11-21T06:00:00Z")
	if n := testing.AllocsPerRun(100, func() { Delivery(tick, loc, 7) }); n != 0 {
		t.Errorf("Delivery allocates %.0f times", n)
	}
}
