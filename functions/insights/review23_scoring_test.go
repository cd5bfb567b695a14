package insights

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/numerology"
)

// Review (scoring): the personal day of the insight is that of the user's
// local date, across the year boundary, in zones on both sides of UTC.
func TestReview23ScoringPersonalDayLocalDate(t *testing.T) {
	l := mustLibrary(t)
	var sc Scratch
	birth := date("1988-12-31")
	cases := []struct {
		zone string
		tick string // UTC
		on   string // local date delivered
		pd   int
	}{
		// Kiritimati UTC+14: 07:00 on 1 Jan 2026 is 17:00 UTC on 31 Dec.
		// 3 + 4 + (2026→1) = 8; 8 + 1 = 9; 9 + 1 = 10 → 1.
		{"Pacific/Kiritimati", "2025-12-31T17:00:00Z", "2026-01-01", 1},
		// Honolulu UTC−10: 07:00 on 31 Dec 2025 is 17:00 UTC the same day.
		// 3 + 4 + (2025→9) = 16 → 7; 7 + 3 = 10 → 1; 1 + 4 = 5.
		{"Pacific/Honolulu", "2025-12-31T17:00:00Z", "2025-12-31", 5},
		// Stockholm: 07:00 CET on 1 Jan 2026 is 06:00 UTC.
		{"Europe/Stockholm", "2026-01-01T06:00:00Z", "2026-01-01", 1},
		// Los Angeles: 23:00 UTC on 1 Jan is 15:00 local on 1 Jan (hour 7 passed).
		{"America/Los_Angeles", "2026-01-01T23:00:00Z", "2026-01-01", 1},
		// Los Angeles: 06:00 UTC on 1 Jan is 22:00 on 31 Dec local.
		{"America/Los_Angeles", "2026-01-01T06:00:00Z", "2025-12-31", 5},
	}
	for _, c := range cases {
		tick, _ := time.Parse(time.RFC3339, c.tick)
		d, _ := Delivery(tick, Zone(c.zone), 7)
		if d.String() != c.on {
			t.Errorf("%s at %s: delivered date %s, want %s", c.zone, c.tick, d, c.on)
			continue
		}
		s := Subject{UID: "u", Birth: birth, HasBirth: true, Recent: l.NewRecent()}
		in := l.Generate(&s, NewDay(d), &sc)
		if in.PersonalDay != c.pd || in.Date != c.on {
			t.Errorf("%s at %s: insight %s personal day %d, want %s %d", c.zone, c.tick, in.Date, in.PersonalDay, c.on, c.pd)
		}
	}
}

// Review (scoring): the master personal day follows the life path's method,
// masters kept at each reduction: personal month + calendar day of 29 or 38
// is day 11 (as a birthday on the 29th is 11), 22 is 22, 33 is 33; other sums
// carry no master number. The stored personal day stays 1–9.
func TestReview23MasterDayKeepsMastersAtEachStep(t *testing.T) {
	l := mustLibrary(t)
	var sc Scratch
	birth := date("1990-05-15") // personal year 2026: 5 + 6 + (2026→1) = 12 → 3
	seen := map[int]bool{}
	for m := time.January; m <= time.December; m++ {
		pm := numerology.PersonalMonth(birth, 2026, m)
		for d := 1; d <= 31; d++ {
			on := numerology.Date{Year: 2026, Month: m, Day: d}
			if time.Date(2026, m, d, 0, 0, 0, 0, time.UTC).Month() != m {
				break
			}
			sum := pm + d
			want := 0
			switch sum {
			case 11, 29, 38:
				want = 11
			case 22:
				want = 22
			case 33:
				want = 33
			}
			s := Subject{UID: "m", Birth: birth, HasBirth: true, Recent: l.NewRecent()}
			in := l.Generate(&s, NewDay(on), &sc)
			if in.MasterNumber != want {
				t.Errorf("%s: personal month %d + day %d = %d: masterNumber %d, want %d", on, pm, d, sum, in.MasterNumber, want)
			}
			if in.PersonalDay < 1 || in.PersonalDay > 9 {
				t.Errorf("%s: personal day %d, want 1–9", on, in.PersonalDay)
			}
			seen[sum] = true
		}
	}
	for _, sum := range []int{11, 22, 29, 38} {
		if !seen[sum] {
			t.Errorf("the year never had a sum of %d; pick another birth date", sum)
		}
	}
}
