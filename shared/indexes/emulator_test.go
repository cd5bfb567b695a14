package indexes

import (
	"context"
	"testing"

	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/testenv"
)

// TestCatalogRunsOnEmulator runs every catalogue query once with its
// example values. The emulator does not enforce indexes, so this proves
// only that each query is one Firestore accepts (operators, null
// filters, order-by rules, subcollection parents).
func TestCatalogRunsOnEmulator(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	if _, err := c.Doc("users/alice/notifications/n1").Set(ctx, map[string]any{"readAt": nil, "createdAt": exampleStart}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Doc("payouts/po1").Set(ctx, map[string]any{"status": "completed", "fortnoxReference": nil, "payoutDate": exampleStart}); err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	for _, q := range Catalog {
		fq, err := q.Build(c, q.Example...)
		if err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		it := fq.Documents(ctx)
		for {
			_, err := it.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				t.Errorf("%s: %v", q.Name, err)
				break
			}
			found[q.Name]++
		}
		it.Stop()
	}
	// The null filters match the seeded documents.
	for _, name := range []string{QMyUnreadNotifications, QFortnoxUnsynced} {
		if found[name] != 1 {
			t.Errorf("%s found %d documents, want 1", name, found[name])
		}
	}
}
