package crisis

import (
	"strings"
	"sync"
)

// The concept layer generalizes beyond the phrase rules. Instead of whole
// phrases it looks, sentence by sentence, for concepts and combines them:
//
//   - death/not-being (die, dead, suicide, disappear, sleep forever, end it
//     all, stop existing, dö, försvinna, somna in, ta slut på allt …),
//     strong (fires alone) or weak (needs a cue below);
//   - living/continuing (live, be here, wake up, keep going, make it to
//     thirty, leva, finnas kvar, orka fortsätta …), which fires when negated
//     ("I don't think I'll be here next week", "så att jag slipper
//     fortsätta") together with a wish, a time or a belief cue;
//   - self-harm (cut/burn/hurt myself, fresh scars, skära mig, göra illa
//     mig själv …) — fires alone unless the sentence reads as an accident;
//   - burden (a burden, waste of space, the point of me, i vägen för alla …);
//   - means (pills, rope, tracks, bridge, tabletter, spåren …) with an act
//     ("take all my pills", "step onto the tracks") or a wish/plan cue;
//   - cues: desire, intention, plan, imagination, relief, hopelessness
//     (want, wish, imagine, tonight, easier, the only way, orkar inte …).
//
// A concept counts only when it is the writer's: the nearest subject before
// it must be the writer, generic self-talk or absent (journals are
// first-person by default), never a third person ("my dog is dying", "she
// wishes she were dead"), a thing ("my old habits to die") or "we". It does
// not count when negated ("I never wanted to die"), inside a fear frame
// ("afraid of dying"), in a clause about media, games, training or a
// question someone asked, or when the sentence places it in a past the
// writer has left ("used to … ten years clean"). Figurative idioms (killing
// me, dying to, die of embarrassment, dead tired, dödstrött, skratta
// ihjäl …) are masked before the search.
//
// Farewell cues ("this will be my last entry", "tell my mom I love her")
// and means with a cue in another sentence ("I've got the rope. I just need
// the right moment.") are judged over the whole text.
//
// Rule ids: "<lang>.concept.<name>" with name death_wish, not_living,
// self_harm, burden, means, hopeless, farewell.

// category of a lexicon entry.
type category uint8

const (
	catDeathStrong    category = iota + 1 // fires alone
	catDeathWeak                          // needs a cue
	catLive                               // fires when negated, with a cue
	catHarm                               // self-harm, fires alone
	catHarmWeak                           // self-harm words that need a cue (bleed, blades)
	catBurden                             // fires alone
	catMeansAct                           // means with an act (take all my pills): fires alone
	catMeans                              // means: needs a means cue
	catMeansCue                           // jump, tempted, how many, imagine: enough for means
	catMeansCueWeak                       // looking at, thinking about: a cue for means with another cue
	catHopelessStrong                     // fires alone (nothing to live for)
	catFarewell                           // last entry, sorry for everything: two in a text fire
	catFarewellStrong                     // tell my mom I love her, who should get my cat: fires alone
	catCue                                // desire, intention, plan, relief, hopelessness
	catBelief                             // think, believe, see myself: a cue for negated living only
	catTime                               // anymore, tonight, next week: a cue for negated living only
	catFear                               // afraid of, rädd för: blocks a following death concept
	catNegator                            // slippa, not have to: negates a following living concept
	catIdiom                              // masked before matching
	catBlock                              // blocks the whole sentence (media, games, accidents, travel) for some categories
)

// blockKind says which concepts a block entry suppresses.
type blockKind uint8

const (
	blockMedia      blockKind = 1 << iota // media, games, training, asked questions: all concepts in the clause
	blockAccident                         // accidents: self-harm concepts in the sentence
	blockTravel                           // travel: negated living in the sentence
	blockRecovery                         // explicit recovery/remission markers (with a past marker)
	blockPast                             // a past marker (used to, years ago)
	blockWork                             // work context: burden statements about a team
	blockPhilosophy                       // meditation, philosophy, nature: weak death concepts in the clause
)

// entry is one compiled lexicon pattern.
type entry struct {
	cat   category
	block blockKind
	lang  string
	toks  []ptok
	// notNext: the match does not count when the next token is one of these
	// (or, with a trailing space, starts the rest of the sentence).
	notNext []string
	// self: the pattern itself names the writer (myself, mig, my life); no
	// subject check is needed.
	self bool
	// plain: the pattern spells out its own negation ("I wish I did not
	// exist"); the look-back negation check is skipped.
	plain bool
	// needTime: a living concept that counts only with a time cue ("be
	// here" + anymore / next week).
	needTime bool
	// litNeg: the pattern itself contains a negator, so a negator inside a
	// match is not a negation of the concept.
	litNeg bool
}

// ptok is one pattern position: alternatives (each one or more words; a
// trailing * on a one-word alternative marks a prefix), an optional
// position (an empty alternative), a gap of up to gap arbitrary tokens, or
// the end of a clause.
type ptok struct {
	alts     [][]string
	prefix   []bool
	optional bool
	gap      int
	end      bool // "$": the end of a clause
}

// lexEntry is the readable form of an entry in concept_lex.go. The pattern
// is space-separated positions; "a|b" are alternatives, "kill*" a prefix,
// "just|" optional, "~3" a gap of up to three tokens.
type lexEntry struct {
	cat      category
	pats     []string
	notNext  []string
	self     bool
	plain    bool
	needTime bool
	block    blockKind
}

type conceptIndex struct {
	byFirst map[string][]*entry
	// prefixed entries, by the first byte of their prefix
	byPrefix map[byte][]*entry
}

var (
	conceptOnce sync.Once
	concepts    *conceptIndex
)

func conceptLexicon() *conceptIndex {
	conceptOnce.Do(func() {
		concepts = &conceptIndex{byFirst: map[string][]*entry{}, byPrefix: map[byte][]*entry{}}
		add := func(lang string, les []lexEntry) {
			for _, le := range les {
				for _, p := range le.pats {
					e := &entry{cat: le.cat, block: le.block, lang: lang, notNext: le.notNext, self: le.self, plain: le.plain, needTime: le.needTime}
					for _, f := range strings.Fields(p) {
						e.toks = append(e.toks, parsePtok(f))
						for _, w := range strings.FieldsFunc(f, func(r rune) bool { return r == '|' || r == '_' }) {
							if negators[w] {
								e.litNeg = true
							}
						}
					}
					first := e.toks[0]
					if first.gap > 0 || first.optional || first.end {
						panic("crisis: concept pattern starts with a gap, $ or optional token: " + p)
					}
					seen := map[string]bool{}
					for i, a := range first.alts {
						w := a[0]
						switch {
						case first.prefix[i]:
							if !seen["*"+w[:1]] {
								seen["*"+w[:1]] = true
								concepts.byPrefix[w[0]] = append(concepts.byPrefix[w[0]], e)
							}
						case !seen[w]:
							seen[w] = true
							concepts.byFirst[w] = append(concepts.byFirst[w], e)
						}
					}
				}
			}
		}
		add("en", enConcepts)
		add("sv", svConcepts)
	})
	return concepts
}

func parsePtok(f string) ptok {
	if f[0] == '~' {
		return ptok{gap: int(f[1] - '0')}
	}
	if f == "$" {
		return ptok{end: true}
	}
	var p ptok
	for _, a := range strings.Split(f, "|") {
		if a == "" {
			p.optional = true
			continue
		}
		pre := strings.HasSuffix(a, "*") && !strings.Contains(a, "_")
		p.alts = append(p.alts, strings.Split(strings.TrimSuffix(a, "*"), "_"))
		p.prefix = append(p.prefix, pre)
	}
	return p
}

// matchAt returns the end (exclusive) of the first match of e's positions
// k.. at token i, or -1. Matches do not cross clauses or masked tokens.
func matchAt(s *sentence, e *entry, k, i int) int {
	if k == len(e.toks) {
		return i
	}
	p := &e.toks[k]
	if p.end {
		if i == len(s.tokens) || (i > 0 && s.clause[i] != s.clause[i-1]) {
			return matchAt(s, e, k+1, i)
		}
		return -1
	}
	if p.gap > 0 {
		for g := 0; g <= p.gap && i+g <= len(s.tokens); g++ {
			if g > 0 && (s.tokens[i+g-1] == "" || (i+g-1 > 0 && s.clause[i+g-1] != s.clause[i+g-2])) {
				break
			}
			if end := matchAt(s, e, k+1, i+g); end >= 0 {
				return end
			}
		}
		return -1
	}
	for a, words := range p.alts {
		j := i
		ok := true
		for w, word := range words {
			if j >= len(s.tokens) || s.tokens[j] == "" || ((k > 0 || w > 0) && j > 0 && s.clause[j] != s.clause[j-1]) {
				ok = false
				break
			}
			if p.prefix[a] {
				ok = strings.HasPrefix(s.tokens[j], word)
			} else {
				ok = s.tokens[j] == word
			}
			if !ok {
				break
			}
			j++
		}
		if ok {
			if end := matchAt(s, e, k+1, j); end >= 0 {
				return end
			}
		}
	}
	if p.optional {
		return matchAt(s, e, k+1, i)
	}
	return -1
}

// hit is one lexicon match in a sentence.
type hit struct {
	e          *entry
	start, end int
}

// scan finds every lexicon match in s; lang "" uses both languages.
func (ix *conceptIndex) scan(s *sentence, lang string, into []hit) []hit {
	toks := s.tokens
	for i, t := range toks {
		if t == "" {
			continue
		}
		for _, e := range ix.byFirst[t] {
			if lang != "" && e.lang != lang {
				continue
			}
			if end := matchAt(s, e, 0, i); end >= 0 && !nextBlocked(s, end, e.notNext) {
				into = append(into, hit{e, i, end})
			}
		}
		for _, e := range ix.byPrefix[t[0]] {
			if lang != "" && e.lang != lang {
				continue
			}
			if end := matchAt(s, e, 0, i); end >= 0 && !nextBlocked(s, end, e.notNext) {
				into = append(into, hit{e, i, end})
			}
		}
	}
	return into
}

// svMarkers and enMarkers are frequent function words of one language
// only; guessLang uses them to pick the lexicon of a sentence ("dog" is
// Swedish for "died").
var svMarkers = map[string]bool{"jag": true, "och": true, "att": true, "det": true, "inte": true,
	"är": true, "som": true, "på": true, "mig": true, "har": true, "vill": true, "med": true, "för": true,
	"av": true, "så": true, "men": true, "kan": true, "var": true, "till": true, "min": true, "mitt": true,
	"mina": true, "ett": true, "en": true, "om": true, "bara": true, "aldrig": true, "du": true, "vi": true,
	"hon": true, "han": true, "de": true, "när": true, "skulle": true, "ska": true, "över": true, "efter": true}
var enMarkers = map[string]bool{"i": true, "and": true, "the": true, "to": true, "is": true, "not": true,
	"a": true, "my": true, "me": true, "it": true, "have": true, "want": true, "with": true, "for": true,
	"of": true, "that": true, "was": true, "be": true, "am": true, "this": true, "just": true, "never": true,
	"you": true, "we": true, "she": true, "he": true, "they": true, "when": true, "would": true, "will": true,
	"do": true, "all": true, "so": true, "myself": true, "about": true, "an": true, "are": true, "no": true}

func guessLang(toks []string) string {
	sv, en := 0, 0
	for _, t := range toks {
		if svMarkers[t] || strings.ContainsAny(t, "åäö") {
			sv++
		}
		if enMarkers[t] {
			en++
		}
	}
	switch {
	case sv > en:
		return "sv"
	case en > sv:
		return "en"
	}
	return ""
}

// nextBlocked reports whether the text after a match starts with one of
// the notNext words or phrases.
func nextBlocked(s *sentence, end int, notNext []string) bool {
	toks := s.tokens
	if len(notNext) == 0 || end >= len(toks) || (end > 0 && s.clause[end] != s.clause[end-1]) {
		return false
	}
	for _, n := range notNext {
		if !strings.Contains(n, " ") {
			if toks[end] == n {
				return true
			}
			continue
		}
		ws := strings.Fields(n)
		if end+len(ws) > len(toks) {
			continue
		}
		ok := true
		for j, w := range ws {
			if toks[end+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// sentScan is the concept scan of one sentence: its tokens (idioms
// masked), the lexicon matches and whether it is set in the past or
// mentions recovery.
type sentScan struct {
	s              sentence
	hits           []hit
	past, recovery bool
}

// conceptScan scans every sentence once; the phrase rules reuse the past
// and recovery flags.
func conceptScan(sents []sentence) []sentScan {
	ix := conceptLexicon()
	out := make([]sentScan, len(sents))
	for i, s := range sents {
		toks := append([]string(nil), s.tokens...)
		ms := sentence{tokens: toks, clause: s.clause}
		hits := ix.scan(&ms, guessLang(toks), nil)
		// mask idioms and drop the matches they overlap
		masked := false
		for _, h := range hits {
			if h.e.cat == catIdiom {
				for j := h.start; j < h.end; j++ {
					toks[j] = ""
				}
				masked = true
			}
		}
		sc := sentScan{s: ms}
		for _, h := range hits {
			if masked && (h.e.cat == catIdiom || overlapsMasked(toks, h)) {
				continue
			}
			if h.e.cat == catBlock {
				sc.past = sc.past || h.e.block&blockPast != 0
				sc.recovery = sc.recovery || h.e.block&blockRecovery != 0
			}
			sc.hits = append(sc.hits, h)
		}
		out[i] = sc
	}
	return out
}

func anyPast(scans []sentScan) bool {
	for _, sc := range scans {
		if sc.past {
			return true
		}
	}
	return false
}

func overlapsMasked(toks []string, h hit) bool {
	for j := h.start; j < h.end; j++ {
		if toks[j] == "" {
			return true
		}
	}
	return false
}

// conceptJudge adds the concept rule ids that fire to seen. recovered: a
// recovery marker somewhere in the text (with a past marker in a sentence,
// that sentence does not count).
func conceptJudge(scans []sentScan, recovered bool, seen map[string]bool) {
	var farewells map[string]int
	// a means in one sentence and a strong means cue in another ("I've got
	// the rope. I just need the right moment.")
	meansLang, meansCueText := "", false
	for _, sc := range scans {
		for _, h := range sc.hits {
			switch {
			case h.e.cat == catMeans && meansLang == "" && writerOwns(sc.s, h.start, h.end) && !mediaClause(sc.s, sc.hits, h.start):
				meansLang = h.e.lang
			case h.e.cat == catMeansCue && !cueNegated(sc.s, h.start):
				meansCueText = true
			}
		}
	}
	if meansLang != "" && meansCueText && len(scans) > 1 && !(recovered && anyPast(scans)) {
		seen[meansLang+".concept.means"] = true
	}
	for _, sc := range scans {
		ids, farewell := judgeSentence(sc.s, sc.hits, recovered)
		for _, id := range ids {
			seen[id] = true
		}
		if len(farewell) > 0 { // one per sentence
			if farewells == nil {
				farewells = map[string]int{}
			}
			l := farewell[0]
			farewells[l]++
			if farewells[l] >= 2 {
				seen[l+".concept.farewell"] = true
			}
		}
	}
}

// judgeSentence combines the concepts of one sentence into rule ids; it
// also returns the language of each farewell cue (two in a text fire).
func judgeSentence(s sentence, hits []hit, recovery bool) (ids, farewell []string) {
	var cue, cueAny, meansCue, belief, timeCue, past, work, wantLive bool
	weakMeans := map[int]bool{}
	var accident, travel bool
	for _, h := range hits {
		switch h.e.cat {
		case catCue:
			cueAny = true
			if h.e.plain || !cueNegated(s, h.start) {
				cue = true
			}
		case catMeansCue:
			if !cueNegated(s, h.start) {
				meansCue = true
			}
		case catMeansCueWeak:
			if !cueNegated(s, h.start) {
				weakMeans[h.start] = true
			}
		case catLive:
			// "I want to live": a protective statement in the sentence
			if !livingNegated(s, hits, h.start) && wantBefore(s, h.start) {
				wantLive = true
			}
		case catBelief:
			belief = true
		case catTime:
			timeCue = true
		case catBlock:
			if h.e.block&blockAccident != 0 {
				accident = true
			}
			if h.e.block&blockTravel != 0 {
				travel = true
			}
			if h.e.block&blockPast != 0 {
				past = true
			}
			if h.e.block&blockWork != 0 {
				work = true
			}
		}
	}
	if past && recovery {
		return nil, nil
	}
	for _, h := range hits {
		if h.e.cat == catCue && !cueNegated(s, h.start) {
			weakMeans[h.start] = true
		}
	}
	meansCue = meansCue || len(weakMeans) >= 2
	fire := func(lang, name string) {
		ids = append(ids, lang+".concept."+name)
	}
	for _, h := range hits {
		e := h.e
		switch e.cat {
		case catDeathStrong, catDeathWeak, catHarm, catHarmWeak, catBurden, catMeansAct, catMeans, catHopelessStrong, catLive, catFarewell, catFarewellStrong:
		default:
			continue
		}
		if mediaClause(s, hits, h.start) {
			continue
		}
		if e.cat == catFarewell || e.cat == catFarewellStrong {
			if travel || lookbackNegated(s, h.start) {
				continue
			}
			if e.cat == catFarewellStrong {
				fire(e.lang, "farewell")
			} else {
				farewell = append(farewell, e.lang)
			}
			continue
		}
		switch {
		case e.self && e.cat != catHarm:
		case e.cat == catBurden || e.cat == catHopelessStrong || e.cat == catHarm || e.cat == catHarmWeak:
			if thirdPartyInClause(s, h.start) {
				continue
			}
		case !writerOwns(s, h.start, h.end):
			continue
		}
		if e.cat == catLive {
			if travel || wantLive || !livingNegated(s, hits, h.start) {
				continue
			}
			if timeCue || (!e.needTime && (cueAny || belief)) {
				fire(e.lang, "not_living")
			}
			continue
		}
		if !e.plain && (lookbackNegated(s, h.start) || (!e.litNeg && spanNegated(s, h)) || subjectNegated(s, h)) {
			continue
		}
		switch e.cat {
		case catDeathStrong:
			fire(e.lang, "death_wish")
		case catDeathWeak:
			if cue && !feared(s, hits, h.start) && !blockedInClause(s, hits, h.start, blockPhilosophy) {
				fire(e.lang, "death_wish")
			}
		case catHarm:
			if !accident {
				fire(e.lang, "self_harm")
			}
		case catHarmWeak:
			if cue && !accident {
				fire(e.lang, "self_harm")
			}
		case catBurden:
			if !travel && !work {
				fire(e.lang, "burden")
			}
		case catMeansAct:
			fire(e.lang, "means")
		case catMeans:
			if meansCue {
				fire(e.lang, "means")
			}
		case catHopelessStrong:
			fire(e.lang, "hopeless")
		}
	}
	return ids, farewell
}

// cueNegated: a negator up to three tokens before a cue in its clause ("I
// don't want", "jag vill inte" is handled by the death concept's own
// look-back).
func cueNegated(s sentence, start int) bool {
	c := s.clause[start]
	for j, n := start-1, 0; j >= 0 && n < 3 && s.clause[j] == c; j, n = j-1, n+1 {
		t := s.tokens[j]
		if negators[t] || t == "longer" && j > 0 && s.tokens[j-1] == "no" {
			return true
		}
		if firstPersonTokens[t] || lookbackStop[t] {
			return false
		}
	}
	return false
}

// lookbackNegated applies the phrase rules' negation look-back within the
// clause: "I never wanted to die", "the doctor said I'm not dying", "jag
// vill inte dö". A verb-second Swedish negation after the subject ("jag
// har aldrig velat dö") is within reach; "I can't stop thinking about
// dying" is not a negation (can not stop = keep).
func lookbackNegated(s sentence, start int) bool {
	c := s.clause[start]
	from := start
	for from > 0 && s.clause[from-1] == c {
		from--
	}
	prev := s.tokens[from:start]
	for i := len(prev) - 1; i >= 0; i-- { // "no way out except dying"
		if exceptWords[prev[i]] {
			prev = prev[i+1:]
			break
		}
	}
	for i := 0; i+1 < len(prev); i++ { // "can not stop …" / "kan inte sluta …"
		if (prev[i] == "not" || prev[i] == "inte") && (prev[i+1] == "stop" || prev[i+1] == "sluta" || prev[i+1] == "help") {
			prev = prev[i+2:]
			i = -1
		}
	}
	clean := prev[:0:0]
	for i, t := range prev {
		if t == "" {
			continue
		}
		// "not scared of dying", "inte rädd för att dö": the negation is
		// of the fear, not of the concept
		if negators[t] && i+1 < len(prev) && (fearWords[prev[i+1]] || (i+2 < len(prev) && fearWords[prev[i+2]])) {
			continue
		}
		clean = append(clean, t)
	}
	return negated(clean, nil)
}

// wantBefore: a wish verb right before a living concept ("want to live",
// "vill leva").
func wantBefore(s sentence, start int) bool {
	for j, n := start-1, 0; j >= 0 && n < 3; j, n = j-1, n+1 {
		switch s.tokens[j] {
		case "want", "wanted", "wish", "vill", "ville", "vilja", "önskar", "choose", "väljer", "love", "älskar":
			return true
		}
	}
	return false
}

// spanNegated: a negator inside the match, from a gap ("jag vill inte dö").
func spanNegated(s sentence, h hit) bool {
	for j := h.start; j < h.end; j++ {
		if negators[s.tokens[j]] {
			return true
		}
	}
	return false
}

// subjectNegated: a concept that is the subject of its clause, negated in
// the next three tokens ("suicide is not an option", "självmord har
// aldrig varit något").
func subjectNegated(s sentence, h hit) bool {
	if h.end-h.start != 1 {
		return false
	}
	c := s.clause[h.start]
	for j := h.start - 1; j >= 0 && s.clause[j] == c; j-- {
		if !determiners[s.tokens[j]] && !dummySubjects[s.tokens[j]] {
			return false
		}
	}
	neg := false
	for j, n := h.end, 0; j < len(s.tokens) && n < 5 && s.clause[j] == c; j, n = j+1, n+1 {
		if fearVerbs[s.tokens[j]] {
			return false // "death does not scare me", "döden skrämmer mig inte"
		}
		if n < 3 && negators[s.tokens[j]] {
			neg = true
		}
	}
	return neg
}

var fearWords = map[string]bool{"afraid": true, "scared": true, "frightened": true, "terrified": true,
	"rädd": true, "rädda": true, "livrädd": true, "skrämd": true}

var fearVerbs = map[string]bool{"bad": true, "dålig": true, "dåligt": true, "terrible": true, "hemskt": true,
	"scare": true, "scares": true, "frighten": true, "frightens": true,
	"scary": true, "frightening": true, "skrämmer": true, "skrämmande": true, "läskigt": true, "läskig": true}

var exceptWords = map[string]bool{"except": true, "besides": true, "than": true, "but": true,
	"förutom": true, "utom": true, "än": true, "utöver": true}

// livingNegated: a living concept is negated by a negator anywhere before
// it in its clause (neg-raising: "I don't think I'll be here", "jag tror
// inte att jag finns kvar"), by "no longer"/"inte längre" right after, or
// by a negator entry (slippa, not have to, stop).
func livingNegated(s sentence, hits []hit, start int) bool {
	for _, h := range hits {
		if h.start == start && h.e.cat == catLive && !h.e.litNeg && spanNegated(s, h) {
			return true
		}
	}
	c := s.clause[start]
	for j := start - 1; j >= 0 && s.clause[j] == c; j-- {
		if negators[s.tokens[j]] {
			return true
		}
	}
	for _, h := range hits {
		if h.e.cat == catNegator && h.end <= start && start-h.end <= 3 && s.clause[h.start] == c {
			return true
		}
	}
	return false
}

// feared: a fear frame ("afraid of", "scared that I'll", "rädd för att")
// before the death concept in its clause.
func feared(s sentence, hits []hit, start int) bool {
	for _, h := range hits {
		if h.e.cat == catFear && h.start < start && start-h.end <= 2 && s.clause[h.start] == s.clause[start] && !cueNegated(s, h.start) {
			return true
		}
	}
	return false
}

// blockedInClause: a block entry of the kind in the concept's clause.
func blockedInClause(s sentence, hits []hit, start int, kind blockKind) bool {
	for _, h := range hits {
		if h.e.cat == catBlock && h.e.block&kind != 0 && s.clause[h.start] == s.clause[start] {
			return true
		}
	}
	return false
}

// mediaClause: a media, game, training or asked-question word in the
// concept's clause.
func mediaClause(s sentence, hits []hit, start int) bool {
	for _, h := range hits {
		if h.e.cat == catBlock && h.e.block&blockMedia != 0 && s.clause[h.start] == s.clause[start] {
			return true
		}
	}
	return false
}

// writerOwns walks back from a concept to the nearest subject in its
// clause. The writer (I, me, jag, mig; "you" as self-talk) or no subject at
// all means the concept is the writer's. A third person, a person noun,
// "we", or a thing as the subject ("my dog is dying", "my old habits to
// die", "the battery died") means it is not. After an infinitive marker, a
// wish verb or a preposition only persons decide ("it would be easier to
// die" is the writer's; "thinking about the bridge and dying" too).
func writerOwns(s sentence, start, end int) bool {
	c := s.clause[start]
	onlyPersons := false
	for j, n := start-1, 0; j >= 0 && s.clause[j] == c && n < 10; j, n = j-1, n+1 {
		t := s.tokens[j]
		if t == "" {
			continue
		}
		switch {
		case firstPersonTokens[t] || t == "you" || t == "du" || t == "dig" || t == "yourself" || t == "själv" || t == "mej":
			return true
		case possessiveSelf[t]:
			if j+1 == start || selfNouns[s.tokens[j+1]] {
				return true
			}
			if !onlyPersons {
				return false
			}
		case thirdPersonTokens[t] || personNouns[t] || otherSubjects[t] || isGenitivePerson(t):
			return false
		case dummySubjects[t]:
			if !onlyPersons {
				return false
			}
		case !onlyPersons && svDefiniteNoun(t):
			return false // "pendlingen kommer att ta livet av mig"
		case determiners[t]:
			if !onlyPersons && j+1 < start {
				return false
			}
		case crossWords[t]:
			onlyPersons = true
		}
	}
	// "death of my father", "döden för pappa" after the concept
	if end+1 < len(s.tokens) && (s.tokens[end] == "of" || s.tokens[end] == "för") {
		n := s.tokens[end+1]
		if thirdPersonTokens[n] || personNouns[n] || (possessiveSelf[n] && end+2 < len(s.tokens) && !selfNouns[s.tokens[end+2]]) {
			return false
		}
	}
	return true
}

var possessiveSelf = map[string]bool{"my": true, "min": true, "mitt": true, "mina": true, "mine": true}

// selfNouns after "my" still name the writer ("my life", "my own", "mitt
// liv", "my body").
var selfNouns = map[string]bool{
	"life": true, "own": true, "existence": true, "body": true, "heart": true, "self": true,
	"liv": true, "livet": true, "eget": true, "egen": true, "egna": true, "existens": true, "kropp": true,
	"hjärta": true, "wrist": true, "wrists": true, "arm": true, "arms": true, "legs": true, "leg": true,
	"thigh": true, "thighs": true, "skin": true, "handled": true, "handleden": true, "armen": true,
	"armarna": true, "låret": true, "låren": true, "benen": true, "huden": true, "stomach": true,
	"funeral": true, "grave": true, "death": true, "begravning": true, "grav": true, "död": true,
}

// otherSubjects are subjects that are not the writer.
var otherSubjects = map[string]bool{
	"we": true, "us": true, "our": true, "everyone": true, "everybody": true, "everything": true,
	"something": true, "nothing": true, "people": true, "vi": true, "oss": true, "vår": true, "vårt": true,
	"våra": true, "alla": true, "allt": true, "allting": true, "något": true, "folk": true, "mänskligheten": true,
	"humans": true, "plants": true, "plant": true, "habits": true, "vanor": true, "vanorna": true, "phone": true,
	"battery": true, "mobilen": true, "batteriet": true, "laptop": true, "datorn": true, "computer": true,
	"car": true, "bilen": true, "feet": true, "legs": true, "fötterna": true, "benen": true, "fish": true,
	"flowers": true, "blommorna": true, "växten": true, "växterna": true, "conversation": true,
	"relationship": true, "relationen": true, "party": true, "festen": true, "hope": true, "hoppet": true,
	"mood": true, "friendship": true, "vänskapen": true, "part": true, "tree": true, "trädet": true,
	"pet": true, "hamster": true, "rabbit": true, "horse": true, "bird": true, "grandparents": true,
	"one": true, "man": false,
}

// dummySubjects: "it died", "det dog" — unless after an infinitive marker
// ("it would be easier to die").
var dummySubjects = map[string]bool{"it": true, "this": true, "that": true, "det": true, "den": true,
	"detta": true, "denna": true, "these": true, "those": true}

var determiners = map[string]bool{"the": true, "a": true, "an": true, "en": true, "ett": true,
	"his": true, "her": true, "their": true, "its": true}

// crossWords: after these, the subject of the concept is the subject of a
// governing verb, so only persons decide.
var crossWords = map[string]bool{
	"to": true, "att": true, "about": true, "of": true, "på": true, "om": true, "and": true, "och": true,
	"want": true, "wanted": true, "wish": true, "wished": true, "hope": true, "vill": true, "ville": true,
	"önskar": true, "hoppas": true, "thinking": true, "think": true, "thought": true, "tänker": true,
	"tänkte": true, "funderar": true, "imagine": true, "föreställer": true, "if": true, "when": true,
	"med": true, "with": true, "like": true, "som": true, "than": true, "än": true, "for": true, "för": true,
	"just": true, "bara": true, "so": true, "så": true, "before": true, "innan": true, "until": true, "tills": true,
	"is": true, "was": true, "be": true, "seems": true, "feels": true, "är": true, "var": true, "vore": true,
	"verkar": true, "känns": true, "blir": true,
}

// thirdPartyInClause: the nearest person before the concept in its clause
// is someone else ("he feels like a burden").
func thirdPartyInClause(s sentence, start int) bool {
	c := s.clause[start]
	from := start
	for from > 0 && s.clause[from-1] == c {
		from--
	}
	return thirdPartySubject(s.tokens[from:start])
}

// svDefiniteNoun: a Swedish definite noun ("jobbet", "pendlingen",
// "tankarna") as the subject of a clause; time nouns and adverbs that end
// alike are excluded.
func svDefiniteNoun(t string) bool {
	if len(t) < 6 || svNotDefinite[t] || strings.HasSuffix(t, "igen") {
		return false // tydligen, egentligen, verkligen …
	}
	for _, suf := range []string{"en", "et", "arna", "erna", "orna", "na"} {
		if strings.HasSuffix(t, suf) {
			return true
		}
	}
	return false
}

var svNotDefinite = map[string]bool{"kvällen": true, "natten": true, "morgonen": true, "dagen": true,
	"helgen": true, "veckan": true, "månaden": true, "sommaren": true, "vintern": true, "hösten": true,
	"våren": true, "eftermiddagen": true, "förmiddagen": true, "stunden": true, "tiden": true,
	"sängen": true, "soffan": true, "mörkret": true, "duschen": true, "bilen": true, "badrummet": true,
	"sedan": true, "redan": true, "innan": true, "hemma": true, "kanske": true, "ensam": true,
	"länge": true, "själva": true, "ingen": true, "nästan": true, "senare": true, "faktiskt": true,
	"kanhända": true, "alltid": true, "ibland": true, "mycket": true, "gärna": true, "äntligen": true,
	"helt": true, "bara": true, "jättemycket": true, "väldigt": true, "liksom": true, "typ": true}

func isGenitivePerson(t string) bool {
	return len(t) > 2 && strings.HasSuffix(t, "s") && personNouns[t[:len(t)-1]]
}
