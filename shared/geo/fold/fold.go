// Package fold reduces text to a case- and diacritic-insensitive form, so
// that "Göteborg", "GÖTEBORG" and "goteborg" compare equal. It is used by
// place-name matching (package geo) and by name numerology.
package fold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// special maps Latin letters that Unicode does not decompose into a base
// letter plus combining marks. Keys are lower case.
var special = map[rune]string{
	'ß': "ss", 'ẞ': "ss",
	'æ': "ae", 'œ': "oe", 'ĳ': "ij",
	'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th",
	'ħ': "h", 'ı': "i", 'ŧ': "t", 'ŀ': "l", 'ƒ': "f",
	'ɐ': "a", 'ŋ': "n", 'ſ': "s", 'ƀ': "b", 'ɨ': "i", 'ʉ': "u",
	'ĸ': "k",
}

// Latin returns s in lower case with Latin diacritics removed and Latin
// special letters expanded (å ä → a, ö ø → o, é → e, ü → u, ß → ss, æ → ae,
// œ → oe, þ → th, ł → l). Letters of other scripts are lower-cased but kept;
// combining marks are dropped everywhere. Latin never fails; invalid UTF-8
// bytes are dropped. Latin(Latin(s)) == Latin(s).
func Latin(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	d := norm.NFD.String(s)
	for _, r := range d {
		if r == utf8.RuneError || unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if rep, ok := special[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	// Decomposition then recomposition of non-Latin scripts (e.g. Hangul)
	// keeps them comparable with input typed precomposed.
	return norm.NFC.String(b.String())
}

// Key returns the matching key of s: Latin(s) with every run of characters
// that are not letters or digits (spaces, hyphens, apostrophes, dots,
// commas) replaced by one space, trimmed. "Saint-Étienne" and
// "saint etienne" have the same key; Key(Key(s)) == Key(s).
func Key(s string) string {
	f := Latin(s)
	var b strings.Builder
	b.Grow(len(f))
	space := false
	for _, r := range f {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}
