package astro

import (
	"math"
	"sort"
	"sync"
)

// VSOP87 evaluation.
//
// The generated tables (vsop87_tables.go) hold the complete VSOP87D series
// of Mercury..Neptune: 31 577 terms A·cos(B + C·t), t in Julian millennia
// TT from J2000, grouped by coordinate (L, B, R) and power of t. Evaluating
// them term by term costs one sincos per term; instead:
//
//   - The 5 705 distinct frequencies C are evaluated once per instant as
//     phasors exp(i·C·t): 49 with sincos, every other one as the product of
//     two earlier phasors whose frequencies sum to its own (the generator
//     found these pairs; the chain error is below 1e-9 rad per millennium).
//   - Each term is stored as (A·cos B, A·sin B, index of C), so that
//     A·cos(B + C·t) = A·cos B·Re − A·sin B·Im: two multiply-adds, no
//     trigonometry. Positions use every term.
//   - Velocities (for light-time, aberration and speed) use the terms whose
//     derivative matters: in each series and power of t the dropped ones
//     sum to less than vsopRateTail = 0.01 rad (au) per millennium, at most
//     6e-2 per millennium over all powers: 1.6e-7 rad/day, 1e-5 °/day of
//     speed, and under 3e-8 rad (0.006″) of position through the
//     light-time correction (τ < 0.2 day).

// vsopFreq is one distinct frequency (rad per Julian millennium) and how its
// phasor is obtained: op 0 directly, op 1 as phasor[a]·phasor[b].
type vsopFreq struct {
	c    float64
	op   uint8
	a, b uint16
}

// vsopTerm is one VSOP87 term as generated: amplitude, phase, frequency index.
type vsopTerm struct {
	amp, phase float64
	f          uint16
}

// vsopSeries is the VSOP87D series of one body: L and B in radians, R in
// au, each a list of term lists by power of t.
type vsopSeries struct{ L, B, R [][]vsopTerm }

// phasorTableSize is a power of two above len(vsopFreqs); indexes are masked
// with it so that the compiler drops bounds checks in the inner loops.
const phasorTableSize = 8192

type vsopPhasors [phasorTableSize]complex128

// vsopFlat is a term ready for evaluation: ca = A·cos B, sa = A·sin B.
type vsopFlat struct {
	ca, sa float64
	f      uint32
}

// vsopRate is a term of the derivative: d/dt A·cos(B + C·t) =
// dc·Re + ds·Im with dc = −C·A·sin B, ds = −C·A·cos B.
type vsopRate struct {
	dc, ds float64
	f      uint32
}

type vsopCoord struct {
	val  [][]vsopFlat // by power of t
	rate [][]vsopRate
}

type vsopBody struct{ coord [3]vsopCoord } // L, B, R

// vsopRateTail bounds the sum of the derivative terms left out, per series,
// in rad (au for R) per Julian millennium.
const vsopRateTail = 1e-2

// vsopMaxT is |t| at the ends of the supported range (1885, 2100), used to
// weigh the t^α factor when choosing derivative terms.
const vsopMaxT = 0.12

// The eight bodies in VSOP order.
const (
	vMercury = iota
	vVenus
	vEarth
	vMars
	vJupiter
	vSaturn
	vUranus
	vNeptune
	vCount
)

var (
	vsopOnce   sync.Once
	vsopBodies [vCount]vsopBody
	vsopRoots  []vsopRoot // phasors evaluated with sincos
	vsopProds  []vsopProd // the others, in evaluation order
)

// vsopRoot says phasor[slot] = exp(i·c·t).
type vsopRoot struct {
	c    float64
	slot uint32
}

// vsopProd says phasor[dst] = phasor[a]·phasor[b] (slots).
type vsopProd struct{ dst, a, b uint32 }

// vsopOrder is the order in which positions evaluate the bodies.
var vsopOrder = [vCount]int{vEarth, vMercury, vVenus, vMars, vJupiter, vSaturn, vUranus, vNeptune}

func vsopPrepare() {
	if len(vsopFreqs) > phasorTableSize {
		panic("astro: phasor table too small")
	}
	series := [vCount]*vsopSeries{&vsopMercury, &vsopVenus, &vsopEarth, &vsopMars, &vsopJupiter, &vsopSaturn, &vsopUranus, &vsopNeptune}
	// Phasor slots are numbered by first use in evaluation order, so that
	// each body's terms read a compact part of the table (cache locality);
	// frequencies only needed as factors come last.
	slot := make([]int, len(vsopFreqs))
	for i := range slot {
		slot[i] = -1
	}
	next := 0
	use := func(f uint16) {
		if slot[f] < 0 {
			slot[f] = next
			next++
		}
	}
	for _, b := range vsopOrder {
		for _, ser := range [3][][]vsopTerm{series[b].L, series[b].B, series[b].R} {
			for _, ts := range ser {
				for _, t := range ts {
					use(t.f)
				}
			}
		}
	}
	for i := range vsopFreqs {
		use(uint16(i))
	}
	// Products are scheduled level by level (a product's level is one
	// more than its factors'), so that consecutive products do not
	// depend on each other.
	level := make([]int, len(vsopFreqs))
	for i, f := range vsopFreqs {
		if f.op == 0 {
			vsopRoots = append(vsopRoots, vsopRoot{c: f.c, slot: uint32(slot[i])})
		} else {
			level[i] = 1 + max(level[f.a], level[f.b])
			vsopProds = append(vsopProds, vsopProd{dst: uint32(slot[i]), a: uint32(slot[f.a]), b: uint32(slot[f.b])})
		}
	}
	lv := make([]int, len(vsopFreqs)) // level by slot
	for i := range vsopFreqs {
		lv[slot[i]] = level[i]
	}
	sort.SliceStable(vsopProds, func(x, y int) bool { return lv[vsopProds[x].dst] < lv[vsopProds[y].dst] })

	for i, s := range series {
		for k, ser := range [3][][]vsopTerm{s.L, s.B, s.R} {
			c := &vsopBodies[i].coord[k]
			c.val = make([][]vsopFlat, len(ser))
			c.rate = make([][]vsopRate, len(ser))
			for a, ts := range ser {
				flat := make([]vsopFlat, len(ts))
				for j, t := range ts {
					sb, cb := math.Sincos(t.phase)
					flat[j] = vsopFlat{ca: t.amp * cb, sa: t.amp * sb, f: uint32(slot[t.f])}
				}
				// Ascending slots: the phasor reads walk forward.
				sort.SliceStable(flat, func(x, y int) bool { return flat[x].f < flat[y].f })
				c.val[a] = flat
				c.rate[a] = rateTerms(ts, math.Pow(vsopMaxT, float64(a)), slot)
			}
		}
	}
}

// rateTerms returns the derivative terms of one series, dropping the
// smallest ones while their summed weight |A·C|·scale stays below
// vsopRateTail.
func rateTerms(ts []vsopTerm, scale float64, slot []int) []vsopRate {
	idx := make([]int, len(ts))
	for i := range idx {
		idx[i] = i
	}
	w := func(i int) float64 { return math.Abs(ts[i].amp*vsopFreqs[ts[i].f].c) * scale }
	sort.Slice(idx, func(x, y int) bool { return w(idx[x]) < w(idx[y]) })
	tail, drop := 0.0, 0
	for _, i := range idx {
		if tail+w(i) >= vsopRateTail {
			break
		}
		tail += w(i)
		drop++
	}
	keep := idx[drop:]
	sort.Ints(keep)
	out := make([]vsopRate, 0, len(keep))
	for _, i := range keep {
		t := ts[i]
		c := vsopFreqs[t.f].c
		if c == 0 {
			continue
		}
		sb, cb := math.Sincos(t.phase)
		out = append(out, vsopRate{dc: -c * t.amp * sb, ds: -c * t.amp * cb, f: uint32(slot[t.f])})
	}
	return out
}

// fill computes exp(i·C·t) for every frequency.
func (ph *vsopPhasors) fill(t float64) {
	for _, r := range vsopRoots {
		ph[r.slot&(phasorTableSize-1)] = phasor(r.c * t)
	}
	prods := vsopProds
	for i := range prods {
		p := &prods[i]
		a, b := ph[p.a&(phasorTableSize-1)], ph[p.b&(phasorTableSize-1)]
		ph[p.dst&(phasorTableSize-1)] = complex(real(a)*real(b)-imag(a)*imag(b), real(a)*imag(b)+imag(a)*real(b))
	}
}

// eval returns the series value at t and its derivative per millennium.
func (c *vsopCoord) eval(ph *vsopPhasors, t float64) (v, dv float64) {
	for a := len(c.val) - 1; a >= 0; a-- {
		s := sumFlat(c.val[a], ph)
		d := sumRate(c.rate[a], ph)
		dv = dv*t + v + d
		v = v*t + s
	}
	return v, dv
}

// sumFlat returns Σ ca·Re − sa·Im over the terms, with four accumulators
// so that the additions pipeline.
func sumFlat(ts []vsopFlat, ph *vsopPhasors) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+3 < len(ts); i += 4 {
		t := ts[i : i+4 : i+4]
		p0, p1 := ph[t[0].f&(phasorTableSize-1)], ph[t[1].f&(phasorTableSize-1)]
		p2, p3 := ph[t[2].f&(phasorTableSize-1)], ph[t[3].f&(phasorTableSize-1)]
		s0 += t[0].ca*real(p0) - t[0].sa*imag(p0)
		s1 += t[1].ca*real(p1) - t[1].sa*imag(p1)
		s2 += t[2].ca*real(p2) - t[2].sa*imag(p2)
		s3 += t[3].ca*real(p3) - t[3].sa*imag(p3)
	}
	for ; i < len(ts); i++ {
		p := ph[ts[i].f&(phasorTableSize-1)]
		s0 += ts[i].ca*real(p) - ts[i].sa*imag(p)
	}
	return (s0 + s1) + (s2 + s3)
}

func sumRate(ts []vsopRate, ph *vsopPhasors) float64 {
	var s0, s1 float64
	i := 0
	for ; i+1 < len(ts); i += 2 {
		t0, t1 := &ts[i], &ts[i+1]
		p0, p1 := ph[t0.f&(phasorTableSize-1)], ph[t1.f&(phasorTableSize-1)]
		s0 += t0.dc*real(p0) + t0.ds*imag(p0)
		s1 += t1.dc*real(p1) + t1.ds*imag(p1)
	}
	if i < len(ts) {
		p := ph[ts[i].f&(phasorTableSize-1)]
		s0 += ts[i].dc*real(p) + ts[i].ds*imag(p)
	}
	return s0 + s1
}

// vec3 is a Cartesian vector.
type vec3 [3]float64

func (a vec3) sub(b vec3) vec3 { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec3) norm() float64   { return math.Sqrt(a[0]*a[0] + a[1]*a[1] + a[2]*a[2]) }

// helio returns the heliocentric ecliptic rectangular position (au) and
// velocity (au/day) of VSOP body i, in the dynamical ecliptic and equinox
// of date, at t millennia TT.
func (b *vsopBody) helio(ph *vsopPhasors, t float64) (pos, vel vec3) {
	L, dL := b.coord[0].eval(ph, t)
	B, dB := b.coord[1].eval(ph, t)
	R, dR := b.coord[2].eval(ph, t)
	sl, cl := math.Sincos(L)
	sb, cb := math.Sincos(B)
	pos = vec3{R * cb * cl, R * cb * sl, R * sb}
	dL /= daysPerMill
	dB /= daysPerMill
	dR /= daysPerMill
	vel = vec3{
		dR*cb*cl - R*sb*dB*cl - R*cb*sl*dL,
		dR*cb*sl - R*sb*dB*sl + R*cb*cl*dL,
		dR*sb + R*cb*dB,
	}
	return pos, vel
}
