package insights

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/crisis"
	"github.com/innerjourney/functions/shared/model"
)

// Review 21 (content safety): the reader of a daily insight may be in a
// depressive episode or at risk of suicide (wellbeingFlags, an open
// wellbeing episode: generation does not look at either). What they read
// every morning — and the notification on the lock screen, whose title is
// the headline and whose body the intention — must not speak of death,
// endings, giving up or letting go in a way they can read literally.

// r21Fields names the five texts (headline, content, intention,
// affirmation, journal prompt); standalone marks the lines read alone.
// The word lists are the rewrite check's (atRiskTerms, atRiskAlone,
// rewriteAlone in rewrite.go): the templates are held to what a rewrite is.
var r21Fields = [5]string{"headline", "content", "intention", "affirmation", "journalPrompt"}

// r21Values are the values variable v can take in tp in production: a
// day template's {day} is its key, a body's aspect template's {transit}
// that body.
func r21Values(tp *Template, v varID) []string {
	switch v {
	case vTransit:
		if body, _, _ := strings.Cut(tp.Key, ":"); tp.Slot == SlotAspect && bodyIndex(body) >= 0 {
			b := bodyIndex(body)
			return bodyTitles[b : b+1]
		}
		return bodyTitles[:]
	case vNatal:
		return []string{"Sun", "Moon", "Ascendant"}
	case vNatalTheme:
		return slices.Sorted(maps.Values(natalThemes))
	case vAspectPhrase:
		return slices.Sorted(maps.Values(aspectPhrase))
	case vMoonSign, vSunSign:
		return astro.Signs[:]
	case vDay:
		if tp.Slot == SlotDay {
			return []string{tp.Key}
		}
		out := make([]string, len(dayKeys))
		for i, k := range dayKeys {
			out[i] = itoa(k)
		}
		return out
	case vMinutes:
		return smallInts[1:61]
	case vDuration:
		return durations[1:61]
	case vFocus:
		return slices.Sorted(maps.Values(focusWords))
	}
	return []string{""}
}

// r21Renderings returns every text t can be filled into: the product of
// the values of the variables it uses.
func r21Renderings(t *testing.T, tp *Template, tx text) []string {
	t.Helper()
	var used []varID
	for _, p := range tx {
		if p.v < numVars && !slices.Contains(used, p.v) {
			used = append(used, p.v)
		}
	}
	var vars [numVars]string
	var out []string
	var fill func(i int)
	fill = func(i int) {
		if i == len(used) {
			out = append(out, string(tx.appendTo(nil, &vars)))
			return
		}
		for _, s := range r21Values(tp, used[i]) {
			vars[used[i]] = s
			fill(i + 1)
		}
	}
	fill(0)
	return out
}

func r21Texts(tp *Template) [5]text {
	return [5]text{tp.headline, tp.content, tp.intention, tp.affirmation, tp.prompt}
}

// TestReview21ContentNoEndingsOrLettingGo: no template text, filled with
// any value of its variables, speaks of death, endings, rebirth, burden
// or harm; and no line read on its own (the lock screen's title and body,
// the affirmation) speaks of ending, letting go, releasing, giving up or
// loosening one's grip. Today the personal day 9 says "Endings that open
// doors" / "Trust that endings open doors" on the lock screen, and the
// Pluto and Scorpio Moon leads "Letting go".
func TestReview21ContentNoEndingsOrLettingGo(t *testing.T) {
	l := mustLibrary(t)
	offenders := map[string]bool{}
	for i := range l.Templates {
		tp := &l.Templates[i]
		for f, tx := range r21Texts(tp) {
			terms := atRiskTerms
			if rewriteAlone[f] {
				terms = atRiskAlone
			}
			seen := map[string]bool{}
			for _, s := range r21Renderings(t, tp, tx) {
				for _, re := range terms {
					if m := re.FindString(s); m != "" && !seen[re.String()] {
						seen[re.String()] = true
						offenders[tp.ID] = true
						t.Errorf("%s %s: %q says %q", tp.ID, r21Fields[f], s, m)
					}
				}
			}
		}
	}
	if len(offenders) > 0 {
		ids := make([]string, 0, len(offenders))
		for id := range offenders {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		t.Errorf("templates a reader at risk can read literally: %s", strings.Join(ids, " "))
	}
}

// TestReview21ContentCrisisRulesSilent runs every template text, filled
// with every value of its variables, through shared/crisis's rules (phrase,
// concept and broad tiers: the ones that name what they found). None
// fires. The learned tier is not asserted: trained on first-person
// journal entries, it scores 166 of the 936 template texts, each filled
// once, as crisis, among them "What are you looking forward to, and why?".
func TestReview21ContentCrisisRulesSilent(t *testing.T) {
	l := mustLibrary(t)
	det := crisis.NewRulesOnly()
	n := 0
	for i := range l.Templates {
		tp := &l.Templates[i]
		for f, tx := range r21Texts(tp) {
			for _, s := range r21Renderings(t, tp, tx) {
				n++
				if r := det.Detect(s); r.Crisis {
					t.Errorf("%s %s: %q flagged by %v", tp.ID, r21Fields[f], s, r.Rules)
					break
				}
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d renderings checked", n)
	}
}

// r21Rewriter answers every Rewrite with out.
type r21Rewriter struct{ out Rewrite }

func (r21Rewriter) Name() string { return "r21-model" }

func (r r21Rewriter) Rewrite(context.Context, *model.DailyInsight) (Rewrite, error) {
	return r.out, nil
}

// r21Doc is an insight as generated today: the lead aspect.pluto.conj.1
// (a transit of Pluto to the natal Sun), the personal day 9 (day.9.1) and
// a practice.
func r21Doc() model.DailyInsight {
	return model.DailyInsight{UserID: "u-r21", Date: "2026-11-21", Kind: KindChart,
		Headline:      "Deep currents",
		Content:       "Pluto makes a conjunction with your natal Sun, a slow transit that may stir profound change around your sense of purpose. Letting go of what no longer fits could make room for something truer. Your personal day number is 9, a number of completion. Finishing something, or letting it go, may feel freeing today. Practice: take 5 minutes to write one intention for today and how you will know you kept it.",
		Intention:     "Release what no longer fits.",
		Affirmation:   "I let go with grace.",
		JournalPrompt: "How did your intention guide your choices?",
	}
}

// r21Faithful is a rewrite that keeps the meaning, tone and references.
func r21Faithful() Rewrite {
	return Rewrite{
		Headline:      "Currents running deep",
		Content:       "With Pluto in conjunction with your natal Sun, a slow transit could be stirring deep change around your sense of purpose. Making room for what fits you now may bring something truer. Your personal day number is 9, a number of completion, and finishing one thing may feel freeing. Practice: take 5 minutes to write one intention for today and how you will know you kept it.",
		Intention:     "Make room for what fits me now.",
		Affirmation:   "I finish what I can, with care.",
		JournalPrompt: "In what ways did your intention shape your choices?",
	}
}

// r21RewriteCase is a rewrite that changes one field of r21Faithful.
type r21RewriteCase struct {
	name  string
	field int // index into r21Fields
	text  string
}

func (c r21RewriteCase) rewrite() Rewrite {
	out := r21Faithful()
	p := [5]*string{&out.Headline, &out.Content, &out.Intention, &out.Affirmation, &out.JournalPrompt}
	*p[c.field] = c.text
	return out
}

func r21Apply(t *testing.T, out Rewrite) (model.DailyInsight, bool) {
	t.Helper()
	doc := r21Doc()
	ok := applyRewrite(context.Background(), r21Rewriter{out}, &doc)
	return doc, ok
}

func r21RejectCases(t *testing.T, cases []r21RewriteCase) {
	t.Helper()
	if doc, ok := r21Apply(t, r21Faithful()); !ok || doc.RewrittenBy == "" {
		t.Fatalf("a faithful rewrite is rejected: %+v", doc)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, ok := r21Apply(t, c.rewrite())
			if ok || !reflect.DeepEqual(doc, r21Doc()) {
				t.Errorf("rewrite with %s %q stored (notification %q / %q); want the template wording kept",
					r21Fields[c.field], c.text, doc.Headline, doc.Intention)
			}
		})
	}
}

// TestReview21RewriteRejectsCrisisLanguage: a rewrite is stored, and its
// headline and intention become the notification, when it passes
// analysis.UnsafeClaim — which knows medical terms, not death or crisis
// language. Rewording "I let go with grace" as "I let go of it all with
// grace" is what shared/crisis flags in a journal (en.broad.death), yet
// it is delivered as the reader's affirmation.
func TestReview21RewriteRejectsCrisisLanguage(t *testing.T) {
	r21RejectCases(t, []r21RewriteCase{
		{"affirmation the detector flags", 3, "I let go of it all with grace."},
		{"prompt the detector flags", 4, "What would it feel like to finally let go of everything?"},
		{"Pluto headline on the lock screen", 0, "Death and rebirth"},
		{"Pluto content", 1, "Pluto meets your natal Sun, a kind of death and rebirth around your sense of purpose. Letting go of what no longer fits could make room for something truer. Your personal day number is 9, a number of completion. Practice: take 5 minutes to write one intention for today and how you will know you kept it."},
		{"intention on the lock screen", 2, "Trust that every ending opens a door."},
		{"burden", 1, "Pluto makes a conjunction with your natal Sun, and you may feel like a burden to the people around you. Your personal day number is 9, a number of completion. Practice: take 5 minutes to write one intention for today and how you will know you kept it."},
	})
}

// TestReview21RewriteRejectsCertainty: the README promises a tentative
// tone ("may", "could") and the rewrite prompt forbids stating that
// something will happen, but the check only knows "will happen" and
// "guarantee": a rewrite that tells the reader what will happen to them is
// stored. A first-person resolution ("I will …") and a "will" the
// template itself has are not predictions.
func TestReview21RewriteRejectsCertainty(t *testing.T) {
	r21RejectCases(t, []r21RewriteCase{
		{"you will", 1, "Pluto makes a conjunction with your natal Sun, and you will go through a profound change around your sense of purpose. Your personal day number is 9, a number of completion. Practice: take 5 minutes to write one intention for today and how you will know you kept it."},
		{"going to", 1, "Pluto makes a conjunction with your natal Sun: something in your life is going to change for good. Your personal day number is 9, a number of completion. Practice: take 5 minutes to write one intention for today and how you will know you kept it."},
		{"definitely", 0, "A change is definitely coming"},
		{"fate in the affirmation", 3, "Everything will fall into place for me today."},
	})
	for _, c := range []r21RewriteCase{
		{"first-person resolution", 2, "I will make room for what fits me now."},
	} {
		t.Run("allowed/"+c.name, func(t *testing.T) {
			if doc, ok := r21Apply(t, c.rewrite()); !ok {
				t.Errorf("rewrite with %s %q rejected: %+v", r21Fields[c.field], c.text, doc)
			}
		})
	}
}
