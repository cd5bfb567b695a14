// Package crisis detects expressions of suicidal ideation and self-harm in
// journal text (English and Swedish) with hand-written rules and a small
// learned classifier.
//
// It is deliberately not a sentiment threshold: a very negative entry ("I
// feel awful, the worst day ever") is not a crisis, while a calm one ("I've
// saved up my pills, just in case") is. Each rule is a phrase pattern over
// normalized clauses plus guards:
//
//   - negation: "I would never kill myself", "jag vill inte dö" and "no
//     thoughts of hurting myself" do not fire; some rules fire only when
//     negated ("I don't want to live anymore", "jag vill inte leva längre",
//     "no reason to live");
//   - figurative use: rules are written so that "this traffic is killing me",
//     "I could kill for a coffee", "dying to see", "skrattade ihjäl mig" and
//     "jobbet tar livet av mig" match nothing (a third-party subject such as
//     "jobbet" cannot take "my" life);
//   - person: rules need a first-person speaker. Reports about someone else
//     ("my friend wants to kill herself", "min bror tog sitt liv") are not
//     flagged: the user who writes them is not, by the words alone, at risk.
//     First-person reports of past attempts or self-harm ARE flagged: a
//     history of attempts is the strongest known risk factor, and the
//     wellbeing protocol it triggers is a supportive check-in, not an alarm;
//   - context: noun-based rules ("self-harm", "suicidal thoughts") do not
//     fire in clauses about media, training or prevention work, or inside
//     quoted song titles; past self-harm with an explicit remission ("used to
//     … ten years clean") does not fire.
//
// A second, concept layer (concept.go, vocabularies in concept_lex_en.go
// and concept_lex_sv.go) generalizes beyond fixed phrases: per sentence it
// finds concepts (death or not-being, a negated "living" concept, self-harm,
// burden, means, farewell) and cues (desire, intention, plan, imagination,
// relief, hopelessness, time), checks that the concept is the writer's
// (nearest subject; "my dog is dying" and "she wishes she were dead" are
// not), not negated, not in a fear frame, a media/game/training clause, an
// accident, a trip or a past the writer has recovered from, and combines
// them. Figurative idioms are masked first. Rule ids:
// "<lang>.concept.<name>".
//
// A third, broad tier (broad.go) fires on those weak concepts without the
// cue, keeping only strong suppressors (idioms, other subjects, media,
// accidents, travel, humour, medical routine, negation, recovery). Rule ids:
// "<lang>.broad.<name>".
//
// A fourth, learned tier (model.go, train.go) is an L2-regularized logistic
// regression over hashed text features (word unigrams and bigrams, words in
// a negation scope, character 3–5-grams, person/negation/tense markers),
// trained by cmd/train on the labelled crisis sets (model.bin, embedded).
// The decision (CombineGated): a phrase or concept rule, unless the model
// score is below StrongFloor (0.20); or the model score at or above its
// threshold, unless the text negates every crisis concept it mentions ("I
// have no suicidal thoughts") or sets them all in a past it has recovered
// from; or a broad-tier rule with a model score of at least 0.35 × the
// threshold. A model decision adds the
// id "model.<lang>". The validation protocol and figures are in
// shared/analysis/README.md (go run ./shared/crisis/cmd/train -validate).
//
// Recall matters more than precision; the evaluation set and its figures are
// in shared/analysis/testdata/eval. The detector never returns or stores the
// matched text, only rule ids.
package crisis

import (
	"sort"
	"strings"
)

// RuleSetVersion identifies the rules and the embedded model; it changes
// whenever a rule or model.bin changes so that stored results say which
// detector produced them.
const RuleSetVersion = "crisis-rules-2026.11.10"

// Result is the outcome of one detection.
type Result struct {
	// Crisis is true when the decision rule fired (see Detect).
	Crisis bool `json:"crisis" firestore:"crisis"`
	// Rules are the ids of the rules that support the decision, sorted
	// and unique (e.g. "en.active.kill_myself", "model.sv"). Never the
	// text itself.
	Rules []string `json:"rules,omitempty" firestore:"rules,omitempty"`
	// Version is RuleSetVersion.
	Version string `json:"version" firestore:"version"`
}

// Detector holds the compiled rules and the learned model. The zero value
// is not usable; create it with New. A Detector is safe for concurrent use.
type Detector struct {
	rules []*rule
	model *Model // nil: rules only
}

// New returns a detector with the built-in English and Swedish rules and
// the embedded model. It panics only if the embedded model is malformed,
// which a unit test rules out.
func New() *Detector {
	m, err := EmbeddedModel()
	if err != nil {
		panic(err)
	}
	return &Detector{rules: compiledRules(), model: m}
}

// NewRulesOnly returns a detector without the learned tier: the phrase,
// concept and broad rules ORed (the behaviour of crisis-rules-2026.11.3).
func NewRulesOnly() *Detector {
	return &Detector{rules: compiledRules()}
}

// NewWithModel returns a detector with the built-in rules and the given
// model (nil: rules only).
func NewWithModel(m *Model) *Detector {
	return &Detector{rules: compiledRules(), model: m}
}

// Detect runs the rules and the model over text and reports which fired.
// It never fails; empty text is not a crisis. With a model, the decision
// follows Model.Combine; a model decision adds the id "model.<lang>"
// (lang en or sv, the language guessed from the text). When Crisis is
// false, Rules is empty.
func (d *Detector) Detect(text string) Result {
	res := Result{Version: RuleSetVersion}
	if strings.TrimSpace(text) == "" {
		return res
	}
	sents := segment(text)
	if d.model == nil {
		res.Rules, _, _ = d.ruleHits(sents)
		res.Crisis = len(res.Rules) > 0
		return res
	}
	var buf [256]feature
	feats, rules, recovered, scans := d.features(buf[:0], d.model.Features, d.model.Bits, text, sents)
	p := d.model.score(feats)
	res.Rules = d.model.combine(rules, p, negationVeto(scans, recovered), textLang(sents))
	res.Crisis = len(res.Rules) > 0
	return res
}

// Score returns the model score (0..1) of text and the rule ids that fired
// on it (before the decision rule); without a model the score is 0.
func (d *Detector) Score(text string) (float64, []string) {
	if strings.TrimSpace(text) == "" {
		return 0, nil
	}
	sents := segment(text)
	if d.model == nil {
		rules, _, _ := d.ruleHits(sents)
		return 0, rules
	}
	var buf [256]feature
	feats, rules, _, _ := d.features(buf[:0], d.model.Features, d.model.Bits, text, sents)
	return d.model.score(feats), rules
}

// features runs the rules over the sentences of text and appends its
// model features (groups fs, 2^bits dimensions) to dst; it returns them
// with what the rules saw. Detect, Score and training featurize through it.
func (d *Detector) features(dst []feature, fs FeatureSet, bits uint8, text string, sents []sentence) (feats []feature, rules []string, recovered bool, scans []sentScan) {
	rules, recovered, scans = d.ruleHits(sents)
	return featurize(dst, fs, bits, text, sents, scans, rules, recovered), rules, recovered, scans
}

// ruleHits runs the phrase rules, the concept layer and the broad tier
// and returns the sorted ids that fired, whether the text states a
// recovery ("not anymore", "ten years clean") and the concept scans.
func (d *Detector) ruleHits(sents []sentence) (ids []string, recovered bool, scans []sentScan) {
	seen := map[string]bool{}
	scans = conceptScan(sents)
	for _, sc := range scans {
		recovered = recovered || sc.recovery
	}
	for i, s := range sents {
		if recovered && scans[i].past {
			continue // "I used to …, but not anymore"
		}
		for _, c := range s.clauses() {
			padded := " " + c.text + " "
			for _, r := range d.rules {
				if !seen[r.id] && r.triggered(padded) && r.matches(padded) {
					seen[r.id] = true
				}
			}
		}
	}
	conceptJudge(scans, recovered, seen)
	broadJudge(scans, recovered, seen)
	if len(seen) == 0 {
		return nil, recovered, scans
	}
	ids = make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, recovered, scans
}

// textLang is the language of a text for the model id: sv when the
// Swedish function words win, else en.
func textLang(sents []sentence) string {
	var all []string
	for _, s := range sents {
		all = append(all, s.tokens...)
	}
	if guessLang(all) == "sv" {
		return "sv"
	}
	return "en"
}

// RuleIDs lists the ids of all rules, for documentation and tests.
func (d *Detector) RuleIDs() []string {
	ids := make([]string, 0, len(d.rules))
	for _, r := range d.rules {
		ids = append(ids, r.id)
	}
	return ids
}
