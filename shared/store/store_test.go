package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/testenv"
)

func fixedNow() time.Time { return time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC) }

func TestRunOnceAppliesEffectExactlyOnce(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	counter := c.Doc("counters/c1")
	effect := func(ctx context.Context, tx *firestore.Transaction) error {
		return tx.Set(counter, map[string]any{"n": firestore.Increment(1)}, firestore.MergeAll)
	}
	// The same event delivered 8 times, concurrently.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ranCount := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ran, err := store.RunOnce(ctx, c, fixedNow, "testHandler", "evt/1", effect)
			if err != nil {
				t.Errorf("RunOnce: %v", err)
			}
			if ran {
				mu.Lock()
				ranCount++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	snap, err := counter.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := snap.DataAt("n"); n != int64(1) || ranCount != 1 {
		t.Errorf("effect applied n=%v, ran=%d; want 1, 1", n, ranCount)
	}
	// A different event runs; a failing effect leaves no marker.
	boom := errors.New("boom")
	if _, err := store.RunOnce(ctx, c, fixedNow, "testHandler", "evt-2", func(context.Context, *firestore.Transaction) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	ran, err := store.RunOnce(ctx, c, fixedNow, "testHandler", "evt-2", effect)
	if err != nil || !ran {
		t.Errorf("retry after failure: ran=%v err=%v", ran, err)
	}
	if _, err := store.RunOnce(ctx, c, fixedNow, "h", "", effect); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("empty id: %v", err)
	}
}

func TestDeleteRecursive(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	for _, p := range []string{"users/u1", "users/u1/daily_insights/2026-11-20", "users/u1/daily_insights/2026-11-21",
		"users/u1/notifications/n1", "users/u1/notifications/n1/deep/x", "users/u2"} {
		if _, err := c.Doc(p).Set(ctx, map[string]any{"x": 1}); err != nil {
			t.Fatal(err)
		}
	}
	bw := c.BulkWriter(ctx)
	n, err := store.DeleteRecursive(ctx, bw, c.Doc("users/u1"))
	bw.End()
	if err != nil || n != 5 {
		t.Fatalf("DeleteRecursive = %d, %v; want 5", n, err)
	}
	for _, p := range []string{"users/u1", "users/u1/notifications/n1/deep/x"} {
		if _, err := c.Doc(p).Get(ctx); !store.IsNotFound(err) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
	if _, err := c.Doc("users/u2").Get(ctx); err != nil {
		t.Errorf("another user's document was touched: %v", err)
	}
}

func TestChanged(t *testing.T) {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before := map[string]any{"birthDate": "1990-05-15", "n": int64(3), "log": map[string]any{"text": "a", "at": ts}}
	tests := []struct {
		name   string
		after  map[string]any
		paths  []string
		before map[string]any
		want   bool
	}{
		{"same", map[string]any{"birthDate": "1990-05-15", "n": 3.0, "log": map[string]any{"text": "a", "at": ts}}, []string{"birthDate", "n", "log.text", "log.at"}, before, false},
		{"own field changed only", map[string]any{"birthDate": "1990-05-15", "n": int64(3), "log": map[string]any{"text": "a", "at": ts}, "chart": 1}, []string{"birthDate", "log.text"}, before, false},
		{"nested changed", map[string]any{"log": map[string]any{"text": "b"}}, []string{"log.text"}, before, true},
		{"field removed", map[string]any{}, []string{"birthDate"}, before, true},
		{"created", map[string]any{"birthDate": "x"}, []string{"birthDate"}, nil, true},
		{"deleted", nil, []string{"birthDate"}, before, true},
		{"time equal in other zone", map[string]any{"log": map[string]any{"at": ts.In(time.FixedZone("x", 3600))}}, []string{"log.at"}, before, false},
	}
	for _, tt := range tests {
		if got := store.Changed(tt.before, tt.after, tt.paths...); got != tt.want {
			t.Errorf("%s: Changed = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestHashStaleMarker(t *testing.T) {
	if store.Hash(map[string]any{"a": 1, "b": 2}) != store.Hash(map[string]any{"b": 2, "a": 1}) {
		t.Error("Hash depends on map order")
	}
	if store.Hash("a") == store.Hash("b") {
		t.Error("Hash collides")
	}
	now := fixedNow()
	if !store.Stale(now.Add(-2*time.Hour), now, time.Hour) || store.Stale(now.Add(-time.Minute), now, time.Hour) || store.Stale(time.Time{}, now, time.Hour) {
		t.Error("Stale wrong")
	}
	if got := store.MarkerID("h", "a/b.c"); got != "h:a_b_c" {
		t.Errorf("MarkerID = %q", got)
	}
}
