// Package astro computes natal charts and transits: apparent geocentric
// positions of the Sun, the Moon and the planets through Pluto, the
// Ascendant and Midheaven, house cusps and the major aspects.
//
// It is pure Go with no network or files at run time, built from Jean
// Meeus, "Astronomical Algorithms", 2nd ed. (1998):
//
//   - Sun and Mercury–Neptune: the complete VSOP87D series (31 577 terms,
//     Bretagnon & Francou 1988) with the FK5 correction (ch. 32), light-time
//     and annual aberration (ch. 33);
//   - Moon: ch. 47 with the complete tables 47.A and 47.B;
//   - Pluto: ch. 37 (valid 1885–2099, hence the supported range);
//   - nutation and obliquity: ch. 22 (IAU 1980, table 22.A complete);
//   - ΔT: the Espenak–Meeus polynomials (see DeltaT);
//   - sidereal time: ch. 12; Ascendant, Midheaven, Placidus, Porphyry and
//     Whole Sign houses from their definitions.
//
// # Conventions
//
// Longitudes are tropical (true equinox and ecliptic of date), in degrees
// [0, 360); geographic latitude is north positive, longitude east positive.
// Instants are time.Time (UTC is used as UT1) or Julian Days in UT. The
// supported range is [MinTime, MaxTime) = 1885-01-01 to 2099-12-31;
// anything else, like non-finite or out-of-range coordinates, is a
// fault.Invalid error. The Ascendant is always the rising point, within
// the polar circles too (where Placidus is undefined and charts fall back
// to Porphyry or Whole Sign, saying so in Houses.FallbackReason).
//
// # Accuracy
//
// Compared with Swiss Ephemeris (swetest 2.10, DE431-based files) over 500
// seeded random instants 1900–2050 and places up to ±66° plus 40 polar
// places (oracle_test.go): Sun and planets within 0.001°, the Moon within
// 0.005°, Ascendant, Midheaven and cusps within 0.001°.
//
// # Use
//
// ComputeChart turns birth data into the Chart document profiles store.
// For daily transits compute a Sky once (SkyAt) and call Sky.Transits for
// each natal chart. Positions, LocalAngles and HouseCusps are the lower
// levels.
//
// # Data
//
// The coefficient tables (vsop87_tables.go, meeus_tables.go) are generated
// by internal/gen from the npm package astronomia 4.2.0 (MIT licence,
// © 2013 Sonia Keys, © 2016 commenthol), which transcribes VSOP87 and
// Meeus's tables. Regenerate with go generate.
package astro

//go:generate go run ./internal/gen -out .
