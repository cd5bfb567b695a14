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

func TestDelivery(t *testing.T) {
	cases := []struct {
		name, zone string
		hour       int
		tick       string
		date, next string
	}{
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
		t.Run(c.name, func(t *testing.T) {
			d, next := Delivery(utc(c.tick), Zone(c.zone), c.hour)
			if d.String() != c.date || !next.Equal(utc(c.next)) {
				t.Errorf("Delivery = %s, %s; want %s, %s", d, next.Format(time.RFC3339), c.date, c.next)
			}
			if next.Location() != time.UTC {
				t.Errorf("next not in UTC")
			}
		})
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
	zones := []string{"Europe/Stockholm", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham", "UTC"}
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
	if Zone("Asia/Tokyo").String() != "Asia/Tokyo" || Zone("Asia/Tokyo") != Zone("Asia/Tokyo") {
		t.Error("zone not cached")
	}
}
