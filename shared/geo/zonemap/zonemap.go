// Package zonemap finds the IANA time zone at a coordinate, offline, from
// the time-zone boundary polygons of github.com/ringsaturn/tzf (data from
// timezone-boundary-builder, ODbL; tzf itself MIT). It is a separate package
// from geo because the boundary data is large (about 8 MB in the binary;
// building the finder takes some 0.4 s and allocates some 400 MB in all):
// only code that takes raw coordinates with a local time needs it. A place
// found by geo.Lookup already carries its zone, checked against this
// package when the place table was generated (shared/geo/internal/gen).
package zonemap

import (
	"fmt"
	"math"
	"sync"

	"github.com/ringsaturn/tzf"

	"github.com/innerjourney/functions/shared/fault"
)

var finder = sync.OnceValues(func() (f tzf.F, err error) {
	defer func() {
		// tzf panics on corrupt embedded data; report it as an error.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("tzf: %v", r)
		}
	}()
	return tzf.NewDefaultFinder()
})

// ZoneAt returns the IANA zone name in force at latitude lat and longitude
// lon (degrees, north and east positive); at sea it returns the nautical
// zone ("Etc/GMT-1"). The first call builds the finder (about a second).
// It returns a fault.InvalidArgument error for coordinates out of range or
// not finite, a fault.NotFound error when no zone covers the point, and a
// fault.Internal error if the boundary data cannot be loaded. Safe for
// concurrent use.
func ZoneAt(lat, lon float64) (string, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return "", fault.Invalid("zonemap: coordinates out of range (latitude −90…90, longitude −180…180)")
	}
	f, err := finder()
	if err != nil {
		return "", fault.Wrap(err, fault.Internal, "zonemap: time-zone boundaries unavailable")
	}
	name := f.GetTimezoneName(lon, lat)
	if name == "" {
		return "", fault.New(fault.NotFound, "zonemap: no time zone at %.4f, %.4f", lat, lon)
	}
	return name, nil
}
