package astro

// nutationTerm is one row of Meeus table 22.A (IAU 1980 theory of
// nutation): multiples of D, M, M', F, Ω; Δψ = Σ (s0 + s1·T)·sin(arg) and
// Δε = Σ (c0 + c1·T)·cos(arg), in units of 0.0001″.
type nutationTerm struct {
	d, m, mp, f, om int8
	s0, s1, c0, c1  float64
}

// multiples holds exp(i·k·x) for k = −maxMultiple … maxMultiple.
const maxMultiple = 6

type multiples [2*maxMultiple + 1]complex128

// fill sets m[k+maxMultiple] = exp(i·k·x).
func (m *multiples) fill(x float64) {
	p := phasor(x)
	m[maxMultiple] = 1
	q := complex128(1)
	for k := 1; k <= maxMultiple; k++ {
		q *= p
		m[maxMultiple+k] = q
		m[maxMultiple-k] = complex(real(q), -imag(q))
	}
}

// at returns exp(i·k·x).
func (m *multiples) at(k int8) complex128 { return m[int(k)+maxMultiple] }

// nutation returns the nutation in longitude Δψ and in obliquity Δε
// (radians) at T Julian centuries TT from J2000 (Meeus ch. 22, full table
// 22.A), and the rate of Δψ in radians per day.
func nutation(T float64) (dpsi, deps, rate float64) {
	D := (297.85036 + T*(445267.111480+T*(-0.0019142+T/189474))) * deg2rad
	M := (357.52772 + T*(35999.050340+T*(-0.0001603-T/300000))) * deg2rad
	Mp := (134.96298 + T*(477198.867398+T*(0.0086972+T/56250))) * deg2rad
	F := (93.27191 + T*(483202.017538+T*(-0.0036825+T/327270))) * deg2rad
	Om := (125.04452 + T*(-1934.136261+T*(0.0020708+T/450000))) * deg2rad
	var pd, pm, pmp, pf, pom multiples
	pd.fill(D)
	pm.fill(M)
	pmp.fill(Mp)
	pf.fill(F)
	pom.fill(Om)
	for i := len(nutationTerms) - 1; i >= 0; i-- { // small terms first
		r := &nutationTerms[i]
		p := pd.at(r.d) * pm.at(r.m) * pmp.at(r.mp) * pf.at(r.f) * pom.at(r.om)
		dpsi += (r.s0 + r.s1*T) * imag(p)
		deps += (r.c0 + r.c1*T) * real(p)
		rate += (r.s0 + r.s1*T) * real(p) * (float64(r.d)*445267.111480 + float64(r.m)*35999.050340 +
			float64(r.mp)*477198.867398 + float64(r.f)*483202.017538 - float64(r.om)*1934.136261)
	}
	const u = 0.0001 * arcsec2rad
	return dpsi * u, deps * u, rate * u * deg2rad / daysPerCent
}

// meanObliquity returns the mean obliquity of the ecliptic ε0 (radians) at
// T Julian centuries TT from J2000 (Meeus 22.2, IAU 1976).
func meanObliquity(T float64) float64 {
	return (84381.448 + T*(-46.8150+T*(-0.00059+T*0.001813))) * arcsec2rad
}

// Nutation returns the nutation in longitude Δψ, in obliquity Δε, and the
// true obliquity of the ecliptic ε = ε0 + Δε, all in degrees, at the Julian
// Day jdUT (UT; ΔT is applied).
func Nutation(jdUT float64) (dpsi, deps, obliquity float64) {
	T := (jdUT + DeltaT(jdUT)/secondsPerDay - j2000) / daysPerCent
	p, e, _ := nutation(T)
	return p * rad2deg, e * rad2deg, (meanObliquity(T) + e) * rad2deg
}
