package rules

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/testenv"
)

// actor is who sends a request.
type actor int

// The six actors of the matrix. The owner is alice; the assigned coach
// (carol) is assigned to alice through users/alice/coaches/carol; the
// unassigned coach (dave) holds the coach claim but no assignment to alice.
const (
	anon     actor = iota // no Authorization header
	owner                 // alice
	other                 // bob, another user
	coach                 // carol, coach claim, assigned to alice
	stranger              // dave, coach claim, not assigned to alice
	admin                 // erin, admin claim
)

var everyone = []actor{anon, owner, other, coach, stranger, admin}

func (a actor) String() string {
	return [...]string{"unauthenticated", "owner", "other user", "assigned coach", "unassigned coach", "admin"}[a]
}

var uidOf = map[actor]string{owner: "alice", other: "bob", coach: "carol", stranger: "dave", admin: "erin"}

var claimsOf = map[actor]map[string]any{
	coach:    {"coach": true},
	stranger: {"coach": true},
	admin:    {"admin": true},
}

// op is the kind of request.
type op string

const (
	opGet    op = "get"
	opList   op = "list"
	opCreate op = "create"
	opUpdate op = "update"
	opDelete op = "delete"
)

// doc is document data. In an update, keys are field paths ("log.text").
type doc = map[string]any

// sentinel values in request data.
type sentinel int

const (
	// reqTime is written as a server timestamp (a REQUEST_TIME transform),
	// so the rules see it equal to request.time.
	reqTime sentinel = iota + 1
	// clientNow is the client's clock at send time (a plain timestamp).
	clientNow
	// deleteField removes the field in an update (in the mask, no value).
	deleteField
)

// request is one REST request, without its caller.
type request struct {
	op    op
	path  string        // get, create, update, delete: document path
	query indexes.Query // list
	args  []any         // list: values of the query
	data  doc           // create: the document; update: field path → value
}

func get(path string) request { return request{op: opGet, path: path} }
func del(path string) request { return request{op: opDelete, path: path} }
func create(path string, d doc) request {
	return request{op: opCreate, path: path, data: d}
}
func update(path string, d doc) request {
	return request{op: opUpdate, path: path, data: d}
}

// list runs the catalogue query called name (the queries clients make).
func list(name string, args ...any) request {
	return request{op: opList, query: indexes.MustLookup(name), args: args}
}

// listAll lists a whole collection (parent "users/{uid}" style or "").
func listAll(parent, collection string, args ...any) request {
	return request{op: opList, query: indexes.Query{Name: "all_" + collection, Collection: collection, Parent: parent, Limit: 20}, args: args}
}

// listWhere runs an ad-hoc query with equality filters on fields.
func listWhere(collection string, fields []string, args ...any) request {
	q := indexes.Query{Name: "where_" + collection, Collection: collection, Limit: 20}
	for _, f := range fields {
		q.Filters = append(q.Filters, indexes.Filter{Field: f, Op: indexes.Eq})
	}
	return request{op: opList, query: q, args: args}
}

func (r request) String() string {
	if r.op == opList {
		return fmt.Sprintf("list %s%v", r.query.Name, r.args)
	}
	return string(r.op) + " " + r.path
}

// rcase is one expanded test case.
type rcase struct {
	name   string
	as     actor
	claims map[string]any // token claims replacing the actor's own
	req    request
	allow  bool
}

// ---------------------------------------------------------------------
// document helpers
// ---------------------------------------------------------------------

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = clone(e)
		}
		return l
	}
	return v
}

// with returns a copy of d with the key/value pairs set; a dotted key sets
// a field of a nested map; deleteField removes the key.
func with(d doc, kv ...any) doc {
	out := clone(d).(map[string]any)
	for i := 0; i < len(kv); i += 2 {
		path := strings.Split(kv[i].(string), ".")
		m := out
		for _, seg := range path[:len(path)-1] {
			next, ok := m[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[seg] = next
			}
			m = next
		}
		if kv[i+1] == deleteField {
			delete(m, path[len(path)-1])
		} else {
			m[path[len(path)-1]] = kv[i+1]
		}
	}
	return out
}

// patch builds update data from field path / value pairs.
func patch(kv ...any) doc {
	d := doc{}
	for i := 0; i < len(kv); i += 2 {
		d[kv[i].(string)] = kv[i+1]
	}
	return d
}

func strN(n int) string { return strings.Repeat("x", n) }

func listN(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = fmt.Sprintf("t%d", i)
	}
	return l
}

// resolve replaces clientNow by the current time and collects reqTime
// fields as server-timestamp transforms (field paths under prefix).
func resolve(v any, prefix string, transforms *[]any) (any, bool) {
	switch x := v.(type) {
	case sentinel:
		switch x {
		case clientNow:
			return time.Now().UTC(), true
		case reqTime:
			*transforms = append(*transforms, map[string]any{"fieldPath": prefix, "setToServerValue": "REQUEST_TIME"})
			return nil, false
		}
		panic("sentinel not allowed here")
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if r, keep := resolve(e, p, transforms); keep {
				m[k] = r
			}
		}
		return m, true
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			if s, ok := e.(sentinel); ok && s == reqTime {
				panic("reqTime inside an array: Firestore cannot do that")
			}
			l[i], _ = resolve(e, prefix, transforms)
		}
		return l, true
	}
	return v, true
}

// write encodes a create, update or delete as one Write of :commit.
func write(project string, r request) (map[string]any, error) {
	name := testenv.DocName(project, r.path)
	switch r.op {
	case opDelete:
		return map[string]any{"delete": name, "currentDocument": map[string]any{"exists": true}}, nil
	case opCreate:
		var transforms []any
		data, _ := resolve(r.data, "", &transforms)
		fields, err := indexes.EncodeFields(data.(map[string]any))
		if err != nil {
			return nil, err
		}
		w := map[string]any{"update": map[string]any{"name": name, "fields": fields},
			"currentDocument": map[string]any{"exists": false}}
		if len(transforms) > 0 {
			w["updateTransforms"] = transforms
		}
		return w, nil
	case opUpdate:
		var transforms []any
		nested := map[string]any{}
		var mask []string
		for path, v := range r.data {
			if v == reqTime {
				transforms = append(transforms, map[string]any{"fieldPath": path, "setToServerValue": "REQUEST_TIME"})
				continue
			}
			mask = append(mask, path)
			if v == deleteField {
				continue
			}
			rv, _ := resolve(v, path, &transforms)
			segs := strings.Split(path, ".")
			m := nested
			for _, s := range segs[:len(segs)-1] {
				next, ok := m[s].(map[string]any)
				if !ok {
					next = map[string]any{}
					m[s] = next
				}
				m = next
			}
			m[segs[len(segs)-1]] = rv
		}
		sort.Strings(mask)
		fields, err := indexes.EncodeFields(nested)
		if err != nil {
			return nil, err
		}
		w := map[string]any{"update": map[string]any{"name": name, "fields": fields},
			"updateMask":      map[string]any{"fieldPaths": mask},
			"currentDocument": map[string]any{"exists": true}}
		if len(transforms) > 0 {
			w["updateTransforms"] = transforms
		}
		return w, nil
	}
	return nil, fmt.Errorf("not a write: %s", r.op)
}

// ---------------------------------------------------------------------
// the world: one emulator project seeded once
// ---------------------------------------------------------------------

type world struct {
	fs     *testenv.Firestore
	p      string
	c      *firestore.Client
	seeds  map[string]doc
	tokens map[actor]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	fs.LoadRepoRules(t, p)
	w := &world{fs: fs, p: p, c: fs.Client(t, p), seeds: seedDocs(), tokens: map[actor]string{}}
	ctx := context.Background()
	bw := w.c.BulkWriter(ctx)
	for path, d := range w.seeds {
		if _, err := bw.Set(w.c.Doc(path), d); err != nil {
			t.Fatalf("seed %s: %v", path, err)
		}
	}
	bw.End()
	for _, path := range []string{"users/alice", "users/alice/coaches/carol", "user_activations/ua-shared"} {
		if snap, err := w.c.Doc(path).Get(ctx); err != nil || !snap.Exists() {
			t.Fatalf("seed %s missing: %v", path, err)
		}
	}
	for _, a := range everyone {
		if a != anon {
			w.tokens[a] = testenv.UnsignedIDToken(p, uidOf[a], claimsOf[a])
		}
	}
	return w
}

func (w *world) token(c rcase) string {
	if c.as == anon {
		return ""
	}
	if c.claims != nil {
		return testenv.UnsignedIDToken(w.p, uidOf[c.as], c.claims)
	}
	return w.tokens[c.as]
}

// restore puts the document at path back to its seeded state.
func (w *world) restore(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if d, ok := w.seeds[path]; ok {
		_, err = w.c.Doc(path).Set(ctx, d)
	} else {
		_, err = w.c.Doc(path).Delete(ctx)
	}
	if err != nil {
		t.Fatalf("restore %s: %v", path, err)
	}
}

// send performs the request as the case's caller and returns the HTTP
// status and body.
func (w *world) send(t *testing.T, c rcase) (int, map[string]any) {
	t.Helper()
	tok := w.token(c)
	switch c.req.op {
	case opGet:
		return w.fs.REST(w.p, "GET", "/"+c.req.path, tok, nil)
	case opList:
		parent, body, err := c.req.query.REST(c.req.args...)
		if err != nil {
			t.Fatal(err)
		}
		return w.fs.REST(w.p, "POST", parent+":runQuery", tok, body)
	}
	// Writes start from the seeded state (absent for a create) and leave it.
	if c.req.op == opCreate {
		if _, err := w.c.Doc(c.req.path).Delete(context.Background()); err != nil {
			t.Fatal(err)
		}
	} else if _, ok := w.seeds[c.req.path]; !ok {
		t.Fatalf("%s of unseeded %s", c.req.op, c.req.path)
	} else {
		w.restore(t, c.req.path)
	}
	defer w.restore(t, c.req.path)
	return w.rawCommit(t, tok, c.req)
}

// rawCommit sends the write r through :commit with the ID token tok and
// returns the HTTP status and body.
func (w *world) rawCommit(t *testing.T, tok string, r request) (int, map[string]any) {
	t.Helper()
	wr, err := write(w.p, r)
	if err != nil {
		t.Fatal(err)
	}
	return w.fs.REST(w.p, "POST", ":commit", tok, map[string]any{"writes": []any{wr}})
}

// commit sends the write r as actor a against the documents as they are
// now, with no seeding or restore around it (unlike send), so that a test
// can play a sequence of writes. It returns 200 (allowed) or 403 (denied);
// any other status fails the test.
func (w *world) commit(t *testing.T, a actor, r request) int {
	t.Helper()
	status, body := w.rawCommit(t, w.tokens[a], r)
	if status != http.StatusOK && status != http.StatusForbidden {
		t.Fatalf("%s as %s: status %d: %v", r, a, status, body)
	}
	return status
}

// check runs one case: 200 is allowed, 403 PERMISSION_DENIED is denied,
// anything else means the case itself is broken.
func (w *world) check(t *testing.T, c rcase) {
	t.Helper()
	status, body := w.send(t, c)
	switch {
	case status == http.StatusOK && c.allow:
	case status == http.StatusForbidden && !c.allow:
	case status == http.StatusOK:
		t.Errorf("%s as %s: allowed, want denied", c.req, c.as)
	case status == http.StatusForbidden:
		t.Errorf("%s as %s: denied, want allowed: %v", c.req, c.as, errMessage(body))
	default:
		t.Errorf("%s as %s: status %d (want %v): %v", c.req, c.as, status, c.allow, body)
	}
	if c.req.op == opList && status == http.StatusOK {
		// runQuery answers 200 even when a later element carries an error
		if res, ok := body["results"].([]any); ok {
			for _, r := range res {
				if m, ok := r.(map[string]any); ok && m["error"] != nil {
					t.Errorf("%s as %s: query error %v", c.req, c.as, m["error"])
				}
			}
		}
	}
}

func errMessage(body map[string]any) any {
	if e, ok := body["error"].(map[string]any); ok {
		return e["message"]
	}
	if res, ok := body["results"].([]any); ok && len(res) > 0 {
		if m, ok := res[0].(map[string]any); ok {
			return m["error"]
		}
	}
	return body
}
