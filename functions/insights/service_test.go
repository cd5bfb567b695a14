package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// harness is a Service on its own emulator database, publishing to a
// Recorder.
type harness struct {
	t   *testing.T
	s   *Service
	c   *firestore.Client
	rec *queue.Recorder
	// sent is how many recorded shard messages were already delivered.
	sent int
}

var clock = time.Date(2026, 11, 21, 6, 0, 30, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	rec := &queue.Recorder{}
	return &harness{t: t, c: c, rec: rec,
		s: &Service{Firestore: c, Publisher: rec, Now: func() time.Time { return clock }, ShardSize: 3, PageSize: 4}}
}

// user describes a test user.
type user struct {
	zone    string
	hour    *int
	optIn   bool
	due     *time.Time
	birth   string // YYYY-MM-DD
	chart   bool
	focus   model.FocusArea
	minutes int
	// profile holds profile.focusArea and profile.timeCommitment, the
	// profile function's effective values (the questionnaire's answers).
	profile *profileDoc
}

func hour(h int) *int                   { return &h }
func atp(s string) *time.Time           { t := utc(s); return &t }
func (h *harness) ctx() context.Context { return context.Background() }

func (h *harness) put(uid string, u user) {
	h.t.Helper()
	doc := map[string]any{"userId": uid, "createdAt": clock, "insightsOptIn": u.optIn}
	if u.zone != "" {
		doc["timeZone"] = u.zone
	}
	if u.hour != nil {
		doc["insightHour"] = *u.hour
	}
	if u.due != nil {
		doc["insightDueAt"] = *u.due
	}
	if u.birth != "" {
		doc["birthDate"] = u.birth
	}
	if u.chart {
		b := utc(u.birth + "T10:15:00Z")
		doc["chart"] = *testChart(h.t, b, 59.33, 18.07)
	}
	if u.focus != "" {
		doc["focusArea"] = string(u.focus)
	}
	if u.minutes != 0 {
		doc["timeCommitment"] = u.minutes
	}
	if p := u.profile; p != nil {
		doc["profile"] = map[string]any{"calculationVersion": "profile-6", "focusArea": string(p.FocusArea), "timeCommitment": p.TimeCommitment}
	}
	if _, err := h.c.Collection(model.ColUsers).Doc(uid).Set(h.ctx(), doc); err != nil {
		h.t.Fatal(err)
	}
}

// tick runs the fan-out at tick and delivers the new shard messages.
func (h *harness) tick(tick time.Time) (FanoutStats, Stats) {
	h.t.Helper()
	data, _ := json.Marshal(TickMessage{Tick: &tick})
	if err := h.s.OnTick(h.ctx(), &events.PubSubMessage{ID: "tick", Data: data}); err != nil {
		h.t.Fatalf("OnTick: %v", err)
	}
	var fst FanoutStats
	shards := h.rec.On(TopicShards)
	for _, m := range shards[h.sent:] {
		var sm ShardMessage
		if err := json.Unmarshal(m.Data, &sm); err != nil {
			h.t.Fatal(err)
		}
		fst.Shards++
		fst.Users += len(sm.UIDs)
	}
	st := h.deliver(shards[h.sent:])
	h.sent = len(shards)
	return fst, st
}

// deliver runs the worker on recorded shard messages.
func (h *harness) deliver(msgs []queue.Recorded) Stats {
	h.t.Helper()
	var total Stats
	for i, m := range msgs {
		var sm ShardMessage
		if err := json.Unmarshal(m.Data, &sm); err != nil {
			h.t.Fatal(err)
		}
		if err := h.s.OnShard(h.ctx(), &events.PubSubMessage{ID: fmt.Sprint("shard-", i), Data: m.Data, Attributes: m.Attrs}); err != nil {
			h.t.Fatalf("OnShard: %v", err)
		}
		st, err := h.s.RunShard(h.ctx(), sm.Tick, nil) // no users: stats of nothing
		if err != nil || st.Users != 0 {
			h.t.Fatalf("empty shard: %+v %v", st, err)
		}
		st, err = h.s.RunShard(h.ctx(), sm.Tick, sm.UIDs) // a duplicate of the message, right away
		if err != nil {
			h.t.Fatal(err)
		}
		if st.Created != 0 {
			h.t.Fatalf("a duplicated shard created %d insights", st.Created)
		}
		total.Add(st)
	}
	return total
}

// insights returns the user's insight documents by id.
func (h *harness) insights(uid string) map[string]*firestore.DocumentSnapshot {
	h.t.Helper()
	docs, err := h.c.Collection(model.ColUsers).Doc(uid).Collection(model.SubColInsights).Documents(h.ctx()).GetAll()
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]*firestore.DocumentSnapshot{}
	for _, d := range docs {
		out[d.Ref.ID] = d
	}
	return out
}

func (h *harness) dueAt(uid string) time.Time {
	h.t.Helper()
	s, err := h.c.Collection(model.ColUsers).Doc(uid).Get(h.ctx())
	if err != nil {
		h.t.Fatal(err)
	}
	v, err := s.DataAt("insightDueAt")
	if err != nil {
		h.t.Fatal(err)
	}
	return v.(time.Time)
}

// snapshot returns the update times of every document under the users.
func (h *harness) snapshot(uids ...string) map[string]time.Time {
	h.t.Helper()
	out := map[string]time.Time{}
	for _, uid := range uids {
		u := h.c.Collection(model.ColUsers).Doc(uid)
		refs := []*firestore.DocumentRef{u}
		for _, col := range []string{model.SubColInsights, model.SubColNotes, model.SubColPrivate} {
			docs, err := u.Collection(col).Documents(h.ctx()).GetAll()
			if err != nil {
				h.t.Fatal(err)
			}
			for _, d := range docs {
				refs = append(refs, d.Ref)
			}
		}
		snaps, err := h.c.GetAll(h.ctx(), refs)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, s := range snaps {
			_, rel, _ := strings.Cut(s.Ref.Path, "/documents/")
			out[rel] = s.UpdateTime
		}
	}
	return out
}

func TestTickDeliversEachDueUserOnce(t *testing.T) {
	h := newHarness(t)
	due := atp("2026-11-21T06:00:00Z")
	h.put("ada", user{zone: "Europe/Stockholm", hour: hour(7), optIn: true, due: due, birth: "1990-05-15", chart: true, focus: model.FocusStressRelief, minutes: 15})
	h.put("bo", user{zone: "Europe/Berlin", optIn: true, due: due, birth: "1985-11-02", focus: model.FocusCareerGrowth, minutes: 5})
	h.put("cy", user{zone: "Europe/Oslo", optIn: true, due: due, focus: model.FocusCreativity})
	h.put("di", user{hour: hour(6), optIn: true, due: due})
	for i := range 8 { // more due users: several pages and shards
		h.put(fmt.Sprintf("extra-%d", i), user{zone: "Europe/Paris", optIn: true, due: due, birth: "2000-01-0" + fmt.Sprint(i+1)})
	}
	h.put("notdue", user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-22T06:00:00Z"), birth: "1990-01-01"})
	h.put("optout", user{zone: "Europe/Stockholm", optIn: false, due: due})
	h.put("nodue", user{zone: "Europe/Stockholm", optIn: true})

	fst, st := h.tick(clock)
	if fst.Users != 12 || fst.Shards < 4 {
		t.Fatalf("fan-out %+v, want 12 users in ≥ 4 shards", fst)
	}
	want := map[string]string{"ada": KindChart, "bo": KindNumerology, "cy": KindGeneral, "di": KindGeneral}
	for uid, kind := range want {
		docs := h.insights(uid)
		d, ok := docs["2026-11-21"]
		if len(docs) != 1 || !ok {
			t.Fatalf("%s: insights %v", uid, docs)
		}
		var in model.DailyInsight
		if err := d.DataTo(&in); err != nil {
			t.Fatal(err)
		}
		if in.Kind != kind || in.UserID != uid || in.Date != "2026-11-21" || !in.CreatedAt.Equal(clock) || in.Headline == "" {
			t.Errorf("%s: %+v", uid, in)
		}
		note, err := h.c.Doc("users/" + uid + "/notifications/insight-2026-11-21").Get(h.ctx())
		if err != nil {
			t.Fatalf("%s: notification: %v", uid, err)
		}
		var n model.Notification
		if err := note.DataTo(&n); err != nil || n.Title != in.Headline || n.Kind != NotificationKind || n.ReadAt != nil {
			t.Errorf("%s: notification %+v %v", uid, n, err)
		}
		st, err := h.c.Doc("users/" + uid + "/private/insights").Get(h.ctx())
		if err != nil {
			t.Fatalf("%s: state: %v", uid, err)
		}
		var s State
		if err := st.DataTo(&s); err != nil || !slices.Equal(s.Days, []string{StateDay(in.Date, in.TemplateIDs)}) {
			t.Errorf("%s: state %+v %v", uid, s, err)
		}
	}
	if got := h.dueAt("ada"); !got.Equal(utc("2026-11-22T06:00:00Z")) {
		t.Errorf("ada next due %s", got)
	}
	if got := h.dueAt("di"); !got.Equal(utc("2026-11-22T06:00:00Z")) {
		t.Errorf("di next due %s", got)
	}
	if st.Created != 0 || st.Skipped != 12 {
		t.Errorf("duplicate shards: %+v", st)
	}
	for _, uid := range []string{"notdue", "optout", "nodue"} {
		if docs := h.insights(uid); len(docs) != 0 {
			t.Errorf("%s got an insight", uid)
		}
	}
	for i := range 8 {
		if docs := h.insights(fmt.Sprintf("extra-%d", i)); len(docs) != 1 {
			t.Errorf("extra-%d: %d insights", i, len(docs))
		}
	}
}

func TestReplaysChangeNothing(t *testing.T) {
	h := newHarness(t)
	due := atp("2026-11-21T06:00:00Z")
	uids := []string{"u1", "u2", "u3", "u4", "u5"}
	for i, uid := range uids {
		h.put(uid, user{zone: "Europe/Stockholm", optIn: true, due: due, birth: fmt.Sprintf("198%d-03-1%d", i, i), chart: i%2 == 0})
	}
	_, first := h.tick(clock)
	before := h.snapshot(uids...)
	if len(h.insights("u1")) != 1 {
		t.Fatal("no first delivery")
	}
	later := clock.Add(time.Minute) // replays come later (the shards' snapshots are still fresh)
	h.s.Now = func() time.Time { return later }

	// The same tick again (a redelivered tick message): nobody is due.
	fst, _ := h.tick(clock)
	if fst.Users != 0 {
		t.Errorf("replayed tick fanned out %+v", fst)
	}
	// Every shard message delivered again, late.
	st := h.deliver(h.rec.On(TopicShards))
	if st.Created != 0 || st.Existing != 0 {
		t.Errorf("redelivered shards: %+v", st)
	}
	// A crash between the insight and the advance: insightDueAt is back
	// at the tick; the rerun finds the insight there and only advances.
	if _, err := h.c.Doc("users/u1").Update(h.ctx(), []firestore.Update{{Path: "insightDueAt", Value: *due}}); err != nil {
		t.Fatal(err)
	}
	rerun, err := h.s.RunShard(h.ctx(), clock, uids)
	if err != nil {
		t.Fatal(err)
	}
	if rerun.Existing != 1 || rerun.Created != 0 || rerun.Skipped != 4 {
		t.Errorf("rerun: %+v (first %+v)", rerun, first)
	}
	after := h.snapshot(uids...)
	if len(after) != len(before) {
		t.Fatalf("documents %d → %d", len(before), len(after))
	}
	for path, ut := range before {
		if path == "users/u1" {
			continue // the rerun advanced u1
		}
		if !after[path].Equal(ut) {
			t.Errorf("%s changed", path)
		}
	}
	if got := h.dueAt("u1"); !got.Equal(utc("2026-11-22T06:00:00Z")) {
		t.Errorf("u1 due %s", got)
	}
}

func TestMissedHoursAreCaughtUp(t *testing.T) {
	h := newHarness(t)
	// Due at 07:00 Stockholm; the 06:00Z and 07:00Z ticks failed.
	h.put("late", user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: "1990-05-15"})
	// Due three days ago (ticks failed for days): only today's.
	h.put("days", user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-18T06:00:00Z")})
	h.tick(utc("2026-11-21T08:00:00Z"))
	for _, uid := range []string{"late", "days"} {
		docs := h.insights(uid)
		if _, ok := docs["2026-11-21"]; len(docs) != 1 || !ok {
			t.Errorf("%s: %v", uid, docs)
		}
		if got := h.dueAt(uid); !got.Equal(utc("2026-11-22T06:00:00Z")) {
			t.Errorf("%s due %s", uid, got)
		}
	}
}

func TestLocalDateAcrossZones(t *testing.T) {
	h := newHarness(t)
	// At 22:00 UTC it is 07:00 tomorrow in Tokyo and 14:00 today in Los
	// Angeles (whose 07:00 was 15:00 UTC, missed).
	h.put("tokyo", user{zone: "Asia/Tokyo", optIn: true, due: atp("2026-11-21T22:00:00Z"), birth: "1992-02-29"})
	h.put("la", user{zone: "America/Los_Angeles", optIn: true, due: atp("2026-11-21T15:00:00Z"), birth: "1992-02-29"})
	h.tick(utc("2026-11-21T22:00:00Z"))
	if _, ok := h.insights("tokyo")["2026-11-22"]; !ok {
		t.Errorf("tokyo: %v", h.insights("tokyo"))
	}
	if _, ok := h.insights("la")["2026-11-21"]; !ok {
		t.Errorf("la: %v", h.insights("la"))
	}
	if got := h.dueAt("tokyo"); !got.Equal(utc("2026-11-22T22:00:00Z")) {
		t.Errorf("tokyo due %s", got)
	}
	if got := h.dueAt("la"); !got.Equal(utc("2026-11-22T15:00:00Z")) {
		t.Errorf("la due %s", got)
	}
	var tk, la model.DailyInsight
	_ = h.insights("tokyo")["2026-11-22"].DataTo(&tk)
	_ = h.insights("la")["2026-11-21"].DataTo(&la)
	if tk.PersonalDay == la.PersonalDay {
		t.Errorf("same birth date, different local dates, same personal day %d", tk.PersonalDay)
	}
}

func TestNoTemplateRepeatedWithin14Days(t *testing.T) {
	h := newHarness(t)
	start := utc("2026-11-01T06:00:00Z")
	h.put("chart", user{zone: "Europe/Stockholm", optIn: true, due: &start, birth: "1990-05-15", chart: true, focus: model.FocusSleep, minutes: 5})
	h.put("num", user{zone: "Europe/Stockholm", optIn: true, due: &start, birth: "1977-07-07", focus: model.FocusMindfulness, minutes: 20})
	h.put("none", user{zone: "Europe/Stockholm", optIn: true, due: &start})
	const days = 17
	for d := range days {
		tick := start.AddDate(0, 0, d)
		h.s.Now = func() time.Time { return tick.Add(30 * time.Second) } // each tick handled on time
		h.tick(tick)
	}
	for _, uid := range []string{"chart", "num", "none"} {
		docs := h.insights(uid)
		if len(docs) != days {
			t.Fatalf("%s: %d insights in %d days", uid, len(docs), days)
		}
		seen := map[string]int{}
		for d := range days {
			id := start.AddDate(0, 0, d).Format(time.DateOnly)
			var in model.DailyInsight
			if err := docs[id].DataTo(&in); err != nil {
				t.Fatal(err)
			}
			for _, tid := range in.TemplateIDs {
				if prev, ok := seen[tid]; ok && d-prev < RecentDays {
					t.Errorf("%s: %s on day %d and %d", uid, tid, prev, d)
				}
				seen[tid] = d
			}
		}
		s, _ := h.c.Doc("users/" + uid + "/private/insights").Get(h.ctx())
		var st State
		if err := s.DataTo(&st); err != nil || len(st.Days) != RecentDays-1+1 {
			t.Errorf("%s: state keeps %d entries (%v)", uid, len(st.Days), err)
		}
	}
}

func TestRunDate(t *testing.T) {
	h := newHarness(t)
	due := atp("2026-11-22T06:00:00Z")
	h.put("a", user{zone: "Europe/Stockholm", optIn: true, due: due, birth: "1990-05-15"})
	h.put("b", user{zone: "Europe/Stockholm", optIn: false})
	st, err := h.s.RunDate(h.ctx(), "2026-11-22", []string{"a", "b", "ghost", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Users != 3 || st.Created != 2 || st.Skipped != 1 {
		t.Errorf("stats %+v", st)
	}
	if got := h.dueAt("a"); !got.Equal(*due) {
		t.Errorf("RunDate moved insightDueAt to %s", got)
	}
	st, _ = h.s.RunDate(h.ctx(), "2026-11-22", []string{"a"})
	if st.Existing != 1 {
		t.Errorf("second run %+v", st)
	}
	// The scheduled delivery of that date then finds it and only advances.
	_, run := h.tick(utc("2026-11-22T06:00:10Z"))
	if got := h.dueAt("a"); !got.Equal(utc("2026-11-23T06:00:00Z")) {
		t.Errorf("due %s after the scheduled run (%+v)", got, run)
	}
	if _, err := h.s.RunDate(h.ctx(), "2026-13-01", []string{"a"}); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("bad date: %v", err)
	}
}

func TestChartStoredAsJSONMap(t *testing.T) {
	h := newHarness(t)
	// A chart written as the JSON shape (instant as a string, numbers as
	// doubles) decodes as well as one written from the Go struct.
	c := testChart(t, utc("1990-05-15T12:30:00Z"), 59.33, 18.07)
	b, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	_, err := h.c.Doc("users/j").Set(h.ctx(), map[string]any{"insightsOptIn": true, "insightDueAt": clock.Add(-time.Minute),
		"birthDate": "1990-05-15", "timeZone": "Europe/Stockholm", "chart": m})
	if err != nil {
		t.Fatal(err)
	}
	// And a chart that is not a chart at all does not block the insight.
	_, err = h.c.Doc("users/k").Set(h.ctx(), map[string]any{"insightsOptIn": true, "insightDueAt": clock.Add(-time.Minute),
		"birthDate": "1990-05-15", "timeZone": "Europe/Stockholm", "chart": "oops"})
	if err != nil {
		t.Fatal(err)
	}
	h.tick(clock)
	var j, k model.DailyInsight
	_ = h.insights("j")["2026-11-21"].DataTo(&j)
	_ = h.insights("k")["2026-11-21"].DataTo(&k)
	if j.Kind != KindChart || k.Kind != KindNumerology {
		t.Errorf("kinds %q %q", j.Kind, k.Kind)
	}
}

type upper struct{ fail bool }

func (upper) Name() string { return "upper-test" }
func (u upper) Rewrite(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
	if u.fail {
		return Rewrite{}, errors.New("provider down")
	}
	return Rewrite{strings.ToUpper(in.Headline), strings.ToUpper(in.Content), strings.ToUpper(in.Intention),
		strings.ToUpper(in.Affirmation), strings.ToUpper(in.JournalPrompt)}, nil
}

func TestRewriter(t *testing.T) {
	for _, c := range []struct {
		name string
		r    Rewriter
		by   string
	}{{"rewrites", upper{}, "upper-test"}, {"falls back", upper{fail: true}, ""}, {"off", NoRewriter{}, ""}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.s.Rewriter = c.r
			h.put("r", user{hour: hour(6), optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: "1990-05-15"})
			h.consent("r", model.ConsentGranted) // rewriting needs ai_analysis (TestRewriteNeedsAIConsent)
			h.tick(clock)
			var in model.DailyInsight
			_ = h.insights("r")["2026-11-21"].DataTo(&in)
			if in.RewrittenBy != c.by || (c.by != "") != (in.Headline == strings.ToUpper(in.Headline)) {
				t.Errorf("%+v", in)
			}
		})
	}
}

func TestOnShardRejectsMalformed(t *testing.T) {
	h := newHarness(t)
	many := make([]string, MaxShardSize+1)
	for i := range many {
		many[i] = fmt.Sprint("u", i)
	}
	for name, body := range map[string]any{
		"not json":   "{",
		"no tick":    map[string]any{"uids": []string{"a"}},
		"no uids":    ShardMessage{Tick: clock},
		"too many":   ShardMessage{Tick: clock, UIDs: many},
		"bad uid":    ShardMessage{Tick: clock, UIDs: []string{"a/b"}},
		"extra keys": map[string]any{"tick": clock, "uids": []string{"a"}, "x": 1},
	} {
		data, _ := json.Marshal(body)
		if s, ok := body.(string); ok {
			data = []byte(s)
		}
		err := h.s.OnShard(h.ctx(), &events.PubSubMessage{ID: "m", Data: data})
		if fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := h.s.OnTick(h.ctx(), &events.PubSubMessage{ID: "t", Data: []byte(`{"tick":"yesterday"}`)}); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("bad tick: %v", err)
	}
}

func TestShardKeyDeterministic(t *testing.T) {
	a := ShardKey(clock, []string{"a", "b"})
	if a != ShardKey(clock.In(time.FixedZone("x", 3600)), []string{"a", "b"}) || a == ShardKey(clock, []string{"ab"}) || a == ShardKey(clock.Add(time.Second), []string{"a", "b"}) {
		t.Error("shard keys")
	}
}

// TestPubSubPath runs the whole pipeline through the Pub/Sub emulator: the
// tick is published and pulled, the fan-out publishes real shard messages,
// the worker handles them as pulled.
func TestPubSubPath(t *testing.T) {
	testenv.PubSub(t)
	fs := testenv.FirestoreEmulator(t)
	project := fs.NewProject(t)
	c := fs.Client(t, project)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pc, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, topic := range []string{TopicTick, TopicShards} {
		if err := queue.EnsureTopic(ctx, pc, topic); err != nil {
			t.Fatal(err)
		}
		if _, err := pc.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
			Name: "projects/" + project + "/subscriptions/" + topic + "-pull", Topic: queue.TopicName(project, topic), AckDeadlineSeconds: 60}); err != nil {
			t.Fatal(err)
		}
	}
	pub := &queue.PubSub{Client: pc}
	defer pub.Stop()
	s := &Service{Firestore: c, Publisher: pub, Now: func() time.Time { return time.Now().UTC() }, ShardSize: 2}
	due := time.Now().UTC().Add(-time.Minute)
	h := &harness{t: t, c: c}
	for i := range 5 {
		h.put(fmt.Sprint("ps-", i), user{zone: "Europe/Stockholm", optIn: true, due: &due, birth: "1990-05-15"})
	}
	if _, err := pub.Publish(ctx, TopicTick, []byte("{}"), map[string]string{"source": "test"}); err != nil {
		t.Fatal(err)
	}
	pull := func(topic string, n int, handle func(*events.PubSubMessage) error) {
		t.Helper()
		rctx, stop := context.WithCancel(ctx)
		defer stop()
		var mu sync.Mutex
		got := 0
		err := pc.Subscriber(topic+"-pull").Receive(rctx, func(_ context.Context, m *pubsub.Message) {
			msg := &events.PubSubMessage{ID: m.ID, Data: m.Data, Attributes: m.Attributes, PublishTime: m.PublishTime.UTC()}
			if err := handle(msg); err != nil {
				t.Errorf("%s: %v", topic, err)
				m.Nack()
				return
			}
			m.Ack()
			mu.Lock()
			if got++; got == n {
				stop()
			}
			mu.Unlock()
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if got < n {
			t.Fatalf("%s: %d of %d messages", topic, got, n)
		}
	}
	pull(TopicTick, 1, func(m *events.PubSubMessage) error {
		if m.PublishTime.IsZero() {
			return errors.New("tick without publish time")
		}
		return s.OnTick(ctx, m)
	})
	pull(TopicShards, 3, func(m *events.PubSubMessage) error {
		if m.Attributes["shard"] == "" {
			return errors.New("shard without key")
		}
		return s.OnShard(ctx, m)
	})
	for i := range 5 {
		if n := len(h.insights(fmt.Sprint("ps-", i))); n != 1 {
			t.Errorf("ps-%d: %d insights", i, n)
		}
	}
}

// TestShardSnapshots covers the users the fan-out forwards: used while
// fresh (a change made after the fan-out read is not seen, and the advance
// then waits for the next tick), read again when the message is old.
func TestShardSnapshots(t *testing.T) {
	h := newHarness(t)
	due := atp("2026-11-21T06:00:00Z")
	h.put("fresh", user{zone: "Europe/Stockholm", optIn: true, due: due, birth: "1990-05-15"})
	h.put("stale", user{zone: "Europe/Stockholm", optIn: true, due: due, birth: "1990-05-15"})
	if _, err := h.s.Fanout(h.ctx(), clock); err != nil {
		t.Fatal(err)
	}
	msgs := h.rec.On(TopicShards)
	var m ShardMessage
	if err := json.Unmarshal(msgs[0].Data, &m); err != nil || len(m.Users) != 2 || m.Users[0].InsightDueAt == nil || m.ReadAt.IsZero() {
		t.Fatalf("shard %+v %v", m, err)
	}
	// Both users change after the fan-out read them: "fresh" changes its
	// focus, "stale" opts out.
	for uid, v := range map[string]any{"fresh": "sleep", "stale": false} {
		path := map[string]string{"fresh": "focusArea", "stale": "insightsOptIn"}[uid]
		if _, err := h.c.Doc("users/"+uid).Update(h.ctx(), []firestore.Update{{Path: path, Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	one := func(uid string, readAt time.Time) error {
		mm := m
		mm.UIDs, mm.Users, mm.ReadAt = []string{uid}, nil, readAt
		for _, u := range m.Users {
			if u.UID == uid {
				mm.Users = append(mm.Users, u)
			}
		}
		data, _ := json.Marshal(mm)
		return h.s.OnShard(h.ctx(), &events.PubSubMessage{ID: uid, Data: data})
	}
	// Fresh: the snapshot is used; the insight is written, the advance
	// fails its precondition, so the user stays due.
	if err := one("fresh", clock); err != nil {
		t.Fatal(err)
	}
	if len(h.insights("fresh")) != 1 || !h.dueAt("fresh").Equal(*due) {
		t.Errorf("fresh: %d insights, due %s", len(h.insights("fresh")), h.dueAt("fresh"))
	}
	// Old message: the users are read again; "stale" opted out: nothing.
	if err := one("stale", clock.Add(-MaxSnapshotAge-time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(h.insights("stale")) != 0 {
		t.Error("an opted-out user got an insight from an old snapshot")
	}
	// The next tick finishes "fresh": the insight exists, due advances.
	h.sent = len(h.rec.On(TopicShards))
	_, st := h.tick(clock.Add(time.Hour))
	if !h.dueAt("fresh").Equal(utc("2026-11-22T06:00:00Z")) || len(h.insights("fresh")) != 1 {
		t.Errorf("fresh after the next tick: due %s (%+v)", h.dueAt("fresh"), st)
	}
	// A snapshot of a user outside the shard is malformed.
	bad := m
	bad.UIDs = []string{"fresh"}
	data, _ := json.Marshal(bad)
	if err := h.s.OnShard(h.ctx(), &events.PubSubMessage{ID: "bad", Data: data}); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("foreign snapshot: %v", err)
	}
}

// TestSnapshotGeneratesAsTheDocument checks that the fan-out's projection
// carries everything generation uses: for users with a chart (Ascendant
// included), a birth date only, or nothing, the insight generated from the
// shard's snapshot equals the one generated from the user document read
// again (an old message), and the snapshot holds the chart's longitudes
// and the Sun's sign only.
func TestSnapshotGeneratesAsTheDocument(t *testing.T) {
	users := map[string]user{
		"chart":   {zone: "Europe/Stockholm", optIn: true, birth: "1990-05-15", chart: true, focus: model.FocusSleep, minutes: 10},
		"date":    {zone: "America/New_York", optIn: true, birth: "1984-02-29"},
		"nothing": {zone: "Asia/Tokyo", optIn: true},
		"questionnaire": {zone: "Europe/London", optIn: true, birth: "1975-09-01",
			profile: &profileDoc{FocusArea: model.FocusCreativity, TimeCommitment: 20}},
	}
	due := atp("2026-11-20T12:00:00Z")
	generated := func(readAt func(ShardMessage) time.Time) (map[string]model.DailyInsight, ShardMessage) {
		t.Helper()
		h := newHarness(t)
		h.s.ShardSize = len(users)
		for uid, u := range users {
			u.due = due
			h.put(uid, u)
		}
		if _, err := h.s.Fanout(h.ctx(), clock); err != nil {
			t.Fatal(err)
		}
		var m ShardMessage
		if err := json.Unmarshal(h.rec.On(TopicShards)[0].Data, &m); err != nil || len(m.Users) != len(users) {
			t.Fatalf("shard %+v %v", m, err)
		}
		m.ReadAt = readAt(m)
		data, _ := json.Marshal(m)
		if err := h.s.OnShard(h.ctx(), &events.PubSubMessage{ID: "s", Data: data}); err != nil {
			t.Fatal(err)
		}
		out := map[string]model.DailyInsight{}
		for uid := range users {
			docs := h.insights(uid)
			if len(docs) != 1 {
				t.Fatalf("%s: %d insights", uid, len(docs))
			}
			var in model.DailyInsight
			for _, d := range docs {
				if err := d.DataTo(&in); err != nil {
					t.Fatalf("%s: %v", uid, err)
				}
			}
			in.CreatedAt = time.Time{}
			out[uid] = in
		}
		return out, m
	}
	fromSnapshot, m := generated(func(m ShardMessage) time.Time { return m.ReadAt })
	fromDocument, _ := generated(func(ShardMessage) time.Time { return clock.Add(-MaxSnapshotAge - time.Minute) })
	for uid := range users {
		if !reflect.DeepEqual(fromSnapshot[uid], fromDocument[uid]) {
			t.Errorf("%s: from the snapshot\n%+v\nfrom the document\n%+v", uid, fromSnapshot[uid], fromDocument[uid])
		}
	}
	if in := fromSnapshot["chart"]; in.Kind != KindChart || len(in.Transits) == 0 {
		t.Errorf("chart user: kind %q, %d transits", in.Kind, len(in.Transits))
	}
	for _, u := range m.Users {
		if u.UID != "chart" {
			continue
		}
		c := u.Chart
		if c == nil || c.Bodies.Sun.Sign == "" || c.Bodies.Sun.Longitude == 0 || c.Bodies.Moon.Longitude == 0 ||
			c.Ascendant == nil || c.Ascendant.Longitude == 0 || c.CalculationVersion == "" || !c.BirthTimeKnown {
			t.Errorf("chart snapshot %+v", c)
		}
		b, _ := json.Marshal(u)
		for _, field := range []string{"degree", "house", "speed", "retrograde", "houses", "aspects", "mercury"} {
			if strings.Contains(string(b), `"`+field+`"`) {
				t.Errorf("snapshot carries %q: %s", field, b)
			}
		}
	}
}
