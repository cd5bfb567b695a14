package astro

import (
	"fmt"
	"math"
	"sync"

	"github.com/innerjourney/functions/shared/fault"
)

// Body is a chart body: the Sun, the Moon and the planets through Pluto.
type Body int

// The bodies, in chart order.
const (
	Sun Body = iota
	Moon
	Mercury
	Venus
	Mars
	Jupiter
	Saturn
	Uranus
	Neptune
	Pluto
	// NumBodies is the number of bodies.
	NumBodies int = iota
)

var bodyNames = [NumBodies]string{"sun", "moon", "mercury", "venus", "mars", "jupiter", "saturn", "uranus", "neptune", "pluto"}

var bodyTitles = [NumBodies]string{"Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Pluto"}

// String returns the body's name as used in the chart JSON ("sun", "moon",
// "mercury", …).
func (b Body) String() string {
	if b < 0 || int(b) >= NumBodies {
		return fmt.Sprintf("Body(%d)", int(b))
	}
	return bodyNames[b]
}

// Position is the apparent geocentric place of a body: ecliptic longitude
// and latitude in degrees, referred to the true equinox and ecliptic of
// date (the tropical zodiac), corrected for light-time, annual aberration
// and nutation; the distance in au (light-time distance); the speed in
// longitude in degrees per day (negative: retrograde).
type Position struct {
	Longitude float64 // [0, 360)
	Latitude  float64
	Distance  float64
	Speed     float64
}

// Retrograde reports whether the body moves backwards in longitude.
func (p Position) Retrograde() bool { return p.Speed < 0 }

// Gaussian gravitational constant squared (au³/day²), for the Keplerian
// accelerations of the light-time correction.
const gaussK2 = 0.01720209895 * 0.01720209895

// lightTimePerAU is the light-time for one au, in days.
const lightTimePerAU = 0.0057755183

// ephemeris holds what one instant needs; kept in a pool because the
// phasor table is 128 KiB.
type ephemeris struct {
	ph vsopPhasors
}

var ephemerisPool = sync.Pool{New: func() any { return new(ephemeris) }}

// checkJD rejects Julian Days that are not finite or outside the supported
// range.
func checkJD(jdUT float64) error {
	if math.IsNaN(jdUT) || math.IsInf(jdUT, 0) {
		return fault.Invalid("julian day is not a finite number")
	}
	if jdUT < minJD || jdUT >= maxJD {
		return fault.Invalid("instant %s is outside the supported range %s to %s",
			TimeOfJulianDay(jdUT).Format("2006-01-02T15:04:05Z"), MinTime.Format("2006-01-02"), MaxTime.AddDate(0, 0, -1).Format("2006-01-02"))
	}
	return nil
}

// Positions returns the apparent geocentric positions of all bodies at the
// Julian Day jdUT (Universal Time), indexed by Body.
//
// Sun and planets Mercury–Neptune come from the complete VSOP87D series,
// the Moon from Meeus ch. 47, Pluto from Meeus ch. 37, nutation from Meeus
// ch. 22, ΔT from DeltaT.
//
// Errors: a fault.Invalid error when jdUT is not finite or outside
// [MinTime, MaxTime).
func Positions(jdUT float64) ([NumBodies]Position, error) {
	var out [NumBodies]Position
	if err := checkJD(jdUT); err != nil {
		return out, fmt.Errorf("positions: %w", err)
	}
	computePositions(jdUT, &out)
	return out, nil
}

// frame is the nutation and obliquity at an instant.
type frame struct {
	dpsi, deps float64 // nutation, radians
	eps        float64 // true obliquity, radians
}

// computePositions fills out for a valid jdUT and returns the nutation
// and obliquity it used. It does not allocate.
func computePositions(jdUT float64, out *[NumBodies]Position) frame {
	return positionsTT(jdUT+DeltaT(jdUT)/secondsPerDay, out)
}

// positionsTT is computePositions for a Julian Ephemeris Day (TT).
func positionsTT(jdTT float64, out *[NumBodies]Position) frame {
	T := (jdTT - j2000) / daysPerCent
	dpsi, deps, dpsiRate := nutation(T)

	vsopOnce.Do(vsopPrepare)
	eph := ephemerisPool.Get().(*ephemeris)
	defer ephemerisPool.Put(eph)
	t := T / 10
	eph.ph.fill(t)

	e, ev := vsopBodies[vEarth].helio(&eph.ph, t)
	ea := kepler(e)

	out[Sun] = apparent(vec3{}, vec3{}, vec3{}, e, ev, ea, dpsi, dpsiRate)
	for _, bv := range vsopPlanets {
		p, pv := vsopBodies[bv.v].helio(&eph.ph, t)
		out[bv.b] = apparent(p, pv, kepler(p), e, ev, ea, dpsi, dpsiRate)
	}

	pp, pv := plutoHelio(T)
	m := eclipticPrecession(T)
	pp, pv = m.apply(pp), m.apply(pv)
	out[Pluto] = apparent(pp, pv, kepler(pp), e, ev, ea, dpsi, dpsiRate)

	lon, lat, dist, rate := moonPosition(T)
	out[Moon] = Position{
		Longitude: norm360((lon + dpsi) * rad2deg),
		Latitude:  lat * rad2deg,
		Distance:  dist / 149597870.7,
		Speed:     (rate + dpsiRate) * rad2deg,
	}
	return frame{dpsi: dpsi, deps: deps, eps: meanObliquity(T) + deps}
}

// vsopPlanets maps chart bodies to VSOP87 bodies.
var vsopPlanets = [...]struct {
	b Body
	v int
}{{Mercury, vMercury}, {Venus, vVenus}, {Mars, vMars}, {Jupiter, vJupiter}, {Saturn, vSaturn}, {Uranus, vUranus}, {Neptune, vNeptune}}

// kepler returns the heliocentric Keplerian acceleration at p (au/day²).
func kepler(p vec3) vec3 {
	r := p.norm()
	if r == 0 {
		return vec3{}
	}
	k := -gaussK2 / (r * r * r)
	return vec3{k * p[0], k * p[1], k * p[2]}
}

// apparent returns the apparent geocentric position of a body with
// heliocentric position p, velocity pv and acceleration pa, seen from the
// Earth at e, ev, ea (ecliptic of date, au and days).
//
// The body is taken at t − τ (light-time τ, solved by iteration) and the
// Earth too: p(t−τ) − e(t−τ) is the astrometric direction shifted by the
// annual aberration v·τ to first order (Meeus ch. 33 uses the same
// property). Then the FK5 correction of VSOP87 (Meeus 32.3) and the
// nutation in longitude are added.
func apparent(p, pv, pa, e, ev, ea vec3, dpsi, dpsiRate float64) Position {
	x0 := p.sub(e)
	tau := lightTimePerAU * x0.norm()
	for range 2 {
		h := tau * tau / 2
		d := vec3{x0[0] - tau*pv[0] + h*pa[0], x0[1] - tau*pv[1] + h*pa[1], x0[2] - tau*pv[2] + h*pa[2]}
		tau = lightTimePerAU * d.norm()
	}
	v := pv.sub(ev)
	a := pa.sub(ea)
	h := tau * tau / 2
	x := vec3{x0[0] - tau*v[0] + h*a[0], x0[1] - tau*v[1] + h*a[1], x0[2] - tau*v[2] + h*a[2]}
	// Velocity of x: (ṗ − ė) at t − τ, times (1 − dτ/dt).
	k := 1 - lightTimePerAU*(x[0]*v[0]+x[1]*v[1]+x[2]*v[2])/(tau/lightTimePerAU)
	v = vec3{k * (v[0] - tau*a[0]), k * (v[1] - tau*a[1]), k * (v[2] - tau*a[2])}
	rho2 := x[0]*x[0] + x[1]*x[1]
	lon := math.Atan2(x[1], x[0])
	lat := math.Atan2(x[2], math.Sqrt(rho2))
	sl, cl := math.Sincos(lon)
	lon += (-0.09033 + 0.03916*(cl+sl)*math.Tan(lat)) * arcsec2rad
	lat += 0.03916 * (cl - sl) * arcsec2rad
	speed := (x[0]*v[1] - x[1]*v[0]) / rho2
	return Position{
		Longitude: norm360((lon + dpsi) * rad2deg),
		Latitude:  lat * rad2deg,
		Distance:  tau / lightTimePerAU,
		Speed:     (speed + dpsiRate) * rad2deg,
	}
}
