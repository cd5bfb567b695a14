package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GeoNames lists a wrong IANA zone for some places (Zhanjiang and Maoming in
// Guangdong carry Asia/Urumqi, UTC+6, for Beijing time; Lévis in Québec
// America/Blanc-Sablon). The generator checks every place's listed zone
// against the zone at its coordinates (shared/geo/zonemap, the
// timezone-boundary-builder polygons) and writes the coordinate zone instead
// when the listed one is wrong, so that geo.Lookup returns the corrected
// zone and no deployed code needs the boundary data.
//
// The listed zone L is kept when
//   - the coordinate zone C equals L, or is unknown (no polygon), nautical
//     (Etc/…, at sea) or not in the time-zone database;
//   - L is one of nestedZones in its own country and division;
//   - L and C have the same UTC offset at every instant of the compared
//     period (sameOffsets): they differ only in name;
//   - one of the zones at the 8 points zoneProbeKm north, south, east, west
//     and diagonally of the place (not nautical) has the same offsets as L
//     over the whole compared period: L is in force that close, and the
//     place is a border town the simplified polygons put on the wrong side
//     (Paso Canoas, Costa Rica).
//
// Otherwise the place gets C. The judgement is that of the runtime check
// functions/profile made before the table carried corrected zones, made
// independent of the birth date: "same offsets" there meant at the birth
// moment, here it means over the whole compared period.

// compareFrom and compareTo bound the period over which two zones must
// agree: every UTC offset in force from 1900 until 2100. Before 1900 most
// zones are local mean time, which differs between any two zones' reference
// cities and says nothing about which is right for a town; after 2100 the
// rules only repeat.
var (
	compareFrom = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	compareTo   = time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// zoneProbeKm is how far from a place its listed zone is still accepted:
// the boundary polygons are simplified, and a place on a border may lie on
// either side of them.
const zoneProbeKm = 5

// nestedZones are listed zones that timezone-boundary-builder (the data of
// zonemap) draws inside another zone, by design, because both are in use
// there: the coordinates give only the enclosing one. A place in the given
// country and first-level division (by name) keeps such a listed zone.
// Xinjiang keeps both Beijing time (Asia/Shanghai) and Xinjiang time
// (Asia/Urumqi, UTC+6), which the tz database and GeoNames give its places.
var nestedZones = map[string]struct{ countryCode, admin1 string }{
	"Asia/Urumqi": {"CN", "Xinjiang"},
}

// zoneFinder returns the IANA zone at a coordinate (zonemap.ZoneAt).
type zoneFinder func(lat, lon float64) (string, error)

// zoneLoader returns a zone of the time-zone database (time.LoadLocation).
type zoneLoader func(name string) (*time.Location, error)

// zoneJudge decides places' zones; it caches loaded zones and offset
// comparisons, which repeat for many places.
type zoneJudge struct {
	at   zoneFinder
	load zoneLoader
	locs map[string]*time.Location // nil: not in the database
	same map[[2]string]bool
}

func newZoneJudge(at zoneFinder, load zoneLoader) *zoneJudge {
	return &zoneJudge{at: at, load: load, locs: map[string]*time.Location{}, same: map[[2]string]bool{}}
}

// loc returns the named zone, or nil when the database has no such zone.
func (j *zoneJudge) loc(name string) *time.Location {
	l, ok := j.locs[name]
	if !ok {
		l, _ = j.load(name)
		j.locs[name] = l
	}
	return l
}

// sameOffsets reports whether zones a and b have the same UTC offset at
// every instant from compareFrom to compareTo (a zone not in the database
// agrees with none).
func (j *zoneJudge) sameOffsets(a, b string) bool {
	if a == b {
		return true
	}
	k := [2]string{a, b}
	if a > b {
		k = [2]string{b, a}
	}
	v, ok := j.same[k]
	if !ok {
		la, lb := j.loc(a), j.loc(b)
		v = la != nil && lb != nil && sameOffsetsBetween(la, lb, compareFrom, compareTo)
		j.same[k] = v
	}
	return v
}

// sameOffsetsBetween reports whether a and b have the same UTC offset at
// every instant of [from, to). It walks both zones' transitions
// (time.Time.ZoneBounds): the offsets are compared at from and at every
// instant either zone changes offset (or abbreviation, or DST flag), which
// covers every period in which both offsets are constant.
//
// ZoneBounds can report an end at or before the instant asked about, in
// the last UTC day of a leap year served by a zone's TZ footer rule (Go
// issue 81583: the end is a day early); the walk then steps one hour and
// compares there (no offset period of the footer-rule era is shorter).
func sameOffsetsBetween(a, b *time.Location, from, to time.Time) bool {
	for t := from; t.Before(to); {
		ta, tb := t.In(a), t.In(b)
		_, oa := ta.Zone()
		_, ob := tb.Zone()
		if oa != ob {
			return false
		}
		_, ea := ta.ZoneBounds()
		_, eb := tb.ZoneBounds()
		if !ea.IsZero() && !ea.After(t) || !eb.IsZero() && !eb.After(t) {
			t = t.Add(time.Hour)
			continue
		}
		switch {
		case ea.IsZero() && eb.IsZero():
			return true // both offsets last for ever
		case ea.IsZero() || (!eb.IsZero() && eb.Before(ea)):
			t = eb
		default:
			t = ea
		}
	}
	return true
}

// correction is a place whose listed zone was replaced.
type correction struct {
	p        *place
	from, to string
}

// zoneFor returns the zone to write for p: its listed zone, or the zone at
// its coordinates when the listed one is wrong (see the rules above).
// admin1 is the name of p's first-level division ("" if unknown). It fails
// only when p's coordinates do not parse.
func (j *zoneJudge) zoneFor(p *place, admin1 string) (string, error) {
	if n, ok := nestedZones[p.tz]; ok && p.cc == n.countryCode && admin1 == n.admin1 {
		return p.tz, nil
	}
	lat, lon, err := coordinates(p)
	if err != nil {
		return "", err
	}
	at, err := j.at(lat, lon)
	if err != nil || at == p.tz || strings.HasPrefix(at, "Etc/") || j.loc(at) == nil {
		return p.tz, nil
	}
	if j.sameOffsets(p.tz, at) {
		return p.tz, nil
	}
	dLat := zoneProbeKm / 111.2
	dLon := dLat / math.Max(math.Cos(lat*math.Pi/180), 0.1)
	for _, d := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {1, -1}, {-1, 1}, {-1, -1}} {
		plat, plon := lat+d[0]*dLat, lon+d[1]*dLon
		if plat < -90 || plat > 90 || plon < -180 || plon > 180 {
			continue
		}
		z, err := j.at(plat, plon)
		if err == nil && !strings.HasPrefix(z, "Etc/") && j.sameOffsets(p.tz, z) {
			return p.tz, nil
		}
	}
	return at, nil
}

// coordinates returns p's coordinates as the table stores them (rounded to
// 4 decimals), which is where geo's callers take the place to be.
func coordinates(p *place) (lat, lon float64, err error) {
	var s [2]string
	for i, v := range []string{p.lat, p.lon} {
		if s[i], err = round4(v); err != nil {
			return 0, 0, fmt.Errorf("place %s: coordinates: %w", p.id, err)
		}
	}
	if lat, err = strconv.ParseFloat(s[0], 64); err != nil {
		return 0, 0, fmt.Errorf("place %s: latitude: %w", p.id, err)
	}
	if lon, err = strconv.ParseFloat(s[1], 64); err != nil {
		return 0, 0, fmt.Errorf("place %s: longitude: %w", p.id, err)
	}
	return lat, lon, nil
}

// correctZones sets every place's zone by zoneFor and returns the places
// whose zone changed, in table order.
func correctZones(places []*place, admin1 []*admin, j *zoneJudge) ([]correction, error) {
	names := divisionNames(admin1)
	var out []correction
	for _, p := range places {
		z, err := j.zoneFor(p, names[p.cc+"."+p.admin1])
		if err != nil {
			return nil, fmt.Errorf("correct zones: %w", err)
		}
		if z != p.tz {
			out = append(out, correction{p: p, from: p.tz, to: z})
			p.tz = z
		}
	}
	return out, nil
}

// divisionNames maps each first-level division's code ("SE.26") to its
// name.
func divisionNames(admin1 []*admin) map[string]string {
	names := make(map[string]string, len(admin1))
	for _, a := range admin1 {
		names[a.code] = a.name
	}
	return names
}

// reportCorrections writes the corrections for review: one line per place
// (GeoNames id, name, country, division, old → new zone, population), then
// the count per zone pair, most frequent first.
func reportCorrections(w io.Writer, cs []correction, admin1 []*admin) {
	names := divisionNames(admin1)
	fmt.Fprintf(w, "zone corrections: %d places get the zone at their coordinates instead of the GeoNames zone\n", len(cs))
	pairs := map[[2]string]int{}
	for _, c := range cs {
		div := names[c.p.cc+"."+c.p.admin1]
		if div == "" {
			div = c.p.admin1
		}
		fmt.Fprintf(w, "  %s\t%s, %s, %s\t%s → %s\tpop %d\n", c.p.id, c.p.name, c.p.cc, div, c.from, c.to, c.p.pop)
		pairs[[2]string{c.from, c.to}]++
	}
	keys := make([][2]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if pairs[keys[a]] != pairs[keys[b]] {
			return pairs[keys[a]] > pairs[keys[b]]
		}
		return keys[a][0]+" "+keys[a][1] < keys[b][0]+" "+keys[b][1]
	})
	fmt.Fprintln(w, "zone corrections by zone pair:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %5d  %s → %s\n", pairs[k], k[0], k[1])
	}
}
