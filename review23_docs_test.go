package functions

// Review 23 (on-call operator): the alerts an operator sets up from the
// READMEs against the "alert" attributes the code logs, and the README's
// claims about the query catalogue against the queries the code runs.
// Pure source and README reading: no emulator.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/indexes"
)

// review23LogCall is one log call of the production code.
type review23LogCall struct {
	pos      string // file:line
	severity string // Cloud Logging severity: CRITICAL, ERROR, WARNING, INFO, DEBUG, or "?"
	message  string // the message literal ("" when not a literal)
	alerts   []string
}

// review23Sources returns the production Go files of the module: no
// tests, no vendored tools, no test harness.
func review23Sources(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".tools", ".dev", ".git", "testdata", "node_modules":
				return filepath.SkipDir
			}
			if p == filepath.Join("shared", "testenv") || strings.HasSuffix(p, "eventstest") || strings.HasSuffix(p, "fortnoxfake") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// review23LogCalls parses every production file and returns its log calls
// with the "alert" attribute values they carry (directly, or through an
// attribute slice built in the same function such as attrs / critical).
func review23LogCalls(t *testing.T) []review23LogCall {
	t.Helper()
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]string{} // constant name → string value (Alert… constants)
	for _, p := range review23Sources(t) {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if bl, ok := vs.Values[i].(*ast.BasicLit); ok && bl.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(bl.Value)
						}
					}
				}
			}
			return true
		})
	}
	value := func(e ast.Expr) string {
		switch x := e.(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(x.Value)
			return s
		case *ast.Ident:
			return consts[x.Name]
		case *ast.SelectorExpr:
			return consts[x.Sel.Name]
		}
		return ""
	}
	// alertsIn returns the values following an "alert" key in a flat
	// list of expressions, looking into composite literals and append.
	var alertsIn func(exprs []ast.Expr, vars map[string][]string) []string
	alertsIn = func(exprs []ast.Expr, vars map[string][]string) []string {
		var out []string
		for i, e := range exprs {
			if bl, ok := e.(*ast.BasicLit); ok && bl.Value == `"alert"` && i+1 < len(exprs) {
				out = append(out, value(exprs[i+1]))
			}
			switch x := e.(type) {
			case *ast.CompositeLit:
				out = append(out, alertsIn(x.Elts, vars)...)
			case *ast.CallExpr:
				if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "append" {
					out = append(out, alertsIn(x.Args, vars)...)
				}
			case *ast.Ident:
				out = append(out, vars[x.Name]...)
			}
		}
		return out
	}
	var calls []review23LogCall
	for _, f := range parsed {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			vars := map[string][]string{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if as, ok := n.(*ast.AssignStmt); ok {
					for i, l := range as.Lhs {
						if id, ok := l.(*ast.Ident); ok && i < len(as.Rhs) {
							if a := alertsIn([]ast.Expr{as.Rhs[i]}, vars); len(a) > 0 {
								vars[id.Name] = a
							}
						}
					}
				}
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				sev, msgAt := "", 1
				switch sel.Sel.Name {
				case "ErrorContext":
					sev = "ERROR"
				case "WarnContext":
					sev = "WARNING"
				case "InfoContext":
					sev = "INFO"
				case "DebugContext":
					sev = "DEBUG"
				case "Error":
					sev, msgAt = "ERROR", 0
				case "Warn":
					sev, msgAt = "WARNING", 0
				case "Info":
					sev, msgAt = "INFO", 0
				case "Log":
					msgAt = 2
					if len(call.Args) > 1 {
						if s, ok := call.Args[1].(*ast.SelectorExpr); ok && s.Sel.Name == "LevelCritical" {
							sev = "CRITICAL"
						} else {
							sev = "?"
						}
					}
				default:
					return true
				}
				if len(call.Args) <= msgAt {
					return true
				}
				msg := ""
				if bl, ok := call.Args[msgAt].(*ast.BasicLit); ok && bl.Kind == token.STRING {
					msg, _ = strconv.Unquote(bl.Value)
				} else if be, ok := call.Args[msgAt].(*ast.BinaryExpr); ok {
					if bl, ok := be.X.(*ast.BasicLit); ok {
						msg, _ = strconv.Unquote(bl.Value)
					}
				}
				if msg == "" {
					return true // not a log call with a message literal
				}
				p := fset.Position(call.Pos())
				calls = append(calls, review23LogCall{pos: p.Filename + ":" + strconv.Itoa(p.Line), severity: sev,
					message: msg, alerts: alertsIn(call.Args[msgAt+1:], vars)})
				return true
			})
		}
	}
	return calls
}

// review23OperatorAlerts returns the alerts of the root README's list of
// log-based alerts to set up ("After deploying"), key → severity.
func review23OperatorAlerts(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "- Log-based alerts")
	if start < 0 {
		t.Fatal("README: no \"Log-based alerts\" list under After deploying")
	}
	section := readme[start:]
	if end := strings.Index(section, "\n## "); end > 0 {
		section = section[:end]
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`jsonPayload\.alert="([a-z_]+)"`+"`"+`\s*\(([A-Z]+)\)`).FindAllStringSubmatch(section, -1) {
		out[m[1]] = m[2]
	}
	if len(out) == 0 {
		t.Fatal("README: the Log-based alerts list names no alert")
	}
	return out
}

// TestReview23EveryLoggedAlertIsInTheOperatorsList: the root README's
// "Log-based alerts" list is what an operator sets up, once per project.
// Every "alert" attribute the code logs must be on it (an alert missing
// there is never routed to anyone: the page never comes), with a severity
// the code logs it at, and every alert on it must be logged by the code.
func TestReview23EveryLoggedAlertIsInTheOperatorsList(t *testing.T) {
	emitted := map[string]map[string][]string{} // alert → severity → positions
	for _, c := range review23LogCalls(t) {
		for _, a := range c.alerts {
			if emitted[a] == nil {
				emitted[a] = map[string][]string{}
			}
			emitted[a][c.severity] = append(emitted[a][c.severity], c.pos)
		}
	}
	if len(emitted) == 0 {
		t.Fatal("found no log call with an alert attribute: the scan is broken")
	}
	documented := review23OperatorAlerts(t)
	var keys []string
	for k := range emitted {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var sevs, where []string
		for s, pos := range emitted[k] {
			sevs = append(sevs, s)
			where = append(where, pos...)
		}
		sort.Strings(sevs)
		sort.Strings(where)
		sev, ok := documented[k]
		switch {
		case !ok:
			t.Errorf("alert=%s is logged at %s (%s) but is not in the README's list of log-based alerts to set up: "+
				"no operator is ever paged on it", k, strings.Join(sevs, "/"), strings.Join(where, ", "))
		case !slices.Contains(sevs, sev):
			t.Errorf("README lists alert=%s at %s; the code logs it at %s (%s)", k, sev, strings.Join(sevs, "/"), strings.Join(where, ", "))
		}
	}
	for k := range documented {
		if emitted[k] == nil {
			t.Errorf("README lists alert=%s, which no code logs: the page never comes", k)
		}
	}
}

// TestReview23WhatNeedsAPersonCarriesAnAlert: the root README says the
// functions log a stable alert attribute "for what needs a person". These
// ERROR lines are documented (or say themselves) that a person must act —
// money possibly sent twice, a voucher booked twice, a Connect account of
// another coach, a completed payout that is not booked — yet carry no
// alert attribute, so the operator's log-match alerts can never catch them.
func TestReview23WhatNeedsAPersonCarriesAnAlert(t *testing.T) {
	needsAPerson := []string{
		// functions/payments/README.md: "logged at ERROR with the payout and both
		// transfer ids only, for a person to check" (a second transfer: money possibly sent twice).
		"transfer event for a payout that records another transfer",
		// functions/payments/README.md: "(logged at ERROR, for a person to check)".
		"reconcile: Connect account does not belong to the coach recording it; left for a person to check",
		// functions/payouts: two vouchers in the books for one payout.
		"payout booked twice in Fortnox",
		// functions/payouts: a released payout completed after all (paid twice?).
		"released payout is completed: not booked, check by hand",
	}
	calls := review23LogCalls(t)
	for _, msg := range needsAPerson {
		found := false
		for _, c := range calls {
			if c.message != msg {
				continue
			}
			found = true
			if len(c.alerts) == 0 {
				t.Errorf("%s: %s %q needs a person but has no alert attribute (and the README's alert list has no entry for it)",
					c.pos, c.severity, msg)
			}
		}
		if !found {
			t.Errorf("no log call with the message %q any more: update this test", msg)
		}
	}
}

// TestReview23CatalogueHoldsEveryFunctionQuery: the README (Indexes) says
// "shared/indexes.Catalog holds every query" and that functions build
// theirs from it, and shared/indexes' package documentation says that this
// is why "the test that compares the catalogue with the index file also
// covers the query that runs in production". Queries written by hand with
// Where/WherePath/CollectionGroup are not in the catalogue (nor in
// gdpr.ExtraQueries), so TestEveryQueryHasItsIndex never sees them: an
// override exempting one of their fields would pass every test and fail in
// production with FAILED_PRECONDITION (the emulator enforces no index).
func TestReview23CatalogueHoldsEveryFunctionQuery(t *testing.T) {
	re := regexp.MustCompile(`\.(Where|WherePath|WhereEntity|CollectionGroup)\(`)
	for _, p := range review23Sources(t) {
		if strings.HasPrefix(p, filepath.Join("shared", "indexes")) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			// A query the catalogue cannot build (a field path of a
			// variable) is declared beside it for the check to read.
			if i > 0 && strings.Contains(lines[i-1], "// index check:") {
				continue
			}
			if re.MatchString(line) {
				t.Errorf("%s:%d: a query built by hand, outside the catalogue the index check reads: %s", p, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// TestReview23IndexesSectionCounts: the README's count of the catalogue.
func TestReview23IndexesSectionCounts(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`holds every query:\s+(\d+)\s+client\s+queries,\s+(\d+)\s+function\s+queries,\s+(\d+)\s+GDPR\s+single-field\s+queries\s+\((\d+)\)`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("README: no catalogue count")
	}
	clients, gdpr, fns := 0, 0, 0
	for _, q := range indexes.Catalog {
		switch {
		case q.Caller == "client":
			clients++
		case q.Caller == "gdpr" && strings.HasPrefix(q.Name, "gdpr_") && q.Name != indexes.QGDPROpen:
			gdpr++
		default:
			fns++
		}
	}
	got := []string{strconv.Itoa(clients), strconv.Itoa(fns), strconv.Itoa(gdpr), strconv.Itoa(len(indexes.Catalog))}
	if !slices.Equal(m[1:], got) {
		t.Errorf("README says %s client, %s function, %s GDPR queries (%s); the catalogue has %s, %s, %s (%s)",
			m[1], m[2], m[3], m[4], got[0], got[1], got[2], got[3])
	}
}
