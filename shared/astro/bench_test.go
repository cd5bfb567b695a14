package astro

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchInputs are varied birth data (1900–2050, latitudes ±60°), so the
// benchmark measures real work rather than one cached instant.
func benchInputs(n int) []ChartInput {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	in := make([]ChartInput, n)
	for i := range in {
		in[i] = ChartInput{
			Time:     t0.Add(time.Duration(rng.Int64N(int64(150 * 365.25 * 24 * time.Hour)))),
			Location: &Location{Latitude: -60 + 120*rng.Float64(), Longitude: -180 + 360*rng.Float64()},
		}
	}
	return in
}

// BenchmarkComputeChart measures a full natal chart: ten bodies, angles,
// Placidus houses and aspects. Charts per second = 1e9 / ns/op:
//
//	go test ./shared/astro -run '^$' -bench ComputeChart -cpu 1
func BenchmarkComputeChart(b *testing.B) {
	in := benchInputs(1024)
	if _, err := ComputeChart(in[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ComputeChart(in[i&1023]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "charts/s")
}

// BenchmarkPositions measures the ten apparent positions alone.
func BenchmarkPositions(b *testing.B) {
	in := benchInputs(1024)
	jds := make([]float64, len(in))
	for i := range in {
		jds[i] = JulianDay(in[i].Time)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Positions(jds[i&1023]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransits measures the daily-insight step: one sky against a
// natal chart.
func BenchmarkTransits(b *testing.B) {
	in := benchInputs(256)
	charts := make([]Chart, len(in))
	for i := range in {
		c, err := ComputeChart(in[i])
		if err != nil {
			b.Fatal(err)
		}
		charts[i] = c
	}
	sky, err := SkyAt(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Aspect, 0, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = sky.Transits(&charts[i&255], nil, dst[:0])
	}
}
