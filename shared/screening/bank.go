package screening

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/innerjourney/functions/shared/fault"
)

// Question kinds: what a question feeds in the Result.
const (
	KindFocusArea      = "focusArea"      // Result.FocusArea (the option id)
	KindTimeCommitment = "timeCommitment" // Result.TimeCommitment (the option value, minutes)
	KindTrait          = "trait"          // Result.Traits, by the bank's TraitRules
	KindSafety         = "safety"         // the explicit safety question: option "yes" sets suicideRisk
	KindPHQ9           = "phq9"           // PHQ-9 items 1–9 (items 1–2 are the PHQ-2)
	KindASRS           = "asrs"           // ASRS v1.1 Part A items 1–6
	KindAQ10           = "aq10"           // AQ-10 adult items 1–10
)

// SafetyYes is the option id of the safety question that sets suicideRisk.
const SafetyYes = "yes"

//go:embed questions/v1.json
var bankV1 []byte

// QuestionsJSON returns the embedded question bank exactly as stored, for
// clients and the `ops screen --questions` command. The caller must not
// modify the returned slice.
func QuestionsJSON() []byte { return bankV1 }

var defaultBank = sync.OnceValues(func() (*Bank, error) { return ParseBank(bankV1) })

// DefaultBank returns the embedded question bank, parsed once. It panics if
// the embedded file is invalid, a programming error that the package's tests
// catch.
func DefaultBank() *Bank {
	b, err := defaultBank()
	if err != nil {
		panic(err)
	}
	return b
}

// Bank is a parsed, validated question bank. Its exported fields mirror the
// JSON file and must be treated as read-only.
type Bank struct {
	// Version identifies the bank (e.g. "2026-11-1"); it is copied into
	// every Result.
	Version     string                `json:"version"`
	Title       string                `json:"title,omitempty"`
	Notes       []string              `json:"notes,omitempty"`
	Instruments map[string]Instrument `json:"instruments"`
	// Scales are option sets shared by several questions, by name.
	Scales     map[string][]Option `json:"scales"`
	TraitRules TraitRules          `json:"traitRules"`
	Questions  []Question          `json:"questions"`

	byKey     map[string]*Question // normalized id and aliases → question
	coreCount int                  // questions that count towards completeness
}

// Instrument documents one screening instrument: its source, licence terms
// and whether the bank holds its verbatim wording or paraphrased labels.
type Instrument struct {
	Name         string `json:"name"`
	Source       string `json:"source"`
	Licence      string `json:"licence"`
	Wording      string `json:"wording"` // "verbatim" or "paraphrase"
	RecallPeriod string `json:"recallPeriod,omitempty"`
	Stem         string `json:"stem,omitempty"`
	SharedItems  string `json:"sharedItems,omitempty"`
	Scoring      string `json:"scoring"`
}

// TraitRules maps trait questions to traits (see the bank's description).
type TraitRules struct {
	Method      string           `json:"method"` // only "majority"
	MinAnswered int              `json:"minAnswered"`
	Description string           `json:"description"`
	Dimensions  []TraitDimension `json:"dimensions"`
}

// TraitDimension is a pair of opposite traits, e.g. introvert/extrovert.
type TraitDimension struct {
	ID    string    `json:"id"`
	Poles [2]string `json:"poles"`
}

// Question is one question of the bank.
type Question struct {
	ID string `json:"id"`
	// Aliases are other accepted question ids (e.g. phq2_1 for phq9_1).
	Aliases   []string `json:"aliases,omitempty"`
	Kind      string   `json:"kind"`
	Item      int      `json:"item,omitempty"`      // instrument item number
	Dimension string   `json:"dimension,omitempty"` // trait questions
	Text      string   `json:"text,omitempty"`      // wording the app may show
	Label     string   `json:"label,omitempty"`     // paraphrase of licensed wording
	Scale     string   `json:"scale,omitempty"`     // name of a shared option set
	Options   []Option `json:"options,omitempty"`   // inline options (instead of Scale)
	// Scored lists the option ids worth 1 point (ASRS, AQ-10); when empty an
	// instrument item scores its option's Value (PHQ-9).
	Scored []string `json:"scored,omitempty"`
	// FollowUp questions are not asked of everyone and do not count towards
	// completeness.
	FollowUp bool `json:"followUp,omitempty"`

	opts     []Option
	byKey    map[string]int // normalized id, label, aliases, value → option index
	byValue  map[int]int    // numeric value → option index
	scored   map[string]bool
	dimIndex int
}

// Option is one answer option.
type Option struct {
	ID      string   `json:"id"`
	Label   string   `json:"label"`
	Value   *int     `json:"value,omitempty"` // numeric alias and PHQ points
	Trait   string   `json:"trait,omitempty"` // trait questions
	Aliases []string `json:"aliases,omitempty"`
}

// ParseBank parses and validates a question bank. It returns a
// fault.InvalidArgument error describing the first problem found: malformed
// JSON, unknown fields, duplicate or ambiguous ids, labels or aliases, a
// missing scale, or an instrument whose items are not exactly the published
// ones (PHQ-9 1–9 on a 0–3 scale, ASRS 1–6 on five options, AQ-10 1–10 on
// four options).
func ParseBank(data []byte) (*Bank, error) {
	var b Bank
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("screening: parse bank: %w", fault.Invalid("bad question bank JSON: %v", err))
	}
	if err := b.index(); err != nil {
		return nil, fmt.Errorf("screening: parse bank: %w", err)
	}
	return &b, nil
}

// Question returns the question with the id or alias (matched like answers:
// case-insensitive, ignoring '_' and '-'), or nil.
func (b *Bank) Question(id string) *Question {
	return b.byKey[normalize(id)]
}

// CoreQuestions returns how many questions count towards completeness.
func (b *Bank) CoreQuestions() int { return b.coreCount }

func (b *Bank) index() error {
	if strings.TrimSpace(b.Version) == "" {
		return fault.Invalid("bank has no version")
	}
	tr := b.TraitRules
	if tr.Method != "majority" {
		return fault.Invalid("traitRules.method %q: only \"majority\" is supported", tr.Method)
	}
	if tr.MinAnswered < 1 {
		return fault.Invalid("traitRules.minAnswered must be at least 1")
	}
	dims := map[string]int{}
	for i, d := range tr.Dimensions {
		if d.ID == "" || d.Poles[0] == "" || d.Poles[1] == "" || d.Poles[0] == d.Poles[1] {
			return fault.Invalid("trait dimension %d needs an id and two different poles", i)
		}
		if _, dup := dims[d.ID]; dup {
			return fault.Invalid("trait dimension %q twice", d.ID)
		}
		dims[d.ID] = i
	}

	b.byKey = map[string]*Question{}
	items := map[string]map[int]bool{KindPHQ9: {}, KindASRS: {}, KindAQ10: {}}
	singles := map[string]int{}
	dimCount := make([]int, len(tr.Dimensions))
	for i := range b.Questions {
		q := &b.Questions[i]
		if q.ID == "" {
			return fault.Invalid("question %d has no id", i)
		}
		for _, k := range append([]string{q.ID}, q.Aliases...) {
			n := normalize(k)
			if n == "" {
				return fault.Invalid("question %s: empty alias", q.ID)
			}
			if _, dup := b.byKey[n]; dup {
				return fault.Invalid("question id or alias %q used twice", k)
			}
			b.byKey[n] = q
		}
		switch {
		case q.Scale != "" && len(q.Options) > 0:
			return fault.Invalid("question %s has both scale and options", q.ID)
		case q.Scale != "":
			opts, ok := b.Scales[q.Scale]
			if !ok {
				return fault.Invalid("question %s: unknown scale %q", q.ID, q.Scale)
			}
			q.opts = opts
		default:
			q.opts = q.Options
		}
		if err := q.indexOptions(); err != nil {
			return err
		}
		if !q.FollowUp {
			b.coreCount++
		}
		switch q.Kind {
		case KindFocusArea, KindSafety, KindTimeCommitment:
			singles[q.Kind]++
			if q.Kind == KindSafety {
				if _, ok := q.byKey[SafetyYes]; !ok {
					return fault.Invalid("safety question %s has no %q option", q.ID, SafetyYes)
				}
			}
			if q.Kind == KindTimeCommitment {
				for _, o := range q.opts {
					if o.Value == nil || *o.Value <= 0 {
						return fault.Invalid("time commitment option %q needs a positive value in minutes", o.ID)
					}
				}
			}
		case KindTrait:
			di, ok := dims[q.Dimension]
			if !ok {
				return fault.Invalid("trait question %s: unknown dimension %q", q.ID, q.Dimension)
			}
			q.dimIndex = di
			dimCount[di]++
			poles := tr.Dimensions[di].Poles
			if len(q.opts) != 2 || q.opts[0].Trait == q.opts[1].Trait ||
				!isPole(q.opts[0].Trait, poles) || !isPole(q.opts[1].Trait, poles) {
				return fault.Invalid("trait question %s needs two options, one per pole of %q", q.ID, q.Dimension)
			}
		case KindPHQ9, KindASRS, KindAQ10:
			if err := q.checkItem(items[q.Kind]); err != nil {
				return err
			}
		default:
			return fault.Invalid("question %s: unknown kind %q", q.ID, q.Kind)
		}
	}
	for _, k := range []string{KindFocusArea, KindTimeCommitment, KindSafety} {
		if singles[k] != 1 {
			return fault.Invalid("bank needs exactly one %s question, has %d", k, singles[k])
		}
	}
	for kind, n := range map[string]int{KindPHQ9: phq9Items, KindASRS: asrsItems, KindAQ10: aq10Items} {
		for it := 1; it <= n; it++ {
			if !items[kind][it] {
				return fault.Invalid("%s item %d missing", kind, it)
			}
		}
	}
	for i, n := range dimCount {
		if n < tr.MinAnswered {
			return fault.Invalid("trait dimension %q has %d questions, fewer than minAnswered", tr.Dimensions[i].ID, n)
		}
	}
	return nil
}

func isPole(t string, poles [2]string) bool { return t == poles[0] || t == poles[1] }

// checkItem validates an instrument item against the published shape.
func (q *Question) checkItem(seen map[int]bool) error {
	var max, nOpts int
	switch q.Kind {
	case KindPHQ9:
		max, nOpts = phq9Items, 4
	case KindASRS:
		max, nOpts = asrsItems, 5
	case KindAQ10:
		max, nOpts = aq10Items, 4
	}
	if q.Item < 1 || q.Item > max {
		return fault.Invalid("%s question %s: item %d out of 1–%d", q.Kind, q.ID, q.Item, max)
	}
	if seen[q.Item] {
		return fault.Invalid("%s item %d twice", q.Kind, q.Item)
	}
	seen[q.Item] = true
	if len(q.opts) != nOpts {
		return fault.Invalid("%s question %s needs %d options", q.Kind, q.ID, nOpts)
	}
	if q.Kind == KindPHQ9 {
		if len(q.Scored) != 0 {
			return fault.Invalid("phq9 question %s scores option values; scored must be empty", q.ID)
		}
		for i, o := range q.opts {
			if o.Value == nil || *o.Value != i {
				return fault.Invalid("phq9 question %s: option %q must have value %d", q.ID, o.ID, i)
			}
		}
		return nil
	}
	if len(q.Scored) == 0 {
		return fault.Invalid("%s question %s needs scored options", q.Kind, q.ID)
	}
	q.scored = map[string]bool{}
	for _, id := range q.Scored {
		found := false
		for _, o := range q.opts {
			found = found || o.ID == id
		}
		if !found {
			return fault.Invalid("%s question %s: scored option %q does not exist", q.Kind, q.ID, id)
		}
		q.scored[id] = true
	}
	return nil
}

// indexOptions builds the answer lookup of a question and rejects options
// whose id, label, aliases or values would make an answer ambiguous.
func (q *Question) indexOptions() error {
	if len(q.opts) == 0 {
		return fault.Invalid("question %s has no options", q.ID)
	}
	q.byKey = map[string]int{}
	q.byValue = map[int]int{}
	add := func(key string, i int) error {
		n := normalize(key)
		if n == "" {
			return fault.Invalid("question %s: option %d has an empty id, label or alias", q.ID, i)
		}
		if j, dup := q.byKey[n]; dup && j != i {
			return fault.Invalid("question %s: %q names two options", q.ID, key)
		}
		q.byKey[n] = i
		return nil
	}
	for i, o := range q.opts {
		keys := append([]string{o.ID, o.Label}, o.Aliases...)
		if o.Trait != "" {
			keys = append(keys, o.Trait)
		}
		if o.Value != nil {
			if _, dup := q.byValue[*o.Value]; dup {
				return fault.Invalid("question %s: value %d used twice", q.ID, *o.Value)
			}
			q.byValue[*o.Value] = i
			keys = append(keys, strconv.Itoa(*o.Value))
		}
		for _, k := range keys {
			if err := add(k, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// OptionIDs returns the ids of the question's options in display order.
func (q *Question) OptionIDs() []string {
	ids := make([]string, len(q.opts))
	for i, o := range q.opts {
		ids[i] = o.ID
	}
	return ids
}

// ScoredOptions returns the sorted ids of the options worth a point (ASRS,
// AQ-10 items; empty for other questions).
func (q *Question) ScoredOptions() []string {
	ids := make([]string, 0, len(q.scored))
	for id := range q.scored {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// normalize folds an id, label or alias for matching: lower case, '_' and
// '-' as spaces, surrounding and repeated white space removed.
func normalize(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		switch r {
		case '_', '-':
			return ' '
		case '\u2019':
			return '\''
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
