package astro

import (
	"math"
	"time"
)

// Time scales. Every instant enters the package as a time.Time (UTC, taken
// as UT1: the two differ by less than 0.9 s, which moves the Moon by
// 0.0001° and the angles by 0.004° at most) or as a Julian Day in UT.
// Ephemerides run on Terrestrial Time, TT = UT + ΔT.

const (
	j2000         = 2451545.0 // JD of 2000-01-01 12:00 TT
	unixEpochJD   = 2440587.5 // JD of 1970-01-01 00:00 UTC
	daysPerCent   = 36525.0
	daysPerMill   = 365250.0
	secondsPerDay = 86400.0
)

// Supported range: Meeus's Pluto theory (ch. 37) is valid from 1885 to
// 2099, and the accuracy of the whole package is verified against Swiss
// Ephemeris over 1900–2050.
var (
	// MinTime is the earliest instant the package computes.
	MinTime = time.Date(1885, 1, 1, 0, 0, 0, 0, time.UTC)
	// MaxTime is the first instant after the supported range.
	MaxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

	minJD = JulianDay(MinTime)
	maxJD = JulianDay(MaxTime)
)

// JulianDay returns the Julian Day (UT) of t.
func JulianDay(t time.Time) float64 {
	return unixEpochJD + float64(t.Unix())/secondsPerDay + float64(t.Nanosecond())/(secondsPerDay*1e9)
}

// TimeOfJulianDay returns the UTC instant of a Julian Day (UT), rounded to
// the microsecond.
func TimeOfJulianDay(jd float64) time.Time {
	us := math.Round((jd - unixEpochJD) * secondsPerDay * 1e6)
	return time.UnixMicro(int64(us)).UTC()
}

// DeltaT returns ΔT = TT − UT in seconds for the Julian Day jdUT, from the
// polynomial expressions of Espenak and Meeus (NASA "Five Millennium Canon
// of Solar Eclipses", 2006), which follow the observed values to about 1 s
// from 1800 to 2005 and extrapolate after that. The year fraction is taken
// as 2000 + (JD − J2000)/365.25.
func DeltaT(jdUT float64) float64 {
	y := 2000 + (jdUT-j2000)/365.25
	switch {
	case y < 1800:
		u := (y - 1820) / 100
		return -20 + 32*u*u
	case y < 1860:
		t := y - 1800
		return 13.72 + t*(-0.332447+t*(0.0068612+t*(0.0041116+t*(-0.00037436+t*(0.0000121272+t*(-0.0000001699+t*0.000000000875))))))
	case y < 1900:
		t := y - 1860
		return 7.62 + t*(0.5737+t*(-0.251754+t*(0.01680668+t*(-0.0004473624+t/233174))))
	case y < 1920:
		t := y - 1900
		return -2.79 + t*(1.494119+t*(-0.0598939+t*(0.0061966-0.000197*t)))
	case y < 1941:
		t := y - 1920
		return 21.20 + t*(0.84493+t*(-0.076100+t*0.0020936))
	case y < 1961:
		t := y - 1950
		return 29.07 + t*(0.407+t*(-1/233.0+t/2547))
	case y < 1986:
		t := y - 1975
		return 45.45 + t*(1.067+t*(-1/260.0-t/718))
	case y < 2005:
		t := y - 2000
		return 63.86 + t*(0.3345+t*(-0.060374+t*(0.0017275+t*(0.000651814+t*0.00002373599))))
	case y < 2050:
		t := y - 2000
		return 62.92 + t*(0.32217+t*0.005589)
	case y < 2150:
		u := (y - 1820) / 100
		return -20 + 32*u*u - 0.5628*(2150-y)
	default:
		u := (y - 1820) / 100
		return -20 + 32*u*u
	}
}

// Angle helpers (package-internal): degrees and radians.
const (
	deg2rad    = math.Pi / 180
	rad2deg    = 180 / math.Pi
	arcsec2rad = deg2rad / 3600
	twoPi      = 2 * math.Pi
)

// norm360 reduces an angle in degrees to [0, 360).
func norm360(a float64) float64 {
	if a >= 0 && a < 360 {
		return a
	}
	a -= 360 * math.Floor(a/360)
	if a < 0 {
		a += 360
	}
	if a >= 360 { // -tiny + 360 rounds to 360
		a = 0
	}
	return a
}

// norm2pi reduces an angle in radians to [0, 2π).
func norm2pi(a float64) float64 {
	a = math.Mod(a, twoPi)
	if a < 0 {
		a += twoPi
	}
	if a >= twoPi {
		a = 0
	}
	return a
}

// diff180 returns a − b reduced to [−180, 180) degrees.
func diff180(a, b float64) float64 {
	d := a - b
	if d >= -180 && d < 180 {
		return d
	}
	d -= 360 * math.Floor((d+180)/360)
	if d >= 180 { // rounding
		d -= 360
	}
	return d
}

// phasor is exp(i·x) as a complex number.
func phasor(x float64) complex128 {
	s, c := math.Sincos(x)
	return complex(c, s)
}
