package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/latlng"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/testenv"
)

// Hash is the loop guard of content-hash handlers (profile.inputHash). A
// client can store answers holding a NaN double and a geopoint (the rules only
// bound the list length). json.Marshal fails on NaN, and Hash once fell back
// to %#v, which prints nested pointers (*latlng.LatLng) as addresses: two
// decodes of the same document hashed differently, "unchanged" was never
// seen, and every profile write re-triggered a recompute.

type answers struct {
	Answers []model.Answer `firestore:"answers" json:"answers"`
}

// node is a cyclic structure (json.Marshal rejects cycles).
type node struct {
	Name string `json:"name"`
	Next *node  `json:"next"`
	F    float64
}

func cycle(name string, f float64) *node {
	a := &node{Name: name, F: f}
	a.Next = &node{Name: name + "'", Next: a}
	return a
}

// nonJSONValues are builders of values json.Marshal rejects; each call builds
// a new value (new pointers, new maps) equal to the previous ones.
func nonJSONValues() map[string]func() any {
	stockholm := time.FixedZone("CET", 3600)
	return map[string]func() any{
		"NaN answer and geopoint": func() any {
			return answers{Answers: []model.Answer{
				{QuestionID: "q1", Answer: math.NaN()},
				{QuestionID: "q2", Answer: &latlng.LatLng{Latitude: 59.3, Longitude: 18.0}},
			}}
		},
		"+Inf and -Inf": func() any { return []any{math.Inf(1), math.Inf(-1), 0.5} },
		"pointers in nested []any": func() any {
			n := 3.0
			return []any{math.NaN(), []any{&n, &latlng.LatLng{Latitude: -1}, map[string]any{"g": &latlng.LatLng{Longitude: 2}}}}
		},
		"map with NaN values": func() any {
			return map[string]any{"b": math.NaN(), "a": []any{int64(1), "x", nil}, "c": map[string]any{"z": 1, "y": 2}}
		},
		"float32 NaN": func() any { return []float32{float32(math.NaN()), 1.5} },
		"time with NaN": func() any {
			return []any{math.NaN(), time.Date(2026, 11, 21, 9, 0, 0, 0, stockholm)}
		},
		"cyclic pointers": func() any { return cycle("a", 1) },
		"self-containing map": func() any {
			m := map[string]any{"k": 1}
			m["self"] = m
			return m
		},
		"complex number": func() any { return complex(1, math.Inf(1)) },
		"func and chan": func() any {
			return struct {
				F func()
				C chan int
			}{}
		},
		"non-string map key": func() any { return map[[2]int]float64{{1, 2}: math.NaN(), {0, 1}: 1} },
		"bytes with NaN":     func() any { return []any{[]byte{0, 1, 255}, math.NaN()} },
	}
}

func TestHashEqualForEqualNonJSONValues(t *testing.T) {
	for name, mk := range nonJSONValues() {
		t.Run(name, func(t *testing.T) {
			if _, err := json.Marshal(mk()); err == nil {
				t.Fatal("value is JSON-encodable; the test wants the fallback path")
			}
			want := store.Hash(mk())
			for i := 0; i < 5; i++ {
				if got := store.Hash(mk()); got != want {
					t.Fatalf("call %d: Hash of an equal value = %s…, want %s…", i, got[:12], want[:12])
				}
			}
		})
	}
}

func TestHashDiffersForDifferentValues(t *testing.T) {
	geo := func(lat float64) any {
		return answers{Answers: []model.Answer{{QuestionID: "q1", Answer: math.NaN()}, {QuestionID: "q2", Answer: &latlng.LatLng{Latitude: lat}}}}
	}
	tests := []struct {
		name string
		a, b any
	}{
		{"NaN vs +Inf", []any{math.NaN()}, []any{math.Inf(1)}},
		{"+Inf vs -Inf", []any{math.Inf(1)}, []any{math.Inf(-1)}},
		{"NaN vs the string NaN", []any{math.NaN()}, []any{"NaN"}},
		{"NaN vs null", []any{math.NaN()}, []any{nil}},
		{"geopoint latitude", geo(59.3), geo(59.4)},
		{"question id", answers{Answers: []model.Answer{{QuestionID: "a", Answer: math.NaN()}}},
			answers{Answers: []model.Answer{{QuestionID: "b", Answer: math.NaN()}}}},
		{"list order", []any{math.NaN(), 1.0}, []any{1.0, math.NaN()}},
		{"nested value", []any{math.NaN(), []any{1.0}}, []any{math.NaN(), []any{2.0}}},
		{"map value", map[string]any{"a": math.NaN(), "b": 1}, map[string]any{"a": math.NaN(), "b": 2}},
		{"map key", map[string]any{"a": math.NaN()}, map[string]any{"b": math.NaN()}},
		{"time instant", []any{math.NaN(), time.Unix(0, 0)}, []any{math.NaN(), time.Unix(1, 0)}},
		{"cycle content", cycle("a", 1), cycle("b", 1)},
		{"nil vs empty list", []any{math.NaN(), []any(nil)}, []any{math.NaN(), []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if store.Hash(tt.a) == store.Hash(tt.b) {
				t.Errorf("Hash(%v) == Hash(%v)", tt.a, tt.b)
			}
		})
	}
}

// TestHashOfJSONValuesUnchanged pins the hashes of JSON-encodable values
// (stored as profile.inputHash, used in Stripe idempotency keys): the hex
// SHA-256 of their encoding/json output, as before the fallback was replaced.
func TestHashOfJSONValuesUnchanged(t *testing.T) {
	jsonHash := func(t *testing.T, v any) string {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	tests := []struct {
		name   string
		v      any
		golden string // when set, the literal hash
	}{
		{"string list", []string{"a", "b"}, "0473ef2dc0d324ab659d3580c1134e9d812035905c4781fdd6d529b0c6860e13"},
		{"map", map[string]any{"b": 2, "a": 1}, ""},
		{"answers with a geopoint", answers{Answers: []model.Answer{{QuestionID: "q", Answer: &latlng.LatLng{Latitude: 1}}}}, ""},
		{"time", []any{time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := jsonHash(t, tt.v)
			if tt.golden != "" && want != tt.golden {
				t.Fatalf("golden %s is not the JSON hash %s", tt.golden, want)
			}
			if got := store.Hash(tt.v); got != want {
				t.Errorf("Hash = %s, want the JSON hash %s", got, want)
			}
		})
	}
}

// TestHashStableAcrossFirestoreRoundTrip writes answers holding NaN, ±Inf, a
// geopoint and nested lists to the emulator and reads them back twice: each
// read hashes the same as the other and as the value written.
func TestHashStableAcrossFirestoreRoundTrip(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	written := answers{Answers: []model.Answer{
		{QuestionID: "x1", Answer: math.NaN()},
		{QuestionID: "x2", Answer: &latlng.LatLng{Latitude: 59.3293, Longitude: 18.0686}},
		{QuestionID: "x3", Answer: []any{math.Inf(1), math.Inf(-1), int64(3), map[string]any{"g": &latlng.LatLng{Latitude: 1}}}},
	}}
	doc := c.Doc("users/u1")
	if _, err := doc.Set(ctx, map[string]any{"answers": []any{
		map[string]any{"questionId": "x1", "answer": math.NaN()},
		map[string]any{"questionId": "x2", "answer": &latlng.LatLng{Latitude: 59.3293, Longitude: 18.0686}},
		map[string]any{"questionId": "x3", "answer": []any{math.Inf(1), math.Inf(-1), int64(3), map[string]any{"g": &latlng.LatLng{Latitude: 1}}}},
	}}); err != nil {
		t.Fatalf("write: %v", err)
	}
	read := func() answers {
		t.Helper()
		snap, err := doc.Get(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var a answers
		if err := snap.DataTo(&a); err != nil {
			t.Fatalf("DataTo: %v", err)
		}
		return a
	}
	want := store.Hash(written)
	for i := 0; i < 3; i++ {
		if got := store.Hash(read()); got != want {
			t.Fatalf("read %d: Hash = %s…, want %s… (the hash of the written value)", i, got[:12], want[:12])
		}
	}
}
