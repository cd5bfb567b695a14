package crisis

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// The learned tier: an L2-regularized logistic regression over hashed
// features of the normalized text (word unigrams and bigrams, words in a
// negation scope, character n-grams, person/negation/tense markers) and of
// the rule, concept and broad hits that fired (stacking: the model learns
// when a weak hit is reliable). The weights are trained by Train
// (cmd/train) from the labelled crisis*.jsonl files and embedded as
// model.bin.

//go:embed model.bin
var embeddedModel []byte

// modelMagic starts every serialized model.
const modelMagic = "ICRM1\n"

// Model is a trained crisis classifier. The zero value is not usable: load
// one with LoadModel or train one with Train. A Model is read-only after
// creation and safe for concurrent use.
type Model struct {
	// Bits is the size of the hashed feature space (2^Bits buckets).
	Bits uint8
	// Features is the feature set the model was trained with.
	Features FeatureSet
	// Seed is the training seed.
	Seed uint64
	// DataHash is the SHA-256 of the training data and configuration
	// (see TrainConfig and Train).
	DataHash [32]byte
	// Threshold is the decision threshold on Score chosen at training
	// time (by grouped cross-validation on the training data).
	Threshold float32
	// Combine is how rules and model combine into the decision.
	Combine Combine
	// Bias is the intercept.
	Bias float32
	w    []float32
}

// Combine is a decision rule over the rule hits and the model score.
type Combine uint8

// Decision rules.
const (
	// CombineStrong: a phrase or concept rule, or the model (the broad
	// tier counts only through the model's features).
	CombineStrong Combine = iota
	// CombineAll: any rule (phrase, concept, broad), or the model.
	CombineAll
	// CombineModel: the model alone (rules count through its features).
	CombineModel
	// CombineGated: a phrase or concept rule with a model score of at
	// least StrongFloor; or the model, unless the text explicitly negates
	// every crisis concept it mentions ("I have no suicidal thoughts");
	// or a broad-tier rule with a model score of at least BroadGate × the
	// threshold.
	CombineGated
)

// BroadGate is the fraction of the threshold a broad-tier hit needs from
// the model under CombineGated.
const BroadGate = 0.35

// StrongFloor is the model score below which a phrase or concept rule
// hit does not count under CombineGated: the model overrules a rule when
// it is confident the text is no crisis (recovery stories, counters of
// self-harm-free time, quoted colleagues, screening questionnaires).
// 0.05 in crisis-rules-2026.11.5; 0.20 since 2026.11.6, chosen with the
// threshold cap by the mean over six held-out independent authors
// (go run ./shared/crisis/cmd/train -loao): at equal mean FPR (12 %) it
// gives about 3 points more recall than 0.05.
const StrongFloor = 0.20

// String names the decision rule.
func (c Combine) String() string {
	switch c {
	case CombineStrong:
		return "phrase/concept OR model"
	case CombineAll:
		return "any rule OR model"
	case CombineModel:
		return "model only"
	case CombineGated:
		return fmt.Sprintf("(phrase/concept AND model ≥ %g) OR (model, not vetoed by negation) OR (broad AND model ≥ %g t)", StrongFloor, BroadGate)
	}
	return fmt.Sprintf("combine(%d)", uint8(c))
}

// decide applies the decision rule c to the rule ids, the model score,
// the threshold and the negation veto.
func (c Combine) decide(rules []string, score, t float64, veto bool) bool {
	return c.decideWith(rules, score, t, veto, StrongFloor, BroadGate)
}

// decideWith is decide with the rule floor and the broad gate as
// parameters (validation sweeps them; the detector uses the constants).
func (c Combine) decideWith(rules []string, score, t float64, veto bool, floor, gate float64) bool {
	if c == CombineGated {
		if score >= t && !veto {
			return true
		}
		for _, id := range rules {
			l, _ := ruleFamily(id)
			if (l != "broad" && score >= floor) || score >= gate*t {
				return true
			}
		}
		return false
	}
	if score >= t {
		return true
	}
	switch c {
	case CombineAll:
		return len(rules) > 0
	case CombineStrong:
		for _, id := range rules {
			if l, _ := ruleFamily(id); l != "broad" {
				return true
			}
		}
	}
	return false
}

// combine returns the ids supporting the decision: nil when it is not a
// crisis, else the rule ids and, when the model fired, "model.<lang>".
func (m *Model) combine(rules []string, score float64, veto bool, lang string) []string {
	t := float64(m.Threshold)
	if !m.Combine.decide(rules, score, t, veto) {
		return nil
	}
	if score < t || (veto && m.Combine == CombineGated) {
		return rules
	}
	out := make([]string, 0, len(rules)+1)
	out = append(out, rules...)
	out = append(out, "model."+lang)
	sort.Strings(out)
	return out
}

// FeatureSet switches feature groups on; it is stored with the model.
type FeatureSet uint8

// Feature groups.
const (
	FeatWords    FeatureSet = 1 << iota // word unigrams, and words in a negation scope
	FeatBigrams                         // word bigrams within a sentence
	FeatChars                           // character 3–5-grams of words
	FeatMarkers                         // person, negation, tense, question markers
	FeatRules                           // ids, families and layers of the rules that fired, with markers
	FeatConcepts                        // concept-lexicon matches (category, negated, someone else's), not decisions
)

// TextFeatures are the groups of the shipped model: the text only. The
// rule hits enter the decision through Combine, not as features: stacked
// on them, the model learned that "no rule fired" means "no crisis" on
// sets the rules were developed on, and lost recall on a new author (see
// shared/analysis/README.md, "Learned tier"). The concept-match features (FeatConcepts) did the
// same.
const TextFeatures = FeatWords | FeatBigrams | FeatChars | FeatMarkers

// AllFeatures is every feature group.
const AllFeatures = TextFeatures | FeatRules | FeatConcepts

// feature is one hashed feature and its value.
type feature struct {
	idx  uint32
	val  float32
	rule bool // derived from the rule hits (dropped together in training)
}

// score returns the model's probability-like score (0..1) that the text
// of feats is a crisis.
func (m *Model) score(feats []feature) float64 { return m.scoreWith(feats, true) }

// scoreWith is score, leaving out the features derived from the rule hits
// unless withRules (training chooses the threshold as if the rules had
// missed).
func (m *Model) scoreWith(feats []feature, withRules bool) float64 {
	z := float64(m.Bias)
	for _, f := range feats {
		if withRules || !f.rule {
			z += float64(m.w[f.idx]) * float64(f.val)
		}
	}
	return sigmoid(z)
}

// modelHeader is the fixed-size header of a serialized model, after
// modelMagic (little-endian): Scale quantizes the N weights that follow.
type modelHeader struct {
	Bits      uint8
	Features  uint8
	Seed      uint64
	DataHash  [32]byte
	Threshold float32
	Combine   uint8
	Bias      float32
	Scale     float32
	N         uint32
}

// LoadModel parses a serialized model (the format written by
// Model.MarshalBinary). It fails with an error for a malformed input.
func LoadModel(b []byte) (*Model, error) {
	if !bytes.HasPrefix(b, []byte(modelMagic)) {
		return nil, errors.New("crisis: load model: bad magic")
	}
	r := bytes.NewReader(b[len(modelMagic):])
	var hdr modelHeader
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("crisis: load model: %w", err)
	}
	if hdr.Bits < 8 || hdr.Bits > 24 {
		return nil, fmt.Errorf("crisis: load model: bad size 2^%d", hdr.Bits)
	}
	m := &Model{Bits: hdr.Bits, Features: FeatureSet(hdr.Features), Seed: hdr.Seed, DataHash: hdr.DataHash,
		Threshold: hdr.Threshold, Combine: Combine(hdr.Combine), Bias: hdr.Bias, w: make([]float32, 1<<hdr.Bits)}
	idx := uint64(0)
	for i := uint32(0); i < hdr.N; i++ {
		d, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("crisis: load model: weight %d: %w", i, err)
		}
		var q int16
		if err := binary.Read(r, binary.LittleEndian, &q); err != nil {
			return nil, fmt.Errorf("crisis: load model: weight %d: %w", i, err)
		}
		idx += d
		if idx >= uint64(len(m.w)) {
			return nil, fmt.Errorf("crisis: load model: weight index %d out of range", idx)
		}
		m.w[idx] = float32(q) * hdr.Scale
	}
	if r.Len() != 0 {
		return nil, errors.New("crisis: load model: trailing bytes")
	}
	return m, nil
}

// MarshalBinary serializes the model: a header, then the non-zero weights
// as (index delta varint, int16) pairs, quantized with one scale. It never
// fails.
func (m *Model) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(modelMagic)
	maxAbs := float32(0)
	for _, x := range m.w {
		if a := float32(math.Abs(float64(x))); a > maxAbs {
			maxAbs = a
		}
	}
	scale := maxAbs / 32767
	if scale == 0 {
		scale = 1
	}
	var body bytes.Buffer
	n, prev := uint32(0), 0
	var vb [binary.MaxVarintLen64]byte
	for i, x := range m.w {
		q := int16(math.Round(float64(x / scale)))
		if q == 0 {
			continue
		}
		body.Write(vb[:binary.PutUvarint(vb[:], uint64(i-prev))])
		_ = binary.Write(&body, binary.LittleEndian, q)
		prev = i
		n++
	}
	hdr := modelHeader{m.Bits, uint8(m.Features), m.Seed, m.DataHash, m.Threshold, uint8(m.Combine), m.Bias, scale, n}
	_ = binary.Write(&buf, binary.LittleEndian, hdr)
	buf.Write(body.Bytes())
	return buf.Bytes(), nil
}

// EmbeddedModel returns the model shipped with the package (model.bin).
// It fails only if the embedded file is malformed (a build defect).
func EmbeddedModel() (*Model, error) {
	return LoadModel(embeddedModel)
}

// FNV-1a, 32 bit.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func fnvAdd(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvByte(h uint32, b byte) uint32 {
	h ^= uint32(b)
	return h * fnvPrime
}

// Namespaces of the hashed features.
var (
	nsWord    = fnvAdd(fnvOffset, "w:")
	nsNegWord = fnvAdd(fnvOffset, "nw:")
	nsBigram  = fnvAdd(fnvOffset, "b:")
	nsChar    = fnvAdd(fnvOffset, "c:")
	nsMarker  = fnvAdd(fnvOffset, "m:")
	nsRule    = fnvAdd(fnvOffset, "r:")
	nsCross   = fnvAdd(fnvOffset, "x:")
	nsConcept = fnvAdd(fnvOffset, "k:")
)

// negators open a negation scope of the next three words in the clause.
var modelNegators = map[string]bool{"not": true, "never": true, "no": true, "nothing": true, "nobody": true,
	"none": true, "without": true, "inte": true, "aldrig": true, "ingen": true, "inget": true, "inga": true,
	"ej": true, "utan": true, "varken": true, "knappast": true}

var firstPerson = map[string]bool{"i": true, "me": true, "my": true, "myself": true, "mine": true,
	"jag": true, "mig": true, "min": true, "mitt": true, "mina": true, "själv": true, "mej": true}

var thirdPerson = map[string]bool{"he": true, "she": true, "they": true, "him": true, "her": true,
	"his": true, "them": true, "their": true, "himself": true, "herself": true, "themselves": true,
	"han": true, "hon": true, "hen": true, "honom": true, "henne": true, "hans": true, "hennes": true,
	"dem": true, "dom": true, "sig": true, "sin": true, "sitt": true, "sina": true,
	"friend": true, "brother": true, "sister": true, "mom": true, "mum": true, "dad": true, "mother": true,
	"father": true, "son": true, "daughter": true, "character": true, "patient": true, "client": true,
	"vän": true, "kompis": true, "bror": true, "syster": true, "mamma": true, "pappa": true, "dotter": true,
	"patienten": true, "karaktären": true}

var pastMarkers = map[string]bool{"was": true, "were": true, "used": true, "ago": true, "had": true,
	"did": true, "years": true, "back": true, "then": true, "var": true, "hade": true, "förr": true,
	"sedan": true, "sen": true, "tidigare": true, "förra": true, "då": true, "gjorde": true}

var futureMarkers = map[string]bool{"will": true, "going": true, "tonight": true, "tomorrow": true,
	"soon": true, "ska": true, "kommer": true, "ikväll": true, "imorgon": true, "snart": true}

// markers of a text, as bit flags.
const (
	mkFirst = 1 << iota
	mkThird
	mkNeg
	mkPast
	mkFuture
	mkQuestion
	mkRecovered
)

// mkCount is the number of markers.
const mkCount = 7

var markerNames = [mkCount]string{"fp", "tp", "neg", "past", "fut", "q", "recovered"}

// featurize appends the features of a text (its sentences, the rule ids
// that fired and whether the concept layer saw a recovery) to dst.
func featurize(dst []feature, fs FeatureSet, bits uint8, text string, sents []sentence, scans []sentScan, rules []string, recovered bool) []feature {
	mask := uint32(1)<<bits - 1
	start := len(dst)
	marks := 0
	if recovered {
		marks |= mkRecovered
	}
	if strings.Contains(text, "?") {
		marks |= mkQuestion
	}
	for _, s := range sents {
		negLeft := 0
		for i, t := range s.tokens {
			if i > 0 && s.clause[i] != s.clause[i-1] {
				negLeft = 0
			}
			switch {
			case firstPerson[t]:
				marks |= mkFirst
			case thirdPerson[t]:
				marks |= mkThird
			case pastMarkers[t]:
				marks |= mkPast
			case futureMarkers[t]:
				marks |= mkFuture
			}
			if fs&FeatWords != 0 {
				dst = append(dst, feature{idx: fnvAdd(nsWord, t) & mask})
				if negLeft > 0 {
					dst = append(dst, feature{idx: fnvAdd(nsNegWord, t) & mask})
					negLeft--
				}
			}
			if modelNegators[t] {
				marks |= mkNeg
				negLeft = 3
			}
			if fs&FeatBigrams != 0 {
				prev := "<s>"
				if i > 0 {
					prev = s.tokens[i-1]
				}
				dst = append(dst, feature{idx: fnvAdd(fnvByte(fnvAdd(nsBigram, prev), ' '), t) & mask})
			}
			if fs&FeatChars != 0 && utf8.RuneCountInString(t) >= 3 {
				dst = charGrams(dst, t, mask)
			}
		}
	}
	// text features share a unit of weight: long texts do not score high
	// for their length alone.
	if n := len(dst) - start; n > 0 {
		v := float32(1 / math.Sqrt(float64(n)))
		for i := start; i < len(dst); i++ {
			dst[i].val = v
		}
	}
	if fs&FeatMarkers != 0 {
		for k := 0; k < mkCount; k++ {
			if marks&(1<<k) != 0 {
				dst = append(dst, feature{idx: fnvAdd(nsMarker, markerNames[k]) & mask, val: 1})
			}
		}
	}
	if fs&FeatConcepts != 0 {
		dst = conceptFeatures(dst, scans, mask)
	}
	if fs&FeatRules != 0 {
		if len(rules) == 0 {
			dst = append(dst, feature{idx: fnvAdd(nsRule, "none") & mask, val: 1, rule: true})
		}
		for _, id := range rules {
			layer, family := ruleFamily(id)
			dst = append(dst,
				feature{idx: fnvAdd(nsRule, id) & mask, val: 1, rule: true},
				feature{idx: fnvAdd(nsRule, family) & mask, val: 1, rule: true},
				feature{idx: fnvAdd(nsRule, layer) & mask, val: 1, rule: true})
			for k := 0; k < mkCount; k++ {
				if marks&(1<<k) != 0 {
					h := fnvAdd(fnvByte(fnvAdd(nsCross, layer), '|'), markerNames[k])
					dst = append(dst, feature{idx: h & mask, val: 1, rule: true})
				}
			}
		}
	}
	return dst
}

// negationVeto reports whether the text mentions crisis concepts
// (death, self-harm, burden, means, hopelessness) and negates every one
// of them ("I have no suicidal thoughts", "jag vill inte dö") or, when
// the text states a recovery, sets it in the past ("I used to think
// everyone would be better off without me, but not anymore").
func negationVeto(scans []sentScan, recovered bool) bool {
	neg := false
	for _, sc := range scans {
		for _, h := range sc.hits {
			switch h.e.cat {
			case catDeathStrong, catDeathWeak, catHarm, catHarmWeak, catBurden, catMeansAct, catMeans, catHopelessStrong:
			default:
				continue
			}
			if !(recovered && sc.past) && (h.e.plain || !(lookbackNegated(sc.s, h.start) || spanNegated(sc.s, h) || subjectNegated(sc.s, h))) {
				return false
			}
			neg = true
		}
	}
	return neg
}

// crisisCategories are the concept categories that carry crisis content.
var crisisCategories = map[category]string{catDeathStrong: "death", catDeathWeak: "death_weak", catLive: "live",
	catHarm: "harm", catHarmWeak: "harm_weak", catBurden: "burden", catMeansAct: "means_act", catMeans: "means",
	catHopelessStrong: "hopeless", catFarewell: "farewell", catFarewellStrong: "farewell_strong", catCue: "cue",
	catFear: "fear", catBlock: "block"}

// conceptFeatures appends one feature per concept-lexicon match: its
// category, and whether it is negated in its clause or belongs to someone
// else. They describe the text with the concept vocabulary (synonyms,
// inflections, slang); whether a rule fired is not among them.
func conceptFeatures(dst []feature, scans []sentScan, mask uint32) []feature {
	for _, sc := range scans {
		for _, h := range sc.hits {
			name, ok := crisisCategories[h.e.cat]
			if !ok {
				continue
			}
			state := "+"
			switch {
			case h.e.cat == catBlock || h.e.cat == catCue || h.e.cat == catFear:
			case !h.e.plain && (lookbackNegated(sc.s, h.start) || subjectNegated(sc.s, h)):
				state = "neg"
			case thirdPartyInClause(sc.s, h.start):
				state = "other"
			}
			hh := fnvAdd(fnvByte(fnvAdd(nsConcept, name), '|'), state)
			dst = append(dst, feature{idx: hh & mask, val: 1})
		}
	}
	return dst
}

// charGrams appends the character 3-, 4- and 5-grams of "^t$".
func charGrams(dst []feature, t string, mask uint32) []feature {
	var offs [64]int // rune start offsets of "^" + t + "$"
	w := "^" + t + "$"
	n := 0
	for i := range w {
		if n == len(offs)-1 {
			break
		}
		offs[n] = i
		n++
	}
	offs[n] = len(w)
	for g := 3; g <= 5; g++ {
		for i := 0; i+g <= n; i++ {
			dst = append(dst, feature{idx: fnvAdd(nsChar, w[offs[i]:offs[i+g]]) & mask})
		}
	}
	return dst
}

// ruleFamily returns the layer (phrase, concept, broad) and the
// language-free family ("phrase.active", "concept.death_wish",
// "broad.death") of a rule id.
func ruleFamily(id string) (layer, family string) {
	p := strings.SplitN(id, ".", 3)
	if len(p) < 3 {
		return "other", "other." + id
	}
	switch p[1] {
	case "concept", "broad":
		return p[1], p[1] + "." + p[2]
	}
	return "phrase", "phrase." + p[1]
}

// sigmoid is 1/(1+e^-z) with a deterministic exponential.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + expDet(-z))
	}
	e := expDet(z)
	return e / (1 + e)
}

// expDet is e^x for x ≤ 0 computed in portable Go arithmetic (no
// assembly, no fused multiply-add), so training gives the same bits on
// every machine.
func expDet(x float64) float64 {
	if x < -700 {
		return 0
	}
	const ln2Hi, ln2Lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
	k := math.Floor(float64(x/math.Ln2) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	// Taylor series to degree 13 for |r| ≤ 0.35.
	p := 1.0
	for i := 13; i >= 1; i-- {
		p = float64(float64(p*r)/float64(i)) + 1
	}
	return math.Ldexp(p, int(k))
}
