package functions

import (
	"testing"

	"github.com/innerjourney/functions/functions/gdpr"
	"github.com/innerjourney/functions/shared/indexes"
)

// TestEveryQueryHasItsIndex checks every query the functions make — the
// shared catalogue and the queries areas keep beside their code — against
// firestore.indexes.json.
func TestEveryQueryHasItsIndex(t *testing.T) {
	f, err := indexes.Load("firestore.indexes.json")
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]indexes.Query(nil), indexes.Catalog...), gdpr.ExtraQueries...)
	for _, err := range f.Check(all) {
		t.Error(err)
	}
	t.Logf("%d queries checked against %d composite indexes and %d field overrides", len(all), len(f.Indexes), len(f.FieldOverrides))
}
