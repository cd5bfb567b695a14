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
	"kms": "kill myself", "sewerslide": "suicide", "sewersliding": "suicide", "sewerslided": "suicide", "unalive": "kill", "unaliving": "killing", "unalived": "killed",
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

// sentence is one normalized sentence for the concept layer: its tokens and,
// per token, the index of the clause it belongs to (clauses end at commas,
// semicolons, colons and contrast words; negation does not cross them).
type sentence struct {
	tokens []string
	clause []int
}

// clauses splits a sentence into its clauses.
func (s sentence) clauses() []clause {
	var out []clause
	start := 0
	for i := 1; i <= len(s.tokens); i++ {
		if i == len(s.tokens) || s.clause[i] != s.clause[start] {
			toks := s.tokens[start:i:i]
			out = append(out, clause{text: strings.Join(toks, " "), tokens: toks})
			start = i
		}
	}
	return out
}

// segment normalizes text (lower case, one kind of quote and apostrophe,
// contractions expanded, quoted spans dropped in song-like contexts) and
// splits it into sentences (at . ! ? and line breaks), each token marked
// with its clause (sentence.clauses splits them).
func segment(text string) []sentence {
	t := strings.ToLower(text)
	t = strings.NewReplacer("’", "'", "‘", "'", "´", "'", "`", "'",
		"“", "\"", "”", "\"", "«", "\"", "»", "\"", "„", "\"").Replace(t)
	if hasAny(t, musicWords) {
		t = dropQuoted(t)
	}
	var out []sentence
	var cur sentence
	clauseIdx := 0
	newClause := func() {
		if len(cur.clause) > 0 && cur.clause[len(cur.clause)-1] == clauseIdx {
			clauseIdx++
		}
	}
	flushSentence := func() {
		if len(cur.tokens) > 0 {
			out = append(out, cur)
		}
		cur = sentence{}
		clauseIdx = 0
	}
	add := func(w string) {
		cur.tokens = append(cur.tokens, w)
		cur.clause = append(cur.clause, clauseIdx)
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
			for _, x := range strings.Fields(exp) {
				add(x)
			}
			return
		}
		if strings.HasSuffix(w, "'s") || strings.HasSuffix(w, "'d") {
			// possessives and 'd are not needed by any rule.
			w = w[:len(w)-2]
		}
		if clauseBreakWords[w] {
			newClause()
			return
		}
		add(w)
	}
	for _, r := range t {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			word.WriteRune(r)
		case r == '.' || r == '!' || r == '?' || r == '\n':
			emit()
			flushSentence()
		case r == ';' || r == ':' || r == ',' || r == '(' || r == ')':
			emit()
			newClause()
		default: // spaces, hyphens, slashes, emoji
			emit()
		}
	}
	emit()
	flushSentence()
	return out
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
