package crisis

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/innerjourney/functions/shared/wellbeing"
)

// allRuleIDs returns every id Detect can report: the phrase rules, the
// concept and broad tiers' "<lang>.concept.<name>" and
// "<lang>.broad.<name>" (names read from the string literals of
// concept.go and broad.go, so a new name cannot be missed) and the
// model's "model.<lang>".
func allRuleIDs(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{"model.en": true, "model.sv": true}
	for _, id := range New().RuleIDs() {
		ids[id] = true
	}
	suffix := regexp.MustCompile(`^\.(concept|broad)\.([^.]+)$`)
	fset := token.NewFileSet()
	for file, layer := range map[string]string{"concept.go": "concept", "broad.go": "broad"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr: // fire(lang, "name")
				if fn, ok := x.Fun.(*ast.Ident); ok && fn.Name == "fire" && len(x.Args) == 2 {
					names = append(names, literal(t, x.Args[1]))
				}
			case *ast.KeyValueExpr: // broadID{…, name: "name"}
				if k, ok := x.Key.(*ast.Ident); ok && k.Name == "name" && layer == "broad" {
					names = append(names, literal(t, x.Value))
				}
			case *ast.BasicLit: // lang + ".concept.means"
				if s, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
					if m := suffix.FindStringSubmatch(s); m != nil && m[1] == layer {
						names = append(names, m[2])
					}
				}
			}
			return true
		})
		if len(names) == 0 {
			t.Fatalf("no %s rule names found in %s", layer, file)
		}
		for _, name := range names {
			for _, lang := range []string{"en", "sv"} {
				ids[lang+"."+layer+"."+name] = true
			}
		}
	}
	return ids
}

func literal(t *testing.T, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("rule name %T is not a string literal", e)
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRuleIDsAreWellbeingIDs: the reflection area copies the rule ids into
// the wellbeing trigger, which stores only id-like strings; a rule id such
// as "sv.plan.påkörd" was once refused there and dropped the crisis entry.
// Every id, of every tier and language, must be id-like.
func TestRuleIDsAreWellbeingIDs(t *testing.T) {
	ids := allRuleIDs(t)
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	for _, id := range sorted {
		if !wellbeing.IDLike(id) {
			t.Errorf("rule id %q is not id-like (wellbeing.IDLike)", id)
		}
	}
	for _, id := range []string{"sv.plan.satt_att_do", "sv.plan.pakord", "en.concept.death_wish", "sv.broad.negated_death"} {
		if !ids[id] {
			t.Errorf("%s missing from the enumeration", id)
		}
	}
}

// TestDetectReportsOnlyEnumeratedIDs keeps allRuleIDs complete: over the
// development sets (the blind sets are never opened), Detect reports no
// id it does not list.
func TestDetectReportsOnlyEnumeratedIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the detector over the evaluation sets")
	}
	ids := allRuleIDs(t)
	ex, err := LoadExamples(evalDir)
	if err != nil {
		t.Fatal(err)
	}
	d := New()
	swedishPlans := []struct{ text, id string }{
		{"Jag hoppas att jag blir påkörd av en bil imorgon.", "sv.plan.pakord"},
		{"Jag har letat efter sätt att dö.", "sv.plan.satt_att_do"},
	}
	for _, tt := range swedishPlans {
		if r := d.Detect(tt.text); !contains(r.Rules, tt.id) {
			t.Errorf("%q reports %v, want %s among them", tt.text, r.Rules, tt.id)
		}
	}
	unknown := map[string]bool{}
	for _, e := range ex {
		for _, id := range d.Detect(e.Text).Rules {
			if !ids[id] && !unknown[id] {
				unknown[id] = true
				t.Errorf("Detect reported %q, which allRuleIDs does not list", id)
			}
		}
	}
}
