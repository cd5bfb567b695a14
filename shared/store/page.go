package store

import (
	"context"
	"errors"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
)

// PageByID reads q in document-id order, size documents per query,
// starting after the document id after ("" from the first), and calls page
// with the documents of each non-empty page until a page comes back with
// fewer than size. q is a query of one collection (not a collection group)
// without an order, limit or cursor of its own; its filters and Select
// stay.
//
// Errors: a failed read, classified with op (see Classify); an error page
// returns, as is, which ends the paging. page returns iterator.Done to end
// the paging early without an error.
func PageByID(ctx context.Context, q firestore.Query, size int, after, op string,
	page func(docs []*firestore.DocumentSnapshot) error) error {
	q = q.OrderBy(firestore.DocumentID, firestore.Asc).Limit(size)
	for {
		pq := q
		if after != "" {
			pq = q.StartAfter(after)
		}
		docs, err := pq.Documents(ctx).GetAll()
		if err != nil {
			return Classify(op, err)
		}
		if len(docs) > 0 {
			if err := page(docs); err != nil {
				if errors.Is(err, iterator.Done) {
					return nil
				}
				return err
			}
		}
		if len(docs) < size {
			return nil
		}
		after = docs[len(docs)-1].Ref.ID
	}
}
