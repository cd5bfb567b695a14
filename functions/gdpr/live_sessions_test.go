package gdpr

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/model"
)

// liveWrite is one client write to a live session, shaped as the rules
// require (firestore.rules, match /live_sessions/{id}).
type liveWrite func(t *testing.T, e *env, ref *firestore.DocumentRef)

// createLive is the host's create: no participants, no reflections,
// reflectionUserIds absent (read as []).
func createLive(host string, participants ...string) liveWrite {
	return func(t *testing.T, e *env, ref *firestore.DocumentRef) {
		t.Helper()
		now := e.clock.Now()
		if _, err := ref.Set(e.ctx, model.LiveSession{LiveSessionID: ref.ID, Title: "Group", CoachID: host,
			Participants: append([]string{}, participants...), StartTime: now, EndTime: now.Add(time.Hour),
			Status: model.LiveCompleted, Reflections: []model.SessionReflection{}}); err != nil {
			t.Fatalf("create %s: %v", ref.Path, err)
		}
	}
}

// reflect is a participant's append of one reflection: the reflection and
// their uid in reflectionUserIds, in one write (arrayUnion of both).
func reflect(uid, text string) liveWrite {
	return func(t *testing.T, e *env, ref *firestore.DocumentRef) {
		t.Helper()
		r := model.SessionReflection{UserID: uid, Text: text, SubmittedAt: e.clock.Now()}
		e.update(ref, firestore.Update{Path: "reflections", Value: firestore.ArrayUnion(r)},
			firestore.Update{Path: "reflectionUserIds", Value: firestore.ArrayUnion(uid)})
	}
}

// leave is a participant leaving: only participants changes.
func leave(uid string) liveWrite {
	return func(t *testing.T, e *env, ref *firestore.DocumentRef) {
		t.Helper()
		e.update(ref, firestore.Update{Path: "participants", Value: firestore.ArrayRemove(uid)})
	}
}

// hostSetsParticipants is the host replacing the participant list.
func hostSetsParticipants(uids ...string) liveWrite {
	return func(t *testing.T, e *env, ref *firestore.DocumentRef) {
		t.Helper()
		e.update(ref, firestore.Update{Path: "participants", Value: append([]string{}, uids...)})
	}
}

// update applies ups to ref or fails the test.
func (e *env) update(ref *firestore.DocumentRef, ups ...firestore.Update) {
	e.t.Helper()
	if _, err := ref.Update(e.ctx, ups); err != nil {
		e.t.Fatalf("update %s: %v", ref.Path, err)
	}
}

// liveSession reads a live session.
func (e *env) liveSession(ref *firestore.DocumentRef) model.LiveSession {
	e.t.Helper()
	snap, err := ref.Get(e.ctx)
	if err != nil {
		e.t.Fatalf("read %s: %v", ref.Path, err)
	}
	var ls model.LiveSession
	if err := snap.DataTo(&ls); err != nil {
		e.t.Fatal(err)
	}
	return ls
}

// TestLiveSessionReflectionOfFormerParticipant is the regression test of
// a reflection whose author no longer takes part: the rules let a
// participant append a reflection and then leave, and the host remove a
// participant; the reflection (uid and free text) stays in the session.
// It must be in the author's export (Art. 15) and go with their erasure
// (Art. 17), while the other participant's reflection stays. Before
// live_sessions.reflectionUserIds the finders looked only at participants
// and missed it.
func TestLiveSessionReflectionOfFormerParticipant(t *testing.T) {
	const mine, theirs = "my divorce is crushing me", "their own words"
	tests := []struct {
		name   string
		writes func(u, o, host string) []liveWrite
	}{
		{"left after reflecting", func(u, o, host string) []liveWrite {
			return []liveWrite{createLive(host, u, o), reflect(u, mine), reflect(o, theirs), leave(u)}
		}},
		{"removed by the host", func(u, o, host string) []liveWrite {
			return []liveWrite{createLive(host, u, o), reflect(o, theirs), reflect(u, mine), hostSetsParticipants(o)}
		}},
		{"left, reflected twice", func(u, o, host string) []liveWrite {
			return []liveWrite{createLive(host, u, o), reflect(u, mine), reflect(o, theirs), reflect(u, mine+" again"), leave(u)}
		}},
		{"still taking part", func(u, o, host string) []liveWrite {
			return []liveWrite{createLive(host, u, o), reflect(u, mine), reflect(o, theirs)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true)
			u, o, host := uid("lsubj"), uid("lother"), uid("lhost")
			e.set("users/"+u, model.User{UserID: u, CreatedAt: e.clock.Now()})
			e.createAccount(u)
			ref := e.fs.Collection(model.ColLiveSessions).Doc("ls-1")
			for _, w := range tt.writes(u, o, host) {
				w(t, e, ref)
			}

			// Export: the subject's own reflections, nothing of the other's.
			x, _, err := e.s.CreateExport(e.ctx, u, u, SourceUser)
			if err != nil {
				t.Fatal(err)
			}
			e.deliver()
			files := e.readZip(e.request(x.RequestID).ExportPath)
			want := ownTexts(e.liveSession(ref), u)
			if got := exportedTexts(t, files, relPath(ref)); !slices.Equal(got, want) {
				t.Errorf("export holds the subject's reflections %q, want %q", got, want)
			}
			for name, b := range files {
				if s := string(b); strings.Contains(s, theirs) || strings.Contains(s, o) || strings.Contains(s, host) {
					t.Errorf("%s holds another person's data", name)
				}
			}

			// Erasure: the subject leaves no trace; the other's data stays.
			if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
				t.Fatal(err)
			}
			e.deliver()
			r := e.request(e.s.ErasureID(u))
			if r.Status != StatusDone {
				t.Fatalf("erasure %s: %s", r.Status, r.Error)
			}
			if n := r.Proof["live_sessions.reflectionUserIds"]; n != 0 {
				t.Errorf("proof: %d sessions still list the subject", n)
			}
			if left := mentions(e.dump(), nil, u); len(left) > 0 {
				t.Errorf("after erasure the uid is still in %v", left)
			}
			ls := e.liveSession(ref)
			if len(ls.Reflections) != 1 || ls.Reflections[0].UserID != o || ls.Reflections[0].Text != theirs {
				t.Errorf("reflections after erasure: %+v", ls.Reflections)
			}
			if len(ls.ReflectionUserIDs) != 1 || ls.ReflectionUserIDs[0] != o || len(ls.Participants) != 1 || ls.Participants[0] != o {
				t.Errorf("after erasure reflectionUserIds %v, participants %v", ls.ReflectionUserIDs, ls.Participants)
			}
		})
	}
}

// ownTexts returns the sorted texts of uid's reflections in ls.
func ownTexts(ls model.LiveSession, uid string) []string {
	var out []string
	for _, r := range ls.Reflections {
		if r.UserID == uid {
			out = append(out, r.Text)
		}
	}
	slices.Sort(out)
	return out
}

// exportedTexts returns the sorted, distinct texts of the subject's
// reflections (myReflections) that the archive's data files hold for the
// document at path.
func exportedTexts(t *testing.T, files map[string][]byte, path string) []string {
	t.Helper()
	var out []string
	for name, b := range files {
		if !strings.HasPrefix(name, "data/") {
			continue
		}
		var docs []ExportDoc
		if err := json.Unmarshal(b, &docs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, d := range docs {
			if d.Path != path {
				continue
			}
			list, _ := d.Data["myReflections"].([]any)
			for _, r := range list {
				m, _ := r.(map[string]any)
				if s, _ := m["text"].(string); !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestRemoveReflectorLosesRaceThenRetries: the reflectionUserIds rule's
// write is guarded, so a write to the session between the erasure's read
// and its write (another participant's reflection, or the subject's own
// after the host added them back) makes it fail instead of dropping the
// uid from reflectionUserIds while a reflection of the subject stays; the
// next read erases everything of the subject and keeps the other's.
func TestRemoveReflectorLosesRaceThenRetries(t *testing.T) {
	tests := []struct {
		name  string
		race  func(u, o string) []liveWrite
		other int // the other participant's reflections left
	}{
		{"another participant reflects", func(u, o string) []liveWrite { return []liveWrite{reflect(o, "theirs, later")} }, 2},
		{"the subject is added back and reflects", func(u, o string) []liveWrite {
			return []liveWrite{hostSetsParticipants(o, u), reflect(u, "mine, later")}
		}, 1},
	}
	p, _ := PolicyFor(model.ColLiveSessions)
	rule, ok := ruleByID("live_sessions.reflectionUserIds")
	if !ok || !rule.Guard {
		t.Fatalf("rule live_sessions.reflectionUserIds missing or unguarded: %+v", rule)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			u, o, host := uid("rsubj"), uid("rother"), uid("rhost")
			ref := e.fs.Collection(model.ColLiveSessions).Doc("ls-1")
			for _, w := range []liveWrite{createLive(host, u, o), reflect(u, "mine"), reflect(o, "theirs"), leave(u)} {
				w(t, e, ref)
			}
			stale, err := ref.Get(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.race(u, o) {
				w(t, e, ref)
			}
			r := &run{s: e.s, uid: u, ps: Pseudonym(testKey, u), progress: map[string]int64{}, started: time.Now()}
			sent := false
			_, acted, again, err := r.applyDocs(e.ctx, rule, func() (*firestore.DocumentSnapshot, error) {
				if sent {
					return nil, iterator.Done
				}
				sent = true
				return stale, nil
			})
			if err != nil || acted != 0 || !again {
				t.Fatalf("write on a stale read: acted %d, again %v, %v", acted, again, err)
			}
			if ls := e.liveSession(ref); !slices.Contains(ls.ReflectionUserIDs, u) {
				t.Fatalf("a failed write changed the session: %+v", ls)
			}
			// The step reads again (twice: the second finds nothing).
			for range 2 {
				if err := r.eraseRule(e.ctx, p, rule); err != nil {
					t.Fatal(err)
				}
			}
			ls := e.liveSession(ref)
			for _, rf := range ls.Reflections {
				if rf.UserID == u {
					t.Errorf("the subject's reflection %q stays", rf.Text)
				}
			}
			if len(ls.Reflections) != tt.other || slices.Contains(ls.ReflectionUserIDs, u) || slices.Contains(ls.Participants, u) ||
				!slices.Contains(ls.ReflectionUserIDs, o) || !slices.Contains(ls.Participants, o) {
				t.Errorf("after erasure %+v", ls)
			}
		})
	}
}

// TestBackfillReflectionUserIDs: a session written before
// reflectionUserIds existed, whose author reflected and left, is found by
// no finder until the backfill lists the authors; then export and erasure
// reach the reflection. A second backfill changes nothing.
func TestBackfillReflectionUserIDs(t *testing.T) {
	const mine = "my divorce is crushing me"
	e := newEnv(t, true)
	u, o, host := uid("bsubj"), uid("bother"), uid("bhost")
	now := e.clock.Now()
	e.set("users/"+u, model.User{UserID: u, CreatedAt: now})
	e.createAccount(u)
	ref := e.fs.Collection(model.ColLiveSessions).Doc("ls-legacy")
	// As a client wrote it under the old rules: no reflectionUserIds.
	e.set("live_sessions/"+ref.ID, map[string]any{"liveSessionId": ref.ID, "title": "Group", "coachId": host, "participants": []string{o},
		"startTime": now, "endTime": now.Add(time.Hour), "status": string(model.LiveCompleted),
		"reflections": []map[string]any{{"userId": u, "text": mine, "submittedAt": now},
			{"userId": o, "text": "theirs", "submittedAt": now}, {"userId": u, "text": "more", "submittedAt": now}}})
	e.set("live_sessions/ls-current", model.LiveSession{LiveSessionID: "ls-current", Title: "G", CoachID: host,
		Participants: []string{o}, StartTime: now, EndTime: now.Add(time.Hour), Status: model.LiveLive,
		Reflections:       []model.SessionReflection{{UserID: o, Text: "x", SubmittedAt: now}},
		ReflectionUserIDs: []string{o}})

	for i, want := range []int{1, 0} {
		if n, err := e.s.BackfillReflectionUserIDs(e.ctx); err != nil || n != want {
			t.Fatalf("backfill %d: %d sessions changed, %v; want %d", i+1, n, err, want)
		}
	}
	if ids := e.liveSession(ref).ReflectionUserIDs; len(ids) != 2 || ids[0] != u || ids[1] != o {
		t.Fatalf("reflectionUserIds after the backfill: %v", ids)
	}

	x, _, err := e.s.CreateExport(e.ctx, u, u, SourceUser)
	if err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if got := exportedTexts(t, e.readZip(e.request(x.RequestID).ExportPath), relPath(ref)); !slices.Equal(got, []string{"more", mine}) {
		t.Errorf("export holds %q", got)
	}
	if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if r := e.request(e.s.ErasureID(u)); r.Status != StatusDone {
		t.Fatalf("erasure %s: %s", r.Status, r.Error)
	}
	if left := mentions(e.dump(), nil, u); len(left) > 0 {
		t.Errorf("after erasure the uid is still in %v", left)
	}
}

// TestEraseRuleReadsAgainWhenEveryWriteLostItsRace: every write of a page
// of a guarded rule lost its race (another participant reflected between
// the erasure's read and its write, twice). The rule reads again within
// the same step, as a lost race promises, and erases the subject's
// reflection. Regression: a page on which nothing was written ended the
// rule, leaving the work to the verification pass (one of three).
func TestEraseRuleReadsAgainWhenEveryWriteLostItsRace(t *testing.T) {
	e := newEnv(t, false)
	u, o, host := uid("lsubj"), uid("lother"), uid("lhost")
	ref := e.fs.Collection(model.ColLiveSessions).Doc("ls-1")
	for _, w := range []liveWrite{createLive(host, u, o), reflect(u, "mine"), reflect(o, "theirs"), leave(u)} {
		w(t, e, ref)
	}
	p, _ := PolicyFor(model.ColLiveSessions)
	rule, ok := ruleByID("live_sessions.reflectionUserIds")
	if !ok || !rule.Guard {
		t.Fatalf("rule live_sessions.reflectionUserIds missing or unguarded: %+v", rule)
	}
	races := 0
	e.s.afterWrite = func(int64) { // the write is queued, not yet sent
		if races < 2 {
			races++
			reflect(o, fmt.Sprintf("theirs, later %d", races))(t, e, ref)
		}
	}
	defer func() { e.s.afterWrite = nil }()
	// lastBeat now: the rule's heartbeat (a lease this bare run has not)
	// is not due.
	r := &run{s: e.s, uid: u, ps: Pseudonym(testKey, u), progress: map[string]int64{}, started: time.Now(), lastBeat: time.Now()}
	if err := r.eraseRule(e.ctx, p, rule); err != nil {
		t.Fatal(err)
	}
	ls := e.liveSession(ref)
	if races != 2 || slices.Contains(ls.ReflectionUserIDs, u) || len(ls.Reflections) != 3 {
		t.Errorf("after %d lost races and one run of the rule: %+v", races, ls)
	}
}
