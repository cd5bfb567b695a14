package store

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
)

// DeleteRecursive deletes doc and every document in its subcollections,
// depth first, through bw, and returns how many deletes it queued. The Go
// client has no RecursiveDelete; this walks DocumentRef.Collections. The
// caller ends bw (bw.End or bw.Flush) to wait for the writes.
func DeleteRecursive(ctx context.Context, bw *firestore.BulkWriter, doc *firestore.DocumentRef) (int, error) {
	n := 0
	cols := doc.Collections(ctx)
	for {
		col, err := cols.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return n, fmt.Errorf("DeleteRecursive %s: %w", doc.Path, err)
		}
		refs := col.DocumentRefs(ctx)
		for {
			child, err := refs.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				return n, fmt.Errorf("DeleteRecursive %s: %w", col.Path, err)
			}
			k, err := DeleteRecursive(ctx, bw, child)
			n += k
			if err != nil {
				return n, err
			}
		}
	}
	if _, err := bw.Delete(doc); err != nil {
		return n, fmt.Errorf("DeleteRecursive %s: %w", doc.Path, err)
	}
	return n + 1, nil
}
