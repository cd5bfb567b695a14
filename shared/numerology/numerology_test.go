package numerology

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

func date(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func TestReduce(t *testing.T) {
	tests := []struct {
		n           int
		keepMasters bool
		want        int
	}{
		{0, true, 0}, {7, true, 7}, {10, true, 1}, {11, true, 11}, {11, false, 2},
		{22, true, 22}, {22, false, 4}, {33, true, 33}, {33, false, 6}, {44, true, 8},
		{29, true, 11}, {29, false, 2}, {1942, true, 7}, {1993, true, 22}, {1993, false, 4},
		{2009, true, 11}, {-29, true, 11}, {99999, false, 9},
	}
	for _, tt := range tests {
		if got := Reduce(tt.n, tt.keepMasters); got != tt.want {
			t.Errorf("Reduce(%d, %v) = %d, want %d", tt.n, tt.keepMasters, got, tt.want)
		}
	}
}

func TestLifePath(t *testing.T) {
	tests := []struct {
		date string
		want int
		why  string
	}{
		{"1942-06-18", 22, "6 + (18→9) + (1942→16→7) = 22, master"},
		{"1989-02-22", 33, "2 + 22 + (1989→27→9) = 33, master"},
		{"2009-11-11", 33, "11 + 11 + (2009→11) = 33, master"},
		{"1990-05-05", 11, "5 + 5 + (1990→19→10→1) = 11, master"},
		{"1978-11-11", 11, "11 + 11 + (1978→25→7) = 29 → 11, master"},
		{"1949-11-18", 7, "11 + (18→9) + (1949→23→5) = 25 → 7 (the classic worked example)"},
		{"1990-11-29", 5, "11 + (29→11) + 1 = 23 → 5: masters in parts, not in total"},
		{"1990-05-15", 3, "5 + (15→6) + 1 = 12 → 3"},
		{"1985-12-25", 6, "(12→3) + (25→7) + (1985→23→5) = 15 → 6"},
		{"2000-01-01", 4, "1 + 1 + 2"},
		{"1900-02-28", 4, "2 + (28→10→1) + (1900→10→1) = 4"},
		{"1988-12-31", 6, "(12→3) + (31→4) + (1988→26→8) = 15 → 6"},
		{"1975-11-29", 8, "11 + (29→11) + (1975→22) = 44 → 8"},
		{"1984-02-29", 8, "2 + (29→11) + (1984→22) = 35 → 8"},
		{"1999-12-31", 8, "3 + 4 + (1999→28→10→1) = 8"},
		{"1901-11-22", 8, "11 + 22 + (1901→11) = 44 → 8"},
		{"2029-09-02", 6, "9 + 2 + (2029→13→4) = 15 → 6"},
	}
	for _, tt := range tests {
		if got := LifePath(date(t, tt.date)); got != tt.want {
			t.Errorf("LifePath(%s) = %d, want %d (%s)", tt.date, got, tt.want, tt.why)
		}
	}
}

func TestLifePathAgreesModNine(t *testing.T) {
	// Every convention agrees modulo 9 with the plain digit sum of the date.
	d := Date{1900, 1, 1}
	for i := 0; i < 365*150; i += 7 {
		tm := time.Date(d.Year, d.Month, d.Day+i, 0, 0, 0, 0, time.UTC)
		bd := Date{tm.Year(), tm.Month(), tm.Day()}
		lp := LifePath(bd)
		plain := Reduce(digitSum(bd.Year)+digitSum(int(bd.Month))+digitSum(bd.Day), false)
		if Reduce(lp, false) != plain {
			t.Fatalf("%s: life path %d does not reduce to the digit sum %d", bd, lp, plain)
		}
		if !(lp >= 1 && lp <= 9) && !IsMaster(lp) {
			t.Fatalf("%s: life path %d out of range", bd, lp)
		}
	}
}

func TestBirthday(t *testing.T) {
	for day, want := range map[int]int{1: 1, 9: 9, 10: 1, 11: 11, 13: 4, 19: 1, 22: 22, 29: 11, 30: 3, 31: 4} {
		if got := Birthday(Date{2000, 1, day}); got != want {
			t.Errorf("Birthday(day %d) = %d, want %d", day, got, want)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		name             string
		expr, soul, pers int
		karmic           []int
	}{
		// J1 O6 H8 N5 = 20 → 2; S1 M4 I9 T2 H8 = 24 → 6; 2 + 6 = 8.
		// Vowels O6; I9 → 15 → 6. Consonants 14 → 5; 15 → 6; 5 + 6 = 11.
		{"John Smith", 8, 6, 11, []int{3, 7}},
		{"  JOHN   smith ", 8, 6, 11, []int{3, 7}},
		// Y after a consonant at the end of the word: vowel.
		// M4 A1 R9 Y7 = 21 → 3; vowels A1 Y7 = 8; consonants M4 R9 = 13 → 4.
		{"Mary", 3, 8, 4, []int{2, 3, 5, 6, 8}},
		// Y before a vowel: consonant. Y7 O6 L3 A1 N5 D4 A1 = 27 → 9;
		// vowels O6 A1 A1 = 8; consonants Y7 L3 N5 D4 = 19 → 1.
		{"Yolanda", 9, 8, 1, []int{2, 8, 9}},
		// Y between consonants: vowel. L3 Y7 N5 N5 = 20 → 2.
		{"Lynn", 2, 7, 4, []int{1, 2, 4, 6, 8, 9}},
		// ANNA 1+5+5+1 = 12 → 3; SVENSSON 1+4+5+5+1+1+6+5 = 28 → 10 → 1; 3 + 1 = 4.
		// Vowels A A = 2, E O = 11 (kept per word) → 13 → 4; consonants NN = 10 → 1,
		// SVNSSN = 17 → 8 → 9.
		{"Anna Svensson", 4, 4, 9, nil},
		// Y after a vowel: consonant. R9 A1 Y7 M4 O6 N5 D4 = 36 → 9;
		// vowels A1 O6 = 7; consonants 29 → 11.
		{"Raymond", 9, 7, 11, []int{2, 3, 8}},
		// Diacritics folded: Å → A, Ö → O. A1 S1 A1 = 3; O6 G7 R9 E5 N5 = 32 → 5;
		// 3 + 5 = 8. Vowels A A = 2, O E = 11 (kept) → 13 → 4;
		// consonants S = 1, G R N = 21 → 3 → 4.
		{"Åsa Ögren", 8, 4, 4, []int{2, 3, 4, 8}},
		{"Asa Ogren", 8, 4, 4, []int{2, 3, 4, 8}},
		// ß → SS.
		{"Strauß", 0, 0, 0, nil}, // checked against "Strauss"
		// Non-Latin letters are ignored.
		{"Anna Ли", 0, 0, 0, nil},
	}
	same := map[string]string{"Strauß": "Strauss", "Anna Ли": "Anna", "Åsa Ögren": "Asa Ogren"}
	// Rows in same are also compared with their plain-Latin spelling; rows
	// with 0 numbers only so.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Name(tt.name)
			if err != nil {
				t.Fatalf("Name: %v", err)
			}
			if ref, ok := same[tt.name]; ok {
				want, err := Name(ref)
				if err != nil {
					t.Fatal(err)
				}
				if !equalNumbers(got, want) {
					t.Errorf("Name(%q) = %+v, want the same as %q: %+v", tt.name, got, ref, want)
				}
				if tt.expr == 0 {
					return
				}
			}
			if got.Expression != tt.expr || got.SoulUrge != tt.soul || got.Personality != tt.pers {
				t.Errorf("Name(%q) = expression %d, soul urge %d, personality %d; want %d, %d, %d",
					tt.name, got.Expression, got.SoulUrge, got.Personality, tt.expr, tt.soul, tt.pers)
			}
			if tt.karmic != nil && !slices.Equal(got.KarmicLessons, tt.karmic) {
				t.Errorf("KarmicLessons = %v, want %v", got.KarmicLessons, tt.karmic)
			}
		})
	}
}

func equalNumbers(a, b NameNumbers) bool {
	return a.Expression == b.Expression && a.SoulUrge == b.SoulUrge && a.Personality == b.Personality &&
		slices.Equal(a.KarmicLessons, b.KarmicLessons)
}

func TestLetters(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Åsa-Britt Ögren", []string{"ASA", "BRITT", "OGREN"}},
		{"O'Brien", []string{"OBRIEN"}},
		{"Zoë Saldaña", []string{"ZOE", "SALDANA"}},
		{"Ærø Straße", []string{"AERO", "STRASSE"}},
		{"Łukasz Żółć", []string{"LUKASZ", "ZOLC"}},
		{"John Smith 3rd", []string{"JOHN", "SMITH", "RD"}},
		{"Дмитрий", nil},
	}
	for _, tt := range tests {
		if got := Letters(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Letters(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLetterValueAndVowels(t *testing.T) {
	table := map[int]string{1: "AJS", 2: "BKT", 3: "CLU", 4: "DMV", 5: "ENW", 6: "FOX", 7: "GPY", 8: "HQZ", 9: "IR"}
	for v, letters := range table {
		for i := range len(letters) {
			if got := LetterValue(letters[i]); got != v {
				t.Errorf("LetterValue(%c) = %d, want %d", letters[i], got, v)
			}
		}
	}
	if LetterValue('a') != 0 || LetterValue('1') != 0 {
		t.Error("LetterValue of non-upper-case letters must be 0")
	}
	vowels := []struct {
		word string
		i    int
		want bool
	}{
		{"LYNN", 1, true}, {"MARY", 3, true}, {"YVONNE", 0, true}, {"SYLVIA", 1, true},
		{"YOLANDA", 0, false}, {"MAYA", 2, false}, {"RAYMOND", 2, false}, {"JOY", 2, false},
		{"WENDY", 0, false}, {"WENDY", 4, true}, {"A", 0, true}, {"Y", 0, true},
	}
	for _, v := range vowels {
		if got := IsVowel(v.word, v.i); got != v.want {
			t.Errorf("IsVowel(%q, %d) = %v, want %v", v.word, v.i, got, v.want)
		}
	}
}

func TestCycles(t *testing.T) {
	tests := []struct {
		birth, on  string
		py, pm, pd int
	}{
		// 6 + (18→9) + (2025→9) = 24 → 6; 6 + 3 = 9; 9 + (10→1) = 10 → 1.
		{"1942-06-18", "2025-03-10", 6, 9, 1},
		// 5 + 6 + (2024→8) = 19 → 1; 1 + (12→3) = 4; 4 + (31→4) = 8.
		{"1990-05-15", "2024-12-31", 1, 4, 8},
		// Personal year changes on 1 January: 5 + 6 + (2025→9) = 20 → 2; 2 + 1 = 3; 3 + 1 = 4.
		{"1990-05-15", "2025-01-01", 2, 3, 4},
		// Masters are not kept in cycles: 11 + 11 + (2009→11) = 33 → 6; 6 + 11 = 17 → 8; 8 + 22 = 30 → 3.
		{"2009-11-11", "2009-11-22", 6, 8, 3},
		// Across a year end: 3 + 4 + (2025→9) = 16 → 7; 7 + 3 = 10 → 1; 1 + (31→4) = 5.
		{"1988-12-31", "2025-12-31", 7, 1, 5},
		// 3 + 4 + (2026→10→1) = 8; 8 + 1 = 9; 9 + 1 = 10 → 1.
		{"1988-12-31", "2026-01-01", 8, 9, 1},
		// Leap-day birth: 2 + (29→2) + (2024→8) = 12 → 3; 3 + 2 = 5; 5 + (29→2) = 7.
		{"2000-02-29", "2024-02-29", 3, 5, 7},
		// 2 + 2 + (2025→9) = 13 → 4; 4 + 2 = 6; 6 + (28→1) = 7.
		{"2000-02-29", "2025-02-28", 4, 6, 7},
	}
	for _, tt := range tests {
		c, err := CyclesOn(date(t, tt.birth), date(t, tt.on))
		if err != nil {
			t.Fatalf("CyclesOn(%s, %s): %v", tt.birth, tt.on, err)
		}
		if c.PersonalYearNumber != tt.py || c.PersonalMonthNumber != tt.pm || c.PersonalDayNumber != tt.pd || c.Date != tt.on {
			t.Errorf("CyclesOn(%s, %s) = %+v, want year %d, month %d, day %d", tt.birth, tt.on, c, tt.py, tt.pm, tt.pd)
		}
	}
}

func TestCalculate(t *testing.T) {
	r, err := CalculateOn(date(t, "1942-06-18"), "John Smith", date(t, "2025-03-10"))
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		LifePathNumber: 22, BirthdayNumber: 9, ExpressionNumber: 8, SoulUrgeNumber: 6, PersonalityNumber: 11,
		KarmicLessons: []int{3, 7}, CalculationVersion: CalculationVersion,
		Cycles: &Cycles{Date: "2025-03-10", PersonalYearNumber: 6, PersonalMonthNumber: 9, PersonalDayNumber: 1},
	}
	gj, _ := json.Marshal(r)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("CalculateOn = %s\nwant %s", gj, wj)
	}
	for _, field := range []string{`"lifePathNumber":22`, `"soulUrgeNumber":6`, `"personalDayNumber":1`, `"calculationVersion":"` + CalculationVersion + `"`} {
		if !strings.Contains(string(gj), field) {
			t.Errorf("JSON %s lacks %s", gj, field)
		}
	}

	// Without a name: no name numbers, no cycles.
	r, err = Calculate(date(t, "1990-05-15"), "  ")
	if err != nil {
		t.Fatal(err)
	}
	if r.LifePathNumber != 3 || r.BirthdayNumber != 6 || r.ExpressionNumber != 0 || r.KarmicLessons != nil || r.Cycles != nil {
		t.Errorf("Calculate without name = %+v", r)
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []string{"", "1990-02-30", "1990-13-01", "1990-00-10", "1990-5-15", "15/05/1990", "0000-01-01", "abc", "2023-02-29"} {
		if _, err := ParseDate(s); fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("ParseDate(%q) error = %v, want INVALID_ARGUMENT", s, err)
		}
	}
	bad := Date{1990, 2, 30}
	good := Date{1990, 5, 15}
	checks := map[string]error{
		"Calculate bad date":      errOf(Calculate(bad, "")),
		"Calculate no Latin name": errOf(Calculate(good, "Дмитрий")),
		"Calculate digits only":   errOf(Calculate(good, "12345")),
		"Calculate long name":     errOf(Calculate(good, strings.Repeat("a", 301))),
		"CyclesOn bad on":         errOf(CyclesOn(good, Date{2024, 4, 31})),
		"CyclesOn bad birth":      errOf(CyclesOn(bad, good)),
		"CyclesOn before birth":   errOf(CyclesOn(good, Date{1990, 5, 14})),
		"CalculateOn bad on":      errOf(CalculateOn(good, "", Date{2024, 0, 1})),
		"Name empty":              errOf(Name("")),
	}
	for name, err := range checks {
		if fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("%s: error = %v, want INVALID_ARGUMENT", name, err)
		}
	}
}

// TestNameLimitCountsLetters: the length limit is on the letters that
// count, so emoji or other scripts around a Latin name do not make it too
// long, and the two errors can be told apart.
func TestNameLimitCountsLetters(t *testing.T) {
	decorated := "Anna Svensson " + strings.Repeat("🌸", 86) // 100 characters, 358 bytes
	got, err := Name(decorated)
	want, _ := Name("Anna Svensson")
	if err != nil || !slices.Equal(got.KarmicLessons, want.KarmicLessons) || got.Expression != want.Expression ||
		got.SoulUrge != want.SoulUrge || got.Personality != want.Personality {
		t.Errorf("Name(%d bytes of name and emoji) = %+v, %v; want %+v", len(decorated), got, err, want)
	}
	if _, err := Name(strings.Repeat("a", MaxNameLetters)); err != nil {
		t.Errorf("%d letters: %v", MaxNameLetters, err)
	}
	for name, n := range map[string]string{
		"301 letters":             strings.Repeat("a", MaxNameLetters+1),
		"301 letters with spaces": strings.Repeat("ab ", 150) + "c",
		"150 ß fold to 300 + 1":   strings.Repeat("ß", 150) + "a",
		"4097 bytes":              "Anna " + strings.Repeat("🌸", 1023),
	} {
		if _, err := Name(n); !errors.Is(err, ErrNameTooLong) || fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("%s: error %v, want ErrNameTooLong", name, err)
		}
	}
	for _, n := range []string{"🌸🌸", "Дмитрий", "12345", "山田"} {
		if _, err := Calculate(Date{1990, 5, 15}, n); !errors.Is(err, ErrNoLatinLetters) || fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("%q: error %v, want ErrNoLatinLetters", n, err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

func BenchmarkCalculateOn(b *testing.B) {
	birth, on := date(b, "1942-06-18"), date(b, "2025-03-10")
	for b.Loop() {
		if _, err := CalculateOn(birth, "Åsa-Britt Ögren", on); err != nil {
			b.Fatal(err)
		}
	}
}
