package astro

import "math"

// plutoTerm is one row of Meeus table 37.A: multiples of J, S, P, and the
// sine and cosine coefficients of longitude, latitude (degrees) and radius
// vector (au).
type plutoTerm struct {
	i, j, k                int8
	lA, lB, bA, bB, rA, rB float64
}

// plutoHelio returns Pluto's heliocentric position (au) and velocity
// (au/day), rectangular, in the ecliptic and equinox of J2000, at T Julian
// centuries TT from J2000 (Meeus ch. 37, valid 1885–2099).
func plutoHelio(T float64) (pos, vel vec3) {
	J := (34.35 + 3034.9057*T) * deg2rad
	S := (50.08 + 1222.1138*T) * deg2rad
	P := (238.96 + 144.96*T) * deg2rad
	const dJ, dS, dP = 3034.9057 * deg2rad, 1222.1138 * deg2rad, 144.96 * deg2rad
	var pj, ps, pp multiples
	pj.fill(J)
	ps.fill(S)
	pp.fill(P)
	var l, b, r, dl, db, dr float64
	for n := range plutoTerms {
		t := &plutoTerms[n]
		a := pj.at(t.i) * ps.at(t.j) * pp.at(t.k)
		sa, ca := imag(a), real(a)
		da := float64(t.i)*dJ + float64(t.j)*dS + float64(t.k)*dP
		l += t.lA*sa + t.lB*ca
		b += t.bA*sa + t.bB*ca
		r += t.rA*sa + t.rB*ca
		dl += (t.lA*ca - t.lB*sa) * da
		db += (t.bA*ca - t.bB*sa) * da
		dr += (t.rA*ca - t.rB*sa) * da
	}
	L := (l + 238.958116 + 144.96*T) * deg2rad
	B := (b - 3.908239) * deg2rad
	R := r + 40.7241346
	dL := (dl + 144.96) * deg2rad / daysPerCent
	dB := db * deg2rad / daysPerCent
	dR := dr / daysPerCent
	sl, cl := math.Sincos(L)
	sb, cb := math.Sincos(B)
	pos = vec3{R * cb * cl, R * cb * sl, R * sb}
	vel = vec3{
		dR*cb*cl - R*sb*dB*cl - R*cb*sl*dL,
		dR*cb*sl - R*sb*dB*sl + R*cb*cl*dL,
		dR*sb + R*cb*dB,
	}
	return pos, vel
}

// mat3 is a rotation matrix.
type mat3 [3][3]float64

func (m *mat3) apply(v vec3) vec3 {
	return vec3{
		m[0][0]*v[0] + m[0][1]*v[1] + m[0][2]*v[2],
		m[1][0]*v[0] + m[1][1]*v[1] + m[1][2]*v[2],
		m[2][0]*v[0] + m[2][1]*v[1] + m[2][2]*v[2],
	}
}

// eclipticPrecession returns the matrix that turns rectangular ecliptic
// coordinates referred to J2000 into ecliptic coordinates of date, T Julian
// centuries TT after J2000 (Meeus 21.5 and 21.6 with the start epoch J2000).
func eclipticPrecession(T float64) mat3 {
	eta := T * (47.0029 + T*(-0.03302+T*0.000060)) * arcsec2rad
	Pi := 174.876384*deg2rad + T*(-869.8089+T*0.03536)*arcsec2rad
	p := T * (5029.0966 + T*(1.11113-T*0.000006)) * arcsec2rad
	sP, cP := math.Sincos(Pi)
	sE, cE := math.Sincos(eta)
	sQ, cQ := math.Sincos(p + Pi)
	// Rz(−(p+Π)) · Rx(η) · Rz(Π), as frame rotations.
	a := mat3{{cP, sP, 0}, {-sP, cP, 0}, {0, 0, 1}}
	b := mat3{{1, 0, 0}, {0, cE, sE}, {0, -sE, cE}}
	c := mat3{{cQ, -sQ, 0}, {sQ, cQ, 0}, {0, 0, 1}}
	return mul3(c, mul3(b, a))
}

func mul3(x, y mat3) mat3 {
	var r mat3
	for i := range 3 {
		for j := range 3 {
			r[i][j] = x[i][0]*y[0][j] + x[i][1]*y[1][j] + x[i][2]*y[2][j]
		}
	}
	return r
}
