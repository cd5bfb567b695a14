package zonemap

import (
	"math"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

func TestZoneAt(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		want     string
	}{
		{"Stockholm", 59.3294, 18.0687, "Europe/Stockholm"},
		{"Göteborg", 57.7072, 11.9668, "Europe/Stockholm"},
		{"New York", 40.7143, -74.006, "America/New_York"},
		{"San Diego", 32.72, -117.16, "America/Los_Angeles"},
		{"São Paulo", -23.5475, -46.6361, "America/Sao_Paulo"},
		{"Kiruna", 67.8557, 20.2251, "Europe/Stockholm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ZoneAt(tt.lat, tt.lon)
			if err != nil {
				t.Fatalf("ZoneAt: %v", err)
			}
			if got != tt.want {
				t.Errorf("ZoneAt(%v, %v) = %q, want %q", tt.lat, tt.lon, got, tt.want)
			}
		})
	}
}

func TestZoneAtInvalid(t *testing.T) {
	for _, c := range [][2]float64{{91, 0}, {0, 181}, {-90.5, 0}, {math.NaN(), 0}} {
		if _, err := ZoneAt(c[0], c[1]); fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("ZoneAt(%v, %v) error = %v, want INVALID_ARGUMENT", c[0], c[1], err)
		}
	}
}
