package insights

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"

	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestReview6NotificationMatchesInsightWithoutRewriter: without a
// Rewriter (the default) the notification is created beside the insight,
// from this attempt's generation. When one of the two writes fails and the
// user changes before the retry (here: adds a birth date, so the general
// lead becomes a personal-day lead), the retry generates other texts: the
// notification left by the first attempt, or the one the retry creates
// beside the insight left by the first attempt, then says something the
// stored insight does not.
func TestReview6NotificationMatchesInsightWithoutRewriter(t *testing.T) {
	const uid = "a"
	base := "/documents/" + model.ColUsers + "/" + uid + "/"
	for _, tt := range []struct {
		name string
		fail string // the document whose first write times out
	}{
		{"insight write failed, notification written", base + model.SubColInsights + "/2026-11-21"},
		{"notification write failed, insight written", base + model.SubColNotes + "/" + NotificationID("2026-11-21")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := testenv.FirestoreEmulator(t)
			var armed atomic.Bool
			armed.Store(true)
			c := faultyClient(t, fs.NewProject(t), func(w *firestorepb.Write) bool {
				return strings.HasSuffix(w.GetUpdate().GetName(), tt.fail) && armed.CompareAndSwap(true, false)
			})
			rec := &queue.Recorder{}
			h := &harness{t: t, c: c, rec: rec, s: &Service{Firestore: c, Publisher: rec, Now: func() time.Time { return clock },
				ShardSize: 10}}
			h.put(uid, user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z")})
			data := h.fanoutOne()
			if st, err := h.worker(data, time.Minute); !fault.Retryable(err) || st.Failed != 1 {
				t.Fatalf("first delivery: %+v %v, want one user failed and a retryable error", st, err)
			}
			// Before the retry, the user enters their birth date.
			if _, err := h.c.Doc("users/"+uid).Update(h.ctx(), []firestore.Update{{Path: "birthDate", Value: "1990-05-15"}}); err != nil {
				t.Fatal(err)
			}
			h.tick(clock.Add(time.Hour)) // the next tick finishes the user
			in, note := h.insight(uid)
			if !h.dueAt(uid).After(clock.Add(time.Hour)) {
				t.Fatalf("not delivered: due %s", h.dueAt(uid))
			}
			if note.Title != in.Headline || note.Body != in.Intention {
				t.Errorf("notification %q / %q, stored insight (%s) %q / %q", note.Title, note.Body, in.Kind, in.Headline, in.Intention)
			}
		})
	}
}

// TestReview6EarlierHourSkipsToday: a user whose delivery of today is
// still pending (insightDueAt 09:00 local) and who moves their hour to
// 08:00 at 08:30 gets no insight for today: the profile function
// (InsightDue) sets insightDueAt to the next 08:00, tomorrow's. The same
// happens for a zone change that moves today's hour into the past.
func TestReview6EarlierHourSkipsToday(t *testing.T) {
	h := newHarness(t)
	const uid = "early"
	h.put(uid, user{zone: "Europe/Stockholm", hour: hour(9), optIn: true, due: atp("2026-11-21T08:00:00Z"), birth: "1990-05-15"})
	// 08:30 local: the user picks 08:00; the profile function recomputes.
	now := utc("2026-11-21T07:30:00Z")
	h.s.Now = func() time.Time { return now }
	u := &model.User{InsightsOptIn: true, InsightHour: hour(8), TimeZone: "Europe/Stockholm", InsightDueAt: atp("2026-11-21T08:00:00Z")}
	due := profile.InsightDue(u, now)
	if _, err := h.c.Doc("users/"+uid).Update(h.ctx(), []firestore.Update{{Path: "insightHour", Value: 8},
		{Path: "insightDueAt", Value: *due}}); err != nil {
		t.Fatal(err)
	}
	for tick := utc("2026-11-21T08:00:00Z"); !tick.After(utc("2026-11-22T07:00:00Z")); tick = tick.Add(time.Hour) {
		h.s.Now = func() time.Time { return tick.Add(30 * time.Second) }
		h.tick(tick)
	}
	got := h.insights(uid)
	if _, ok := got["2026-11-21"]; !ok {
		ids := make([]string, 0, len(got))
		for id := range got {
			ids = append(ids, id)
		}
		t.Errorf("no insight for 2026-11-21 (insights %v; insightDueAt set to %s by the profile function)", ids, due.Format(time.RFC3339))
	}
	if _, ok := got["2026-11-22"]; !ok {
		t.Errorf("no insight for 2026-11-22")
	}
}
