package indexes

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Index-file vocabulary (firestore.indexes.json).
const (
	ScopeCollection      = "COLLECTION"
	ScopeCollectionGroup = "COLLECTION_GROUP"
	Ascending            = "ASCENDING"
	Descending           = "DESCENDING"
	Contains             = "CONTAINS"
)

// IndexField is one field of a composite index: Order or ArrayConfig.
type IndexField struct {
	FieldPath   string `json:"fieldPath"`
	Order       string `json:"order,omitempty"`
	ArrayConfig string `json:"arrayConfig,omitempty"`
}

// Index is one composite index of firestore.indexes.json.
type Index struct {
	CollectionGroup string       `json:"collectionGroup"`
	QueryScope      string       `json:"queryScope"`
	Fields          []IndexField `json:"fields"`
}

// String renders the index compactly, e.g.
// "user_activations[userId ASC, startedAt DESC]".
func (ix Index) String() string {
	var parts []string
	for _, f := range ix.Fields {
		mode := map[string]string{Ascending: "ASC", Descending: "DESC"}[f.Order]
		if f.ArrayConfig != "" {
			mode = "CONTAINS"
		}
		parts = append(parts, f.FieldPath+" "+mode)
	}
	scope := ""
	if ix.QueryScope == ScopeCollectionGroup {
		scope = " (group)"
	}
	return ix.CollectionGroup + "[" + strings.Join(parts, ", ") + "]" + scope
}

// OverrideIndex is one single-field index mode of a field override.
type OverrideIndex struct {
	Order       string `json:"order,omitempty"`
	ArrayConfig string `json:"arrayConfig,omitempty"`
	QueryScope  string `json:"queryScope"`
}

// FieldOverride replaces the automatic single-field indexes of one field
// (an empty Indexes exempts it) and may enable a TTL policy on it.
type FieldOverride struct {
	CollectionGroup string          `json:"collectionGroup"`
	FieldPath       string          `json:"fieldPath"`
	TTL             bool            `json:"ttl,omitempty"`
	Indexes         []OverrideIndex `json:"indexes"`
}

// File is the content of firestore.indexes.json.
type File struct {
	Indexes        []Index         `json:"indexes"`
	FieldOverrides []FieldOverride `json:"fieldOverrides"`
}

// Load reads an index file. It returns an error when the file cannot be
// read or is not a valid index file (unknown keys included).
func Load(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("indexes: %w", err)
	}
	return Parse(b)
}

// Parse decodes and validates index-file JSON.
func Parse(b []byte) (File, error) {
	var f File
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return File{}, fmt.Errorf("indexes: parse: %w", err)
	}
	for _, ix := range f.Indexes {
		if ix.CollectionGroup == "" || (ix.QueryScope != ScopeCollection && ix.QueryScope != ScopeCollectionGroup) || len(ix.Fields) < 2 {
			return File{}, fmt.Errorf("indexes: bad composite index %s", ix)
		}
		for _, fd := range ix.Fields {
			if err := checkMode(fd.FieldPath, fd.Order, fd.ArrayConfig); err != nil {
				return File{}, fmt.Errorf("indexes: index %s: %w", ix, err)
			}
		}
	}
	for _, o := range f.FieldOverrides {
		if o.CollectionGroup == "" || o.FieldPath == "" {
			return File{}, fmt.Errorf("indexes: bad field override %+v", o)
		}
		for _, oi := range o.Indexes {
			if oi.QueryScope != ScopeCollection && oi.QueryScope != ScopeCollectionGroup {
				return File{}, fmt.Errorf("indexes: override %s.%s: bad scope %q", o.CollectionGroup, o.FieldPath, oi.QueryScope)
			}
			if err := checkMode(o.FieldPath, oi.Order, oi.ArrayConfig); err != nil {
				return File{}, fmt.Errorf("indexes: override %s.%s: %w", o.CollectionGroup, o.FieldPath, err)
			}
		}
	}
	return f, nil
}

func checkMode(field, order, array string) error {
	switch {
	case field == "":
		return errors.New("empty fieldPath")
	case order != "" && array != "":
		return fmt.Errorf("%s has both order and arrayConfig", field)
	case order == "" && array == "":
		return fmt.Errorf("%s has neither order nor arrayConfig", field)
	case order != "" && order != Ascending && order != Descending:
		return fmt.Errorf("%s: bad order %q", field, order)
	case array != "" && array != Contains:
		return fmt.Errorf("%s: bad arrayConfig %q", field, array)
	}
	return nil
}

// shape is what a query asks of the indexes.
type shape struct {
	eq    []string // equality fields (==, in, null), any order in an index prefix
	array string   // the array-contains field, part of the prefix
	sort  []Order  // the index's ordered suffix: order-bys, then inequality fields
}

func (q Query) shape() shape {
	var s shape
	var ineq []string
	for _, f := range q.Filters {
		switch {
		case f.Op.equality():
			if !contains(s.eq, f.Field) {
				s.eq = append(s.eq, f.Field)
			}
		case f.Op.array():
			s.array = f.Field
		case f.Op.inequality():
			if !contains(ineq, f.Field) {
				ineq = append(ineq, f.Field)
			}
		}
	}
	var sorted []string
	for _, o := range q.OrderBy {
		// ordering by a field pinned by equality orders nothing
		if contains(s.eq, o.Field) || contains(sorted, o.Field) {
			continue
		}
		s.sort = append(s.sort, o)
		sorted = append(sorted, o.Field)
	}
	// Inequality fields not ordered explicitly are ordered implicitly,
	// ascending, in field-name order.
	sort.Strings(ineq)
	for _, f := range ineq {
		if !contains(sorted, f) {
			s.sort = append(s.sort, Order{Field: f})
		}
	}
	return s
}

// Required reports whether q needs a composite index and, if so, the
// index to declare. Firestore's rules, as applied here:
//   - Every field has automatic single-field indexes (ascending,
//     descending, array-contains) in collection scope, so a query on one
//     field — equality, range, array-contains or one order-by — needs no
//     composite index.
//   - Equality (==, in, == null) and array-contains filters on several
//     fields, without ordering, are served by merging single-field indexes.
//   - Anything that combines an equality or array-contains filter with an
//     order-by or a range/inequality on another field, or orders by more
//     than one field, needs a composite index: the equality and
//     array-contains fields first (any order), then the ordered fields
//     with their directions (range fields without an order-by ascending).
//   - A collection-group query uses the same rule with COLLECTION_GROUP
//     scope; its single-field indexes are not automatic (see Check).
func Required(q Query) (needsComposite bool, idx Index) {
	s := q.shape()
	prefix := len(s.eq)
	if s.array != "" {
		prefix++
	}
	if len(s.sort) == 0 || (len(s.sort) == 1 && prefix == 0) {
		return false, Index{}
	}
	idx = Index{CollectionGroup: q.Collection, QueryScope: ScopeCollection}
	if q.Group {
		idx.QueryScope = ScopeCollectionGroup
	}
	for _, f := range s.eq {
		idx.Fields = append(idx.Fields, IndexField{FieldPath: f, Order: Ascending})
	}
	if s.array != "" {
		idx.Fields = append(idx.Fields, IndexField{FieldPath: s.array, ArrayConfig: Contains})
	}
	for _, o := range s.sort {
		dir := Ascending
		if o.Desc {
			dir = Descending
		}
		idx.Fields = append(idx.Fields, IndexField{FieldPath: o.Field, Order: dir})
	}
	return true, idx
}

// serves reports whether the declared index have serves the required
// index want: same collection and scope, the equality/array prefix in any
// order (equality fields in either direction), then the same ordered
// fields and directions; a trailing __name__ field is ignored.
func serves(have, want Index, prefix int) bool {
	if have.CollectionGroup != want.CollectionGroup || have.QueryScope != want.QueryScope {
		return false
	}
	hf := have.Fields
	if n := len(hf); n > 0 && hf[n-1].FieldPath == "__name__" {
		hf = hf[:n-1]
	}
	if len(hf) != len(want.Fields) {
		return false
	}
	for _, w := range want.Fields[:prefix] {
		found := false
		for _, h := range hf[:prefix] {
			if h.FieldPath == w.FieldPath &&
				((w.ArrayConfig != "" && h.ArrayConfig == Contains) || (w.ArrayConfig == "" && h.Order != "")) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for i := prefix; i < len(hf); i++ {
		if hf[i] != want.Fields[i] {
			return false
		}
	}
	return true
}

// override returns the field override of collection.field, if any.
func (f File) override(collection, field string) (FieldOverride, bool) {
	for _, o := range f.FieldOverrides {
		if o.CollectionGroup == collection && o.FieldPath == field {
			return o, true
		}
	}
	return FieldOverride{}, false
}

// singleField reports whether a single-field index of the given mode
// (order "" = any direction; array) exists in scope for collection.field.
func (f File) singleField(collection, field, scope, order string, array bool) bool {
	// A map field's override applies to its subfields unless one of
	// their own overrides it: the nearest declared path wins.
	o, ok := f.override(collection, field)
	for p := field; !ok; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return scope == ScopeCollection // automatic indexes are collection-scoped
		}
		p = p[:i]
		o, ok = f.override(collection, p)
	}
	for _, oi := range o.Indexes {
		if oi.QueryScope != scope {
			continue
		}
		if array && oi.ArrayConfig == Contains {
			return true
		}
		if !array && oi.Order != "" && (order == "" || oi.Order == order) {
			return true
		}
	}
	return false
}

// Covered returns nil when the index file serves q, or an error naming the
// composite index or single-field index that is missing.
func (f File) Covered(q Query) error {
	if err := q.Validate(); err != nil {
		return err
	}
	if need, want := Required(q); need {
		s := q.shape()
		prefix := len(s.eq)
		if s.array != "" {
			prefix++
		}
		for _, have := range f.Indexes {
			if serves(have, want, prefix) {
				return nil
			}
		}
		b, _ := json.Marshal(want)
		return fmt.Errorf("indexes: query %s needs composite index %s; declare %s", q.Name, want, b)
	}
	// Served by single-field indexes: each must exist (not exempted, and
	// declared for a collection group).
	scope := ScopeCollection
	if q.Group {
		scope = ScopeCollectionGroup
	}
	s := q.shape()
	for _, field := range s.eq {
		if !f.singleField(q.Collection, field, scope, "", false) {
			return fmt.Errorf("indexes: query %s needs a %s single-field index on %s.%s", q.Name, scope, q.Collection, field)
		}
	}
	if s.array != "" && !f.singleField(q.Collection, s.array, scope, "", true) {
		return fmt.Errorf("indexes: query %s needs a %s array-contains index on %s.%s", q.Name, scope, q.Collection, s.array)
	}
	for _, o := range s.sort {
		dir := Ascending
		if o.Desc {
			dir = Descending
		}
		if !f.singleField(q.Collection, o.Field, scope, dir, false) {
			return fmt.Errorf("indexes: query %s needs a %s %s single-field index on %s.%s", q.Name, scope, dir, q.Collection, o.Field)
		}
	}
	return nil
}

// Check returns one error per catalogue query the file does not serve.
func (f File) Check(queries []Query) []error {
	var errs []error
	for _, q := range queries {
		if err := f.Covered(q); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Unused returns the declared composite indexes no query in queries
// needs; each costs storage and write latency for nothing.
func (f File) Unused(queries []Query) []Index {
	var out []Index
	for _, have := range f.Indexes {
		used := false
		for _, q := range queries {
			if need, want := Required(q); need {
				s := q.shape()
				prefix := len(s.eq)
				if s.array != "" {
					prefix++
				}
				if serves(have, want, prefix) {
					used = true
					break
				}
			}
		}
		if !used {
			out = append(out, have)
		}
	}
	return out
}
