// Package indexes keeps every Firestore query of Inner Journey in one
// catalogue (Catalog) — the functions' queries and the clients' documented
// queries — and checks that firestore.indexes.json declares every composite
// index they need.
//
// A function builds its query from the catalogue rather than by hand:
//
//	q, err := indexes.MustLookup(indexes.QInsightsDue).Build(client, true, now)
//
// so the test that compares the catalogue with the index file also covers
// the query that runs in production. Required states Firestore's rules for
// when a query needs a composite index; Check compares the catalogue with an
// index file and fails on a missing index.
package indexes

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
)

// Op is a filter operator, spelled as the Go client spells it.
type Op string

// Filter operators.
const (
	Eq               Op = "=="
	Ne               Op = "!="
	Lt               Op = "<"
	Le               Op = "<="
	Gt               Op = ">"
	Ge               Op = ">="
	In               Op = "in"
	NotIn            Op = "not-in"
	ArrayContains    Op = "array-contains"
	ArrayContainsAny Op = "array-contains-any"
)

// equality reports whether op selects by equality (an index prefix that
// any order of fields can serve): ==, in.
func (op Op) equality() bool { return op == Eq || op == In }

// array reports whether op uses the field's array-contains index.
func (op Op) array() bool { return op == ArrayContains || op == ArrayContainsAny }

// inequality reports whether op is a range or inequality filter, which
// needs the field ordered in the index.
func (op Op) inequality() bool {
	switch op {
	case Lt, Le, Gt, Ge, Ne, NotIn:
		return true
	}
	return false
}

func (op Op) valid() bool { return op.equality() || op.array() || op.inequality() }

// Filter is one where-clause; its value is given when the query is built.
type Filter struct {
	Field string
	Op    Op
}

// Order is one order-by clause.
type Order struct {
	Field string
	Desc  bool
}

// Query describes one Firestore query. Values are supplied at build time,
// in order: first one per {placeholder} of Parent, then one per filter.
type Query struct {
	// Name identifies the query (the Q… constants).
	Name string
	// Collection is the collection id queried.
	Collection string
	// Parent is the path of the parent document of a subcollection, with
	// placeholders, e.g. "users/{uid}"; empty for a top-level collection.
	Parent string
	// Group makes it a collection-group query over every Collection.
	Group   bool
	Filters []Filter
	OrderBy []Order
	// Limit, when positive, caps the results.
	Limit int
	// Caller is who runs it: "client" or the function area.
	Caller string
	// Purpose says what the query is for.
	Purpose string
	// Example holds values for a sample run of the query (tests).
	Example []any
}

// parentParams returns the placeholders of q.Parent in order.
func (q Query) parentParams() []string {
	var out []string
	for _, seg := range strings.Split(q.Parent, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, seg)
		}
	}
	return out
}

// Arity is the number of values Build needs.
func (q Query) Arity() int { return len(q.parentParams()) + len(q.Filters) }

// parentPath fills the placeholders of q.Parent with the first values.
func (q Query) parentPath(values []any) (string, error) {
	if q.Parent == "" {
		return "", nil
	}
	segs := strings.Split(q.Parent, "/")
	i := 0
	for k, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			s, ok := values[i].(string)
			if !ok || s == "" || strings.Contains(s, "/") {
				return "", fmt.Errorf("indexes: %s: parent %s must be a document id, got %v", q.Name, seg, values[i])
			}
			segs[k] = s
			i++
		}
	}
	return strings.Join(segs, "/"), nil
}

// Validate checks the description itself: a name, a collection, known
// operators, and Firestore's own limits (at most one array-contains
// filter, at most one of in / not-in / array-contains-any, order-by
// fields first on inequality fields, no subcollection parent on a group).
func (q Query) Validate() error {
	if q.Name == "" || q.Collection == "" {
		return fmt.Errorf("indexes: query %q needs a name and a collection", q.Name)
	}
	if q.Group && q.Parent != "" {
		return fmt.Errorf("indexes: %s: a collection-group query has no parent", q.Name)
	}
	arrays, disj := 0, 0
	var ineq []string
	for _, f := range q.Filters {
		if f.Field == "" || !f.Op.valid() {
			return fmt.Errorf("indexes: %s: bad filter %+v", q.Name, f)
		}
		if f.Op == ArrayContains || f.Op == ArrayContainsAny {
			arrays++
		}
		if f.Op == In || f.Op == NotIn || f.Op == ArrayContainsAny {
			disj++
		}
		if f.Op.inequality() && !contains(ineq, f.Field) {
			ineq = append(ineq, f.Field)
		}
	}
	if arrays > 1 {
		return fmt.Errorf("indexes: %s: more than one array-contains filter", q.Name)
	}
	if disj > 1 {
		return fmt.Errorf("indexes: %s: more than one in / not-in / array-contains-any filter", q.Name)
	}
	// With inequality filters, Firestore orders by the inequality fields
	// first; an explicit order must start with one of them.
	if len(ineq) > 0 && len(q.OrderBy) > 0 && !contains(ineq, q.OrderBy[0].Field) {
		return fmt.Errorf("indexes: %s: first order-by %s is not an inequality field %v", q.Name, q.OrderBy[0].Field, ineq)
	}
	return nil
}

// Build returns the query on client c with the given values (parent
// placeholders first, then one per filter; nil with == selects null). It
// returns an error when the number of values is wrong or the description
// is invalid.
func (q Query) Build(c *firestore.Client, values ...any) (firestore.Query, error) {
	if err := q.Validate(); err != nil {
		return firestore.Query{}, err
	}
	if len(values) != q.Arity() {
		return firestore.Query{}, fmt.Errorf("indexes: %s takes %d values, got %d", q.Name, q.Arity(), len(values))
	}
	var fq firestore.Query
	switch {
	case q.Group:
		fq = c.CollectionGroup(q.Collection).Query
	case q.Parent != "":
		parent, err := q.parentPath(values)
		if err != nil {
			return firestore.Query{}, err
		}
		fq = c.Doc(parent).Collection(q.Collection).Query
	default:
		fq = c.Collection(q.Collection).Query
	}
	vals := values[len(q.parentParams()):]
	for i, f := range q.Filters {
		fq = fq.Where(f.Field, string(f.Op), vals[i])
	}
	for _, o := range q.OrderBy {
		dir := firestore.Asc
		if o.Desc {
			dir = firestore.Desc
		}
		fq = fq.OrderBy(o.Field, dir)
	}
	if q.Limit > 0 {
		fq = fq.Limit(q.Limit)
	}
	return fq, nil
}

// MustBuild is Build for values known to be right (a wrong count panics).
func (q Query) MustBuild(c *firestore.Client, values ...any) firestore.Query {
	fq, err := q.Build(c, values...)
	if err != nil {
		panic(err)
	}
	return fq
}

var restOps = map[Op]string{
	Eq: "EQUAL", Ne: "NOT_EQUAL", Lt: "LESS_THAN", Le: "LESS_THAN_OR_EQUAL", Gt: "GREATER_THAN",
	Ge: "GREATER_THAN_OR_EQUAL", In: "IN", NotIn: "NOT_IN", ArrayContains: "ARRAY_CONTAINS",
	ArrayContainsAny: "ARRAY_CONTAINS_ANY",
}

// REST returns the query as a Firestore REST runQuery request: parent is
// the document path relative to ".../documents" ("" or "/users/u1") and
// body is the JSON body of POST {parent}:runQuery. It is how the rules
// tests run the clients' queries as a signed-in user.
func (q Query) REST(values ...any) (parent string, body map[string]any, err error) {
	if err := q.Validate(); err != nil {
		return "", nil, err
	}
	if len(values) != q.Arity() {
		return "", nil, fmt.Errorf("indexes: %s takes %d values, got %d", q.Name, q.Arity(), len(values))
	}
	if q.Parent != "" {
		p, err := q.parentPath(values)
		if err != nil {
			return "", nil, err
		}
		parent = "/" + p
	}
	vals := values[len(q.parentParams()):]
	var filters []any
	for i, f := range q.Filters {
		field := map[string]any{"fieldPath": f.Field}
		if vals[i] == nil && (f.Op == Eq || f.Op == Ne) {
			op := "IS_NULL"
			if f.Op == Ne {
				op = "IS_NOT_NULL"
			}
			filters = append(filters, map[string]any{"unaryFilter": map[string]any{"op": op, "field": field}})
			continue
		}
		v, err := EncodeValue(vals[i])
		if err != nil {
			return "", nil, fmt.Errorf("indexes: %s: %w", q.Name, err)
		}
		filters = append(filters, map[string]any{"fieldFilter": map[string]any{"field": field, "op": restOps[f.Op], "value": v}})
	}
	sq := map[string]any{"from": []any{map[string]any{"collectionId": q.Collection, "allDescendants": q.Group}}}
	switch len(filters) {
	case 0:
	case 1:
		sq["where"] = filters[0]
	default:
		sq["where"] = map[string]any{"compositeFilter": map[string]any{"op": "AND", "filters": filters}}
	}
	if len(q.OrderBy) > 0 {
		var obs []any
		for _, o := range q.OrderBy {
			dir := "ASCENDING"
			if o.Desc {
				dir = "DESCENDING"
			}
			obs = append(obs, map[string]any{"field": map[string]any{"fieldPath": o.Field}, "direction": dir})
		}
		sq["orderBy"] = obs
	}
	if q.Limit > 0 {
		sq["limit"] = q.Limit
	}
	return parent, map[string]any{"structuredQuery": sq}, nil
}

// EncodeValue encodes a Go value as a Firestore REST (JSON) Value: nil,
// bool, string, integers, float64, time.Time, []byte, []string, []any and
// map[string]any (recursively). Other types are an error.
func EncodeValue(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return map[string]any{"nullValue": nil}, nil
	case bool:
		return map[string]any{"booleanValue": x}, nil
	case string:
		return map[string]any{"stringValue": x}, nil
	case int:
		return map[string]any{"integerValue": fmt.Sprint(x)}, nil
	case int32:
		return map[string]any{"integerValue": fmt.Sprint(x)}, nil
	case int64:
		return map[string]any{"integerValue": fmt.Sprint(x)}, nil
	case float64:
		return map[string]any{"doubleValue": x}, nil
	case time.Time:
		return map[string]any{"timestampValue": x.UTC().Format(time.RFC3339Nano)}, nil
	case []byte:
		return map[string]any{"bytesValue": x}, nil
	case []string:
		vals := make([]any, len(x))
		for i, s := range x {
			vals[i] = map[string]any{"stringValue": s}
		}
		return map[string]any{"arrayValue": map[string]any{"values": vals}}, nil
	case []any:
		vals := make([]any, len(x))
		for i, e := range x {
			ev, err := EncodeValue(e)
			if err != nil {
				return nil, err
			}
			vals[i] = ev
		}
		return map[string]any{"arrayValue": map[string]any{"values": vals}}, nil
	case map[string]any:
		fields, err := EncodeFields(x)
		if err != nil {
			return nil, err
		}
		return map[string]any{"mapValue": map[string]any{"fields": fields}}, nil
	}
	return nil, fmt.Errorf("indexes: cannot encode %T as a Firestore value", v)
}

// EncodeFields encodes a document's fields as the REST "fields" object.
func EncodeFields(m map[string]any) (map[string]any, error) {
	fields := make(map[string]any, len(m))
	for k, e := range m {
		ev, err := EncodeValue(e)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		fields[k] = ev
	}
	return fields, nil
}

// ErrUnknownQuery is returned by Lookup for a name not in the catalogue.
var ErrUnknownQuery = errors.New("indexes: unknown query")

// Lookup returns the catalogue query called name, or ErrUnknownQuery.
func Lookup(name string) (Query, error) {
	for _, q := range Catalog {
		if q.Name == name {
			return q, nil
		}
	}
	return Query{}, fmt.Errorf("%w %q", ErrUnknownQuery, name)
}

// MustLookup is Lookup for the catalogue's own names (Q… constants); it
// panics on an unknown name, which is a programming error.
func MustLookup(name string) Query {
	q, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return q
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
