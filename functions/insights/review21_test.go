package insights

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/events"
)

// TestReview21HalfHourLateTickDeliversNoStaleDate: in a half-hour zone a
// tick handled 30–59 minutes late (under MaxTickAge, so not dropped) found
// a user whose next delivery had already passed, and its fresh shard
// delivered the tick's date, over by then, half an hour before the next
// tick delivered today's: two insights and two notifications within the
// hour, the first one stale. A fresh shard now skips such a user as a late
// one does; the next tick delivers the latest date only.
func TestReview21HalfHourLateTickDeliversNoStaleDate(t *testing.T) {
	cases := []struct {
		name, zone string
		due        time.Time // after an outage: days overdue
		tick, now  time.Time // the tick's publish time, when it is handled
		next       time.Time // the next tick
		want       string    // the one date delivered
	}{
		{"Kolkata, 07:00 is 01:30Z", "Asia/Kolkata", utc("2026-11-18T01:30:00Z"),
			utc("2026-11-21T01:00:00Z"), utc("2026-11-21T01:45:00Z"), utc("2026-11-21T02:00:00Z"), "2026-11-21"},
		{"Adelaide, 07:00 is 20:30Z", "Australia/Adelaide", utc("2026-11-18T20:30:00Z"),
			utc("2026-11-20T20:00:00Z"), utc("2026-11-20T20:40:00Z"), utc("2026-11-20T21:00:00Z"), "2026-11-21"},
		{"Kathmandu, 07:00 is 01:15Z", "Asia/Kathmandu", utc("2026-11-18T01:15:00Z"),
			utc("2026-11-21T01:00:00Z"), utc("2026-11-21T01:20:00Z"), utc("2026-11-21T02:00:00Z"), "2026-11-21"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			const uid = "overdue"
			due := tc.due
			h.put(uid, user{zone: tc.zone, optIn: true, due: &due, birth: "1990-05-15"})
			h.s.Now = func() time.Time { return tc.now }
			if err := h.s.OnTick(h.ctx(), &events.PubSubMessage{ID: "late", Data: []byte("{}"), PublishTime: tc.tick}); err != nil {
				t.Fatal(err)
			}
			msgs := h.rec.On(TopicShards)
			for i, m := range msgs {
				st, err := h.s.DeliverShard(h.ctx(), &events.PubSubMessage{ID: "s" + string(rune('0'+i)), Data: m.Data, Attributes: m.Attrs})
				if err != nil {
					t.Fatal(err)
				}
				if st.Created != 0 {
					t.Errorf("the late tick's fresh shard created %d insights (%v), want the user skipped", st.Created, keys(h.insights(uid)))
				}
			}
			h.sent = len(msgs)
			h.s.Now = func() time.Time { return tc.next.Add(30 * time.Second) }
			if err := h.s.OnTick(h.ctx(), &events.PubSubMessage{ID: "next", Data: []byte("{}"), PublishTime: tc.next}); err != nil {
				t.Fatal(err)
			}
			h.deliver(h.rec.On(TopicShards)[h.sent:])
			if got := h.insights(uid); len(got) != 1 || got[tc.want] == nil {
				t.Errorf("insights %v, want %s only", keys(got), tc.want)
			}
		})
	}
}
