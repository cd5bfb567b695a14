package astro

import (
	"fmt"
	"math"

	"github.com/innerjourney/functions/shared/fault"
)

// SiderealTime returns the apparent sidereal time at Greenwich, in degrees
// [0, 360), at the Julian Day jdUT (Meeus 12.4 for the mean sidereal time,
// plus the equation of the equinoxes Δψ·cos ε, ch. 12 and 22).
func SiderealTime(jdUT float64) float64 {
	T := (jdUT + DeltaT(jdUT)/secondsPerDay - j2000) / daysPerCent
	dpsi, deps, _ := nutation(T)
	return apparentSidereal(jdUT, dpsi, meanObliquity(T)+deps)
}

// meanSidereal returns the mean sidereal time at Greenwich (degrees,
// unreduced) at jdUT (Meeus 12.4).
func meanSidereal(jdUT float64) float64 {
	d := jdUT - j2000
	T := d / daysPerCent
	return 280.46061837 + 360.98564736629*d + T*T*(0.000387933-T/38710000)
}

func apparentSidereal(jdUT, dpsi, eps float64) float64 {
	return norm360(meanSidereal(jdUT) + dpsi*math.Cos(eps)*rad2deg)
}

// midheaven returns the ecliptic longitude (degrees) culminating at the
// local sidereal time ramc (degrees) for obliquity eps (radians).
func midheaven(ramc, eps float64) float64 {
	s, c := math.Sincos(ramc * deg2rad)
	return norm360(math.Atan2(s, c*math.Cos(eps)) * rad2deg)
}

// ascendant returns the ecliptic longitude (degrees) rising on the eastern
// horizon at latitude lat (degrees), local sidereal time ramc (degrees),
// obliquity eps (radians).
//
// The usual formula tan λ = −cos θ / (sin ε·tan φ + cos ε·sin θ) gives the
// two points where the ecliptic meets the horizon; the quadrant rule that
// picks the eastern one fails within the polar circles, where it can return
// the setting point. The rising point is the one with a negative hour angle
// (east of the meridian), so that is checked explicitly.
func ascendant(ramc, lat, eps float64) float64 {
	s, c := math.Sincos(ramc * deg2rad)
	se, ce := math.Sincos(eps)
	lon := math.Atan2(c, -(s*ce + math.Tan(lat*deg2rad)*se))
	sl, cl := math.Sincos(lon)
	ra := math.Atan2(sl*ce, cl)
	if math.Sin(ramc*deg2rad-ra) > 0 { // west of the meridian: setting
		lon += math.Pi
	}
	return norm360(lon * rad2deg)
}

// HouseSystem names a house system.
type HouseSystem string

// The house systems. Placidus is the default; within the polar circles,
// where some ecliptic degrees never rise or set and Placidus is undefined,
// charts fall back to Porphyry (or Whole Sign, if asked).
const (
	Placidus  HouseSystem = "placidus"
	Porphyry  HouseSystem = "porphyry"
	WholeSign HouseSystem = "whole-sign"
)

// Houses is a set of house cusps.
type Houses struct {
	// System is the system the cusps were computed with.
	System HouseSystem `json:"system" firestore:"system"`
	// Cusps are the ecliptic longitudes of the cusps of houses 1–12, in
	// degrees [0, 360). Cusp 1 is the Ascendant; with Placidus and
	// Porphyry cusp 10 is the Midheaven.
	Cusps [12]float64 `json:"cusps" firestore:"cusps"`
	// FallbackReason says why System differs from the system requested;
	// empty when it does not.
	FallbackReason string `json:"fallbackReason,omitempty" firestore:"fallbackReason,omitempty"`
}

// HouseOf returns the house (1–12) that contains the ecliptic longitude
// lon (degrees): the house whose cusp precedes lon in the zodiac. Planets
// are placed by longitude alone, as in most astrological software.
func (h *Houses) HouseOf(lon float64) int {
	lon = norm360(lon)
	for i := range 12 {
		a, b := h.Cusps[i], h.Cusps[(i+1)%12]
		if norm360(lon-a) < norm360(b-a) {
			return i + 1
		}
	}
	return 1 // unreachable with distinct cusps
}

// Angles are the local angles of a chart.
type Angles struct {
	Ascendant float64 // ecliptic longitude rising in the east, degrees
	Midheaven float64 // ecliptic longitude culminating, degrees
	RAMC      float64 // local apparent sidereal time, degrees
	Obliquity float64 // true obliquity of the ecliptic, degrees
}

// checkPlace validates geographic coordinates in degrees.
func checkPlace(lat, lon float64) error {
	switch {
	case math.IsNaN(lat) || math.IsInf(lat, 0) || math.IsNaN(lon) || math.IsInf(lon, 0):
		return fault.Invalid("latitude and longitude must be finite numbers")
	case lat <= -90 || lat >= 90:
		return fault.Invalid("latitude %g is outside (-90, 90): the poles have no ascendant", lat)
	case lon < -180 || lon > 180:
		return fault.Invalid("longitude %g is outside [-180, 180]", lon)
	}
	return nil
}

// LocalAngles returns the Ascendant, Midheaven, local sidereal time and
// obliquity at the Julian Day jdUT for the place at latitude lat (north
// positive) and longitude lon (east positive), in degrees.
//
// Errors: fault.Invalid for a jdUT outside the supported range or
// coordinates out of range (|lat| must be below 90).
func LocalAngles(jdUT, lat, lon float64) (Angles, error) {
	if err := checkJD(jdUT); err != nil {
		return Angles{}, fmt.Errorf("angles: %w", err)
	}
	if err := checkPlace(lat, lon); err != nil {
		return Angles{}, fmt.Errorf("angles: %w", err)
	}
	T := (jdUT + DeltaT(jdUT)/secondsPerDay - j2000) / daysPerCent
	dpsi, deps, _ := nutation(T)
	return localAngles(jdUT, lat, lon, dpsi, meanObliquity(T)+deps), nil
}

func localAngles(jdUT, lat, lon, dpsi, eps float64) Angles {
	ramc := norm360(apparentSidereal(jdUT, dpsi, eps) + lon)
	return Angles{
		Ascendant: ascendant(ramc, lat, eps),
		Midheaven: midheaven(ramc, eps),
		RAMC:      ramc,
		Obliquity: eps * rad2deg,
	}
}

// HouseCusps computes the cusps of system for the angles a at latitude lat
// (degrees). Placidus inside the polar circles (|lat| ≥ 90° − ε) is
// replaced by fallback (Porphyry when fallback is empty or Placidus), and
// the result says so in FallbackReason.
//
// Errors: fault.Invalid for an unknown system.
func HouseCusps(a Angles, lat float64, system, fallback HouseSystem) (Houses, error) {
	if system == "" {
		system = Placidus
	}
	if fallback == "" || fallback == Placidus {
		fallback = Porphyry
	}
	switch system {
	case Placidus, Porphyry, WholeSign:
	default:
		return Houses{}, fault.Invalid("unknown house system %q (want placidus, porphyry or whole-sign)", system)
	}
	switch fallback {
	case Porphyry, WholeSign:
	default:
		return Houses{}, fault.Invalid("unknown polar fallback house system %q (want porphyry or whole-sign)", fallback)
	}
	var h Houses
	if system == Placidus {
		if math.Abs(lat) >= 90-a.Obliquity {
			h.FallbackReason = fmt.Sprintf("latitude %.2f° is inside the polar circle (beyond %.2f°), where Placidus is undefined; %s houses used instead", lat, 90-a.Obliquity, fallback)
			system = fallback
		} else if !placidus(a, lat, &h.Cusps) {
			h.FallbackReason = fmt.Sprintf("Placidus did not converge at latitude %.2f°; %s houses used instead", lat, fallback)
			system = fallback
		}
	}
	h.System = system
	switch system {
	case Porphyry:
		porphyry(a, &h.Cusps)
	case WholeSign:
		sign := math.Floor(a.Ascendant / 30)
		for i := range 12 {
			h.Cusps[i] = math.Mod((sign+float64(i))*30, 360)
		}
	}
	return h, nil
}

// porphyry trisects the four quadrants between the angles. The rising
// degree always follows the Midheaven by less than 180° (at every
// latitude, a property the tests check), so the quadrants are in order.
func porphyry(a Angles, c *[12]float64) {
	asc, mc := a.Ascendant, a.Midheaven
	ic := norm360(mc + 180)
	q1 := norm360(ic - asc) // houses 1–3
	q2 := 180 - q1          // houses 4–6
	c[0] = asc
	c[1] = norm360(asc + q1/3)
	c[2] = norm360(asc + 2*q1/3)
	c[3] = ic
	c[4] = norm360(ic + q2/3)
	c[5] = norm360(ic + 2*q2/3)
	for i := range 6 {
		c[i+6] = norm360(c[i] + 180)
	}
}

// placidus computes Placidus cusps: cusps 11 and 12 are the ecliptic
// degrees one and two thirds of their diurnal semi-arc east of the
// meridian, cusps 2 and 3 two and one thirds of their nocturnal semi-arc
// east of the lower meridian; the others are opposite. It returns false if
// the iteration does not converge.
func placidus(a Angles, lat float64, c *[12]float64) bool {
	eps := a.Obliquity * deg2rad
	se, ce := math.Sincos(eps)
	tphi := math.Tan(lat * deg2rad)
	ramc := a.RAMC
	// g maps a trial longitude to the longitude whose right ascension is
	// ramc + off + k·(its diurnal semi-arc), or (night) ramc + off −
	// k·(its nocturnal semi-arc); a cusp is a fixed point of g. g also
	// returns its derivative, for Newton's method.
	g := func(lon, off, k float64, night bool) (val, deriv float64, ok bool) {
		sl, cl := math.Sincos(lon * deg2rad)
		sd := se * sl // sin δ
		cd2 := 1 - sd*sd
		x := tphi * sd / math.Sqrt(cd2) // tan φ · tan δ
		if x <= -1 || x >= 1 {
			return 0, 0, false
		}
		ad := math.Asin(x) * rad2deg
		var ra float64
		if night {
			ra = ramc + off - k*(90-ad)
		} else {
			ra = ramc + off + k*(90+ad)
		}
		sr, cr := math.Sincos(ra * deg2rad)
		dad := tphi * se * cl / (cd2 * math.Sqrt(cd2) * math.Sqrt(1-x*x))
		dlon := ce / (cr*cr*ce*ce + sr*sr)
		return math.Atan2(sr, cr*ce) * rad2deg, dlon * k * dad, true
	}
	// cusp finds the fixed point with Newton's method on g(λ) − λ
	// (quadratic convergence: two or three steps from the Porphyry cusp).
	cusp := func(off, k float64, night bool, x float64) (float64, bool) {
		for range 30 {
			v, d, ok := g(x, off, k, night)
			if !ok {
				return 0, false
			}
			f := diff180(v, x)
			step := f / (1 - d)
			if math.IsNaN(step) || math.Abs(step) > 30 {
				step = f // plain iteration
			} else if math.Abs(step) < 1e-5 {
				// The error after this step is of the order of step²:
				// below 1e-9°.
				return norm360(x + step), true
			}
			x += step
		}
		return 0, false
	}
	mc := a.Midheaven
	var ok [4]bool
	// Start from the Porphyry cusps, which are close.
	q := norm360(a.Ascendant - mc)
	c[10], ok[0] = cusp(0, 1.0/3, false, norm360(mc+q/3))
	c[11], ok[1] = cusp(0, 2.0/3, false, norm360(mc+2*q/3))
	c[1], ok[2] = cusp(180, 2.0/3, true, norm360(a.Ascendant+(180-q)/3))
	c[2], ok[3] = cusp(180, 1.0/3, true, norm360(a.Ascendant+2*(180-q)/3))
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] {
		return false
	}
	c[0] = a.Ascendant
	c[9] = mc
	c[3] = norm360(mc + 180)
	c[6] = norm360(a.Ascendant + 180)
	c[4] = norm360(c[10] + 180)
	c[5] = norm360(c[11] + 180)
	c[7] = norm360(c[1] + 180)
	c[8] = norm360(c[2] + 180)
	return true
}
