package gdpr

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/testenv"
)

// modelCollections parses every non-test file of shared/model and returns
// the string value of each Col*/SubCol* constant, by constant name.
func modelCollections(t *testing.T) map[string]string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "shared", "model")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^(Col|SubCol)[A-Z]`)
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !name.MatchString(id.Name) || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: %s is not a string literal", f, id.Name)
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					out[id.Name] = v
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d collection constants in %s", len(out), dir)
	}
	return out
}

// TestEveryCollectionHasPolicy fails when a collection constant of
// shared/model has no entry in the policy table, or an entry names no
// collection of the model.
func TestEveryCollectionHasPolicy(t *testing.T) {
	cols := modelCollections(t)
	values := map[string]bool{}
	var names []string
	for n := range cols {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := cols[n]
		values[v] = true
		if _, ok := PolicyFor(v); !ok {
			t.Errorf("model.%s (%q) has no GDPR policy: add it to Policies in functions/gdpr/policy.go", n, v)
		}
	}
	for _, p := range Policies {
		if !p.System && !values[p.Collection] {
			t.Errorf("policy for %q names no collection constant of shared/model", p.Collection)
		}
	}
}

// TestPolicyTableConsistent checks the table's own rules.
func TestPolicyTableConsistent(t *testing.T) {
	seenCol, seenRule := map[string]bool{}, map[string]bool{}
	validKind := map[Kind]bool{KindDelete: true, KindDeleteSubtree: true, KindAnonymise: true, KindLegalHold: true, KindKeep: true, KindExternal: true}
	for _, p := range Policies {
		if seenCol[p.Collection] {
			t.Errorf("%s: two policies", p.Collection)
		}
		seenCol[p.Collection] = true
		if !validKind[p.Kind] || p.Why == "" || p.Export == "" {
			t.Errorf("%s: kind %q, why %q, export %q", p.Collection, p.Kind, p.Why, p.Export)
		}
		for _, r := range p.Rules {
			if seenRule[r.ID] || r.ID == "" {
				t.Errorf("rule id %q empty or repeated", r.ID)
			}
			seenRule[r.ID] = true
			if !validKind[r.Kind] || r.Erase == "" {
				t.Errorf("%s: kind %q erase %q", r.ID, r.Kind, r.Erase)
			}
			switch r.Match {
			case MatchQuery:
				if err := r.Query.Validate(); err != nil {
					t.Errorf("%s: %v", r.ID, err)
				}
				if len(r.Query.Filters) != 1 || (r.Query.Filters[0].Op != indexes.Eq && r.Query.Filters[0].Op != indexes.ArrayContains) {
					t.Errorf("%s: must be one == or array-contains filter (exact matches only), got %+v", r.ID, r.Query.Filters)
				}
				if r.Query.Collection != p.Collection {
					t.Errorf("%s: query on %s under policy %s", r.ID, r.Query.Collection, p.Collection)
				}
				if want := r.Query.Collection + "." + r.Query.Filters[0].Field; r.ID != want {
					t.Errorf("rule id %q, want %q", r.ID, want)
				}
			case MatchDocID:
				if r.ID != p.Collection || p.Parent != "" {
					t.Errorf("%s: document-id rules are named after their top-level collection", r.ID)
				}
			case MatchSubtree:
				if p.Parent != "users/{uid}" {
					t.Errorf("%s: subtree rule outside users/{uid}", r.ID)
				}
			case MatchVia:
				if r.via == nil || !strings.HasPrefix(r.ID, p.Collection+".") {
					t.Errorf("%s: via rule without a resolver", r.ID)
				}
			default:
				t.Errorf("%s: no match", r.ID)
			}
			switch r.Kind {
			case KindAnonymise, KindLegalHold:
				if r.update == nil {
					t.Errorf("%s: %s needs an update", r.ID, r.Kind)
				}
			case KindDelete, KindDeleteSubtree, KindKeep:
				if r.update != nil {
					t.Errorf("%s: %s has an update", r.ID, r.Kind)
				}
			}
			if r.Kind == KindKeep && r.Match != MatchQuery {
				t.Errorf("%s: keep rules exist only to export", r.ID)
			}
		}
	}
	// Every erasable rule is a step, once.
	steps := map[string]int{}
	for _, st := range erasureSteps() {
		steps[st.name]++
	}
	for _, r := range rules() {
		if erasable(r) && steps[r.ID] != 1 {
			t.Errorf("rule %s appears %d times in the erasure steps", r.ID, steps[r.ID])
		}
	}
	order := []string{}
	for _, st := range erasureSteps() {
		order = append(order, st.name)
	}
	pos := func(n string) int {
		for i, s := range order {
			if s == n {
				return i
			}
		}
		t.Fatalf("step %s missing", n)
		return -1
	}
	for _, before := range [][2]string{{"auth.disable", "stripe"}, {"stripe", "stripe_customers.userId"},
		{"storage", "user_activations.userId"}, {"consents", "users"}, {"payout_allocations.via_payouts", "payouts.coachId"}, {"users", "auth.delete"},
		{"auth.delete", "verify"}, {"verify", "audit"}, {"audit", "finish"}} {
		if pos(before[0]) >= pos(before[1]) {
			t.Errorf("step %s must run before %s", before[0], before[1])
		}
	}
}

// TestQueriesServedByIndexes checks every query of the area against
// firestore.indexes.json.
func TestQueriesServedByIndexes(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := indexes.Load(filepath.Join(root, "firestore.indexes.json"))
	if err != nil {
		t.Fatal(err)
	}
	all := append([]indexes.Query{}, ExtraQueries...)
	for _, r := range rules() {
		if r.Match == MatchQuery {
			all = append(all, r.Query)
		}
	}
	for _, rr := range RetentionRules {
		all = append(all, rr.Query)
	}
	all = append(all, indexes.MustLookup(indexes.QGDPROpen))
	for _, q := range all {
		if err := q.Validate(); err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		if need, _ := indexes.Required(q); need && q.Caller == "gdpr" && q.Name != indexes.QGDPROpen {
			t.Errorf("%s needs a composite index; the area's finders must be single-field", q.Name)
		}
		if err := f.Covered(q); err != nil {
			// The lead adds the overrides the area needs; until then, say so.
			t.Logf("not yet in firestore.indexes.json: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "firestore.indexes.json")); err != nil {
		t.Fatal(err)
	}
}

func TestPseudonymAndIDs(t *testing.T) {
	k1, k2 := []byte("key-one"), []byte("key-two")
	a, b := Pseudonym(k1, "alice"), Pseudonym(k2, "alice")
	if a == b || a != Pseudonym(k1, "alice") || !strings.HasPrefix(a, "ps_") || len(a) != 35 || strings.Contains(a, "alice") {
		t.Errorf("Pseudonym: %q %q", a, b)
	}
	s := &Service{PseudonymKey: k1}
	if id := s.ErasureID("alice"); id != s.ErasureID("alice") || id == s.ErasureID("bob") || strings.Contains(id, "alice") {
		t.Errorf("erasureID %q", id)
	}
	if got := pseudonym.BookkeepingHoldUntil(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BookkeepingHoldUntil = %v", got)
	}
}

func TestObjectOf(t *testing.T) {
	tests := []struct {
		in, bucket, name string
		ok               bool
	}{
		{"gs://b1/users/u1/a.m4a", "b1", "users/u1/a.m4a", true},
		{"https://firebasestorage.googleapis.com/v0/b/b1/o/journal%2Fu1%2Fv.mp4?alt=media&token=x", "b1", "journal/u1/v.mp4", true},
		{"http://127.0.0.1:9199/v0/b/b1/o/users%2Fu1%2Fa.m4a?alt=media", "b1", "users/u1/a.m4a", true},
		{"http://localhost:4443/storage/v1/b/b1/o/users%2Fu1%2Fa.m4a?alt=media", "b1", "users/u1/a.m4a", true},
		{"https://storage.googleapis.com/b1/users/u1/a%20b.m4a", "b1", "users/u1/a b.m4a", true},
		{"users/u1/a.m4a", "", "users/u1/a.m4a", true},
		{"users/u1/../u2/a.m4a", "", "", false},
		{"https://example.com/a.m4a", "", "", false},
		{"gs://b1", "", "", false},
	}
	for _, tt := range tests {
		b, n, ok := objectOf(tt.in)
		if b != tt.bucket || n != tt.name || ok != tt.ok {
			t.Errorf("objectOf(%q) = %q, %q, %v", tt.in, b, n, ok)
		}
	}
	if !hasSegment("users/u1/a", "u1") || hasSegment("users/u10/a", "u1") || hasSegment("users/xu1/a", "u1") {
		t.Error("hasSegment")
	}
}

func TestDeletedUIDs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  bool
	}{
		{"simple", `{"uid":"u1"}`, []string{"u1"}, false},
		{"list", `{"uids":["u1","u2"]}`, []string{"u1", "u2"}, false},
		{"admin delete", `{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"identitytoolkit.googleapis.com",
			"methodName":"google.cloud.identitytoolkit.v1.AccountManagementService.DeleteAccount","request":{"localId":"u1","@type":"x"}},"severity":"NOTICE"}`, []string{"u1"}, false},
		{"batch", `{"protoPayload":{"methodName":"google.cloud.identitytoolkit.v1.AccountManagementService.BatchDeleteAccounts","request":{"localIds":["a","b"]}}}`, []string{"a", "b"}, false},
		{"resource name", `{"protoPayload":{"methodName":"google.cloud.identitytoolkit.v1.AccountManagementService.DeleteAccount","resourceName":"projects/p/accounts/u9"}}`, []string{"u9"}, false},
		{"failed call", `{"protoPayload":{"methodName":"x.DeleteAccount","status":{"code":5},"request":{"localId":"u1"}}}`, nil, false},
		{"other method", `{"protoPayload":{"methodName":"x.SignUp","request":{"localId":"u1"}}}`, nil, false},
		{"bad uid", `{"uid":"a/b"}`, nil, false},
		{"not json", `nope`, nil, true},
		{"nothing", `{"x":1}`, nil, true},
	}
	for _, tt := range tests {
		got, err := DeletedUIDs([]byte(tt.in))
		if (err != nil) != tt.err || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
