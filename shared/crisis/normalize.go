package crisis

import (
	"strings"
	"unicode"
)

// contractions expands the informal and contracted forms that the rules
// would otherwise have to spell out twice. Keys and values are whole tokens.
var contractions = map[string]string{
	"i'm": "i am", "im": "i am", "i've": "i have", "ive": "i have", "i'd": "i would",
	"i'll":  "i will",
	"don't": "do not", "dont": "do not", "doesn't": "does not", "doesnt": "does not",
	"didn't": "did not", "didnt": "did not", "can't": "can not", "cant": "can not",
	"cannot": "can not", "couldn't": "could not", "couldnt": "could not",
	"won't": "will not", "wouldn't": "would not", "wouldnt": "would not",
	"isn't": "is not", "isnt": "is not", "aren't": "are not", "wasn't": "was not",
	"wasnt": "was not", "weren't": "were not", "ain't": "is not", "shouldn't": "should not",
	"haven't": "have not", "havent": "have not", "hasn't": "has not", "hadn't": "had not",
	"it's": "it is", "that's": "that is", "what's": "what is", "there's": "there is",
	"they'd": "they would", "they're": "they are", "we'd": "we would", "you're": "you are",
	"he'd": "he would", "she'd": "she would", "everyone'd": "everyone would",
	"wanna": "want to", "gonna": "going to", "gotta": "got to", "kinda": "kind of",
	"tryna": "trying to", "idk": "i do not know", "rn": "right now",
	"kms": "kill myself", "unalive": "kill", "unaliving": "killing", "unalived": "killed",
	"selfharm": "self harm", "selfharmed": "self harmed", "selfharming": "self harming",
	"tbh": "", "lol": "", "ngl": "", "fr": "",
}

// clauseBreakWords end a clause: negation and subject do not carry across them.
var clauseBreakWords = map[string]bool{
	"but": true, "however": true, "although": true, "though": true, "yet": true,
	"men": true, "fast": true, "dock": true, "ändå": true,
}

// musicWords mark a text that quotes songs or titles; quoted spans in such
// a text are ignored ("sang along to 'I wanna die'").
var musicWords = []string{"song", "sang", "sing", "lyric", "playlist", "album", "radio",
	"repeat", "listening", "played", "playing", "låt", "sjöng", "sjunger", "text", "titel", "title", "film", "movie", "book"}

// clause is one normalized clause: lower-case tokens joined by single spaces.
type clause struct {
	text   string
	tokens []string
}

// normalize lower-cases text, unifies quotes and apostrophes, expands
// contractions, drops quoted spans in song-like contexts and splits the
// result into clauses at sentence punctuation, commas and contrast words.
func normalize(text string) []clause {
	t := strings.ToLower(text)
	t = strings.NewReplacer("’", "'", "‘", "'", "´", "'", "`", "'",
		"“", "\"", "”", "\"", "«", "\"", "»", "\"", "„", "\"").Replace(t)
	if hasAny(t, musicWords) {
		t = dropQuoted(t)
	}
	var clauses []clause
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			clauses = append(clauses, clause{text: strings.Join(cur, " "), tokens: cur})
			cur = nil
		}
	}
	var word strings.Builder
	emit := func() {
		if word.Len() == 0 {
			return
		}
		w := strings.Trim(word.String(), "'")
		word.Reset()
		if w == "" {
			return
		}
		if exp, ok := contractions[w]; ok {
			if exp != "" {
				cur = append(cur, strings.Fields(exp)...)
			}
			return
		}
		if strings.HasSuffix(w, "'s") || strings.HasSuffix(w, "'d") {
			// possessives and 'd are not needed by any rule.
			w = w[:len(w)-2]
		}
		if clauseBreakWords[w] {
			flush()
			return
		}
		cur = append(cur, w)
	}
	for _, r := range t {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			word.WriteRune(r)
		case r == '.' || r == '!' || r == '?' || r == ';' || r == ':' || r == ',' || r == '\n' || r == '(' || r == ')':
			emit()
			flush()
		default: // spaces, hyphens, slashes, emoji
			emit()
		}
	}
	emit()
	flush()
	return clauses
}

// dropQuoted removes text between double quotes (and single quotes used as
// quotation marks around several words).
func dropQuoted(t string) string {
	var b strings.Builder
	in := false
	for _, r := range t {
		if r == '"' {
			in = !in
			b.WriteRune(' ')
			continue
		}
		if !in {
			b.WriteRune(r)
		}
	}
	if in { // unbalanced: keep the original
		return t
	}
	return b.String()
}

func hasAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
