package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestPageByID: every matching document once, in id order, in pages of the
// size asked, after the starting id; the query's filter stays; a page's
// error and iterator.Done end the paging; a failed read carries op.
func TestPageByID(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	for i := range 7 {
		if _, err := c.Doc(fmt.Sprintf("items/i%d", i)).Set(ctx, map[string]any{"keep": i != 3}); err != nil {
			t.Fatal(err)
		}
	}
	q := c.Collection("items").Where("keep", "==", true)
	read := func(after string, stopAt int) ([][]string, error) {
		var pages [][]string
		err := store.PageByID(ctx, q, 2, after, "list items", func(docs []*firestore.DocumentSnapshot) error {
			var ids []string
			for _, d := range docs {
				ids = append(ids, d.Ref.ID)
			}
			pages = append(pages, ids)
			if len(pages) == stopAt {
				return iterator.Done
			}
			return nil
		})
		return pages, err
	}
	pages, err := read("", 0)
	if want := [][]string{{"i0", "i1"}, {"i2", "i4"}, {"i5", "i6"}}; err != nil || !reflect.DeepEqual(pages, want) {
		t.Errorf("pages = %v, %v; want %v", pages, err, want)
	}
	pages, err = read("i4", 0)
	if want := [][]string{{"i5", "i6"}}; err != nil || !reflect.DeepEqual(pages, want) {
		t.Errorf("pages after i4 = %v, %v; want %v", pages, err, want)
	}
	pages, err = read("", 2)
	if want := [][]string{{"i0", "i1"}, {"i2", "i4"}}; err != nil || !reflect.DeepEqual(pages, want) {
		t.Errorf("pages stopped at the second = %v, %v; want %v", pages, err, want)
	}

	boom := errors.New("boom")
	calls := 0
	err = store.PageByID(ctx, q, 2, "", "list items", func([]*firestore.DocumentSnapshot) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("page error: %v after %d calls; want boom after 1", err, calls)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = store.PageByID(cctx, q, 2, "", "list items", func([]*firestore.DocumentSnapshot) error { return nil })
	if fault.MessageOf(err) != "list items" || fault.CodeOf(err) != fault.Cancelled {
		t.Errorf("failed read: %v; want a classified CANCELLED error named list items", err)
	}
}
