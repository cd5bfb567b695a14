package insights

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// fanoutOne runs the fan-out at clock and returns its only shard message
// (with fresh snapshots of the users).
func (h *harness) fanoutOne() []byte {
	h.t.Helper()
	if _, err := h.s.Fanout(h.ctx(), clock); err != nil {
		h.t.Fatal(err)
	}
	msgs := h.rec.On(TopicShards)
	if len(msgs) != 1 {
		h.t.Fatalf("%d shards, want 1", len(msgs))
	}
	h.sent = len(msgs)
	return msgs[0].Data
}

// worker runs DeliverShard on a shard message at clock+after.
func (h *harness) worker(data []byte, after time.Duration) (Stats, error) {
	h.t.Helper()
	h.s.Now = func() time.Time { return clock.Add(after) }
	return h.s.DeliverShard(h.ctx(), &events.PubSubMessage{ID: "s", Data: data})
}

// delivered returns the paths (under users/) of the documents the pipeline
// writes for uid and date that exist.
func (h *harness) delivered(uid, date string) []string {
	h.t.Helper()
	u := h.c.Collection(model.ColUsers).Doc(uid)
	var out []string
	for _, ref := range []*firestore.DocumentRef{
		u.Collection(model.SubColInsights).Doc(date),
		u.Collection(model.SubColNotes).Doc(NotificationID(date)),
		u.Collection(model.SubColPrivate).Doc(StateDoc),
	} {
		s, err := ref.Get(h.ctx())
		if err == nil && s.Exists() {
			_, rel, _ := strings.Cut(ref.Path, "/documents/")
			out = append(out, rel)
		}
	}
	return out
}

// erase deletes users/{uid} and the documents the pipeline wrote under it,
// as the GDPR erasure does.
func (h *harness) erase(uid string) {
	h.t.Helper()
	u := h.c.Collection(model.ColUsers).Doc(uid)
	for _, col := range []string{model.SubColInsights, model.SubColNotes, model.SubColPrivate} {
		refs, err := u.Collection(col).DocumentRefs(h.ctx()).GetAll()
		if err != nil {
			h.t.Fatal(err)
		}
		for _, r := range refs {
			if _, err := r.Delete(h.ctx()); err != nil {
				h.t.Fatal(err)
			}
		}
	}
	if _, err := u.Delete(h.ctx()); err != nil {
		h.t.Fatal(err)
	}
}

// TestErasedAfterFanoutLeavesNoDocuments: a user erased (GDPR: users/{uid}
// and its subtree deleted) after the fan-out read them gets nothing
// written back under users/{uid}: the worker, writing from the fresh
// snapshot, deletes again what it wrote when the advance finds the user
// gone; a redelivered shard (fresh or old) repeats the clean-up instead of
// leaving documents behind.
func TestErasedAfterFanoutLeavesNoDocuments(t *testing.T) {
	cases := []struct {
		name string
		// orphans: documents a failed earlier clean-up left (written
		// before the worker runs).
		orphans bool
		// after: the worker's delay after the fan-out (an old message
		// reads the users again).
		after time.Duration
	}{
		{"worker with the fresh snapshot", false, 2 * time.Minute},
		{"fresh redelivery after a failed clean-up", true, 3 * time.Minute},
		{"old redelivery after a failed clean-up", true, MaxSnapshotAge + time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.put("gone", user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: "1990-05-15", chart: true, focus: model.FocusSleep})
			h.put("kept", user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: "1991-05-15"})
			data := h.fanoutOne()
			h.erase("gone")
			if c.orphans {
				u := h.c.Collection(model.ColUsers).Doc("gone")
				for _, ref := range []*firestore.DocumentRef{u.Collection(model.SubColInsights).Doc("2026-11-21"),
					u.Collection(model.SubColNotes).Doc(NotificationID("2026-11-21")), u.Collection(model.SubColPrivate).Doc(StateDoc)} {
					if _, err := ref.Set(h.ctx(), map[string]any{"userId": "gone"}); err != nil {
						t.Fatal(err)
					}
				}
			}
			st, err := h.worker(data, c.after)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.delivered("gone", "2026-11-21"); len(got) != 0 {
				t.Errorf("documents of the erased user left: %v", got)
			}
			if s, err := h.c.Doc("users/gone").Get(h.ctx()); err == nil || s.Exists() {
				t.Error("the erased user document was recreated")
			}
			if st.Retracted != 1 || st.Created != 1 || st.Failed != 0 || st.Users != 2 {
				t.Errorf("stats %+v, want 1 retracted and 1 created", st)
			}
			if got := h.delivered("kept", "2026-11-21"); len(got) != 3 {
				t.Errorf("the other user's delivery: %v", got)
			}
			// And once more: the clean-up is idempotent.
			if _, err := h.worker(data, c.after+time.Minute); err != nil {
				t.Fatal(err)
			}
			if got := h.delivered("gone", "2026-11-21"); len(got) != 0 {
				t.Errorf("documents after a second redelivery: %v", got)
			}
		})
	}
}

// TestRetractFailureIsRetryable: a clean-up that cannot delete returns a
// retryable error (for an erased user, the shard is then redelivered and
// the clean-up repeated; see settle).
func TestRetractFailureIsRetryable(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(h.ctx())
	cancel()
	errs := h.s.retract(ctx, []retraction{erasedRetraction("gone", "2026-11-21")})
	if len(errs) != 1 || errs[0] == nil || !fault.Retryable(errs[0]) {
		t.Errorf("retract with a dead context: %v, want one retryable error", errs)
	}
	if errs := h.s.retract(h.ctx(), nil); len(errs) != 0 {
		t.Errorf("nothing to retract: %v", errs)
	}
}

// TestChangeAfterFanout covers users who change between the fan-out's read
// and the worker's writes (the advance then fails its precondition): one
// who opts out loses the insight and the notification the worker just
// created; one who changes something else keeps them and stays due for
// the next tick; one whose insight was delivered before (by ops) keeps it.
func TestChangeAfterFanout(t *testing.T) {
	optOut := []firestore.Update{{Path: "insightsOptIn", Value: false}, {Path: "insightDueAt", Value: firestore.Delete}}
	cases := []struct {
		name      string
		change    []firestore.Update
		runBefore bool // RunDate delivered the date before the fan-out
		insights  int
		retracted int
		due       bool // insightDueAt stays at the tick
	}{
		{"opted out", optOut, false, 0, 1, false},
		{"opted out, removing the field", []firestore.Update{{Path: "insightsOptIn", Value: firestore.Delete}, {Path: "insightDueAt", Value: firestore.Delete}}, false, 0, 1, false},
		{"focus changed", []firestore.Update{{Path: "focusArea", Value: string(model.FocusSleep)}}, false, 1, 0, true},
		{"opted out after an earlier delivery", optOut, true, 1, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			due := atp("2026-11-21T06:00:00Z")
			h.put("u", user{zone: "Europe/Stockholm", optIn: true, due: due, birth: "1990-05-15", focus: model.FocusCreativity})
			if c.runBefore {
				if _, err := h.s.RunDate(h.ctx(), "2026-11-21", []string{"u"}); err != nil {
					t.Fatal(err)
				}
			}
			data := h.fanoutOne()
			if _, err := h.c.Doc("users/u").Update(h.ctx(), c.change); err != nil {
				t.Fatal(err)
			}
			st, err := h.worker(data, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(h.insights("u")); n != c.insights {
				t.Errorf("%d insights, want %d", n, c.insights)
			}
			_, err = h.c.Doc("users/u/notifications/" + NotificationID("2026-11-21")).Get(h.ctx())
			if hasNote := err == nil; hasNote != (c.insights == 1) {
				t.Errorf("notification present %v, want %v", hasNote, c.insights == 1)
			}
			if st.Retracted != c.retracted || st.Created+st.Existing+st.Retracted != 1 || st.Failed != 0 {
				t.Errorf("stats %+v, want %d retracted", st, c.retracted)
			}
			s, err := h.c.Doc("users/u").Get(h.ctx())
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.DataAt("insightDueAt")
			if stays := err == nil && v.(time.Time).Equal(*due); stays != c.due {
				t.Errorf("insightDueAt %v (%v), want it left at the tick: %v", v, err, c.due)
			}
		})
	}
}

// TestStateRecordsDeliveredTemplates: the no-repeat state records the
// templates actually delivered. Users who change focus between the fan-out
// and the worker get the insight of the snapshot (the old focus); the
// advance fails its precondition and the next tick generates the date
// again with the new focus: the insight stays (AlreadyExists) and the
// state must record its templates, not the new ones nobody received.
func TestStateRecordsDeliveredTemplates(t *testing.T) {
	h := newHarness(t)
	h.s.ShardSize = 10
	uids := []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"}
	for _, uid := range uids {
		h.put(uid, user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: "1990-05-15", focus: model.FocusStressRelief, minutes: 10})
	}
	// An earlier day in the state, which must be kept.
	earlier := StateDay("2026-11-20", []string{"day.7.1", "practice.stress.1"})
	for _, uid := range uids {
		if _, err := h.c.Doc("users/"+uid+"/private/"+StateDoc).Set(h.ctx(), State{Days: []string{earlier}, UpdatedAt: clock.Add(-24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	data := h.fanoutOne()
	for _, uid := range uids {
		if _, err := h.c.Doc("users/"+uid).Update(h.ctx(), []firestore.Update{{Path: "focusArea", Value: string(model.FocusSleep)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.worker(data, 0); err != nil {
		t.Fatal(err)
	}
	h.tick(clock.Add(time.Hour)) // finishes the users (AlreadyExists, advance)
	for _, uid := range uids {
		docs := h.insights(uid)
		if len(docs) != 1 {
			t.Fatalf("%s: %d insights", uid, len(docs))
		}
		var in model.DailyInsight
		if err := docs["2026-11-21"].DataTo(&in); err != nil {
			t.Fatal(err)
		}
		s, err := h.c.Doc("users/" + uid + "/private/" + StateDoc).Get(h.ctx())
		if err != nil {
			t.Fatal(err)
		}
		var st State
		if err := s.DataTo(&st); err != nil {
			t.Fatal(err)
		}
		if want := []string{StateDay(in.Date, in.TemplateIDs), earlier}; strings.Join(st.Days, "|") != strings.Join(want, "|") {
			t.Errorf("%s: state %q, want the delivered insight and the earlier day %q", uid, st.Days, want)
		}
		if in.FocusArea != model.FocusStressRelief {
			t.Errorf("%s: delivered for focus %q, not the snapshot's", uid, in.FocusArea)
		}
		if got := h.dueAt(uid); !got.Equal(utc("2026-11-22T06:00:00Z")) {
			t.Errorf("%s: due %s", uid, got)
		}
	}
}

// TestOldShardSnapshotNotOfTheShardIgnored: an old message's snapshots
// serve only the clean-up of erased users, so one that is not of the
// shard is ignored rather than rejected; a fresh message's must match.
func TestOldShardSnapshotNotOfTheShardIgnored(t *testing.T) {
	h := newHarness(t)
	h.put("a", user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z")})
	var m ShardMessage
	if err := json.Unmarshal(h.fanoutOne(), &m); err != nil {
		t.Fatal(err)
	}
	m.Users = append(m.Users, ShardUser{UID: "stranger", UpdateTime: clock})
	data, _ := json.Marshal(m)
	if _, err := h.worker(data, time.Minute); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("fresh message with a foreign snapshot: %v", err)
	}
	st, err := h.worker(data, MaxSnapshotAge+time.Minute)
	if err != nil || st.Created != 1 {
		t.Errorf("old message with a foreign snapshot: %+v %v", st, err)
	}
}

// TestOptOutCleanupNotRepeatedOnRedelivery: an opted-out user's clean-up
// is best-effort (service.go write, README "Erased or opted out
// meanwhile"). A redelivery cannot tell what an earlier attempt wrote and
// failed to delete from an insight delivered before the opt-out, which
// must stay, so it deletes only what it created itself and succeeds.
// Here the first attempt's clean-up deleted the insight and failed on the
// notification: the fresh redelivery recreates the insight and retracts
// it, and the notification stays.
func TestOptOutCleanupNotRepeatedOnRedelivery(t *testing.T) {
	h := newHarness(t)
	h.put("u", user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: "1990-05-15", focus: model.FocusCreativity})
	data := h.fanoutOne()
	// The first worker attempt's writes (same user, date and history:
	// the same documents the worker writes).
	if _, err := h.s.RunDate(h.ctx(), "2026-11-21", []string{"u"}); err != nil {
		t.Fatal(err)
	}
	// The user opts out; the first attempt's clean-up deleted the insight,
	// then failed on the notification.
	if _, err := h.c.Doc("users/u").Update(h.ctx(), []firestore.Update{{Path: "insightsOptIn", Value: false}, {Path: "insightDueAt", Value: firestore.Delete}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Doc("users/u/" + model.SubColInsights + "/2026-11-21").Delete(h.ctx()); err != nil {
		t.Fatal(err)
	}
	st, err := h.worker(data, 3*time.Minute)
	if err != nil {
		t.Fatalf("fresh redelivery: %v", err)
	}
	if st.Retracted != 1 || st.Created != 0 || st.Existing != 0 || st.Failed != 0 {
		t.Errorf("stats %+v, want the recreated insight retracted", st)
	}
	if n := len(h.insights("u")); n != 0 {
		t.Errorf("%d insights of the opted-out user left", n)
	}
	if _, err := h.c.Doc("users/u/" + model.SubColNotes + "/" + NotificationID("2026-11-21")).Get(h.ctx()); err != nil {
		t.Errorf("the earlier attempt's notification: %v; a redelivery deletes only what it created", err)
	}
}

// TestSettleOptOutCleanupFailureNotRetried: an opted-out user's failed
// clean-up is logged, not returned (a redelivery would not repeat it): the
// run's error stays nil and the user counts as delivered, not failed.
func TestSettleOptOutCleanupFailureNotRetried(t *testing.T) {
	rs := []retraction{{uid: "u", date: "2026-11-21", why: whyOptedOut, insight: true, note: true,
		delivered: &target{uid: "u", created: true, noted: true}}}
	st := Stats{Users: 1, Created: 1}
	var re runError
	settle(rs, []error{fault.Wrap(context.DeadlineExceeded, fault.Unavailable, "retract")}, &st, &re)
	if re.err != nil {
		t.Errorf("run error %v, want none", re.err)
	}
	if want := (Stats{Users: 1, Created: 1}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	settle(rs, []error{nil}, &st, &re)
	if want := (Stats{Users: 1, Retracted: 1}); st != want || re.err != nil {
		t.Errorf("after a successful clean-up: stats %+v, error %v; want %+v", st, re.err, want)
	}
}

// TestErasedCleanupFailureRetryableAfterPermanentError: an erased user's
// failed clean-up makes the run's error retryable even when an unrelated
// user of the shard failed permanently first (only the first error used
// to be kept, and a permanent one is not returned, so the shard was not
// redelivered and the erased user's documents stayed).
func TestErasedCleanupFailureRetryableAfterPermanentError(t *testing.T) {
	var re runError
	re.add(fault.Invalid("an unrelated user's permanent failure"))
	gone := erasedRetraction("gone", "2026-11-21")
	gone.delivered = &target{uid: "gone", created: true}
	rs := []retraction{gone, {uid: "out", date: "2026-11-21", why: whyOptedOut, insight: true, delivered: &target{uid: "out", created: true}}}
	st := Stats{Users: 3, Created: 2, Failed: 1}
	failed := fault.Wrap(context.DeadlineExceeded, fault.Unavailable, "retract")
	settle(rs, []error{failed, failed}, &st, &re)
	if !fault.Retryable(re.err) {
		t.Errorf("run error %v, want the erased user's retryable one", re.err)
	}
	if want := (Stats{Users: 3, Created: 1, Failed: 2}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	// A later permanent error does not hide it either.
	re.add(fault.Invalid("another permanent failure"))
	if !fault.Retryable(re.err) {
		t.Errorf("run error %v after a later permanent one", re.err)
	}
}
