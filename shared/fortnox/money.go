package fortnox

import (
	"bytes"
	"math/big"
	"strconv"
)

// Amount is an amount of money in öre, the minor unit of SEK (1 krona = 100
// öre). Our side of the system keeps money in integer minor units; the
// Fortnox API speaks decimal kronor. Amount converts exactly in both
// directions:
//
//   - MarshalJSON formats from integers only (kronor = a / 100, öre = a % 100),
//     so 123456 is written as the JSON number 1234.56 with no float64 in
//     between and no binary rounding drift.
//   - UnmarshalJSON parses the JSON number literal as an exact rational
//     (math/big.Rat), multiplies by 100 and rejects anything that is not a
//     whole number of öre ("0.001") or does not fit in an int64, instead of
//     rounding. Exponent forms ("1.5E2") and quoted numbers ("12.50") are
//     accepted, as Fortnox answers numbers in several shapes.
type Amount int64

// MaxAmount is the largest amount Fortnox accepts in a voucher row's Debit or
// Credit: at most 14 digits including the two decimals, i.e.
// 999 999 999 999.99 kronor.
const MaxAmount Amount = 99_999_999_999_999

// Kronor formats a as a decimal kronor string with exactly two decimals
// ("1234.56", "-0.05", "0.00").
func (a Amount) Kronor() string {
	var buf [32]byte
	return string(a.appendKronor(buf[:0]))
}

// String implements fmt.Stringer with the same text as Kronor.
func (a Amount) String() string { return a.Kronor() }

func (a Amount) appendKronor(b []byte) []byte {
	u := uint64(a)
	if a < 0 {
		b = append(b, '-')
		u = -u // two's complement: also right for math.MinInt64
	}
	b = strconv.AppendUint(b, u/100, 10)
	frac := u % 100
	return append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
}

// MarshalJSON writes a as a JSON number in kronor with two decimals.
func (a Amount) MarshalJSON() ([]byte, error) {
	return a.appendKronor(make([]byte, 0, 24)), nil
}

// UnmarshalJSON reads a JSON number (or a quoted number, or null meaning 0)
// in kronor. It fails, rather than rounds, when the value is not a whole
// number of öre or is out of the int64 range.
func (a *Amount) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*a = 0
		return nil
	}
	if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		data = data[1 : len(data)-1]
	}
	v, err := ParseKronor(string(data))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

var (
	hundred  = big.NewRat(100, 1)
	minInt64 = new(big.Int).SetInt64(-1 << 63)
	maxInt64 = new(big.Int).SetInt64(1<<63 - 1)
)

// ParseKronor parses a decimal kronor amount ("1234.56", "-0.05", "1e3",
// "12.500") exactly into öre. It returns an InvalidArgument error when s is
// not a number, has a non-zero digit below the öre, or overflows int64.
func ParseKronor(s string) (Amount, error) {
	if s == "" || len(s) > 64 || !isNumberLiteral(s) {
		return 0, invalidf("fortnox: amount %q is not a decimal number", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, invalidf("fortnox: amount %q is not a decimal number", s)
	}
	r.Mul(r, hundred)
	if !r.IsInt() {
		return 0, invalidf("fortnox: amount %q has fractions of an öre", s)
	}
	n := r.Num()
	if n.Cmp(minInt64) < 0 || n.Cmp(maxInt64) > 0 {
		return 0, invalidf("fortnox: amount %q is out of range", s)
	}
	return Amount(n.Int64()), nil
}

// isNumberLiteral accepts the JSON number grammar (plus a leading '+'), so
// that big.Rat's other syntaxes ("1/3", "0x10", "Inf") are refused.
func isNumberLiteral(s string) bool {
	i := 0
	if s[i] == '-' || s[i] == '+' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	intDigits := digits()
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		fracDigits = digits()
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
