package insights

import (
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/model"
)

// TestReview12LateShardDeliversNoStaleDate: a shard redelivered a day
// after its tick (the worker failed meanwhile) delivered the tick's date,
// over by then, with its notification; the next tick then delivered
// today's too. A late shard now leaves such a user due, and the next tick
// delivers today's insight only.
func TestReview12LateShardDeliversNoStaleDate(t *testing.T) {
	h := newHarness(t)
	const uid = "waiting"
	yesterday := utc("2026-11-20T06:00:00Z") // 07:00 in Stockholm
	h.put(uid, user{zone: "Europe/Stockholm", optIn: true, due: &yesterday, birth: "1990-05-15"})
	h.s.Now = func() time.Time { return yesterday.Add(30 * time.Second) }
	if _, err := h.s.Fanout(h.ctx(), yesterday); err != nil {
		t.Fatal(err)
	}
	msgs := h.rec.On(TopicShards)
	if len(msgs) != 1 {
		t.Fatalf("%d shards, want 1", len(msgs))
	}
	h.sent = len(msgs)
	// Redelivered on 2026-11-21 at 07:00:30 Stockholm time, after that
	// date's hour.
	h.s.Now = func() time.Time { return clock }
	st, err := h.s.DeliverShard(h.ctx(), &events.PubSubMessage{ID: "late", Data: msgs[0].Data, Attributes: msgs[0].Attrs})
	if err != nil {
		t.Fatal(err)
	}
	if st.Created != 0 || st.Skipped != 1 {
		t.Errorf("late shard: %+v, want the user skipped", st)
	}
	if got := h.dueAt(uid); !got.Equal(yesterday) {
		t.Errorf("late shard moved insightDueAt to %s", got.Format(time.RFC3339))
	}
	h.s.Now = func() time.Time { return clock.Add(time.Hour) }
	h.tick(utc("2026-11-21T07:00:00Z"))
	got := h.insights(uid)
	if _, ok := got["2026-11-21"]; !ok || len(got) != 1 {
		t.Errorf("insights %v, want 2026-11-21 only", keys(got))
	}
	notes, err := h.c.Collection(model.ColUsers).Doc(uid).Collection(model.SubColNotes).DocumentRefs(h.ctx()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].ID != NotificationID("2026-11-21") {
		t.Errorf("%d notifications, want today's only", len(notes))
	}
}

// TestReview12OldTickDropped: a Scheduler tick (timed by its publish time)
// redelivered more than an hour late fanned its users out for its own
// tick, so they got that tick's date, over by then, besides today's from
// the current tick. It is now dropped; a tick named in the body (ops,
// tests) still runs whenever it is sent.
func TestReview12OldTickDropped(t *testing.T) {
	h := newHarness(t)
	const uid = "backlog"
	yesterday := utc("2026-11-20T06:00:00Z")
	h.put(uid, user{zone: "Europe/Stockholm", optIn: true, due: &yesterday})
	h.s.Now = func() time.Time { return clock } // a day after the tick
	if err := h.s.OnTick(h.ctx(), &events.PubSubMessage{ID: "old", Data: []byte("{}"), PublishTime: yesterday}); err != nil {
		t.Fatal(err)
	}
	if msgs := h.rec.On(TopicShards); len(msgs) != 0 {
		h.deliver(msgs)
		t.Errorf("a day-old tick published %d shards; insights %v", len(msgs), keys(h.insights(uid)))
	}
	h.sent = len(h.rec.On(TopicShards))
	if err := h.s.OnTick(h.ctx(), &events.PubSubMessage{ID: "now", Data: []byte("{}"), PublishTime: clock.Add(-30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	h.deliver(h.rec.On(TopicShards)[h.sent:])
	if got := h.insights(uid); len(got) != 1 || got["2026-11-21"] == nil {
		t.Errorf("insights %v, want 2026-11-21 only", keys(got))
	}
}

// keys returns the ids of docs, sorted.
func keys(docs map[string]*firestore.DocumentSnapshot) []string {
	out := make([]string, 0, len(docs))
	for id := range docs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
