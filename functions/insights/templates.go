package insights

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/model"
)

// The template library is data: templates/*.json, embedded. Each file holds
// the templates of one slot:
//
//	{"version": "2026.11.2", "slot": "aspect", "templates": [{"id": …, "key": …, …}]}
//
// Every file states the same version (TemplatesVersion of each insight).
// Texts may hold variables in braces, filled per user: see varNames.
//
//go:embed templates/*.json
var templateFiles embed.FS

// Slot is the role a template plays in an insight.
type Slot string

// The slots. An insight is composed of a lead (aspect, moon, day or general:
// headline, content, intention), optionally a Moon-sign line, a personal day
// paragraph (content, affirmation) and a practice (content sized to the
// user's time, journal prompt).
const (
	// SlotAspect: a transiting body's aspect to a natal point; key
	// "<body>:<class>" (body "sun" … "pluto", or "any"; class conj, soft,
	// hard).
	SlotAspect Slot = "aspect"
	// SlotMoon: the day's Moon sign; key the sign in lower case.
	SlotMoon Slot = "moon"
	// SlotDay: a personal day number; key "1" … "9", "11", "22", "33".
	SlotDay Slot = "day"
	// SlotGeneral: the lead for users without birth data; key "".
	SlotGeneral Slot = "general"
	// SlotPractice: a practice and journal prompt; key a focus area or
	// "any".
	SlotPractice Slot = "practice"
)

var slots = []Slot{SlotAspect, SlotMoon, SlotDay, SlotGeneral, SlotPractice}

// Variables a template may use.
type varID uint8

const (
	vTransit      varID = iota // transiting body, "Venus"
	vNatal                     // natal point, "Sun", "Moon", "Ascendant"
	vNatalTheme                // what the natal point stands for, "your sense of purpose"
	vAspectPhrase              // "a trine to", "an opposition to", "a conjunction with"
	vMoonSign                  // the day's Moon sign, "Taurus"
	vSunSign                   // the natal Sun sign
	vDay                       // the personal day number, "7"
	vMinutes                   // the practice length in minutes, "5"
	vFocus                     // the focus area in words, "stress relief"
	vDuration                  // the practice length in words, "1 minute", "5 minutes"
	numVars
)

var varNames = [numVars]string{"transit", "natal", "natalTheme", "aspectPhrase", "moonSign", "sunSign", "day", "minutes", "focus", "duration"}

// slotVars are the variables each slot may use (checked when loading).
var slotVars = map[Slot][]varID{
	SlotAspect:   {vTransit, vNatal, vNatalTheme, vAspectPhrase, vMoonSign, vSunSign},
	SlotMoon:     {vMoonSign, vSunSign},
	SlotDay:      {vDay},
	SlotGeneral:  {vMoonSign},
	SlotPractice: {vMinutes, vFocus, vDuration},
}

// part is a literal followed by a variable (numVars: none).
type part struct {
	lit string
	v   varID
}

// text is a compiled template text; nil when empty.
type text []part

func compileText(s string, allowed []varID) (text, error) {
	if s == "" {
		return nil, nil
	}
	var t text
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			if strings.IndexByte(s, '}') >= 0 {
				return nil, fmt.Errorf("stray }")
			}
			t = append(t, part{lit: s, v: numVars})
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed {")
		}
		name := s[i+1 : i+j]
		vi := slices.Index(varNames[:], name)
		if vi < 0 || !slices.Contains(allowed, varID(vi)) {
			return nil, fmt.Errorf("variable {%s} not allowed here", name)
		}
		if strings.IndexByte(s[:i], '}') >= 0 {
			return nil, fmt.Errorf("stray }")
		}
		t = append(t, part{lit: s[:i], v: varID(vi)})
		s = s[i+j+1:]
	}
	return t, nil
}

// appendTo appends the text with vars filled to dst.
func (t text) appendTo(dst []byte, vars *[numVars]string) []byte {
	for _, p := range t {
		dst = append(dst, p.lit...)
		if p.v < numVars {
			dst = append(dst, vars[p.v]...)
		}
	}
	return dst
}

// Template is one compiled template of the library.
type Template struct {
	ID   string
	Slot Slot
	Key  string
	// MinMinutes and MaxMinutes bound a practice's length: it is offered
	// to users whose time commitment is at least MinMinutes, and sized to
	// min(commitment, MaxMinutes).
	MinMinutes, MaxMinutes int

	headline, content, intention, affirmation, prompt text
	index                                             int
}

type rawTemplate struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Headline    string `json:"headline"`
	Content     string `json:"content"`
	Intention   string `json:"intention"`
	Affirmation string `json:"affirmation"`
	Prompt      string `json:"journalPrompt"`
	MinMinutes  int    `json:"minMinutes"`
	MaxMinutes  int    `json:"maxMinutes"`
}

type rawFile struct {
	Version   string        `json:"version"`
	Slot      Slot          `json:"slot"`
	Templates []rawTemplate `json:"templates"`
}

// aspect classes.
const (
	classConj = iota
	classSoft
	classHard
	numClasses
)

var classNames = [numClasses]string{"conj", "soft", "hard"}

// dayKeys are the personal day keys in pool order.
var dayKeys = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 22, 33}

// Library is the compiled template library with its pools.
type Library struct {
	// Version is the library's version (TemplatesVersion of the insights).
	Version   string
	Templates []Template
	byID      map[string]int

	aspect    [astro.NumBodies][numClasses][]int
	aspectAny [numClasses][]int
	moon      [12][]int
	day       map[int][]int
	general   []int
	practice  map[model.FocusArea][]int
	practiceA []int // key "any"
}

// Size is the number of templates.
func (l *Library) Size() int { return len(l.Templates) }

// Lookup returns the index of a template id.
func (l *Library) Lookup(id string) (int, bool) {
	i, ok := l.byID[id]
	return i, ok
}

// requiredFields per slot: headline, content, intention, affirmation, prompt.
var requiredFields = map[Slot][5]bool{
	SlotAspect:   {true, true, true, false, false},
	SlotMoon:     {true, true, true, false, false},
	SlotDay:      {true, true, true, true, false},
	SlotGeneral:  {true, true, true, true, false},
	SlotPractice: {false, true, false, false, true},
}

// LoadLibrary compiles the embedded library. It fails when a file or a
// template is malformed (unknown slot or key, a missing field, an unknown
// variable, a duplicate id, differing versions).
func LoadLibrary() (*Library, error) { return loadLibrary(templateFiles, "templates") }

func loadLibrary(fsys fs.FS, dir string) (*Library, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	l := &Library{byID: map[string]int{}, day: map[int][]int{}, practice: map[model.FocusArea][]int{}}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var f rawFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("templates %s: %w", name, err)
		}
		if f.Version == "" || (l.Version != "" && f.Version != l.Version) {
			return nil, fmt.Errorf("templates %s: version %q differs from %q", name, f.Version, l.Version)
		}
		l.Version = f.Version
		if !slices.Contains(slots, f.Slot) {
			return nil, fmt.Errorf("templates %s: unknown slot %q", name, f.Slot)
		}
		for _, r := range f.Templates {
			if err := l.add(f.Slot, r); err != nil {
				return nil, fmt.Errorf("templates %s: %s: %w", name, r.ID, err)
			}
		}
	}
	if len(l.Templates) == 0 {
		return nil, fmt.Errorf("templates: none found")
	}
	return l, nil
}

func (l *Library) add(slot Slot, r rawTemplate) error {
	if r.ID == "" || strings.ContainsFunc(r.ID, unicode.IsSpace) {
		return fmt.Errorf("id %q is empty or has white space (State entries separate ids by spaces)", r.ID)
	}
	if _, dup := l.byID[r.ID]; dup {
		return fmt.Errorf("duplicate id")
	}
	t := Template{ID: r.ID, Slot: slot, Key: r.Key, MinMinutes: r.MinMinutes, MaxMinutes: r.MaxMinutes, index: len(l.Templates)}
	allowed := slotVars[slot]
	raw := [5]string{r.Headline, r.Content, r.Intention, r.Affirmation, r.Prompt}
	dst := [5]*text{&t.headline, &t.content, &t.intention, &t.affirmation, &t.prompt}
	for i, s := range raw {
		if requiredFields[slot][i] && strings.TrimSpace(s) == "" {
			return fmt.Errorf("field %d is required for slot %s", i, slot)
		}
		c, err := compileText(s, allowed)
		if err != nil {
			return err
		}
		*dst[i] = c
	}
	switch slot {
	case SlotAspect:
		body, class, ok := strings.Cut(r.Key, ":")
		ci := slices.Index(classNames[:], class)
		if !ok || ci < 0 {
			return fmt.Errorf("aspect key %q is not <body>:<conj|soft|hard>", r.Key)
		}
		if body == "any" {
			l.aspectAny[ci] = append(l.aspectAny[ci], t.index)
			break
		}
		bi := bodyIndex(body)
		if bi < 0 {
			return fmt.Errorf("aspect key %q: unknown body", r.Key)
		}
		l.aspect[bi][ci] = append(l.aspect[bi][ci], t.index)
	case SlotMoon:
		si := slices.IndexFunc(astro.Signs[:], func(s string) bool { return strings.EqualFold(s, r.Key) })
		if si < 0 {
			return fmt.Errorf("moon key %q is not a sign", r.Key)
		}
		l.moon[si] = append(l.moon[si], t.index)
	case SlotDay:
		n := 0
		if _, err := fmt.Sscanf(r.Key, "%d", &n); err != nil || !slices.Contains(dayKeys, n) {
			return fmt.Errorf("day key %q is not 1–9, 11, 22 or 33", r.Key)
		}
		l.day[n] = append(l.day[n], t.index)
	case SlotGeneral:
		if r.Key != "" {
			return fmt.Errorf("general templates have no key")
		}
		l.general = append(l.general, t.index)
	case SlotPractice:
		if r.MinMinutes < 1 || r.MaxMinutes < r.MinMinutes {
			return fmt.Errorf("practice needs 1 ≤ minMinutes ≤ maxMinutes")
		}
		if r.Key == "any" {
			if t.prompt.hasVar(vFocus) || t.content.hasVar(vFocus) {
				return fmt.Errorf("practices for any focus cannot use {focus}")
			}
			l.practiceA = append(l.practiceA, t.index)
			break
		}
		if !model.FocusArea(r.Key).Valid() {
			return fmt.Errorf("practice key %q is not a focus area", r.Key)
		}
		l.practice[model.FocusArea(r.Key)] = append(l.practice[model.FocusArea(r.Key)], t.index)
	}
	l.Templates = append(l.Templates, t)
	l.byID[t.ID] = t.index
	return nil
}

func (t text) hasVar(v varID) bool {
	for _, p := range t {
		if p.v == v {
			return true
		}
	}
	return false
}

// bodyIndex returns the astro.Body of a lower-case body name, or -1.
func bodyIndex(name string) int {
	for b := range astro.NumBodies {
		if astro.Body(b).String() == name {
			return b
		}
	}
	return -1
}
