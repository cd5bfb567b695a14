// Package crisis detects expressions of suicidal ideation and self-harm in
// journal text (English and Swedish) with hand-written rules.
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
// Recall matters more than precision; the evaluation set and its figures are
// in shared/analysis/testdata/eval. The detector never returns or stores the
// matched text, only rule ids.
package crisis

import (
	"sort"
	"strings"
)

// RuleSetVersion identifies the rules; it changes whenever a rule changes so
// that stored results say which rules produced them.
const RuleSetVersion = "crisis-rules-2026.11.3"

// Result is the outcome of one detection.
type Result struct {
	// Crisis is true when at least one rule matched.
	Crisis bool `json:"crisis" firestore:"crisis"`
	// Rules are the ids of the matched rules, sorted and unique
	// (e.g. "en.active.kill_myself"). Never the text itself.
	Rules []string `json:"rules,omitempty" firestore:"rules,omitempty"`
	// Version is RuleSetVersion.
	Version string `json:"version" firestore:"version"`
}

// Detector holds the compiled rules. The zero value is not usable; create it
// with New. A Detector is safe for concurrent use.
type Detector struct {
	rules []*rule
}

// New returns a detector with the built-in English and Swedish rules.
func New() *Detector {
	return &Detector{rules: compiledRules()}
}

// Detect runs every rule over text and reports which fired. It never fails;
// empty text is not a crisis.
func (d *Detector) Detect(text string) Result {
	res := Result{Version: RuleSetVersion}
	if strings.TrimSpace(text) == "" {
		return res
	}
	seen := map[string]bool{}
	sents := segment(text)
	scans := conceptScan(sents)
	recovered := false
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
	for id := range seen {
		res.Rules = append(res.Rules, id)
	}
	sort.Strings(res.Rules)
	res.Crisis = len(res.Rules) > 0
	return res
}

// RuleIDs lists the ids of all rules, for documentation and tests.
func (d *Detector) RuleIDs() []string {
	ids := make([]string, 0, len(d.rules))
	for _, r := range d.rules {
		ids = append(ids, r.id)
	}
	return ids
}
