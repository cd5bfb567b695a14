package analysis

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/innerjourney/functions/shared/fault"
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("analysis: %w", fault.Invalid(format, args...))
}

// tokKind classifies tokens.
type tokKind int

const (
	tkWord tokKind = iota
	tkEmoji
	tkPunct // . ! ? , ; : and line breaks: ends negation scope
)

// token is one unit of text. lower is the lower-cased form (with
// contractions expanded, one token per word); caps marks a word written in
// capitals (emphasis).
type token struct {
	kind  tokKind
	lower string
	caps  bool
	// sent is the sentence index.
	sent int
}

// enContractions expands English contractions into separate tokens.
var enContractions = map[string][]string{
	"don't": {"do", "not"}, "dont": {"do", "not"}, "doesn't": {"does", "not"}, "doesnt": {"does", "not"},
	"didn't": {"did", "not"}, "didnt": {"did", "not"}, "can't": {"can", "not"}, "cant": {"can", "not"},
	"cannot": {"can", "not"}, "couldn't": {"could", "not"}, "couldnt": {"could", "not"},
	"won't": {"will", "not"}, "wont": {"will", "not"}, "wouldn't": {"would", "not"}, "wouldnt": {"would", "not"},
	"isn't": {"is", "not"}, "isnt": {"is", "not"}, "aren't": {"are", "not"}, "arent": {"are", "not"},
	"wasn't": {"was", "not"}, "wasnt": {"was", "not"}, "weren't": {"were", "not"}, "ain't": {"is", "not"},
	"shouldn't": {"should", "not"}, "shouldnt": {"should", "not"}, "haven't": {"have", "not"},
	"havent": {"have", "not"}, "hasn't": {"has", "not"}, "hasnt": {"has", "not"}, "hadn't": {"had", "not"},
	"mustn't": {"must", "not"}, "needn't": {"need", "not"},
	"i'm": {"i", "am"}, "im": {"i", "am"}, "i've": {"i", "have"}, "ive": {"i", "have"},
	"i'd": {"i", "would"}, "i'll": {"i", "will"}, "it's": {"it", "is"}, "that's": {"that", "is"},
	"what's": {"what", "is"}, "there's": {"there", "is"}, "you're": {"you", "are"}, "we're": {"we", "are"},
	"they're": {"they", "are"}, "let's": {"let", "us"}, "wanna": {"want", "to"}, "gonna": {"going", "to"},
	"kinda": {"kind", "of"}, "sorta": {"sort", "of"},
}

// emoticons recognised before tokenization.
var emoticonList = []string{":'(", ":-)", ":-(", ":-D", ":)", ":(", ":D", ";)", ";-)", "<3", ":/", ":-/", ":|", "=)", "=(", ":p", ":P"}

// tokenize splits text into tokens: words (letters, digits, apostrophes,
// inner hyphens), emojis and emoticons, and scope-ending punctuation.
func tokenize(text string) []token {
	var toks []token
	sent := 0
	mixedCase := hasLower(text)
	var word []rune
	flush := func() {
		if len(word) == 0 {
			return
		}
		w := strings.Trim(string(word), "'-")
		word = word[:0]
		if w == "" {
			return
		}
		caps := mixedCase && len([]rune(w)) > 1 && isUpper(w)
		lw := strings.ToLower(w)
		if exp, ok := enContractions[lw]; ok {
			for _, e := range exp {
				toks = append(toks, token{kind: tkWord, lower: e, caps: caps, sent: sent})
			}
			return
		}
		// Possessive 's is dropped ("today's" → "today").
		lw = strings.TrimSuffix(lw, "'s")
		toks = append(toks, token{kind: tkWord, lower: lw, caps: caps, sent: sent})
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == ':' || r == ';' || r == '<' || r == '=' {
			if emo := matchEmoticon(rs[i:]); emo != "" {
				flush()
				toks = append(toks, token{kind: tkEmoji, lower: emo, sent: sent})
				i += len([]rune(emo)) - 1
				continue
			}
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’':
			if r == '’' {
				r = '\''
			}
			word = append(word, r)
		case r == '-' && len(word) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			word = append(word, r)
		case r == '.' || r == '!' || r == '?' || r == '\n' || r == '…':
			flush()
			toks = append(toks, token{kind: tkPunct, lower: string(r), sent: sent})
			sent++
		case r == ',' || r == ';' || r == ':' || r == '(' || r == ')' || r == '–' || r == '—':
			flush()
			toks = append(toks, token{kind: tkPunct, lower: string(r), sent: sent})
		case isEmojiRune(r):
			flush()
			e := string(r)
			// keep a following variation selector with the emoji
			if i+1 < len(rs) && rs[i+1] == '\ufe0f' {
				i++
			}
			toks = append(toks, token{kind: tkEmoji, lower: e, sent: sent})
		default:
			flush()
		}
	}
	flush()
	return toks
}

func matchEmoticon(rs []rune) string {
	for _, e := range emoticonList {
		er := []rune(e)
		if len(rs) < len(er) {
			continue
		}
		if string(rs[:len(er)]) == e {
			// must be followed by space, punctuation or end
			if len(rs) == len(er) || !unicode.IsLetter(rs[len(er)]) {
				return e
			}
		}
	}
	return ""
}

func isEmojiRune(r rune) bool {
	return (r >= 0x1F300 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || r == 0x2764
}

func hasLower(s string) bool {
	for _, r := range s {
		if unicode.IsLower(r) {
			return true
		}
	}
	return false
}

func isUpper(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
			if !unicode.IsUpper(r) {
				return false
			}
		}
	}
	return letters > 0
}

var svMarkers = map[string]bool{
	"jag": true, "och": true, "att": true, "det": true, "är": true, "inte": true, "som": true,
	"på": true, "för": true, "med": true, "har": true, "var": true, "mig": true, "kände": true,
	"min": true, "mitt": true, "men": true, "så": true, "idag": true, "en": false, "ett": true,
	"av": true, "om": true, "vi": true, "känner": true, "mår": true, "efter": true, "också": true,
	"till": true, "över": true, "när": true, "då": true, "hela": true, "dagen": true, "bra": true,
	"väldigt": true, "mycket": true, "lite": true, "jätte": true, "kändes": true, "känns": true,
}

var enMarkers = map[string]bool{
	"i": true, "the": true, "and": true, "to": true, "is": true, "was": true, "not": true,
	"my": true, "it": true, "of": true, "a": true, "in": true, "me": true, "felt": true,
	"but": true, "so": true, "today": true, "feel": true, "this": true, "that": true, "with": true,
	"for": true, "am": true, "have": true, "be": true, "after": true, "really": true, "very": true,
	"are": true, "you": true, "we": true, "they": true, "do": true, "did": true, "at": true,
}

// detectLanguage returns "sv" or "en" from function words and Swedish
// letters; the hint decides only when the text's evidence is unclear.
func detectLanguage(text string, toks []token, hint string) string {
	lang, _ := detectLanguageConf(text, toks, hint)
	return lang
}

// detectLanguageConf returns "sv" or "en" from the text (function words
// and å/ä/ö) and whether the evidence was clear: a margin of at least two
// marker words. The text decides whenever it is clear, whatever the hint:
// a user's locale says which language the app speaks, not which one the
// entry is written in. When it is unclear, hint (read with LanguageOf:
// "en", "sv", "en-…", "sv_…"; anything else is no hint) breaks the tie;
// without one the side with more markers wins (English on equal counts).
func detectLanguageConf(text string, toks []token, hint string) (string, bool) {
	sv, en := 0.0, 0.0
	for _, t := range toks {
		if t.kind != tkWord {
			continue
		}
		if svMarkers[t.lower] {
			sv++
		}
		if enMarkers[t.lower] {
			en++
		}
	}
	for _, r := range text {
		if r == 'å' || r == 'ä' || r == 'ö' || r == 'Å' || r == 'Ä' || r == 'Ö' {
			sv += 0.5
		}
	}
	clear := sv-en >= 2 || en-sv >= 2
	if !clear {
		if h := LanguageOf(hint); h != "" {
			return h, false
		}
	}
	if sv > en {
		return "sv", clear
	}
	return "en", clear
}

// LanguageOf returns the language of a language hint or locale: "sv" or
// "en" when localeOrHint is that language alone or followed by "-" or "_"
// and a region ("sv", "sv-SE", "en-GB", "en_US", any case), "" for
// anything else (another language, "english", "", a string with
// surrounding spaces). It never fails; "" means no usable hint. The
// reflection trigger turns a user's locale into Entry.Lang with it, and
// Entry.Validate and the offline language detector read Entry.Lang with
// it.
func LanguageOf(localeOrHint string) string {
	h := strings.ToLower(localeOrHint)
	for _, l := range []string{"sv", "en"} {
		if h == l || strings.HasPrefix(h, l+"-") || strings.HasPrefix(h, l+"_") {
			return l
		}
	}
	return ""
}
