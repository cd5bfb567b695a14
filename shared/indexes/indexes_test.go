package indexes

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/testenv"
)

func repoFile(t *testing.T) File {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load(filepath.Join(root, "firestore.indexes.json"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRequired(t *testing.T) {
	tests := []struct {
		name string
		q    Query
		want string // "" = no composite index
	}{
		{"single equality", Query{Filters: []Filter{{"userId", Eq}}}, ""},
		{"single range", Query{Filters: []Filter{{"expiresAt", Lt}}}, ""},
		{"range and order on the same field", Query{Filters: []Filter{{"created", Ge}}, OrderBy: []Order{{"created", true}}}, ""},
		{"one order-by", Query{OrderBy: []Order{{"createdAt", true}}}, ""},
		{"array-contains alone", Query{Filters: []Filter{{"tags", ArrayContains}}}, ""},
		{"equalities merge", Query{Filters: []Filter{{"a", Eq}, {"b", Eq}, {"c", In}}}, ""},
		{"equality and array-contains merge", Query{Filters: []Filter{{"tags", ArrayContains}, {"a", Eq}}}, ""},
		{"null equality merges", Query{Filters: []Filter{{"a", Eq}, {"ref", Eq}}}, ""},
		{"order on an equality field is free", Query{Filters: []Filter{{"a", Eq}}, OrderBy: []Order{{"a", false}}}, ""},
		{"equality + order", Query{Filters: []Filter{{"userId", Eq}}, OrderBy: []Order{{"startedAt", true}}},
			"c[userId ASC, startedAt DESC]"},
		{"equality + range", Query{Filters: []Filter{{"status", Eq}, {"paymentDate", Ge}, {"paymentDate", Lt}}},
			"c[status ASC, paymentDate ASC]"},
		{"in + order", Query{Filters: []Filter{{"status", In}}, OrderBy: []Order{{"updatedAt", false}}},
			"c[status ASC, updatedAt ASC]"},
		{"array-contains + order", Query{Filters: []Filter{{"participants", ArrayContains}}, OrderBy: []Order{{"startTime", false}}},
			"c[participants CONTAINS, startTime ASC]"},
		{"two order-bys", Query{OrderBy: []Order{{"a", false}, {"b", true}}}, "c[a ASC, b DESC]"},
		{"two ranges", Query{Filters: []Filter{{"b", Gt}, {"a", Lt}}}, "c[a ASC, b ASC]"},
		{"group equality + order", Query{Group: true, Filters: []Filter{{"x", Eq}}, OrderBy: []Order{{"y", false}}},
			"c[x ASC, y ASC] (group)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Name, tt.q.Collection = "q", "c"
			if err := tt.q.Validate(); err != nil {
				t.Fatal(err)
			}
			need, idx := Required(tt.q)
			got := ""
			if need {
				got = idx.String()
			}
			if got != tt.want {
				t.Errorf("Required = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	bad := []Query{
		{Name: "", Collection: "c"},
		{Name: "q", Collection: "c", Filters: []Filter{{"a", "like"}}},
		{Name: "q", Collection: "c", Filters: []Filter{{"a", ArrayContains}, {"b", ArrayContains}}},
		{Name: "q", Collection: "c", Filters: []Filter{{"a", In}, {"b", NotIn}}},
		{Name: "q", Collection: "c", Filters: []Filter{{"a", Lt}}, OrderBy: []Order{{"b", false}}},
		{Name: "q", Collection: "c", Group: true, Parent: "users/{uid}"},
	}
	for i, q := range bad {
		if err := q.Validate(); err == nil {
			t.Errorf("%d: %+v validated", i, q)
		}
	}
}

// TestCatalogCovered is the guard of the index file: every catalogue query
// is served by firestore.indexes.json, and every declared composite index
// is used by some query.
func TestCatalogCovered(t *testing.T) {
	f := repoFile(t)
	names := map[string]bool{}
	composite := 0
	for _, q := range Catalog {
		if names[q.Name] {
			t.Errorf("duplicate query name %s", q.Name)
		}
		names[q.Name] = true
		if err := q.Validate(); err != nil {
			t.Error(err)
		}
		if len(q.Example) != q.Arity() {
			t.Errorf("%s: %d example values, want %d", q.Name, len(q.Example), q.Arity())
		}
		if need, _ := Required(q); need {
			composite++
		}
	}
	for _, err := range f.Check(Catalog) {
		t.Error(err)
	}
	for _, ix := range f.Unused(Catalog) {
		t.Errorf("declared index %s serves no catalogue query", ix)
	}
	t.Logf("catalogue: %d queries, %d need a composite index; file declares %d composite indexes, %d field overrides",
		len(Catalog), composite, len(f.Indexes), len(f.FieldOverrides))
}

// TestCheckDetectsMissingIndex removes each declared composite index in
// turn and expects the check to name a query that needs it.
func TestCheckDetectsMissingIndex(t *testing.T) {
	full := repoFile(t)
	for i, removed := range full.Indexes {
		t.Run(removed.String(), func(t *testing.T) {
			f := File{FieldOverrides: full.FieldOverrides}
			f.Indexes = append(append([]Index{}, full.Indexes[:i]...), full.Indexes[i+1:]...)
			errs := f.Check(Catalog)
			if len(errs) == 0 {
				t.Fatalf("no error without %s", removed)
			}
			if !strings.Contains(errs[0].Error(), "needs composite index "+removed.String()) {
				t.Errorf("error %v does not name %s", errs[0], removed)
			}
		})
	}
}

func TestCheckDetectsWrongIndexes(t *testing.T) {
	q := MustLookup(QJournalByDate)
	tests := []struct {
		name string
		f    File
		ok   bool
	}{
		{"exact", File{Indexes: []Index{{"user_activations", ScopeCollection, []IndexField{{"userId", Ascending, ""}, {"startedAt", Descending, ""}}}}}, true},
		{"equality direction is free, __name__ ignored", File{Indexes: []Index{{"user_activations", ScopeCollection,
			[]IndexField{{"userId", Descending, ""}, {"startedAt", Descending, ""}, {"__name__", Descending, ""}}}}}, true},
		{"wrong direction", File{Indexes: []Index{{"user_activations", ScopeCollection, []IndexField{{"userId", Ascending, ""}, {"startedAt", Ascending, ""}}}}}, false},
		{"wrong collection", File{Indexes: []Index{{"activations", ScopeCollection, []IndexField{{"userId", Ascending, ""}, {"startedAt", Descending, ""}}}}}, false},
		{"wrong scope", File{Indexes: []Index{{"user_activations", ScopeCollectionGroup, []IndexField{{"userId", Ascending, ""}, {"startedAt", Descending, ""}}}}}, false},
		{"extra field", File{Indexes: []Index{{"user_activations", ScopeCollection, []IndexField{{"userId", Ascending, ""}, {"status", Ascending, ""}, {"startedAt", Descending, ""}}}}}, false},
	}
	for _, tt := range tests {
		if err := tt.f.Covered(q); (err == nil) != tt.ok {
			t.Errorf("%s: Covered = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	// An exempted field breaks a single-field query; a collection-group
	// query needs a declared group-scope single-field index.
	single := MustLookup(QGDPRUserActivations)
	exempt := File{FieldOverrides: []FieldOverride{{CollectionGroup: "user_activations", FieldPath: "userId"}}}
	if err := exempt.Covered(single); err == nil {
		t.Error("query on an exempted field passed")
	}
	group := Query{Name: "g", Collection: "coaches", Group: true, Filters: []Filter{{"coachId", Eq}}}
	if err := (File{}).Covered(group); err == nil {
		t.Error("collection-group query passed without a group-scope index")
	}
	withGroup := File{FieldOverrides: []FieldOverride{{CollectionGroup: "coaches", FieldPath: "coachId",
		Indexes: []OverrideIndex{{Order: Ascending, QueryScope: ScopeCollectionGroup}}}}}
	if err := withGroup.Covered(group); err != nil {
		t.Errorf("group query with its override: %v", err)
	}
}

// TestMapOverrideCoversSubfields: a map field's override applies to its
// subfields unless one of their own overrides it (Firestore's single-field
// index settings), so exempting payments.programTerms breaks a query on
// programTerms.coachIds.
func TestMapOverrideCoversSubfields(t *testing.T) {
	q := Query{Name: "sub", Collection: "payments", Filters: []Filter{{"programTerms.coachIds", ArrayContains}}}
	asc := []OverrideIndex{{Order: Ascending, QueryScope: ScopeCollection}, {ArrayConfig: Contains, QueryScope: ScopeCollection}}
	tests := []struct {
		name      string
		overrides []FieldOverride
		ok        bool
	}{
		{"no override", nil, true},
		{"parent exempted", []FieldOverride{{CollectionGroup: "payments", FieldPath: "programTerms"}}, false},
		{"parent exempted, subfield indexed", []FieldOverride{{CollectionGroup: "payments", FieldPath: "programTerms"},
			{CollectionGroup: "payments", FieldPath: "programTerms.coachIds", Indexes: asc}}, true},
		{"parent indexed, subfield exempted", []FieldOverride{{CollectionGroup: "payments", FieldPath: "programTerms", Indexes: asc},
			{CollectionGroup: "payments", FieldPath: "programTerms.coachIds"}}, false},
		{"other collection's parent exempted", []FieldOverride{{CollectionGroup: "payouts", FieldPath: "programTerms"}}, true},
		{"sibling exempted", []FieldOverride{{CollectionGroup: "payments", FieldPath: "programTerms.coaches"}}, true},
	}
	for _, tt := range tests {
		err := File{FieldOverrides: tt.overrides}.Covered(q)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Covered = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestParseRejectsBadFiles(t *testing.T) {
	for _, s := range []string{
		`{"indexes": [{"collectionGroup": "c", "queryScope": "COLLECTION", "fields": [{"fieldPath": "a", "order": "UP"}, {"fieldPath": "b", "order": "ASCENDING"}]}]}`,
		`{"indexes": [{"collectionGroup": "c", "queryScope": "COLLECTION", "fields": [{"fieldPath": "a", "order": "ASCENDING", "arrayConfig": "CONTAINS"}, {"fieldPath": "b", "order": "ASCENDING"}]}]}`,
		`{"indexes": [], "extra": 1}`,
		`{"indexes": [], "fieldOverrides": [{"collectionGroup": "c", "fieldPath": "f", "indexes": [{"order": "ASCENDING", "queryScope": "DATABASE"}]}]}`,
	} {
		if _, err := Parse([]byte(s)); err == nil {
			t.Errorf("Parse(%s) accepted", s)
		}
	}
}

func TestBuildArity(t *testing.T) {
	q := MustLookup(QMyInsights)
	if _, err := q.Build(nil, "alice", "extra"); err == nil {
		t.Error("Build with too many values succeeded")
	}
	if _, _, err := q.REST("a/b"); err == nil {
		t.Error("REST accepted a parent value with a slash")
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknownQuery) {
		t.Errorf("Lookup(nope) = %v", err)
	}
	parent, body, err := MustLookup(QFortnoxUnsynced).REST("completed", nil)
	if err != nil || parent != "" {
		t.Fatalf("REST = %q, %v", parent, err)
	}
	where := body["structuredQuery"].(map[string]any)["where"].(map[string]any)
	filters := where["compositeFilter"].(map[string]any)["filters"].([]any)
	if _, ok := filters[1].(map[string]any)["unaryFilter"]; !ok {
		t.Errorf("== nil is not an IS_NULL filter: %v", filters[1])
	}
}
