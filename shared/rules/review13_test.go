package rules

import (
	"context"
	"net/http"
	"testing"
)

// TestReview13OlderProgramsStayEditable: programs written before the
// chargeable-price rule may hold a price a card cannot pay (1.00 kr, or
// the old maximum 1 000 000.00 kr). Their checkout is refused with
// FAILED_PRECONDITION; an edit that leaves price and currency alone (a
// coach fixing a title, an admin setting the commission or the splits)
// must not be refused for a value the writer did not touch, as an edit
// of other fields leaves older coachSplits editable (splitsOfCoaches). A
// write that sets the price or the currency, and every create, still
// needs a chargeable price.
func TestReview13OlderProgramsStayEditable(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	old := func(id string, price int) string {
		t.Helper()
		d := with(programDoc(id), "price", price, "createdAt", t0)
		if _, err := w.c.Doc("programs/"+id).Set(ctx, d); err != nil {
			t.Fatal(err)
		}
		return "programs/" + id
	}
	for _, c := range []struct {
		name  string
		price int
		as    actor
		p     doc
		allow bool
	}{
		{"coach edits the title (1.00 kr)", 100, coach, patch("title", "Four calmer weeks", "updatedAt", reqTime), true},
		{"coach edits the description (old maximum)", 100000000, coach, patch("description", "Five weeks."), true},
		{"admin sets the commission (2.99 kr)", 299, admin, patch("commissionBps", 1500), true},
		{"admin sets the splits (1.00 kr)", 100, admin, patch("coachSplits", doc{"carol": 10000}), true},
		{"coach sets another unchargeable price", 100, coach, patch("price", 200), false},
		{"coach sets a float price", 100, coach, patch("price", 300.0), false},
		{"coach sets a chargeable price", 100, coach, patch("price", 300), true},
		{"coach makes it free", 100, coach, patch("price", 0), true},
		{"coach switches to EUR (1.00 EUR)", 100, coach, patch("currency", "EUR"), true},
		{"coach switches to a currency it is too little for", 49, coach, patch("currency", "GBP", "price", 29), false},
		{"coach sets the price over the maximum", 100000000, coach, patch("price", 100000001), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := old("prog-old", c.price)
			want := http.StatusForbidden
			if c.allow {
				want = http.StatusOK
			}
			if got := w.commit(t, c.as, update(path, c.p)); got != want {
				t.Errorf("%s as %s on a program priced %d: status %d, want %d", update(path, c.p), c.as, c.price, got, want)
			}
		})
	}
	// Creates still need a chargeable price.
	for _, price := range []int{1, 299, 100000000} {
		if got := w.commit(t, coach, create("programs/prog-new", with(programDoc("prog-new"), "price", price))); got != http.StatusForbidden {
			t.Errorf("coach creates a program priced %d öre: status %d, want 403", price, got)
		}
	}
}
