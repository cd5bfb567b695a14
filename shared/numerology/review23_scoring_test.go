package numerology

import "testing"

// Review (scoring): hand-worked examples of the documented method.
func TestReview23ScoringHandWorked(t *testing.T) {
	lp := []struct {
		d    string
		want int
	}{
		{"1988-12-31", 6}, // (12→3) + (31→4) + (1988→26→8) = 15 → 6
		{"1975-11-29", 8}, // 11 + (29→11) + (1975→22) = 44 → 8
		{"1984-02-29", 8}, // 2 + (29→11) + (1984→22) = 35 → 8
		{"1999-12-31", 8}, // 3 + 4 + (1999→28→10→1) = 8
		{"1901-11-22", 8}, // 11 + 22 + (1901→11) = 44 → 8
		{"2029-09-02", 6}, // 9 + 2 + (2029→13→4) = 15 → 6
	}
	for _, c := range lp {
		if got := LifePath(date(t, c.d)); got != c.want {
			t.Errorf("LifePath(%s) = %d, want %d", c.d, got, c.want)
		}
	}
	cy := []struct {
		birth, on  string
		py, pm, pd int
	}{
		// 3 + 4 + (2025→9) = 16 → 7; 7 + 3 = 10 → 1; 1 + (31→4) = 5
		{"1988-12-31", "2025-12-31", 7, 1, 5},
		// 3 + 4 + (2026→10→1) = 8; 8 + 1 = 9; 9 + 1 = 10 → 1
		{"1988-12-31", "2026-01-01", 8, 9, 1},
		// leap-day birth: 2 + (29→2) + (2024→8) = 12 → 3; 3+2 = 5; 5 + (29→2) = 7
		{"2000-02-29", "2024-02-29", 3, 5, 7},
		// 2 + 2 + (2025→9) = 13 → 4; 4 + 2 = 6; 6 + (28→1) = 7
		{"2000-02-29", "2025-02-28", 4, 6, 7},
	}
	for _, c := range cy {
		got, err := CyclesOn(date(t, c.birth), date(t, c.on))
		if err != nil {
			t.Fatal(err)
		}
		if got.PersonalYearNumber != c.py || got.PersonalMonthNumber != c.pm || got.PersonalDayNumber != c.pd {
			t.Errorf("CyclesOn(%s, %s) = %+v, want %d/%d/%d", c.birth, c.on, got, c.py, c.pm, c.pd)
		}
	}
	// Names: per word, masters kept per word and in total.
	nm := []struct {
		name             string
		expr, soul, pers int
	}{
		// ANNA 1+5+5+1=12→3; SVENSSON 1+4+5+5+1+1+6+5=28→10→1; 3+1=4.
		// vowels A,A=2; E,O=5+6=11 (kept); 2+11=13→4. consonants NN=10→1; SVNSSN=1+4+5+1+1+5=17→8; 1+8=9.
		{"Anna Svensson", 4, 4, 9},
		// LYNN: Y vowel: L3 Y7 N5 N5 = 20→2; vowel Y 7; consonants 13→4.
		{"Lynn", 2, 7, 4},
	}
	for _, c := range nm {
		n, err := Name(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if n.Expression != c.expr || n.SoulUrge != c.soul || n.Personality != c.pers {
			t.Errorf("Name(%q) = %+v, want %d/%d/%d", c.name, n, c.expr, c.soul, c.pers)
		}
	}
}
