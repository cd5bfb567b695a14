package wellbeing

import (
	"context"
	"testing"

	"github.com/innerjourney/functions/shared/testenv"
)

// TestReview4TriggerShapesNeverStopProtocol: SanitizeTrigger promises "It
// never fails, so no trigger stops the protocol". Values it lets through
// must therefore be storable by Firestore. A list directly inside a list,
// an empty map key and a reserved key (__name__) all pass SanitizeTrigger
// and make Firestore refuse the whole transaction with InvalidArgument,
// which the event wrappers treat as permanent: the event is dropped, with
// no wellbeing record, no alert and no CRITICAL line.
func TestReview4TriggerShapesNeverStopProtocol(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	clk := newClock()
	pr := &Protocol{Now: clk.Now}
	cases := []struct {
		name string
		trig map[string]any
	}{
		{"nested list", map[string]any{"rules": []any{[]any{"a", "b"}}}},
		{"empty key", map[string]any{"": 1}},
		{"reserved key", map[string]any{"__name__": 1}},
		{"nested strings list", map[string]any{"rules": []any{[]string{"a"}}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sig := signal("trig-"+string(rune('a'+i)), "k")
			sig.Trigger = tc.trig
			o, err := pr.Raise(ctx, c, sig)
			if err != nil || o.Status != Opened {
				t.Errorf("trigger %v stopped the protocol: %+v %v", tc.trig, o, err)
			}
		})
	}
}
