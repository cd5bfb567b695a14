package crisis

import (
	"regexp"
	"strings"
)

// negMode says how negation affects a rule.
type negMode int

const (
	// negatable rules do not fire when negated ("I would never kill myself").
	negatable negMode = iota
	// inverted rules fire only when negated ("I don't want to live").
	inverted
	// plain rules ignore negation (the pattern spells it out).
	plain
)

// rule is one pattern with its guards. Patterns are matched against a
// clause padded with one space on each side; tokens are separated by single
// spaces, so patterns use spaces as word boundaries (RE2's \b is ASCII-only
// and would break on å, ä, ö).
type rule struct {
	id string
	// kw: the clause must contain one of these substrings before the
	// (slower) regular expression runs.
	kw   []string
	re   *regexp.Regexp
	mode negMode
	// firstPerson: skip when the nearest subject before the match is a third
	// party ("my friend … wants to die").
	firstPerson bool
	// context: skip in clauses about media, training, prevention or
	// questions asked by others.
	context bool
	// unlessNext skips a match when the rest of the clause matches it
	// (anchored at the start), unless ifNext also matches.
	unlessNext, ifNext *regexp.Regexp
	// requireNext / requirePrev must match the rest of the clause after / the
	// text before the match; unlessPrev must not match the text before.
	requireNext, requirePrev, unlessPrev *regexp.Regexp
	// altPrev, for inverted rules: fires also when the text before matches.
	altPrev *regexp.Regexp
	// remission skips a clause that places the match in a past the writer
	// has left ("I used to self-harm; ten years clean").
	remission *regexp.Regexp
}

// ruleSpec is the readable form of a rule in rules.go.
type ruleSpec struct {
	id          string
	kw          []string
	pat         string
	mode        negMode
	firstPerson bool
	context     bool
	unlessNext  string
	ifNext      string
	requireNext string
	requirePrev string
	unlessPrev  string
	altPrev     string
}

func compile(specs []ruleSpec) []*rule {
	out := make([]*rule, 0, len(specs))
	opt := func(p string) *regexp.Regexp {
		if p == "" {
			return nil
		}
		return regexp.MustCompile(p)
	}
	for _, s := range specs {
		out = append(out, &rule{
			id: s.id, kw: s.kw, re: regexp.MustCompile(s.pat), mode: s.mode,
			firstPerson: s.firstPerson, context: s.context,
			unlessNext: opt(s.unlessNext), ifNext: opt(s.ifNext),
			requireNext: opt(s.requireNext), requirePrev: opt(s.requirePrev), unlessPrev: opt(s.unlessPrev),
			altPrev: opt(s.altPrev), remission: remissionRe,
		})
	}
	return out
}

// remissionRe: "used to … clean / years ago / as a teenager / no longer",
// "brukade … för länge sedan / som tonåring / inte längre".
var remissionRe = regexp.MustCompile(`(?:used to|brukade|för många år sedan|years ago)(?: \S+){0,12} (?:clean|free|recovered|years ago|as a (?:teen|teenager|kid|child)|no longer|not anymore|since then|som tonåring|inte längre|för länge sedan|frisk|fri från)`)

func (r *rule) triggered(padded string) bool {
	if len(r.kw) == 0 {
		return true
	}
	for _, k := range r.kw {
		if strings.Contains(padded, k) {
			return true
		}
	}
	return false
}

// matches reports whether any occurrence of the pattern in the padded clause
// passes the rule's guards.
func (r *rule) matches(padded string) bool {
	for _, loc := range r.re.FindAllStringIndex(padded, -1) {
		prev := strings.TrimSpace(padded[:loc[0]])
		span := strings.TrimSpace(padded[loc[0]:loc[1]])
		next := strings.TrimSpace(padded[loc[1]:])
		if r.accept(prev, span, next) {
			return true
		}
	}
	return false
}

func (r *rule) accept(prev, span, next string) bool {
	if r.unlessNext != nil && r.unlessNext.MatchString(next) &&
		(r.ifNext == nil || !r.ifNext.MatchString(next)) {
		return false
	}
	if r.requireNext != nil && !r.requireNext.MatchString(next) {
		return false
	}
	if r.requirePrev != nil && !r.requirePrev.MatchString(prev) {
		return false
	}
	if r.unlessPrev != nil && r.unlessPrev.MatchString(prev) {
		return false
	}
	prevTokens := strings.Fields(prev)
	if r.remission != nil && r.remission.MatchString(prev+" "+span+" "+next) {
		return false
	}
	if r.firstPerson && thirdPartySubject(prevTokens) {
		return false
	}
	if r.context && mediaContext(prevTokens, strings.Fields(next)) {
		return false
	}
	neg := negated(prevTokens, strings.Fields(span))
	switch r.mode {
	case negatable:
		return !neg
	case inverted:
		return neg || (r.altPrev != nil && r.altPrev.MatchString(prev))
	}
	return true
}

// negators turn a statement around. "no one"/"nobody" are not here: rules
// that need them spell them out.
var negators = map[string]bool{
	"not": true, "never": true, "no": true, "nothing": true, "nor": true,
	"inte": true, "aldrig": true, "ingen": true, "inga": true, "inget": true, "ej": true,
	"icke": true, "ingenting": true, "zero": true, "noll": true,
}

// lookbackStop ends the negation look-back: a negator before these belongs to
// another statement ("I can't sleep and I want to die").
var lookbackStop = map[string]bool{
	"and": true, "och": true, "so": true, "så": true, "because": true, "eftersom": true,
	"when": true, "när": true, "then": true, "sedan": true, "sen": true, "if": true,
}

// negated reports whether the matched span, or up to five tokens before it
// (stopping at the subject "I"/"jag" or a conjunction), contains a negator.
// "it is not that I want to die" / "det är inte så att jag vill dö" count as
// negated.
func negated(prev, span []string) bool {
	for _, t := range span {
		if negators[t] {
			return true
		}
	}
	for i, n := len(prev)-1, 0; i >= 0 && n < 5; i, n = i-1, n+1 {
		t := prev[i]
		if t == "i" || t == "jag" {
			// "not that I …", "inte så att jag …", "inte att jag …"
			rest := strings.Join(prev[max(0, i-3):i], " ")
			return strings.HasSuffix(rest, "not that") || strings.HasSuffix(rest, "inte så att") ||
				strings.HasSuffix(rest, "inte att") || strings.HasSuffix(rest, "not like")
		}
		if lookbackStop[t] {
			return false
		}
		if negators[t] {
			return true
		}
	}
	return false
}

var firstPersonTokens = map[string]bool{"i": true, "me": true, "myself": true, "jag": true, "mig": true}

var thirdPersonTokens = map[string]bool{
	"he": true, "she": true, "they": true, "him": true, "her": true, "them": true, "his": true,
	"their": true, "hers": true, "himself": true, "herself": true, "themselves": true,
	"han": true, "hon": true, "hen": true, "de": true, "dem": true, "hans": true, "hennes": true,
	"deras": true, "sig": true, "sin": true, "sitt": true, "sina": true,
}

// personNouns are people other than the writer; a clause whose nearest
// subject is one of them is a report about someone else.
var personNouns = map[string]bool{
	"friend": true, "friends": true, "client": true, "clients": true, "patient": true, "patients": true,
	"brother": true, "sister": true, "mother": true, "mom": true, "mum": true, "dad": true,
	"father": true, "cousin": true, "uncle": true, "aunt": true, "colleague": true, "coworker": true,
	"partner": true, "boyfriend": true, "girlfriend": true, "husband": true, "wife": true,
	"son": true, "daughter": true, "kid": true, "kids": true, "child": true, "children": true,
	"teen": true, "teens": true, "teenager": true, "teenagers": true, "someone": true,
	"somebody": true, "man": true, "woman": true, "character": true, "people": true,
	"student": true, "students": true, "narrator": true, "protagonist": true, "hero": true, "heroine": true, "author": true,
	"vän": true, "vännen": true, "väninna": true, "kompis": true, "kompisen": true, "bror": true,
	"brodern": true, "syster": true, "systern": true, "mamma": true, "pappa": true, "kusin": true,
	"kollega": true, "kollegan": true, "dotter": true, "barn": true, "barnet": true,
	"morbror": true, "farbror": true, "moster": true, "faster": true, "patienten": true,
	"klient": true, "klienten": true, "pojkvän": true, "flickvän": true, "fru": true,
	"sambo": true, "någon": true, "karaktären": true, "människor": true, "kvinna": true,
	"grandmother": true, "grandfather": true, "grandma": true, "grandpa": true, "dog": true, "cat": true,
	"mormor": true, "morfar": true, "farmor": true, "farfar": true, "hunden": true, "katten": true,
	"huvudpersonen": true, "elev": true, "eleven": true, "elever": true, "tonåringar": true,
}

// thirdPartySubject walks back from the match to the nearest person word: a
// third-person pronoun or person noun means the clause is about someone
// else; "I"/"me"/"jag" (or nothing, as journal text is first-person by
// default) means it is about the writer.
func thirdPartySubject(prev []string) bool {
	for i := len(prev) - 1; i >= 0; i-- {
		t := prev[i]
		if firstPersonTokens[t] {
			return false
		}
		if thirdPersonTokens[t] || personNouns[t] {
			return true
		}
	}
	return false
}

var mediaWords = map[string]bool{
	"documentary": true, "dokumentär": true, "dokumentären": true, "article": true, "artikel": true,
	"artikeln": true, "book": true, "bok": true, "boken": true, "novel": true, "roman": true,
	"film": true, "filmen": true, "movie": true, "podcast": true, "podden": true, "training": true,
	"utbildning": true, "workshop": true, "course": true, "kurs": true, "kursen": true,
	"lecture": true, "föreläsning": true, "prevention": true, "suicidprevention": true,
	"självmordsprevention": true, "awareness": true, "statistics": true, "statistik": true,
	"research": true, "forskning": true, "hotline": true, "helpline": true, "stödlinje": true,
	"screening": true, "questionnaire": true, "formulär": true, "recognising": true,
	"recognizing": true, "series": true, "serie": true, "serien": true, "episode": true,
	"avsnitt": true, "memoir": true, "biography": true, "essay": true, "memoar": true, "song": true, "låt": true, "lyrics": true, "play": true, "pjäs": true,
	"game": true, "games": true, "gaming": true, "spel": true, "spelet": true, "level": true, "minecraft": true,
	"fortnite": true, "character": true, "karaktär": true, "karaktären": true,
}

var askedPhrases = []string{"asked if", "asked me if", "asked whether", "asked about", "frågade om",
	"frågade mig om", "asked me about"}

// mediaContext reports whether the clause is about media, training,
// prevention work or a question someone else asked.
func mediaContext(prev, next []string) bool {
	for _, t := range prev {
		if mediaWords[t] {
			return true
		}
	}
	for _, t := range next {
		if mediaWords[t] {
			return true
		}
	}
	p := strings.Join(prev, " ")
	for _, a := range askedPhrases {
		if strings.Contains(p, a) {
			return true
		}
	}
	return false
}
