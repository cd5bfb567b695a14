package astro

import (
	"math"
	"testing"
)

// naiveSeries evaluates a VSOP87 series term by term, with its exact
// derivative (per millennium).
func naiveSeries(ser [][]vsopTerm, t float64) (v, dv float64) {
	for a := len(ser) - 1; a >= 0; a-- {
		var s, ds float64
		for _, tm := range ser[a] {
			c := vsopFreqs[tm.f].c
			sn, cs := math.Sincos(tm.phase + c*t)
			s += tm.amp * cs
			ds -= tm.amp * c * sn
		}
		dv = dv*t + v + ds
		v = v*t + s
	}
	return v, dv
}

// TestVSOPEvaluation checks the phasor evaluation against the plain sum of
// every term: the values agree to rounding, the rates within the bound of
// the terms left out of the derivative.
func TestVSOPEvaluation(t *testing.T) {
	vsopOnce.Do(vsopPrepare)
	n := 0
	for _, b := range vsopBodies {
		for _, c := range b.coord {
			for _, ts := range c.val {
				n += len(ts)
			}
		}
	}
	if n != vsopTermCount {
		t.Fatalf("prepared %d terms, tables hold %d", n, vsopTermCount)
	}
	series := [vCount]*vsopSeries{&vsopMercury, &vsopVenus, &vsopEarth, &vsopMars, &vsopJupiter, &vsopSaturn, &vsopUranus, &vsopNeptune}
	var ph vsopPhasors
	for _, tm := range []float64{-0.115, -0.05, 0, 0.0123456, 0.0999} {
		ph.fill(tm)
		for i, s := range series {
			for k, ser := range [3][][]vsopTerm{s.L, s.B, s.R} {
				v, dv := vsopBodies[i].coord[k].eval(&ph, tm)
				nv, ndv := naiveSeries(ser, tm)
				if math.Abs(v-nv) > 1e-12*math.Max(1, math.Abs(nv)) {
					t.Errorf("t=%v body %d coord %d: %.15g, term by term %.15g", tm, i, k, v, nv)
				}
				// Each power of t drops less than vsopRateTail (weighted
				// by |t|^α ≤ 0.12^α).
				if math.Abs(dv-ndv) > float64(len(ser))*vsopRateTail {
					t.Errorf("t=%v body %d coord %d: rate %.9g, exact %.9g", tm, i, k, dv, ndv)
				}
			}
		}
	}
}
