// Package numerology computes the Pythagorean numerology numbers of a
// profile (life path, birthday, expression, soul urge, personality, karmic
// lessons) and the personal year, month and day of a local date.
//
// # Reduction
//
// A number is reduced by adding its decimal digits until one digit is left
// (1942 → 16 → 7). A reduction that keeps master numbers stops at 11, 22 or
// 33 as well. Every convention agrees modulo 9 (the digit sum keeps the
// remainder), so conventions differ only in which master numbers surface.
//
// Life path: the month, the day and the year of birth are each reduced
// first, keeping master numbers (November → 11, day 29 → 11, 2009 → 11),
// then the three are added and the sum reduced, again keeping master
// numbers. 1942-06-18: 6 + (18 → 9) + (1942 → 16 → 7) = 22, a master
// number; adding all digits at once (1+9+4+2+0+6+1+8 = 31 → 4) would hide
// it. We chose this "reduce each part" method because it is the one most
// numerology references teach (the month, day and year are the three
// cycles of the life path, read on their own), because it is the method
// under which a master number in a part of the date (born on the 11th or
// 29th, in November) is not lost, and because it is well defined: the
// result does not depend on how digits are grouped beyond month, day and
// year.
//
// Names use the same rule per word: each name's letter values are summed
// and reduced keeping master numbers, then the names' numbers are added and
// reduced keeping master numbers.
//
// The personal year, month and day are reduced to 1–9 without master
// numbers (they are short cycles, and the stored personalDayNumber is 1–9):
// personal year = birth month + birth day + the calendar year; personal
// month = personal year + calendar month; personal day = personal month +
// calendar day. The personal year follows the calendar year (it changes on
// 1 January, not on the birthday).
//
// # Letters
//
// Pythagorean values: A J S = 1, B K T = 2, C L U = 3, D M V = 4,
// E N W = 5, F O X = 6, G P Y = 7, H Q Z = 8, I R = 9.
//
// Vowels are A, E, I, O, U, and Y when it is not next to one of those five
// in the same word: then Y carries the syllable's vowel sound ("Lynn",
// "Mary", "Yvonne", "Sylvia"). Y next to a vowel is a consonant ("Yolanda",
// "Maya", "Raymond", "Joy"). This spelling rule stands in for the
// traditional "Y is a vowel when it sounds as one", which needs
// pronunciation; W is always a consonant.
//
// Names are folded to the Latin alphabet first: diacritics are dropped
// (å ä → A, ö ø → O, é → E, ü → U, ł → L) and ligatures and special letters
// are expanded (ß → SS, æ → AE, œ → OE, þ → TH), each resulting letter
// counting. Letters of other scripts (Greek, Cyrillic, Arabic, CJK …),
// digits and punctuation are ignored; a name with no Latin letter is
// invalid. Transliterate such names before calling.
package numerology

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/geo/fold"
)

// CalculationVersion identifies the conventions above; stored with every
// Result so that results computed under other conventions can be found and
// recomputed.
const CalculationVersion = "numerology-1.0.0"

// Name limits: MaxNameLetters bounds the letters that count (the Latin
// letters after folding), maxNameBytes the text handed in, so that emoji,
// other scripts or punctuation around a name do not make it "too long"
// while the work stays bounded.
const (
	MaxNameLetters = 300
	maxNameBytes   = 4096
)

// Errors of Name and Calculate for a name they cannot use; both are
// fault.InvalidArgument errors, to be told apart with errors.Is.
var (
	ErrNoLatinLetters = fault.Invalid("numerology: name has no Latin letters")
	ErrNameTooLong    = fault.Invalid("numerology: name longer than %d letters or %d bytes", MaxNameLetters, maxNameBytes)
)

// Date is a calendar date without time or zone (a birth date, or the local
// date of a person's day).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD". It returns a fault.InvalidArgument error
// when s is malformed, names a day that does not exist (1990-02-30), or lies
// outside years 1–9999.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fault.Invalid("numerology: date %q is not a valid YYYY-MM-DD date", s)
	}
	d := Date{t.Year(), t.Month(), t.Day()}
	return d, d.Validate()
}

// Validate returns a fault.InvalidArgument error unless d is a real date of
// years 1–9999.
func (d Date) Validate() error {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 ||
		d.Day > time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return fault.Invalid("numerology: %04d-%02d-%02d is not a valid date", d.Year, int(d.Month), d.Day)
	}
	return nil
}

// String formats d as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

func (d Date) before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// Result is a profile's numerology, the shape stored on the profile.
type Result struct {
	// LifePathNumber is 1–9, 11, 22 or 33.
	LifePathNumber int `json:"lifePathNumber" firestore:"lifePathNumber"`
	// BirthdayNumber is the day of birth reduced keeping master numbers:
	// 1–9, 11 or 22 (29 → 11).
	BirthdayNumber int `json:"birthdayNumber" firestore:"birthdayNumber"`
	// ExpressionNumber (destiny), SoulUrgeNumber (heart's desire) and
	// PersonalityNumber come from the full birth name: all letters, the
	// vowels, the consonants. 1–9, 11, 22 or 33; 0 when no name was given
	// (and SoulUrgeNumber 0 for a name without vowels, PersonalityNumber 0
	// for one without consonants).
	ExpressionNumber  int `json:"expressionNumber,omitempty" firestore:"expressionNumber,omitempty"`
	SoulUrgeNumber    int `json:"soulUrgeNumber,omitempty" firestore:"soulUrgeNumber,omitempty"`
	PersonalityNumber int `json:"personalityNumber,omitempty" firestore:"personalityNumber,omitempty"`
	// KarmicLessons are the values 1–9 that no letter of the name has,
	// ascending; nil without a name.
	KarmicLessons []int `json:"karmicLessons,omitempty" firestore:"karmicLessons,omitempty"`
	// Cycles are the personal year, month and day of a given local date,
	// when one was asked for.
	Cycles *Cycles `json:"cycles,omitempty" firestore:"cycles,omitempty"`
	// CalculationVersion is the CalculationVersion constant.
	CalculationVersion string `json:"calculationVersion" firestore:"calculationVersion"`
}

// Cycles are the personal numbers of one local date, each 1–9.
type Cycles struct {
	// Date is the local date, "YYYY-MM-DD".
	Date                string `json:"date" firestore:"date"`
	PersonalYearNumber  int    `json:"personalYearNumber" firestore:"personalYearNumber"`
	PersonalMonthNumber int    `json:"personalMonthNumber" firestore:"personalMonthNumber"`
	PersonalDayNumber   int    `json:"personalDayNumber" firestore:"personalDayNumber"`
}

// Calculate returns the numerology of a birth date and, when name is not
// blank, of the full birth name. It returns a fault.InvalidArgument error
// for an invalid date, or Name's error (ErrNoLatinLetters, ErrNameTooLong)
// for a name it cannot use.
func Calculate(birth Date, name string) (Result, error) {
	if err := birth.Validate(); err != nil {
		return Result{}, err
	}
	r := Result{
		LifePathNumber:     LifePath(birth),
		BirthdayNumber:     Birthday(birth),
		CalculationVersion: CalculationVersion,
	}
	if strings.TrimSpace(name) == "" {
		return r, nil
	}
	n, err := Name(name)
	if err != nil {
		return Result{}, err
	}
	r.ExpressionNumber, r.SoulUrgeNumber, r.PersonalityNumber = n.Expression, n.SoulUrge, n.Personality
	r.KarmicLessons = n.KarmicLessons
	return r, nil
}

// CalculateOn is Calculate with the personal cycles of the local date on
// (see CyclesOn for its errors).
func CalculateOn(birth Date, name string, on Date) (Result, error) {
	r, err := Calculate(birth, name)
	if err != nil {
		return Result{}, err
	}
	c, err := CyclesOn(birth, on)
	if err != nil {
		return Result{}, err
	}
	r.Cycles = &c
	return r, nil
}

// IsMaster reports whether n is a master number (11, 22, 33).
func IsMaster(n int) bool { return n == 11 || n == 22 || n == 33 }

// digitSum returns the sum of the decimal digits of n ≥ 0.
func digitSum(n int) int {
	s := 0
	for ; n > 0; n /= 10 {
		s += n % 10
	}
	return s
}

// Reduce adds the digits of n ≥ 0 until a single digit remains, or, with
// keepMasters, until a master number (11, 22, 33) is reached. Reduce(0, …)
// is 0; a negative n is reduced as −n.
func Reduce(n int, keepMasters bool) int {
	if n < 0 {
		n = -n
	}
	for n > 9 && !(keepMasters && IsMaster(n)) {
		n = digitSum(n)
	}
	return n
}

// LifePath returns the life path number of a birth date (1–9, 11, 22, 33):
// month, day and year reduced separately keeping master numbers, then added
// and reduced keeping master numbers. The date is not validated.
func LifePath(birth Date) int {
	m := Reduce(int(birth.Month), true)
	d := Reduce(birth.Day, true)
	y := Reduce(birth.Year, true)
	return Reduce(m+d+y, true)
}

// Birthday returns the birthday number: the day of the month reduced
// keeping master numbers (1–9, 11, 22).
func Birthday(birth Date) int {
	return Reduce(birth.Day, true)
}

// PersonalYear returns the personal year number (1–9) of the calendar year:
// birth month + birth day + year, reduced without master numbers.
func PersonalYear(birth Date, year int) int {
	return Reduce(Reduce(int(birth.Month), false)+Reduce(birth.Day, false)+Reduce(year, false), false)
}

// PersonalMonth returns the personal month number (1–9) of a calendar month:
// personal year + month, reduced without master numbers.
func PersonalMonth(birth Date, year int, month time.Month) int {
	return Reduce(PersonalYear(birth, year)+Reduce(int(month), false), false)
}

// PersonalDay returns the personal day number (1–9) of a local date:
// personal month + day of the month, reduced without master numbers.
func PersonalDay(birth Date, on Date) int {
	return Reduce(PersonalMonth(birth, on.Year, on.Month)+Reduce(on.Day, false), false)
}

// CyclesOn returns the personal year, month and day of the local date on. It
// returns a fault.InvalidArgument error when either date is invalid or on is
// before the birth date.
func CyclesOn(birth, on Date) (Cycles, error) {
	if err := birth.Validate(); err != nil {
		return Cycles{}, err
	}
	if err := on.Validate(); err != nil {
		return Cycles{}, err
	}
	if on.before(birth) {
		return Cycles{}, fault.Invalid("numerology: date %s is before the birth date", on)
	}
	return Cycles{
		Date:                on.String(),
		PersonalYearNumber:  PersonalYear(birth, on.Year),
		PersonalMonthNumber: PersonalMonth(birth, on.Year, on.Month),
		PersonalDayNumber:   PersonalDay(birth, on),
	}, nil
}

// NameNumbers are the numbers of a name.
type NameNumbers struct {
	Expression    int   // all letters
	SoulUrge      int   // vowels (0 if none)
	Personality   int   // consonants (0 if none)
	KarmicLessons []int // values 1–9 absent from the name
}

// Name returns the numbers of a full name (see the package documentation for
// the letter rules). It returns ErrNoLatinLetters for a name with no Latin
// letter, and ErrNameTooLong for one with more than MaxNameLetters letters
// (after folding: "ß" is two) or longer than 4096 bytes; characters that
// are not Latin letters count only towards the byte limit.
func Name(name string) (NameNumbers, error) {
	if len(name) > maxNameBytes {
		return NameNumbers{}, ErrNameTooLong
	}
	words := Letters(name)
	if len(words) == 0 {
		return NameNumbers{}, ErrNoLatinLetters
	}
	letters := 0
	for _, w := range words {
		letters += len(w)
	}
	if letters > MaxNameLetters {
		return NameNumbers{}, ErrNameTooLong
	}
	var all, vow, con int
	var seen [10]bool
	for _, w := range words {
		var a, v, c int
		for i := range w {
			val := LetterValue(w[i])
			seen[val] = true
			a += val
			if IsVowel(w, i) {
				v += val
			} else {
				c += val
			}
		}
		all += Reduce(a, true)
		vow += Reduce(v, true)
		con += Reduce(c, true)
	}
	n := NameNumbers{
		Expression:  Reduce(all, true),
		SoulUrge:    Reduce(vow, true),
		Personality: Reduce(con, true),
	}
	for d := 1; d <= 9; d++ {
		if !seen[d] {
			n.KarmicLessons = append(n.KarmicLessons, d)
		}
	}
	return n, nil
}

// Letters folds name to the Latin alphabet and returns its words as upper
// case A–Z strings; everything else (other scripts, digits, punctuation)
// separates or is dropped. "Åsa-Britt Ögren" → ["ASA", "BRITT", "OGREN"].
func Letters(name string) []string {
	f := fold.Latin(name)
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range f {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		case r == '\'' || r == '’':
			// O'Brien is one word.
		default:
			flush()
		}
	}
	flush()
	return slices.Clip(words)
}

// LetterValue returns the Pythagorean value (1–9) of an upper-case letter
// A–Z, and 0 for any other byte.
func LetterValue(c byte) int {
	if c < 'A' || c > 'Z' {
		return 0
	}
	return int(c-'A')%9 + 1
}

// IsVowel reports whether word[i] (word in upper case A–Z) counts as a
// vowel: A, E, I, O, U always; Y when neither neighbour in the word is one
// of A, E, I, O, U.
func IsVowel(word string, i int) bool {
	switch word[i] {
	case 'A', 'E', 'I', 'O', 'U':
		return true
	case 'Y':
		if i > 0 && isAEIOU(word[i-1]) {
			return false
		}
		if i+1 < len(word) && isAEIOU(word[i+1]) {
			return false
		}
		return true
	}
	return false
}

func isAEIOU(c byte) bool {
	return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U'
}
