package gdpr

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestReplaceCoach: the one replacement of an erased coach in a program
// (createdBy, coachSplits) and in the terms frozen on its sales
// (programTerms.coachIds, programTerms.coachSplits): uid → ErasedRef, the
// share added to ErasedRef's, duplicates dropped, other coaches untouched;
// a split the payouts reject stays one they reject.
func TestReplaceCoach(t *testing.T) {
	const u, o, E = "u1", "o1", ErasedRef
	tests := []struct {
		name       string
		ids        []any
		splits     any
		wantIDs    []any
		wantSplits map[string]any // nil: coachSplits is not written
	}{
		{name: "equal shares", ids: []any{o, u}, wantIDs: []any{o, E}},
		{name: "split", ids: []any{u, o}, splits: map[string]any{u: int64(7000), o: int64(3000)},
			wantIDs: []any{E, o}, wantSplits: map[string]any{E: int64(7000), o: int64(3000)}},
		{name: "another coach erased before", ids: []any{u, E, o}, splits: map[string]any{u: int64(2000), E: int64(5000), o: int64(3000)},
			wantIDs: []any{E, o}, wantSplits: map[string]any{E: int64(7000), o: int64(3000)}},
		{name: "uid twice", ids: []any{u, o, u}, wantIDs: []any{E, o}},
		{name: "split without the uid", ids: []any{u, o}, splits: map[string]any{o: int64(10000)}, wantIDs: []any{E, o}},
		{name: "splits not a map", ids: []any{u}, splits: "70/30", wantIDs: []any{E}},
		{name: "share frozen invalid", ids: []any{u, o}, splits: map[string]any{u: int64(-1), o: int64(3000)},
			wantIDs: []any{E, o}, wantSplits: map[string]any{E: int64(-1), o: int64(3000)}},
		{name: "share added to an invalid one", ids: []any{u, E, o}, splits: map[string]any{u: int64(5000), E: int64(-1), o: int64(5001)},
			wantIDs: []any{E, o}, wantSplits: map[string]any{E: int64(-1), o: int64(5001)}},
		{name: "share not an integer", ids: []any{u, o}, splits: map[string]any{u: "6000", o: int64(4000)},
			wantIDs: []any{E, o}, wantSplits: map[string]any{E: int64(-1), o: int64(4000)}},
		{name: "share out of range", ids: []any{u}, splits: map[string]any{u: int64(20000)},
			wantIDs: []any{E}, wantSplits: map[string]any{E: int64(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, splits := replaceCoach(u, tt.ids, tt.splits)
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tt.wantIDs)
			}
			if (splits == nil) != (tt.wantSplits == nil) || !maps.Equal(splits, tt.wantSplits) {
				t.Errorf("splits %v, want %v", splits, tt.wantSplits)
			}
		})
	}
}

// TestSaleTermsFinderIndexed: the finder of a coach's sales
// (programTerms.coachIds array-contains, a field of a map) is served by
// the automatic single-field index, which an exemption of the field or of
// the map above it in firestore.indexes.json would remove.
func TestSaleTermsFinderIndexed(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := indexes.Load(filepath.Join(root, "firestore.indexes.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Covered(qSaleTermsCoach); err != nil {
		t.Error(err)
	}
	if need, _ := indexes.Required(qSaleTermsCoach); need {
		t.Errorf("%s needs a composite index; the area's finders must be single-field", qSaleTermsCoach.Name)
	}
	for _, o := range f.FieldOverrides {
		if o.CollectionGroup == model.ColPayments && o.FieldPath == "programTerms" {
			t.Errorf("firestore.indexes.json overrides payments.programTerms (%+v): its subfields inherit it, and the erasure's finder %s needs programTerms.coachIds array-contains",
				o.Indexes, qSaleTermsCoach.Name)
		}
	}
	if !slices.ContainsFunc(ExtraQueries, func(q indexes.Query) bool { return q.Name == qSaleTermsCoach.Name }) {
		t.Errorf("%s is not in ExtraQueries (checked by the repository's index test)", qSaleTermsCoach.Name)
	}
}
