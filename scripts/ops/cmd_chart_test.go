package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/astro"
)

func TestChartCommand(t *testing.T) {
	code, out, errOut := runOps(t, "chart", "--utc", "2000-01-01T18:00:00Z", "--lat", "32.72", "--lon", "-117.16")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var c astro.Chart
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("not a chart: %v\n%s", err, out)
	}
	if c.Bodies.Sun.Sign != "Capricorn" || c.Ascendant == nil || c.Ascendant.Sign != "Pisces" || c.Houses == nil || c.Confidence != astro.ConfidenceHigh {
		t.Errorf("chart %+v", c)
	}

	// Local time in a zone: 1990-05-15 14:30 in Stockholm (CEST) is 12:30 UTC.
	code, out, errOut = runOps(t, "chart", "--date", "1990-05-15", "--time", "14:30", "--tz", "Europe/Stockholm", "--lat", "59.33", "--lon", "18.07")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || !c.Instant.Equal(time.Date(1990, 5, 15, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("instant %v (%v)", c.Instant, err)
	}

	// Date only.
	code, out, errOut = runOps(t, "chart", "--date", "1990-05-15", "--tz", "Europe/Stockholm")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c = astro.Chart{}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.BirthTimeKnown || c.Houses != nil {
		t.Errorf("date-only chart %+v (%v)", c, err)
	}
}

func TestChartCommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--utc", "yesterday"},
		{"--utc", "2000-01-01T18:00:00Z", "--lat", "32"},
		{"--utc", "2000-01-01T18:00:00Z", "--lat", "95", "--lon", "0"},
		{"--utc", "1800-01-01T00:00:00Z"},
		{"--date", "1990-05-15"},
		{"--date", "1990-02-30", "--tz", "UTC"},
		{"--date", "2024-03-31", "--time", "02:30", "--tz", "Europe/Stockholm"}, // skipped by DST
		{"--date", "1990-05-15", "--time", "25:00", "--tz", "UTC"},
		{"--utc", "2000-01-01T18:00:00Z", "--tz", "Mars/Olympus"},
	} {
		if code, _, _ := runOps(t, append([]string{"chart"}, args...)...); code != 1 && code != 2 {
			t.Errorf("ops chart %q exited %d", args, code)
		}
	}
	// A repeated local time warns and takes the earlier instant.
	code, out, errOut := runOps(t, "chart", "--date", "2024-10-27", "--time", "02:30", "--tz", "Europe/Stockholm")
	if code != 0 || !strings.Contains(errOut, "occurs twice") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var c astro.Chart
	if err := json.Unmarshal([]byte(out), &c); err != nil || !c.Instant.Equal(time.Date(2024, 10, 27, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("instant %v (%v)", c.Instant, err)
	}
}
