package astro

import "math"

// moonLRTerm is one row of Meeus table 47.A: multiples of D, M, M', F; the
// coefficient of sin(arg) in longitude (1e-6 °) and of cos(arg) in
// distance (1e-3 km).
type moonLRTerm struct {
	d, m, mp, f int8
	l, r        float64
}

// moonBTerm is one row of Meeus table 47.B: multiples of D, M, M', F; the
// coefficient of sin(arg) in latitude (1e-6 °).
type moonBTerm struct {
	d, m, mp, f int8
	b           float64
}

// moonPosition returns the Moon's geocentric ecliptic longitude and
// latitude (radians, mean equinox of date, without nutation), its distance
// (km) and the rate of its longitude (radians per day), at T Julian
// centuries TT from J2000 (Meeus ch. 47, the complete tables 47.A and 47.B).
func moonPosition(T float64) (lon, lat, dist, rate float64) {
	// Mean elements (degrees) and their rates (degrees per century).
	Lp := 218.3164477 + T*(481267.88123421+T*(-0.0015786+T*(1/538841.0-T/65194000)))
	D := 297.8501921 + T*(445267.1114034+T*(-0.0018819+T*(1/545868.0-T/113065000)))
	M := 357.5291092 + T*(35999.0502909+T*(-0.0001536+T/24490000))
	Mp := 134.9633964 + T*(477198.8675055+T*(0.0087414+T*(1/69699.0-T/14712000)))
	F := 93.2720950 + T*(483202.0175233+T*(-0.0036539+T*(-1/3526000.0+T/863310000)))
	dLp := 481267.88123421 + T*(-2*0.0015786+T*(3/538841.0-4*T/65194000))
	dD := 445267.1114034 + T*(-2*0.0018819+T*(3/545868.0-4*T/113065000))
	dM := 35999.0502909 + T*(-2*0.0001536+3*T/24490000)
	dMp := 477198.8675055 + T*(2*0.0087414+T*(3/69699.0-4*T/14712000))
	dF := 483202.0175233 + T*(-2*0.0036539+T*(-3/3526000.0+4*T/863310000))
	A1 := 119.75 + 131.849*T
	A2 := 53.09 + 479264.290*T
	A3 := 313.45 + 481266.484*T
	E := 1 + T*(-0.002516-0.0000074*T)
	ef := [3]float64{1, E, E * E}

	var pd, pm, pmp, pf multiples
	pd.fill(D * deg2rad)
	pm.fill(M * deg2rad)
	pmp.fill(Mp * deg2rad)
	pf.fill(F * deg2rad)

	var sl, sr, sb, dsl float64
	for i := range moonLR {
		r := &moonLR[i]
		p := pd.at(r.d) * pm.at(r.m) * pmp.at(r.mp) * pf.at(r.f)
		e := ef[abs8(r.m)]
		sl += r.l * e * imag(p)
		sr += r.r * e * real(p)
		dsl += r.l * e * real(p) * (float64(r.d)*dD + float64(r.m)*dM + float64(r.mp)*dMp + float64(r.f)*dF) * deg2rad
	}
	for i := range moonB {
		r := &moonB[i]
		p := pd.at(r.d) * pm.at(r.m) * pmp.at(r.mp) * pf.at(r.f)
		sb += r.b * ef[abs8(r.m)] * imag(p)
	}
	sA1, cA1 := math.Sincos(A1 * deg2rad)
	sA2, cA2 := math.Sincos(A2 * deg2rad)
	sLF, cLF := math.Sincos((Lp - F) * deg2rad)
	sl += 3958*sA1 + 1962*sLF + 318*sA2
	dsl += 3958*cA1*131.849*deg2rad + 1962*cLF*(dLp-dF)*deg2rad + 318*cA2*479264.290*deg2rad
	sb += -2235*math.Sin(Lp*deg2rad) + 382*math.Sin(A3*deg2rad) + 175*math.Sin((A1-F)*deg2rad) +
		175*math.Sin((A1+F)*deg2rad) + 127*math.Sin((Lp-Mp)*deg2rad) - 115*math.Sin((Lp+Mp)*deg2rad)

	lon = norm2pi((Lp + sl*1e-6) * deg2rad)
	lat = sb * 1e-6 * deg2rad
	dist = 385000.56 + sr*1e-3
	// dsl is in 1e-6 ° per century, dLp in ° per century.
	rate = (dLp + dsl*1e-6) * deg2rad / daysPerCent
	return lon, lat, dist, rate
}

func abs8(v int8) int {
	if v < 0 {
		return int(-v)
	}
	return int(v)
}
