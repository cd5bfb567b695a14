package insights

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/model"
)

func mustLibrary(t testing.TB) *Library {
	t.Helper()
	l, err := DefaultLibrary()
	if err != nil {
		t.Fatalf("library: %v", err)
	}
	return l
}

func TestLibraryShape(t *testing.T) {
	l := mustLibrary(t)
	if l.Size() < 200 {
		t.Errorf("library has %d templates, want ≥ 200", l.Size())
	}
	if l.Version == "" {
		t.Error("no version")
	}
	// Pools used every day must hold more than a RecentDays window, so the
	// no-repeat rule can always be kept; pools that recur less often need
	// less (a Moon sign lasts ≤ 3 noons; a personal day recurs ≤ 2 times
	// in 14 days, a master day rarely).
	need := func(name string, got, want int) {
		t.Helper()
		if got < want {
			t.Errorf("%s: %d templates, want ≥ %d", name, got, want)
		}
	}
	need("general", len(l.general), RecentDays+1)
	// Practices: every timeCommitment the rules accept must find more than
	// a window of practices in the user's pools (see
	// TestPracticePoolsServeEveryCommitment).
	need("shared practices", len(l.practiceA), RecentDays+1)
	for s := range 12 {
		need("moon "+astro.Signs[s], len(l.moon[s]), 3)
	}
	for _, k := range dayKeys {
		want := 3
		if k <= 9 {
			want = 5
		}
		need("day "+itoa(k), len(l.day[k]), want)
	}
	for b := range astro.NumBodies {
		for c := range numClasses {
			need("aspect "+astro.Body(b).String()+":"+classNames[c], len(l.aspect[b][c]), 2)
		}
	}
	for c := range numClasses {
		need("aspect any:"+classNames[c], len(l.aspectAny[c]), 4)
	}
}

func TestLibraryTexts(t *testing.T) {
	l := mustLibrary(t)
	for _, tp := range l.Templates {
		for _, tx := range []text{tp.headline, tp.content, tp.intention, tp.affirmation, tp.prompt} {
			var vars [numVars]string
			for i := range vars {
				vars[i] = "X"
			}
			s := string(tx.appendTo(nil, &vars))
			// The check a rewrite must pass too (applyRewrite).
			if term := analysis.UnsafeClaim(s); term != "" {
				t.Errorf("%s: %q contains %q", tp.ID, s, term)
			}
			if strings.Contains(s, "  ") || strings.TrimSpace(s) != s {
				t.Errorf("%s: stray spaces in %q", tp.ID, s)
			}
		}
		for _, tx := range []text{tp.headline, tp.content, tp.intention, tp.affirmation, tp.prompt} {
			for _, p := range tx {
				// "a {moonSign}" reads "a Aries", "a {day}" "a 8": no article before a variable.
				l := " " + strings.ToLower(p.lit)
				if p.v < numVars && (strings.HasSuffix(l, " a ") || strings.HasSuffix(l, " an ")) {
					t.Errorf("%s: article before {%s}", tp.ID, varNames[p.v])
				}
			}
		}
		if tp.Slot == SlotPractice && !tp.content.hasVar(vMinutes) && !tp.content.hasVar(vDuration) {
			t.Errorf("%s: a practice states its {minutes} or {duration}", tp.ID)
		}
	}
}

// minPracticesPerFocus is the size of every focus area's own practice pool
// (README: "12 per focus area").
const minPracticesPerFocus = 12

// maxCommitment is the largest timeCommitment the rules and
// model.ValidateUser accept (0–600 minutes).
const maxCommitment = 600

// commitments are the timeCommitment values that choose different
// practices: 0 (unknown: DefaultMinutes), every value from 1 up to the
// largest minMinutes of the library (above it every practice fits, so the
// choice no longer changes), one more, and the rules' maximum.
func commitments(l *Library) []int {
	top := 0
	for _, tp := range l.Templates {
		if tp.Slot == SlotPractice {
			top = max(top, tp.MinMinutes)
		}
	}
	out := []int{0}
	for m := 1; m <= top+1; m++ {
		out = append(out, m)
	}
	return append(out, maxCommitment)
}

// effectiveMinutes is the commitment generation sizes practices to.
func effectiveMinutes(m int) int {
	if m <= 0 {
		return DefaultMinutes
	}
	return m
}

// TestEveryFocusAreaHasItsPractices: focusArea is respected for every
// focus area the data model and the rules accept: each has a pool of its
// own, with a practice that fits every commitment, and words for {focus}.
func TestEveryFocusAreaHasItsPractices(t *testing.T) {
	l := mustLibrary(t)
	for _, f := range model.FocusAreas {
		if n := len(l.practice[f]); n < minPracticesPerFocus {
			t.Errorf("focus area %q has %d practices of its own, want ≥ %d", f, n, minPracticesPerFocus)
		}
		if focusWords[f] == "" {
			t.Errorf("focus area %q has no words for {focus}", f)
		}
		for _, m := range commitments(l) {
			fits := 0
			for _, i := range l.practice[f] {
				if l.Templates[i].MinMinutes <= effectiveMinutes(m) {
					fits++
				}
			}
			if fits == 0 {
				t.Errorf("focus area %q: no practice of its own fits a commitment of %d min", f, m)
			}
		}
	}
}

// TestPracticePoolsServeEveryCommitment: for every focus area and for
// users without one, at every commitment, the pools offered (the area's
// and the shared one) hold more than RecentDays practices that fit, so a
// practice is never repeated within RecentDays.
func TestPracticePoolsServeEveryCommitment(t *testing.T) {
	l := mustLibrary(t)
	for _, f := range append([]model.FocusArea{""}, model.FocusAreas...) {
		for _, m := range commitments(l) {
			fits := 0
			for _, i := range append(append([]int{}, l.practice[f]...), l.practiceA...) {
				if l.Templates[i].MinMinutes <= effectiveMinutes(m) {
					fits++
				}
			}
			if fits <= RecentDays {
				t.Errorf("focus %q, commitment %d min: %d practices fit, want > %d", f, m, fits, RecentDays)
			}
		}
	}
}

// TestPracticeLengths renders every practice at every length it can be
// given: the length is stated, and "1 minutes" never appears.
func TestPracticeLengths(t *testing.T) {
	l := mustLibrary(t)
	for _, tp := range l.Templates {
		if tp.Slot != SlotPractice {
			continue
		}
		for n := tp.MinMinutes; n <= tp.MaxMinutes; n++ {
			var vars [numVars]string
			vars[vFocus] = "X"
			setMinutes(&vars, n)
			s := string(tp.content.appendTo(nil, &vars))
			if !strings.Contains(s, itoa(n)+" minute") {
				t.Errorf("%s at %d: length not stated in %q", tp.ID, n, s)
			}
			if strings.Contains(s, " 1 minutes") {
				t.Errorf("%s at %d: %q", tp.ID, n, s)
			}
		}
	}
}

func TestLoadLibraryErrors(t *testing.T) {
	file := func(body string) fstest.MapFS {
		return fstest.MapFS{"t/a.json": {Data: []byte(body)}}
	}
	cases := []struct {
		name, body, want string
	}{
		{"bad json", `{`, "unexpected"},
		{"no version", `{"slot":"general","templates":[]}`, "version"},
		{"bad slot", `{"version":"1","slot":"x","templates":[]}`, "unknown slot"},
		{"missing field", `{"version":"1","slot":"general","templates":[{"id":"g","headline":"h","content":"c","intention":"i"}]}`, "required"},
		{"unknown var", `{"version":"1","slot":"general","templates":[{"id":"g","headline":"{nope}","content":"c","intention":"i","affirmation":"a"}]}`, "not allowed"},
		{"var of another slot", `{"version":"1","slot":"day","templates":[{"id":"d","key":"1","headline":"{transit}","content":"c","intention":"i","affirmation":"a"}]}`, "not allowed"},
		{"unclosed", `{"version":"1","slot":"general","templates":[{"id":"g","headline":"{day","content":"c","intention":"i","affirmation":"a"}]}`, "unclosed"},
		{"bad day key", `{"version":"1","slot":"day","templates":[{"id":"d","key":"12","headline":"h","content":"c","intention":"i","affirmation":"a"}]}`, "day key"},
		{"bad aspect key", `{"version":"1","slot":"aspect","templates":[{"id":"a","key":"venus:meh","headline":"h","content":"c","intention":"i"}]}`, "aspect key"},
		{"bad body", `{"version":"1","slot":"aspect","templates":[{"id":"a","key":"vulcan:soft","headline":"h","content":"c","intention":"i"}]}`, "unknown body"},
		{"bad minutes", `{"version":"1","slot":"practice","templates":[{"id":"p","key":"any","content":"c","journalPrompt":"p","minMinutes":5,"maxMinutes":2}]}`, "minMinutes"},
		{"focus in any", `{"version":"1","slot":"practice","templates":[{"id":"p","key":"any","content":"{focus}","journalPrompt":"p","minMinutes":1,"maxMinutes":2}]}`, "{focus}"},
		{"duplicate", `{"version":"1","slot":"general","templates":[{"id":"g","headline":"h","content":"c","intention":"i","affirmation":"a"},{"id":"g","headline":"h","content":"c","intention":"i","affirmation":"a"}]}`, "duplicate"},
		{"no id", `{"version":"1","slot":"general","templates":[{"headline":"h","content":"c","intention":"i","affirmation":"a"}]}`, "empty or has white space"},
		{"space in id", `{"version":"1","slot":"general","templates":[{"id":"g 1","headline":"h","content":"c","intention":"i","affirmation":"a"}]}`, "white space"},
		{"empty", `{"version":"1","slot":"general","templates":[]}`, "none found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadLibrary(file(c.body), "t")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestCompileText(t *testing.T) {
	all := []varID{vTransit, vNatal, vDay}
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"", "", true},
		{"a {transit} b {natal}", "a T b N", true},
		{"{day}", "D", true},
		{"a } b", "", false},
		{"{focus}", "", false},
	}
	vars := [numVars]string{vTransit: "T", vNatal: "N", vDay: "D"}
	for _, c := range cases {
		tx, err := compileText(c.in, all)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if got := string(tx.appendTo(nil, &vars)); c.ok && got != c.want {
			t.Errorf("%q → %q, want %q", c.in, got, c.want)
		}
	}
}
