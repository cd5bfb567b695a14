package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/geo"
)

func init() {
	register(&command{
		name:    "chart",
		summary: "compute a natal chart (planets, angles, houses, aspects) and print its JSON",
		run:     runChart,
	})
}

// chartOptions are the birth data of the chart command, as given. The
// --place flag (shared/geo) fills Zone, Lat and Lon the same way.
type chartOptions struct {
	UTC       string         // RFC 3339 instant; excludes Date/Clock
	Date      string         // local date YYYY-MM-DD
	Clock     string         // local time HH:MM[:SS]; empty: unknown
	Zone      *time.Location // zone of Date/Clock
	Ambiguous string         // a repeated local time: "earlier" or "later"
	Lat, Lon  *float64       // birthplace; nil: unknown
	Houses    string         // house system, "" = Placidus
	Polar     string         // polar fallback, "" = Porphyry
}

// runChart prints the chart JSON:
//
//	ops chart --utc 2000-01-01T18:00:00Z --lat 32.72 --lon -117.16
//	ops chart --date 1990-05-15 --time 14:30 --tz Europe/Stockholm --lat 59.33 --lon 18.07
//	ops chart --date 1990-05-15 --tz Europe/Stockholm        (birth time unknown)
//	ops chart --date 1990-05-15 --time 14:30 --place "Stockholm, Sweden"
func runChart(_ context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "chart", "chart (--utc INSTANT | --date YYYY-MM-DD [--time HH:MM] (--tz ZONE [--lat DEG --lon DEG] | --place TEXT)) [flags]")
	var o chartOptions
	fs.StringVar(&o.UTC, "utc", "", "birth instant, RFC 3339 (2000-01-01T18:00:00Z)")
	fs.StringVar(&o.Date, "date", "", "local birth date, YYYY-MM-DD (with --tz)")
	fs.StringVar(&o.Clock, "time", "", "local birth time, HH:MM or HH:MM:SS; omit when unknown (no ascendant or houses then)")
	tz := fs.String("tz", "", "IANA time zone of --date/--time, e.g. Europe/Stockholm")
	fs.StringVar(&o.Ambiguous, "ambiguous", "earlier", "a local time that occurs twice (clock set back): earlier or later")
	fs.Func("lat", "birthplace latitude, degrees north (-90, 90)", floatFlag(&o.Lat))
	fs.Func("lon", "birthplace longitude, degrees east [-180, 180]", floatFlag(&o.Lon))
	fs.StringVar(&o.Houses, "houses", "", "house system: placidus (default), porphyry, whole-sign")
	fs.StringVar(&o.Polar, "polar", "", "fallback inside the polar circles: porphyry (default) or whole-sign")
	place := fs.String("place", "", `birthplace as text ("Stockholm, Sweden"): sets --tz, --lat and --lon from shared/geo`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *tz != "" {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return fmt.Errorf("--tz: unknown time zone %q", *tz)
		}
		o.Zone = loc
	}
	if *place != "" {
		if *tz != "" || o.Lat != nil || o.Lon != nil {
			return errors.New("--place replaces --tz, --lat and --lon")
		}
		res, err := geo.Lookup(*place)
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(res.Best.TimeZone)
		if err != nil {
			return fmt.Errorf("--place: zone %q: %w", res.Best.TimeZone, err)
		}
		lat, lon := res.Best.Latitude, res.Best.Longitude
		o.Zone, o.Lat, o.Lon = loc, &lat, &lon
		note := "ops chart: place " + res.Best.Label + " (" + res.Best.TimeZone + ")"
		if res.Ambiguous {
			note += fmt.Sprintf("; ambiguous, %d candidates: see ops place --query", len(res.Candidates))
		}
		fmt.Fprintln(env.stderr, note)
	}
	in, warn, err := chartInput(o)
	if err != nil {
		fs.Usage()
		return err
	}
	if warn != "" {
		fmt.Fprintln(env.stderr, "ops chart: "+warn)
	}
	c, err := astro.ComputeChart(in)
	if err != nil {
		return err
	}
	return writeResultJSON(env.stdout, c)
}

func floatFlag(dst **float64) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("not a number")
		}
		*dst = &v
		return nil
	}
}

// chartInput turns the options into an astro.ChartInput, with a warning
// for a local time that occurred twice.
func chartInput(o chartOptions) (astro.ChartInput, string, error) {
	in := astro.ChartInput{HouseSystem: astro.HouseSystem(o.Houses), PolarFallback: astro.HouseSystem(o.Polar)}
	if (o.Lat == nil) != (o.Lon == nil) {
		return in, "", errors.New("--lat and --lon go together")
	}
	if o.Lat != nil {
		in.Location = &astro.Location{Latitude: *o.Lat, Longitude: *o.Lon}
	}
	switch {
	case o.UTC != "" && (o.Date != "" || o.Clock != "" || o.Zone != nil):
		return in, "", errors.New("give either --utc or --date [--time] --tz, not both")
	case o.UTC != "":
		t, err := time.Parse(time.RFC3339Nano, o.UTC)
		if err != nil {
			return in, "", fmt.Errorf("--utc: %q is not an RFC 3339 instant like 2000-01-01T18:00:00Z", o.UTC)
		}
		in.Time = t
		return in, "", nil
	case o.Date == "":
		return in, "", errors.New("give --utc, or --date with --tz")
	case o.Zone == nil:
		return in, "", errors.New("--date needs --tz (the IANA zone of the birthplace)")
	}
	d, err := time.Parse("2006-01-02", o.Date)
	if err != nil {
		return in, "", fmt.Errorf("--date: %q is not a date YYYY-MM-DD", o.Date)
	}
	if o.Clock == "" {
		day, err := astro.DayIn(d.Year(), d.Month(), d.Day(), o.Zone)
		if err != nil {
			return in, "", err
		}
		in.TimeUnknown, in.Day = true, day
		return in, "", nil
	}
	clock, err := time.Parse("15:04:05", o.Clock)
	if err != nil {
		if clock, err = time.Parse("15:04", o.Clock); err != nil {
			return in, "", fmt.Errorf("--time: %q is not a time HH:MM or HH:MM:SS", o.Clock)
		}
	}
	t, warn, err := localInstant(d.Year(), d.Month(), d.Day(), clock.Hour(), clock.Minute(), clock.Second(), o.Zone, o.Ambiguous)
	in.Time = t
	return in, warn, err
}

// localInstant converts a local clock reading in zone to an instant. A
// reading skipped by a clock change is an error; one that occurs twice
// takes the earlier or later instant as asked, with a warning.
func localInstant(y int, m time.Month, d, hh, mm, ss int, zone *time.Location, ambiguous string) (time.Time, string, error) {
	if ambiguous != "earlier" && ambiguous != "later" {
		return time.Time{}, "", errors.New("--ambiguous must be earlier or later")
	}
	// Every instant whose wall clock in zone reads the given time: try the
	// offsets in force a day before and a day after.
	wall := time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	var found []time.Time
	for _, probe := range []time.Time{wall.Add(-26 * time.Hour), wall.Add(26 * time.Hour)} {
		_, off := probe.In(zone).Zone()
		t := wall.Add(-time.Duration(off) * time.Second)
		l := t.In(zone)
		if l.Year() == y && l.Month() == m && l.Day() == d && l.Hour() == hh && l.Minute() == mm && l.Second() == ss {
			if len(found) == 0 || !found[0].Equal(t) {
				found = append(found, t)
			}
		}
	}
	if len(found) == 0 {
		// The offsets a day apart can miss a change of more than one
		// step; fall back on the zone's own normalisation, and check it.
		t := time.Date(y, m, d, hh, mm, ss, 0, zone)
		if t.Hour() != hh || t.Minute() != mm || t.Day() != d {
			return time.Time{}, "", fmt.Errorf("local time %04d-%02d-%02d %02d:%02d does not exist in %s (skipped by a clock change)", y, int(m), d, hh, mm, zone)
		}
		return t.UTC(), "", nil
	}
	if len(found) == 1 {
		return found[0].UTC(), "", nil
	}
	if found[1].Before(found[0]) {
		found[0], found[1] = found[1], found[0]
	}
	pick := found[0]
	if ambiguous == "later" {
		pick = found[1]
	}
	return pick.UTC(), fmt.Sprintf("local time %02d:%02d occurs twice in %s on that day; using the %s one (%s); set --ambiguous to choose",
		hh, mm, zone, ambiguous, pick.UTC().Format(time.RFC3339)), nil
}
