package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/numerology"
)

func TestNumerologyCommand(t *testing.T) {
	code, out, errOut := runOps(t, "numerology", "--date", "1942-06-18", "--name", "John Smith", "--today", "2025-03-10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r numerology.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not a Result: %v\n%s", err, out)
	}
	if r.LifePathNumber != 22 || r.ExpressionNumber != 8 || r.Cycles == nil || r.Cycles.PersonalDayNumber != 1 ||
		r.CalculationVersion != numerology.CalculationVersion {
		t.Errorf("result %+v", r)
	}

	// Default --today comes from the clock, in --zone.
	old := numerologyNow
	numerologyNow = func() time.Time { return time.Date(2025, 3, 9, 23, 30, 0, 0, time.UTC) }
	defer func() { numerologyNow = old }()
	code, out, errOut = runOps(t, "numerology", "--date", "1990-05-15", "--zone", "Europe/Stockholm")
	if code != 0 || !strings.Contains(out, `"date": "2025-03-10"`) {
		t.Errorf("--zone: exit %d, %s %s", code, out, errOut)
	}

	for _, args := range [][]string{
		{"numerology"},
		{"numerology", "--date", "1990-02-30"},
		{"numerology", "--date", "1990-05-15", "--today", "1980-01-01"},
		{"numerology", "--date", "1990-05-15", "--name", "Дмитрий"},
		{"numerology", "--date", "1990-05-15", "--zone", "Mars/Olympus"},
		{"numerology", "--date", "1990-05-15", "extra"},
	} {
		if code, _, _ := runOps(t, args...); code != 1 {
			t.Errorf("%q: exit %d, want 1", args, code)
		}
	}
	if code, _, _ := runOps(t, "numerology", "--help"); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}

func TestPlaceCommand(t *testing.T) {
	code, out, errOut := runOps(t, "place", "--query", "Gothenburg, SE")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r placeOutput
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if r.Best.Name != "Göteborg" || r.Best.TimeZone != "Europe/Stockholm" || len(r.Candidates) == 0 || r.Birth != nil {
		t.Errorf("result %+v", r)
	}
	if !strings.Contains(out, `"name": "Göteborg"`) {
		t.Errorf("output escapes non-ASCII:\n%s", out)
	}

	code, out, errOut = runOps(t, "place", "--query", "Stockholm", "--date", "2021-10-31", "--time", "02:30")
	if code != 0 || !strings.Contains(out, `"resolution": "overlap"`) || !strings.Contains(out, `"utc": "2021-10-31T00:30:00Z"`) {
		t.Errorf("birth: exit %d, %s %s", code, out, errOut)
	}
	code, out, _ = runOps(t, "place", "--id", "2711537")
	if code != 0 || !strings.Contains(out, `"geonameId": 2711537`) {
		t.Errorf("--id: exit %d, %s", code, out)
	}

	for _, args := range [][]string{
		{"place"},
		{"place", "--query", "Xyzzyville"},
		{"place", "--query", "Stockholm", "--id", "1"},
		{"place", "--query", "Stockholm", "--date", "2021-10-31"},
		{"place", "--query", "Stockholm", "--date", "2021-10-31", "--time", "02:30", "--policy", "reject"},
		{"place", "--query", "Stockholm", "--date", "2021-10-31", "--time", "02:30", "--policy", "nope"},
	} {
		if code, _, _ := runOps(t, args...); code != 1 {
			t.Errorf("%q: exit %d, want 1", args, code)
		}
	}
}
