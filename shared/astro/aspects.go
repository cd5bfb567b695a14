package astro

import (
	"math"
	"slices"
	"time"
)

// AspectType is one of the five major (Ptolemaic) aspects.
type AspectType string

// The major aspects.
const (
	Conjunction AspectType = "conjunction" // 0°
	Sextile     AspectType = "sextile"     // 60°
	Square      AspectType = "square"      // 90°
	Trine       AspectType = "trine"       // 120°
	Opposition  AspectType = "opposition"  // 180°
)

var aspectTypes = [5]AspectType{Conjunction, Sextile, Square, Trine, Opposition}
var aspectAngles = [5]float64{0, 60, 90, 120, 180}

// Orbs are the largest allowed distances (degrees) between the separation
// of two points and the exact aspect angle.
type Orbs struct {
	Conjunction float64
	Sextile     float64
	Square      float64
	Trine       float64
	Opposition  float64
	// Luminaries is added to every orb when the Sun or the Moon takes
	// part (natal charts only; transits do not use it).
	Luminaries float64
}

func (o *Orbs) byIndex() [5]float64 {
	return [5]float64{o.Conjunction, o.Sextile, o.Square, o.Trine, o.Opposition}
}

// NatalOrbs are the default orbs of natal aspects: 8° for conjunction and
// opposition, 7° for trine and square, 5° for sextile, 2° more when the Sun
// or the Moon takes part (so Sun–Moon square allows 9°). They follow the
// common modern practice (e.g. Astrodienst's defaults are close to these).
var NatalOrbs = Orbs{Conjunction: 8, Sextile: 5, Square: 7, Trine: 7, Opposition: 8, Luminaries: 2}

// TransitOrbs are the default orbs of transits to a natal chart: tight, so
// that a daily transit means the aspect is exact within a day or two for
// the planets.
var TransitOrbs = Orbs{Conjunction: 2, Sextile: 1.5, Square: 2, Trine: 2, Opposition: 2}

// Aspect is an aspect between two points of a chart, or between a
// transiting body (A) and a natal point (B).
type Aspect struct {
	// A and B name the points: body names ("sun", "moon", …, "pluto") or
	// "ascendant" and "midheaven" (natal points of transits only).
	A string `json:"a" firestore:"a"`
	B string `json:"b" firestore:"b"`
	// Type is the aspect.
	Type AspectType `json:"type" firestore:"type"`
	// Orb is |separation − aspect angle| in degrees.
	Orb float64 `json:"orb" firestore:"orb"`
	// Applying is true when the orb is decreasing (the aspect is
	// becoming exact), false when separating.
	Applying bool `json:"applying" firestore:"applying"`
}

// findAspect returns the aspect between longitudes la and lb (speeds va,
// vb in degrees per day) within the orbs, if any.
func findAspect(la, va, lb, vb float64, orbs *[5]float64, extra float64) (typ int, orb float64, applying, ok bool) {
	d := diff180(la, lb)
	sep := math.Abs(d)
	for i, angle := range aspectAngles {
		o := math.Abs(sep - angle)
		if o <= orbs[i]+extra {
			// d(sep)/dt = sign(d)·(va − vb); the orb shrinks when sep moves
			// towards angle.
			rate := va - vb
			if d < 0 {
				rate = -rate
			}
			if sep > angle {
				applying = rate < 0
			} else {
				applying = rate > 0
			}
			return i, o, applying, true
		}
	}
	return 0, 0, false, false
}

// natalAspects appends the aspects between all pairs of bodies, tightest
// first.
func natalAspects(pos *[NumBodies]Position, orbs *Orbs, dst []Aspect) []Aspect {
	ob := orbs.byIndex()
	start := len(dst)
	for a := range NumBodies {
		for b := a + 1; b < NumBodies; b++ {
			extra := 0.0
			if a <= int(Moon) || b <= int(Moon) {
				extra = orbs.Luminaries
			}
			if i, o, app, ok := findAspect(pos[a].Longitude, pos[a].Speed, pos[b].Longitude, pos[b].Speed, &ob, extra); ok {
				dst = append(dst, Aspect{A: bodyNames[a], B: bodyNames[b], Type: aspectTypes[i], Orb: math.Round(o*1e4) / 1e4, Applying: app})
			}
		}
	}
	sortAspects(dst[start:])
	return dst
}

func sortAspects(as []Aspect) {
	slices.SortStableFunc(as, func(x, y Aspect) int {
		switch {
		case x.Orb < y.Orb:
			return -1
		case x.Orb > y.Orb:
			return 1
		}
		return 0
	})
}

// Sky is the sky at one instant, for transits: compute it once (for
// example once a day) and compare it with many natal charts.
type Sky struct {
	Time        time.Time
	JulianDayUT float64
	Positions   [NumBodies]Position
}

// SkyAt computes the sky at t.
//
// Errors: fault.Invalid (wrapped as "sky: …") when t is outside
// [MinTime, MaxTime).
func SkyAt(t time.Time) (Sky, error) {
	jd := JulianDay(t)
	p, err := Positions(jd)
	if err != nil {
		return Sky{}, err
	}
	return Sky{Time: t.UTC(), JulianDayUT: jd, Positions: p}, nil
}

// Transits appends to dst the aspects that the sky's bodies (A) make to
// the natal chart's bodies, Ascendant and Midheaven (B), within orbs
// (TransitOrbs when nil), tightest first, and returns the extended slice.
// Natal points do not move, so Applying follows the transiting body. It
// allocates nothing when dst has room (cap 32 is plenty).
func (s *Sky) Transits(natal *Chart, orbs *Orbs, dst []Aspect) []Aspect {
	if orbs == nil {
		orbs = &TransitOrbs
	}
	ob := orbs.byIndex()
	start := len(dst)
	var natalLon [NumBodies + 2]float64
	var natalName [NumBodies + 2]string
	n := 0
	for b := range NumBodies {
		natalLon[n], natalName[n] = natal.Bodies.Get(Body(b)).Longitude, bodyNames[b]
		n++
	}
	if natal.Ascendant != nil {
		natalLon[n], natalName[n] = natal.Ascendant.Longitude, "ascendant"
		n++
	}
	if natal.Midheaven != nil {
		natalLon[n], natalName[n] = natal.Midheaven.Longitude, "midheaven"
		n++
	}
	for a := range NumBodies {
		for j := range n {
			if i, o, app, ok := findAspect(s.Positions[a].Longitude, s.Positions[a].Speed, natalLon[j], 0, &ob, 0); ok {
				dst = append(dst, Aspect{A: bodyNames[a], B: natalName[j], Type: aspectTypes[i], Orb: math.Round(o*1e4) / 1e4, Applying: app})
			}
		}
	}
	sortAspects(dst[start:])
	return dst
}
