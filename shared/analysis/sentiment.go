package analysis

import (
	"math"
	"strings"
	"sync"

	"github.com/jonreiter/govader"
)

// Scoring constants (VADER's where VADER has one).
const (
	capsIncr        = 0.733 // a word in capitals in mixed-case text
	negPositive     = -0.74 // "not happy": a negated positive word
	negNegative     = -0.5  // "not stressed": a negated negative word is mildly positive
	lessFlip        = -0.5  // "less anxious": the opposite direction, weaker
	feelBoost       = 1.2   // "I feel calm": the writer's own state
	contrastBefore  = 0.5   // words before "but"/"men"
	contrastAfter   = 1.5   // words after it
	concessiveScale = 0.5   // words in an "although …" clause
	exclaimIncr     = 0.292 // per "!", at most 4
	negatedNeutral  = -0.8  // a sentence whose only signal is a negation
	alpha           = 15.0  // compound = s / sqrt(s² + alpha)
	// NeutralBand: |score| below it is labelled neutral.
	NeutralBand = 0.05
)

// lexicons holds the merged English lexicon (VADER's plus enLexicon) and
// the phrase tables, built once.
type lexicons struct {
	en        map[string]float64
	squeezed  map[string]float64 // en keyed by squeeze(word), for misspellings
	enPhrases map[string]float64
	svPhrases map[string]float64
	maxPhrase int
}

var (
	lexOnce sync.Once
	lex     *lexicons
)

func loadLexicons() *lexicons {
	lexOnce.Do(func() {
		v := govader.NewSentimentIntensityAnalyzer()
		en := make(map[string]float64, len(v.Lexicon)+len(enLexicon)+len(enGeneral))
		for _, m := range []map[string]float64{v.Lexicon, enGeneral, enLexicon} {
			for w, s := range m {
				en[w] = s
			}
		}
		squeezed := make(map[string]float64, len(en))
		for w, s := range en {
			if len(w) >= 6 {
				if k := squeeze(w); k != w {
					squeezed[k] = s
				}
			}
		}
		l := &lexicons{en: en, squeezed: squeezed, enPhrases: enPhrases, svPhrases: svPhrases}
		for _, m := range []map[string]float64{enPhrases, svPhrases} {
			for p := range m {
				if n := len(strings.Fields(p)); n > l.maxPhrase {
					l.maxPhrase = n
				}
			}
		}
		lex = l
	})
	return lex
}

// svVerbs are Swedish verbs that a following "inte"/"aldrig" negates.
var svVerbs = map[string]bool{
	"gillade": true, "gillar": true, "älskar": true, "älskade": true, "hjälpte": true,
	"hjälper": true, "fungerade": true, "fungerar": true, "trivs": true, "trivdes": true,
	"njöt": true, "njuter": true, "uppskattar": true, "uppskattade": true, "hatar": true,
	"oroar": true, "skäms": true, "ångrar": true, "lyckades": true, "värker": true,
	"känns": true, "kändes": true, "mår": true, "mådde": true,
}

// sentiment is the outcome of scoring one text.
type sentiment struct {
	compound  float64
	magnitude float64
	label     Label
	// hits counts sentiment-bearing tokens.
	hits int
}

// scoreText scores tokenized text in language lang ("en" or "sv").
func scoreText(toks []token, lang string) sentiment {
	l := loadLexicons()
	n := len(toks)
	if n == 0 {
		return sentiment{label: Neutral}
	}
	sv := lang == "sv"
	lemmas := make([]string, n)
	for i, t := range toks {
		lemmas[i] = t.lower
		if !sv {
			if lm, ok := enLemma[t.lower]; ok {
				lemmas[i] = lm
			}
		}
	}
	vals := make([]float64, n)
	preBoost := make([]float64, n) // from an intensity adjective before the word
	consumed := make([]bool, n)
	scored := make([]bool, n)
	phrases := l.enPhrases
	if sv {
		phrases = l.svPhrases
	}

	// 1. phrases, longest first
	for i := 0; i < n; i++ {
		if toks[i].kind != tkWord {
			continue
		}
		for size := l.maxPhrase; size >= 2; size-- {
			if i+size > n || !allWords(toks[i:i+size]) {
				continue
			}
			key := strings.Join(lemmas[i:i+size], " ")
			v, ok := phrases[key]
			if !ok && !sv {
				key = strings.Join(surface(toks[i:i+size]), " ")
				v, ok = phrases[key]
			}
			if !ok {
				continue
			}
			vals[i] = v
			scored[i] = v != 0
			for k := i; k < i+size; k++ {
				consumed[k] = true
			}
			// a phrase that starts with a negator carries its own negation
			i += size - 1
			break
		}
	}

	// 2. single words and emojis
	for i, t := range toks {
		if consumed[i] {
			continue
		}
		switch t.kind {
		case tkEmoji:
			if v, ok := emojiValence[t.lower]; ok {
				vals[i], scored[i] = v, true
			}
		case tkWord:
			if isBooster(toks, i, sv) {
				continue
			}
			if isNegator(t.lower, sv) {
				if !sv && strings.HasPrefix(t.lower, "lack") {
					vals[i], scored[i] = -1.0, true
				}
				continue
			}
			if !sv && intensityAdjectives[t.lower] && i+1 < len(toks) {
				if nv, ok := lookupWord(l, toks[i+1].lower, false); ok && nv < 0 {
					preBoost[i+1] = -0.293
					continue
				}
			}
			if !sv && (t.lower == "like" || t.lower == "likes" || t.lower == "liked") &&
				(i == 0 || !likeSubjects[toks[i-1].lower]) {
				continue
			}
			if v, ok := lookupWord(l, t.lower, sv); ok && v != 0 {
				vals[i], scored[i] = v+preBoost[i], true
				if pb := svPrefixBoosted(t.lower, sv); pb {
					vals[i] += sign(v) * 0.293
				}
			}
		}
	}

	// 2b. ratings ("3 out of 10", "10/10", "5 stars") and "too" before a
	// word without valence ("too politically correct", "for länge")
	if !sv {
		for i := range toks {
			if v, ok := ratingAt(toks, i); ok && !consumed[i] {
				vals[i], scored[i] = v, true
			}
			if toks[i].lower == "too" && i+1 < n && toks[i+1].kind == tkWord && !scored[i+1] &&
				!consumed[i+1] && !tooNeutral[toks[i+1].lower] && (i+2 >= n || toks[i+2].lower != "to") {
				vals[i], scored[i] = -1.0, true
			}
		}
	}

	// 3. modifiers: caps, boosters, "less", negation, feel verbs
	for i, t := range toks {
		if !scored[i] {
			continue
		}
		v := vals[i]
		if t.caps {
			v += sign(v) * capsIncr
		}
		for d, j := 1, i-1; j >= 0 && d <= 3; d, j = d+1, j-1 {
			tj := toks[j]
			if tj.kind == tkPunct || isContrast(tj.lower, sv) {
				break
			}
			if consumed[j] || scored[j] {
				continue
			}
			if b, ok := boosterValue(toks, j, sv); ok {
				if d == 1 && (tj.lower == "less" || tj.lower == "mindre" || tj.lower == "fewer") {
					v *= lessFlip
					break
				}
				scale := [...]float64{1, 0.95, 0.9}[d-1]
				v += sign(v) * b * scale
			}
		}
		if negatedAt(toks, consumed, i, sv) {
			switch {
			case v < 0 && !sv && adviceNoFlip[lemmas[i]] && imperativeNegation(toks, i):
				v -= 0.5 // "don't (even) waste your time": advice, still negative
			case v > 0:
				v *= negPositive
			default:
				v *= negNegative
			}
		}
		if v > 0 && comparativeIntensifiers[t.lower] && prevNegativeInClause(toks, vals, scored, i, sv) {
			v = -v // "the anxiety came back stronger"
		}
		if followsFeelVerb(toks, i) {
			v *= feelBoost
		}
		vals[i] = v
	}

	// 3b. "I wouldn't eat here again", "never again": a refusal to repeat
	if !sv {
		for i := range toks {
			if toks[i].lower != "again" || scored[i] || consumed[i] {
				continue
			}
			for j := i - 1; j >= 0 && j >= i-6; j-- {
				if toks[j].kind == tkPunct || isContrast(toks[j].lower, sv) {
					break
				}
				if (toks[j].lower == "not" || toks[j].lower == "never") && j > 0 &&
					(toks[j-1].lower == "would" || toks[j-1].lower == "will" || toks[j-1].lower == "could" || toks[j].lower == "never") {
					vals[i], scored[i] = -1.8, true
					break
				}
			}
		}
	}

	// 4. a negated statement without any sentiment word leans negative
	// ("it didn't charge", "doesn't hold", "jag sov inte")
	negOnly := negatedNeutralSentences(toks, scored, sv)

	// 5. contrast and concession
	weights := contrastWeights(toks, sv)

	sum, abs, hits := 0.0, 0.0, 0
	for i := range toks {
		if !scored[i] {
			continue
		}
		w := vals[i] * weights[i]
		sum += w
		abs += math.Abs(w)
		hits++
	}
	for _, i := range negOnly {
		v := negatedNeutral * weights[i]
		sum += v
		abs += math.Abs(v)
		hits++
	}
	if sum != 0 {
		ex := 0
		for _, t := range toks {
			if t.lower == "!" {
				ex++
			}
		}
		sum += sign(sum) * exclaimIncr * float64(min(ex, 4))
	}
	c := sum / math.Sqrt(sum*sum+alpha)
	return sentiment{compound: c, magnitude: round3(abs / 4), label: labelOf(c), hits: hits}
}

func labelOf(c float64) Label {
	switch {
	case c >= NeutralBand:
		return Positive
	case c <= -NeutralBand:
		return Negative
	}
	return Neutral
}

func allWords(ts []token) bool {
	for _, t := range ts {
		if t.kind != tkWord {
			return false
		}
	}
	return true
}

func surface(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.lower
	}
	return out
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func isNegator(w string, sv bool) bool {
	if sv {
		return svNegators[w]
	}
	return enNegators[w]
}

func isContrast(w string, sv bool) bool {
	if sv {
		return svContrast[w] || svConcessive[w]
	}
	return enContrast[w] || enConcessive[w]
}

// boosterValue returns the booster strength of token j ("kind of" and
// "sort of" count as diminishers, "kind" alone does not).
func boosterValue(toks []token, j int, sv bool) (float64, bool) {
	w := toks[j].lower
	if sv {
		b, ok := svBoosters[w]
		return b, ok && b != 0
	}
	if w == "kind" || w == "sort" {
		if j+1 < len(toks) && toks[j+1].lower == "of" {
			return -0.293, true
		}
		return 0, false
	}
	if w == "of" && j > 0 && (toks[j-1].lower == "kind" || toks[j-1].lower == "sort") {
		return -0.293, true
	}
	b, ok := enBoosters[w]
	return b, ok && b != 0
}

func isBooster(toks []token, i int, sv bool) bool {
	_, ok := boosterValue(toks, i, sv)
	return ok
}

// negationSkip are function words that do not count towards the negation
// window ("I wasn't the least bit interested").
var negationSkip = map[string]bool{
	"the": true, "a": true, "an": true, "that": true, "this": true, "very": true, "so": true,
	"really": true, "too": true, "at": true, "all": true, "even": true, "bit": true, "least": true,
	"much": true, "any": true, "as": true, "quite": true, "be": true, "is": true, "was": true,
	"were": true, "it": true, "been": true, "particularly": true, "that's": true, "feel": true,
	"felt": true, "det": true, "så": true, "särskilt": true, "speciellt": true, "alls": true,
	"någon": true, "något": true, "några": true, "vara": true, "var": true, "är": true,
}

// negatedAt reports whether token i is in the scope of a negator: one of
// the three (English: four) tokens before it in the same clause, not
// counting function words; or, in Swedish, "inte" or "aldrig" right after
// a verb ("jag gillade inte passet").
func negatedAt(toks []token, consumed []bool, i int, sv bool) bool {
	window := 4
	if sv {
		window = 3
	}
	for d, j := 0, i-1; j >= 0 && d < window; j-- {
		t := toks[j]
		if t.kind == tkPunct || isContrast(t.lower, sv) {
			break
		}
		if isNegator(t.lower, sv) || (!sv && t.lower == "from" && j > 0 && toks[j-1].lower == "far") {
			return !nonNegatingAt(toks, j) && !cognitionBetween(toks, j, i)
		}
		if !consumed[j] && !negationSkip[t.lower] {
			d++
		}
	}
	if sv && svVerbs[toks[i].lower] {
		for k := i + 1; k < len(toks) && k <= i+2; k++ {
			w := toks[k].lower
			if w == "inte" || w == "aldrig" {
				return true
			}
			if w != "mig" && w != "det" && w != "den" && w != "sig" && w != "jag" && w != "du" {
				break
			}
		}
	}
	return false
}

// cognitionBetween: "I didn't realize how wonderful it is", "never knew
// how much I needed this": the negation is of the knowing, not of the
// sentiment word after "how"/"what".
func cognitionBetween(toks []token, j, i int) bool {
	for k := j + 1; k+1 < i; k++ {
		switch toks[k].lower {
		case "realize", "realise", "realized", "realised", "know", "knew", "notice", "noticed", "expect", "expected", "imagine", "imagined":
			switch toks[k+1].lower {
			case "how", "what", "just", "quite":
				return true
			}
		}
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ratingAt scores "N out of 10", "N/10", "N out of 5", "N stars": high
// ratings positive, low negative.
func ratingAt(toks []token, i int) (float64, bool) {
	t := toks[i].lower
	num := func(s string) (float64, bool) {
		if v, ok := numberWords[s]; ok {
			return v, true
		}
		s = strings.TrimSuffix(s, "+")
		if !isDigits(s) || len(s) > 2 {
			return 0, false
		}
		v := 0.0
		for _, r := range s {
			v = v*10 + float64(r-'0')
		}
		return v, true
	}
	word := func(k int) string {
		if k < len(toks) {
			return toks[k].lower
		}
		return ""
	}
	var v, scale float64
	switch {
	case strings.Contains(t, "/"):
		return 0, false
	default:
		x, ok := num(t)
		if !ok {
			return 0, false
		}
		v = x
		switch {
		case word(i+1) == "out" && word(i+2) == "of":
			s, ok := num(word(i + 3))
			if !ok || (s != 5 && s != 10 && s != 100) {
				return 0, false
			}
			scale = s
		case word(i+1) == "stars" || word(i+1) == "star":
			scale = 5
		default:
			return 0, false
		}
	}
	if v > scale {
		return 0, false
	}
	r := v / scale // 0..1
	switch {
	case r >= 0.7:
		return 2.4, true
	case r <= 0.45:
		return -2.4, true
	}
	return 0, false
}

var numberWords = map[string]float64{"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}

// tooNeutral: "too" before these is not a complaint ("too much" has its
// own entry; "me too", "too early to tell").
var tooNeutral = map[string]bool{"much": true, "many": true, "bad": true, "good": true, "well": true,
	"and": true, "but": true, "so": true, "i": true, "it": true, "the": true, "a": true, "was": true,
	"is": true, "am": true, "are": true, "were": true, "be": true, "had": true, "have": true, "for": true,
	"with": true, "at": true, "in": true, "on": true, "to": true, "of": true, "as": true, "though": true,
	"often": true, "far": true, "late": true, "early": true, "soon": true}

// adviceNoFlip: negative words that stay negative after an imperative
// negation ("don't waste your money", "don't even bother").
var adviceNoFlip = map[string]bool{"waste": true, "wasted": true, "bother": true, "risk": true}

// imperativeNegation: the negator before token i starts its clause, as in
// advice ("Don't waste …", "Otherwise, don't even bother").
func imperativeNegation(toks []token, i int) bool {
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if toks[j].lower == "not" && j > 0 && toks[j-1].lower == "do" {
			k := j - 2
			return k < 0 || toks[k].kind == tkPunct || toks[k].lower == "just" || toks[k].lower == "please" ||
				toks[k].lower == "so" || toks[k].lower == "and" || toks[k].lower == "otherwise"
		}
		if toks[j].lower == "never" {
			return j == 0 || toks[j-1].kind == tkPunct
		}
	}
	return false
}

// nonNegatingAt: "not only", "no doubt", "without a doubt", "never been
// more/so" (an intensifier) do not negate.
func nonNegatingAt(toks []token, j int) bool {
	next := func(k int) string {
		if j+k < len(toks) {
			return toks[j+k].lower
		}
		return ""
	}
	switch next(1) {
	case "only", "doubt":
		return true
	case "a":
		return next(2) == "doubt"
	case "been", "felt", "have", "be":
		switch next(2) {
		case "more", "so", "this", "happier", "better", "prouder":
			return true
		}
	case "more", "happier", "better":
		return toks[j].lower == "never"
	}
	return false
}

// intensityAdjectives act as boosters before a negative word ("a great
// disappointment", "a huge mess") instead of carrying their own valence.
var intensityAdjectives = map[string]bool{"great": true, "huge": true, "total": true, "complete": true,
	"real": true, "absolute": true, "major": true, "big": true, "massive": true, "utter": true}

// comparativeIntensifiers take the direction of a negative word before
// them in the clause: "the anxiety came back stronger", "pain got bigger".
var comparativeIntensifiers = map[string]bool{"stronger": true, "louder": true, "bigger": true,
	"harder": true, "deeper": true, "heavier": true, "intense": true, "starkare": true, "större": true}

func prevNegativeInClause(toks []token, vals []float64, scored []bool, i int, sv bool) bool {
	for j := i - 1; j >= 0; j-- {
		if toks[j].kind == tkPunct || isContrast(toks[j].lower, sv) {
			return false
		}
		if scored[j] {
			return vals[j] < 0
		}
	}
	return false
}

// likeSubjects: "like" is a feeling only after one of these ("I like it",
// "really liked"); otherwise it is a preposition or "would like" (want).
var likeSubjects = map[string]bool{
	"i": true, "we": true, "you": true, "they": true, "really": true, "do": true, "did": true,
	"does": true, "just": true, "also": true, "still": true, "she": true, "he": true, "people": true,
	"kids": true, "definitely": true, "actually": true, "totally": true, "truly": true, "always": true,
	"genuinely": true, "not": true, "n't": true, "never": true,
}

// neutralNegations are negations that say nothing about sentiment.
var neutralNegations = []string{"not sure", "not yet", "do not know", "did not know", "no idea", "no problem",
	"not only", "no doubt", "inte säker", "vet inte", "inte än", "ingen aning", "inte riktigt"}

// negatedNeutralSentences returns, for each sentence that has a negator
// but no scored token, the index of its negator.
func negatedNeutralSentences(toks []token, scored []bool, sv bool) []int {
	var out []int
	start := 0
	for start < len(toks) {
		end := start
		for end < len(toks) && toks[end].sent == toks[start].sent {
			end++
		}
		neg, any := -1, false
		for k := start; k < end; k++ {
			if scored[k] {
				any = true
				break
			}
			if neg < 0 && toks[k].kind == tkWord && isNegator(toks[k].lower, sv) && !neutralNegationAt(toks, k) {
				neg = k
			}
		}
		if !any && neg >= 0 {
			out = append(out, neg)
		}
		start = end
	}
	return out
}

func neutralNegationAt(toks []token, k int) bool {
	var b strings.Builder
	for j := max(0, k-1); j < len(toks) && j <= k+2; j++ {
		b.WriteString(toks[j].lower)
		b.WriteByte(' ')
	}
	s := b.String()
	for _, p := range neutralNegations {
		if strings.Contains(s, p+" ") {
			return true
		}
	}
	return false
}

// followsFeelVerb: "I feel calm", "felt so light", "känner mig lugn",
// "mår bra".
func followsFeelVerb(toks []token, i int) bool {
	for d, j := 1, i-1; j >= 0 && d <= 3; d, j = d+1, j-1 {
		t := toks[j]
		if t.kind != tkWord {
			return false
		}
		if feelVerbs[t.lower] {
			return true
		}
	}
	return false
}

// contrastWeights weighs clauses around "but"/"men" and concessive clauses
// ("although …", "även om …").
func contrastWeights(toks []token, sv bool) []float64 {
	n := len(toks)
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	contrast, concessive := enContrast, enConcessive
	if sv {
		contrast, concessive = svContrast, svConcessive
	}
	start := 0
	for start < n {
		end := start
		for end < n && toks[end].sent == toks[start].sent {
			end++
		}
		// tokens [start, end) form one sentence
		firstWord := -1
		for k := start; k < end; k++ {
			if toks[k].kind == tkWord {
				firstWord = k
				break
			}
		}
		for k := start; k < end; k++ {
			t := toks[k]
			if t.kind != tkWord {
				continue
			}
			isConc := concessive[t.lower] ||
				(sv && t.lower == "även" && k+1 < end && toks[k+1].lower == "om") ||
				(sv && t.lower == "trots" && k+1 < end && toks[k+1].lower == "att") ||
				(!sv && t.lower == "even" && k+1 < end && (toks[k+1].lower == "though" || toks[k+1].lower == "if"))
			switch {
			case contrast[t.lower]:
				if k == firstWord {
					// "…. But then it got worse." weighs the previous sentence down
					for p := start - 1; p >= 0 && toks[p].sent == toks[max(start-1, 0)].sent; p-- {
						w[p] *= contrastBefore
					}
				} else {
					for p := start; p < k; p++ {
						w[p] *= contrastBefore
					}
				}
				for p := k + 1; p < end; p++ {
					w[p] *= contrastAfter
				}
				k = end // one contrast per sentence
			case isConc:
				// the concessive clause runs to the next comma or the end
				p := k + 1
				for p < end && !(toks[p].kind == tkPunct && toks[p].lower == ",") {
					w[p] *= concessiveScale
					p++
				}
				if k == firstWord {
					for q := p; q < end; q++ {
						w[q] *= contrastAfter
					}
				} else {
					for q := start; q < k; q++ {
						w[q] *= contrastAfter
					}
				}
				k = end
			}
		}
		start = end
	}
	return w
}

// lookupWord finds a word's valence: English through VADER's lexicon and
// enLexicon with simple inflection stripping; Swedish through svLexicon
// with suffix stripping, then the English lexicon for words that cannot be
// Swedish (English words in Swedish text).
func lookupWord(l *lexicons, w string, sv bool) (float64, bool) {
	if sv {
		if v, ok := svLookup(w); ok {
			return v, true
		}
		if len([]rune(w)) >= 4 && !svEnglishCollisions[w] && !svMarkers[w] && !strings.ContainsAny(w, "åäö") {
			if v, ok := l.en[w]; ok {
				return v, true
			}
		}
		return 0, false
	}
	if v, ok := l.en[w]; ok {
		return v, true
	}
	if strings.Contains(w, "-") {
		return hyphenLookup(l, w)
	}
	for _, c := range enInflections(w) {
		if v, ok := l.en[c]; ok {
			return v, true
		}
	}
	if len(w) >= 6 {
		// doubled-letter misspellings: "dissapointed", "excelent"
		if v, ok := l.squeezed[squeeze(w)]; ok {
			return v, true
		}
		// un-/in-/dis- + positive word: "unusable", "uninspiring"
		for _, p := range []string{"un", "in", "dis", "non"} {
			if strings.HasPrefix(w, p) {
				if v, ok := l.en[w[len(p):]]; ok && v > 0.5 {
					return -0.8 * v, true
				}
			}
		}
	}
	return 0, false
}

// hyphenLookup scores hyphenated words: "over-priced" as "overpriced",
// "stress-free" (a negative word made absent: mildly positive),
// "charisma-free" / "joy-less" (a positive word made absent: negative),
// "well-made" (positive), otherwise the stronger of the parts.
func hyphenLookup(l *lexicons, w string) (float64, bool) {
	if v, ok := lookupWord(l, strings.ReplaceAll(w, "-", ""), false); ok {
		return v, true
	}
	parts := strings.Split(w, "-")
	first, last := parts[0], parts[len(parts)-1]
	if len(parts) == 2 && (last == "free" || last == "less") {
		if v, ok := lookupWord(l, first, false); ok && v != 0 {
			if v < 0 {
				return -0.6 * v, true
			}
			return -0.8 * v, true
		}
		if last == "free" && positiveNouns[first] {
			return -1.4, true
		}
		return 0, false
	}
	switch first {
	case "well", "beautifully", "nicely", "perfectly", "brilliantly", "superbly":
		return 1.6, true
	case "badly", "poorly", "horribly", "terribly":
		return -1.6, true
	}
	best := 0.0
	for _, p := range parts {
		if v, ok := lookupWord(l, p, false); ok && math.Abs(v) > math.Abs(best) {
			best = v
		}
	}
	return best, best != 0
}

// positiveNouns: qualities whose absence ("charisma-free", "fun-free")
// is a complaint.
var positiveNouns = map[string]bool{"charisma": true, "fun": true, "plot": true, "talent": true,
	"humor": true, "humour": true, "logic": true, "flavor": true, "flavour": true, "taste": true,
	"substance": true, "chemistry": true, "suspense": true, "emotion": true, "joy": true, "soul": true}

// squeeze collapses doubled letters.
func squeeze(w string) string {
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		if i > 0 && w[i] == w[i-1] {
			continue
		}
		b = append(b, w[i])
	}
	return string(b)
}

func svLookup(w string) (float64, bool) {
	if v, ok := svLexicon[w]; ok {
		return v, true
	}
	for _, p := range svPrefixBoost {
		if strings.HasPrefix(w, p) && len(w) > len(p)+2 {
			if v, ok := svLookup(strings.TrimPrefix(w, p)); ok {
				return v, true
			}
		}
	}
	if len([]rune(w)) < 4 {
		return 0, false
	}
	for _, s := range svSuffixes {
		if strings.HasSuffix(w, s) && len([]rune(w))-len([]rune(s)) >= 3 {
			if v, ok := svLexicon[strings.TrimSuffix(w, s)]; ok {
				return v, true
			}
		}
	}
	return 0, false
}

func svPrefixBoosted(w string, sv bool) bool {
	if !sv {
		return false
	}
	if _, ok := svLexicon[w]; ok {
		return false
	}
	for _, p := range svPrefixBoost {
		if strings.HasPrefix(w, p) && len(w) > len(p)+2 {
			return true
		}
	}
	return false
}

// enInflections returns candidate base forms of an English word.
func enInflections(w string) []string {
	if len(w) < 5 {
		if strings.HasSuffix(w, "s") && len(w) == 4 {
			return []string{w[:3]}
		}
		return nil
	}
	var c []string
	undouble := func(b string) {
		if len(b) >= 3 && b[len(b)-1] == b[len(b)-2] {
			c = append(c, b[:len(b)-1])
		}
	}
	switch {
	case strings.HasSuffix(w, "ied"):
		c = append(c, w[:len(w)-3]+"y")
	case strings.HasSuffix(w, "ed"):
		b := w[:len(w)-2]
		c = append(c, b, b+"e")
		undouble(b)
	case strings.HasSuffix(w, "ing"):
		b := w[:len(w)-3]
		c = append(c, b, b+"e")
		undouble(b)
	case strings.HasSuffix(w, "ies"):
		c = append(c, w[:len(w)-3]+"y")
	case strings.HasSuffix(w, "ily"):
		c = append(c, w[:len(w)-3]+"y")
	case strings.HasSuffix(w, "ly"):
		c = append(c, w[:len(w)-2])
	case strings.HasSuffix(w, "es"):
		c = append(c, w[:len(w)-2], w[:len(w)-1])
	case strings.HasSuffix(w, "s"):
		c = append(c, w[:len(w)-1])
	}
	return c
}
