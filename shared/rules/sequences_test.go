package rules

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// The tests here play sequences of writes, each against the state the
// previous one left, for defects that no single request from the seeded
// state shows (the matrix restores every document around each case).

// step is one write of a sequence and whether the rules allow it.
type step struct {
	what  string
	as    actor
	req   request
	allow bool
}

// play sends the steps in order, each on the documents as the previous
// steps left them.
func (w *world) play(t *testing.T, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := w.commit(t, s.as, s.req) == http.StatusOK
		if got != s.allow {
			t.Errorf("step %d (%s): %s as %s allowed = %v, want %v", i+1, s.what, s.req, s.as, got, s.allow)
		}
	}
}

// TestCoachesCannotDeleteProgramsToDropTheirTerms: a program's coaches
// cannot delete it, so they cannot re-create it under the same id without
// the admin-set coachSplits and commissionBps, nor leave its unpaid sales
// without a program (the payouts job reads the program when it first
// allocates a payment). Deleting is an admin operation.
func TestCoachesCannotDeleteProgramsToDropTheirTerms(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := "programs/prog-shared"
	splits := doc{"carol": 2000, "dave": 8000}
	shared := with(w.seeds["programs/prog-carol"], "programId", "prog-shared",
		"createdBy", []any{"carol", "dave"}, "coachSplits", splits, "commissionBps", 3500)
	if _, err := w.c.Doc(path).Set(ctx, shared); err != nil {
		t.Fatal(err)
	}
	w.play(t, []step{
		{"co-owner changes the split", coach, update(path, patch("coachSplits", doc{"carol": 10000, "dave": 0})), deny},
		{"co-owner drops the commission", coach, update(path, patch("commissionBps", deleteField)), deny},
		{"co-owner deletes", coach, del(path), deny},
		{"other co-owner deletes", stranger, del(path), deny},
		{"sole owner deletes", coach, del("programs/prog-carol"), deny},
	})
	snap, err := w.c.Doc(path).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p model.Program
	if err := snap.DataTo(&p); err != nil {
		t.Fatal(err)
	}
	if len(p.CreatedBy) != 2 || p.CoachSplits["carol"] != 2000 || p.CoachSplits["dave"] != 8000 ||
		p.CommissionBps == nil || *p.CommissionBps != 3500 {
		t.Errorf("the program's terms changed: createdBy %v, coachSplits %v, commissionBps %v",
			p.CreatedBy, p.CoachSplits, p.CommissionBps)
	}
	w.play(t, []step{{"admin deletes", admin, del(path), allow}})
}

// TestConsentAppendNotDatedBeforeLastEntry: a consent entry appended after
// another is never dated before it, so a revocation sent from a device
// whose clock is behind the one that granted cannot end up looking older
// than the grant. The client retries with the last entry's agreedAt, and
// the server then sees the consent revoked.
func TestConsentAppendNotDatedBeforeLastEntry(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := "consents/bob"
	now := time.Now().UTC().Truncate(time.Millisecond)
	entry := func(status string, at time.Time) doc {
		return doc{"type": "ai_analysis", "version": "v1", "agreedAt": at, "status": status}
	}
	grant := entry("granted", now.Add(4*time.Minute)) // a phone 4 min fast
	history := func(e ...doc) doc {
		l := []any{seedConsent()}
		for _, x := range e {
			l = append(l, x)
		}
		return patch("consentsGiven", l)
	}
	w.play(t, []step{
		{"grant from a fast clock", other, update(path, history(grant)), allow},
		{"revoke from a slow clock", other, update(path, history(grant, entry("revoked", now.Add(-3*time.Minute)))), deny},
		{"revoke dated a millisecond before the grant", other,
			update(path, history(grant, entry("revoked", grant["agreedAt"].(time.Time).Add(-time.Millisecond)))), deny},
		{"revoke dated as the grant", other, update(path, history(grant, entry("revoked", grant["agreedAt"].(time.Time)))), allow},
	})
	snap, err := w.c.Doc(path).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var c model.Consents
	if err := snap.DataTo(&c); err != nil {
		t.Fatal(err)
	}
	if len(c.ConsentsGiven) != 3 || c.Granted(model.ConsentAIAnalysis) {
		t.Errorf("after grant and revocation, ai_analysis granted = %v: %+v", c.Granted(model.ConsentAIAnalysis), c.ConsentsGiven)
	}

	// A last entry without a timestamp (no client could write one) does
	// not block a revocation.
	undated := doc{"type": "ai_analysis", "version": "v1", "status": "granted"}
	if _, err := w.c.Doc(path).Set(ctx, doc{"userId": "bob", "consentsGiven": []any{undated}}); err != nil {
		t.Fatal(err)
	}
	w.play(t, []step{{"revoke after an undated entry", other,
		update(path, patch("consentsGiven", []any{undated, entry("revoked", now)})), allow}})
}

// TestCoachWithdrawsOnlyUntouchedAssignments: the assigning coach may
// delete an assignment still "assigned" only while it holds nothing its
// owner wrote; the owner writes into an assignment without changing its
// status, and the coach's delete would destroy that.
func TestCoachWithdrawsOnlyUntouchedAssignments(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := "user_activations/ua-assigned"
	for _, tt := range []struct {
		name    string
		written doc // what alice writes first, status unchanged; nil: nothing
		allow   bool
	}{
		{"untouched", nil, allow},
		{"explicitly not shared", patch("shareWithCoach", false), allow},
		{"reflection text", patch("log", doc{"text": "What I felt today."}), deny},
		{"mood only", patch("log", doc{"moodBefore": "stressed"}), deny},
		{"audio reflection", patch("log", doc{"audioUrl": "gs://bucket/a.m4a"}), deny},
		{"private note", patch("log", doc{"privateNote": "for me"}), deny},
		{"rating", patch("log", doc{"rating": 4}), deny},
		{"feedback for the coach", patch("feedbackForCoach", "Too long for me."), deny},
		{"shared with the coach", patch("shareWithCoach", true), deny},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w.restore(t, path)
			defer w.restore(t, path)
			steps := []step{}
			if tt.written != nil {
				steps = append(steps, step{"alice writes", owner, update(path, tt.written), allow})
			}
			steps = append(steps, step{"carol withdraws", coach, del(path), tt.allow})
			w.play(t, steps)
			snap, err := w.c.Doc(path).Get(ctx)
			if err != nil && tt.allow {
				return // deleted, as allowed
			}
			if err != nil || !snap.Exists() {
				t.Fatalf("entry gone after a denied delete: %v", err)
			}
			if snap.Data()["status"] != "assigned" {
				t.Errorf("status = %v, want assigned (the owner's write must not change it)", snap.Data()["status"])
			}
		})
	}
}

// TestReflectionAuthorStaysListedAfterLeaving: a participant who appended
// a reflection and then left, or whom the host removed, stays in the
// session's reflectionUserIds, the field by which the GDPR export and
// erasure find the reflection (participants no longer names them). No
// one but the server can take them out of it.
func TestReflectionAuthorStaysListedAfterLeaving(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := "live_sessions/ls-carol"
	mine := reflection("alice", "I found this hard.")
	for _, tt := range []struct {
		name string
		gone step // how alice stops taking part
	}{
		{"alice leaves", step{"alice leaves", owner, update(path, patch("participants", []any{})), allow}},
		{"the host removes alice", step{"carol removes alice", coach, update(path, patch("participants", []any{})), allow}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w.restore(t, path)
			defer w.restore(t, path)
			w.play(t, []step{
				{"alice reflects without listing herself", owner, update(path, patch("reflections", []any{mine})), deny},
				{"alice reflects", owner, update(path, reflects([]any{mine}, "alice")), allow},
				tt.gone,
				{"alice takes her uid out", owner, update(path, patch("reflectionUserIds", []any{})), deny},
				{"carol takes alice's uid out", coach, update(path, patch("reflectionUserIds", []any{})), deny},
				{"carol deletes the session", coach, del(path), deny},
			})
			snap, err := w.c.Doc(path).Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var ls model.LiveSession
			if err := snap.DataTo(&ls); err != nil {
				t.Fatal(err)
			}
			if len(ls.Participants) != 0 || len(ls.Reflections) != 1 || len(ls.ReflectionUserIDs) != 1 || ls.ReflectionUserIDs[0] != "alice" {
				t.Errorf("after alice reflected and stopped taking part: participants %v, reflections %d, reflectionUserIds %v",
					ls.Participants, len(ls.Reflections), ls.ReflectionUserIDs)
			}
		})
	}
}
