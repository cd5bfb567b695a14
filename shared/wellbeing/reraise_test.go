package wellbeing

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestRaiseSameSignalNewEpisode: the very signal that opened an episode
// (screening's source key is the answers' hash, so the same answers given
// again) opens a new episode once the first is acknowledged or expired; a
// redelivery inside the new episode is still a duplicate; episode ids never
// hold the uid.
func TestRaiseSameSignalNewEpisode(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	clk := newClock()
	pr := &Protocol{Now: clk.Now}
	const uid = "user-reraise-1"
	sig := signal(uid, "answers-hash")

	steps := []struct {
		name    string
		advance time.Duration
		ack     bool // acknowledge the last opened event first
		want    Status
		newID   bool // a new event id (and episode) is expected
	}{
		{"first", 0, false, Opened, true},
		{"redelivered while open", time.Minute, false, Duplicate, false},
		{"same signal after acknowledgment", 10 * 24 * time.Hour, true, Opened, true},
		{"redelivered in the new episode", time.Minute, false, Duplicate, false},
		{"same signal after the window", EpisodeWindow + time.Minute, false, Opened, true},
		{"redelivered again", time.Second, false, Duplicate, false},
	}
	var last Outcome
	ids := map[string]bool{}
	episodes := map[string]bool{}
	for _, st := range steps {
		clk.Add(st.advance)
		if st.ack {
			if _, err := Acknowledge(ctx, c, clk.Now(), last.EventID, "admin-1"); err != nil {
				t.Fatalf("%s: acknowledge: %v", st.name, err)
			}
		}
		o, err := pr.Raise(ctx, c, sig)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if o.Status != st.want {
			t.Errorf("%s: status %s, want %s", st.name, o.Status, st.want)
		}
		if st.newID == ids[o.EventID] {
			t.Errorf("%s: event id %s new = %v, want %v", st.name, o.EventID, !ids[o.EventID], st.newID)
		}
		if st.newID == episodes[o.EpisodeID] {
			t.Errorf("%s: episode id %s new = %v, want %v", st.name, o.EpisodeID, !episodes[o.EpisodeID], st.newID)
		}
		if strings.Contains(o.EpisodeID, uid) || !strings.HasPrefix(o.EpisodeID, "ep_") {
			t.Errorf("%s: episode id %q", st.name, o.EpisodeID)
		}
		ids[o.EventID], episodes[o.EpisodeID] = true, true
		last = o
	}
	if got := countDocs(t, c.Collection(model.ColWellbeingEvents).Where("userId", "==", uid)); got != 3 {
		t.Errorf("%d events, want 3", got)
	}
	if got := countDocs(t, c.Collection("users/"+uid+"/notifications").Query); got != 3 {
		t.Errorf("%d notifications, want 3", got)
	}
	if first := EventID(uid, SourceScreening, "answers-hash"); !ids[first] {
		t.Errorf("the first episode's event is not EventID %s", first)
	}
}

// TestRaiseSanitizesTrigger: a trigger or rule version that is not id-like
// (here a non-ASCII rule id, free text, a bad key) never stops the
// protocol; what is stored is redacted and counted.
func TestRaiseSanitizesTrigger(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	pr := &Protocol{Now: newClock().Now}

	tests := []struct {
		name        string
		trigger     map[string]any
		ruleVersion string
		wantRules   []any
		wantVersion string
		redacted    int64
	}{
		{"non-ASCII rule id", map[string]any{"rules": []any{"sv.plan.påkörd", "sv.active.vill_do"}}, "crisis-rules-2026.11.9",
			[]any{Redacted, "sv.active.vill_do"}, "crisis-rules-2026.11.9", 1},
		{"free text, bad key, bad version", map[string]any{"rules": []any{"I'm done, honestly!"}, "fråga": 1}, "rules v1 (ö)",
			[]any{Redacted}, "unknown", 3},
		{"no trigger, no version", nil, "", nil, "unknown", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := "user-sanitize-" + string(rune('a'+i))
			sig := Signal{UserID: uid, Source: SourceReflection, SourceKey: "entry:hash", Trigger: tt.trigger,
				RuleVersion: tt.ruleVersion, Locale: "sv-SE"}
			o, err := pr.Raise(ctx, c, sig)
			if err != nil || o.Status != Opened {
				t.Fatalf("raise: %+v %v", o, err)
			}
			ev := getEvent(t, c, o.EventID)
			if ev.RuleVersion != tt.wantVersion {
				t.Errorf("ruleVersion %q, want %q", ev.RuleVersion, tt.wantVersion)
			}
			rules, _ := ev.Trigger["rules"].([]any)
			if len(rules) != len(tt.wantRules) {
				t.Fatalf("trigger %v, want rules %v", ev.Trigger, tt.wantRules)
			}
			for j := range rules {
				if rules[j] != tt.wantRules[j] {
					t.Errorf("rules[%d] = %v, want %v", j, rules[j], tt.wantRules[j])
				}
			}
			if got, _ := ev.Trigger["redacted"].(int64); got != tt.redacted {
				t.Errorf("redacted = %v, want %d", ev.Trigger["redacted"], tt.redacted)
			}
			if _, ok := ev.Trigger["fråga"]; ok {
				t.Error("a key that is not id-like was stored")
			}
		})
	}
}

// TestRaiseReflectionReplayNeverReopens: a reflection source key is an
// entry id and its exact content hash, so the same key again is a replay
// of the same entry text. Unlike screening (TestRaiseSameSignalNewEpisode),
// it never opens a new episode: not after its episode was acknowledged,
// not after the window, not after further episodes, and not when it had
// only been folded into an episode. Regression: after d7fcb40 a late
// redelivery of an acknowledged entry's event raised a second alert.
func TestRaiseReflectionReplayNeverReopens(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	clk := newClock()
	pr := &Protocol{Now: clk.Now}
	const uid = "user-reflection-replay"
	reflection := func(key string) Signal {
		s := signal(uid, key)
		s.Source, s.RuleVersion = SourceReflection, "crisis-rules-2026.11.1"
		s.Trigger = map[string]any{"rules": []string{"en.active.kill_myself"}}
		return s
	}
	raise := func(name string, sig Signal, want Status) Outcome {
		t.Helper()
		o, err := pr.Raise(ctx, c, sig)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if o.Status != want {
			t.Errorf("%s: status %s, want %s (%+v)", name, o.Status, want, o)
		}
		return o
	}
	ack := func(eventID string) {
		t.Helper()
		if _, err := Acknowledge(ctx, c, clk.Now(), eventID, "admin-1"); err != nil {
			t.Fatal(err)
		}
	}

	// Entry A opens episode 1; B is folded into it.
	a := raise("A first", reflection("ua_a:hash-a"), Opened)
	clk.Add(time.Hour)
	raise("B folded", reflection("ua_b:hash-b"), Folded)
	// Acknowledged, then A is redelivered 30 days later: a duplicate of
	// the event it opened.
	ack(a.EventID)
	clk.Add(30 * 24 * time.Hour)
	if o := raise("A after acknowledgment", reflection("ua_a:hash-a"), Duplicate); o.EventID != a.EventID || o.EpisodeID != a.EpisodeID {
		t.Errorf("A after acknowledgment: ids %s %s, want %s %s", o.EventID, o.EpisodeID, a.EventID, a.EpisodeID)
	}
	raise("B after acknowledgment", reflection("ua_b:hash-b"), Duplicate)
	// A screening signal opens episode 2 and expires; the old keys are
	// still known, in and after it; a new entry C opens episode 3.
	s := raise("screening", signal(uid, "answers-hash"), Opened)
	clk.Add(time.Minute)
	raise("A inside another episode", reflection("ua_a:hash-a"), Duplicate)
	clk.Add(EpisodeWindow)
	raise("B after another episode", reflection("ua_b:hash-b"), Duplicate)
	cc := raise("C new entry text", reflection("ua_a:hash-a2"), Opened)
	if cc.EventID == a.EventID || cc.EventID == s.EventID {
		t.Errorf("C reused an event id: %s", cc.EventID)
	}
	ack(cc.EventID)
	raise("A after episode 3", reflection("ua_a:hash-a"), Duplicate)
	raise("C after acknowledgment", reflection("ua_a:hash-a2"), Duplicate)
	// Screening still reopens after acknowledgment.
	ack(s.EventID)
	raise("same screening answers again", signal(uid, "answers-hash"), Opened)

	if got := countDocs(t, c.Collection(model.ColWellbeingEvents).Where("userId", "==", uid)); got != 4 {
		t.Errorf("%d events, want 4 (A, screening, C, screening again)", got)
	}
	if got := countDocs(t, c.Collection("users/"+uid+"/notifications").Query); got != 4 {
		t.Errorf("%d notifications, want 4", got)
	}
}

// TestRaiseReflectionReplayWithoutState: a reflection key that opened the
// user's first episode is a duplicate even when the episode state document
// is gone (lost or reset) or predates reflectionKeys.
func TestRaiseReflectionReplayWithoutState(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	clk := newClock()
	pr := &Protocol{Now: clk.Now}
	const uid = "user-reflection-nostate"
	sig := signal(uid, "ua_x:hash-x")
	sig.Source = SourceReflection
	o, err := pr.Raise(ctx, c, sig)
	if err != nil || o.Status != Opened {
		t.Fatalf("first: %+v %v", o, err)
	}
	if _, err := Acknowledge(ctx, c, clk.Now(), o.EventID, "admin-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Doc("users/" + uid + "/private/" + StateDoc).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(48 * time.Hour)
	again, err := pr.Raise(ctx, c, sig)
	if err != nil || again.Status != Duplicate || again.EventID != o.EventID {
		t.Errorf("replay without state: %+v %v, want a duplicate of %s", again, err, o.EventID)
	}
	if got := countDocs(t, c.Collection(model.ColWellbeingEvents).Where("userId", "==", uid)); got != 1 {
		t.Errorf("%d events, want 1", got)
	}
}
