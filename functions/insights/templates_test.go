package insights

import (
	"strings"
	"testing"
	"testing/fstest"

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
	for _, f := range model.FocusAreas {
		fits := 0
		for _, i := range append(append([]int{}, l.practice[f]...), l.practiceA...) {
			if l.Templates[i].MinMinutes <= 5 {
				fits++
			}
		}
		need("5-minute practices for "+string(f), fits, RecentDays)
	}
	fitsAny := 0
	for _, i := range l.practiceA {
		if l.Templates[i].MinMinutes <= 2 {
			fitsAny++
		}
	}
	need("2-minute practices without a focus", fitsAny, RecentDays)
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
	banned := []string{"cure", "heal", "diagnos", "medic", "therap", "disorder", "depress", "anxiety", "will happen", "guarantee"}
	for _, tp := range l.Templates {
		for _, tx := range []text{tp.headline, tp.content, tp.intention, tp.affirmation, tp.prompt} {
			var vars [numVars]string
			for i := range vars {
				vars[i] = "X"
			}
			s := string(tx.appendTo(nil, &vars))
			low := strings.ToLower(s)
			for _, b := range banned {
				if strings.Contains(low, b) {
					t.Errorf("%s: %q contains %q", tp.ID, s, b)
				}
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
		if tp.Slot == SlotPractice && !tp.content.hasVar(vMinutes) {
			t.Errorf("%s: a practice states its {minutes}", tp.ID)
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
