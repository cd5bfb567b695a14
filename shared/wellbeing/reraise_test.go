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
