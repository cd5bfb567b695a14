package rules

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/consents"
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

// consentsOf reads the consents document at path back as the server
// would.
func (w *world) consentsOf(t *testing.T, path string) model.Consents {
	t.Helper()
	snap, err := w.c.Doc(path).Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var c model.Consents
	if err := snap.DataTo(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConsentAppendAllowedWhateverItsDate: an appended consent entry is
// allowed whatever its agreedAt says relative to the entries before it
// (within ±5 minutes of request.time), and the server follows list order:
// a revocation sent from a device whose clock is behind the one that
// granted, or stamped with the last entry's agreedAt cut to milliseconds
// (a web client: Firestore keeps microseconds), is the current choice.
// Withdrawing a consent must be as easy as giving it (GDPR Art. 7(3)).
func TestConsentAppendAllowedWhateverItsDate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := "consents/bob"
	now := time.Now().UTC().Truncate(time.Millisecond)
	entry := func(status string, at time.Time) doc {
		return doc{"type": "ai_analysis", "version": "v1", "agreedAt": at, "status": status}
	}
	grant := entry("granted", now.Add(4*time.Minute)) // a phone 4 min fast
	revokeSlow := entry("revoked", now.Add(-3*time.Minute))
	regrant := entry("granted", now)
	revokeMs := entry("revoked", now.Add(-time.Millisecond))
	history := func(e ...doc) doc {
		l := []any{seedConsent()}
		for _, x := range e {
			l = append(l, x)
		}
		return patch("consentsGiven", l)
	}
	for _, tt := range []struct {
		step    step
		granted bool // ai_analysis, by list order, after the step
	}{
		{step{"grant from a fast clock", other, update(path, history(grant)), allow}, true},
		{step{"revoke from a slow clock (dated 7 min before the grant)", other,
			update(path, history(grant, revokeSlow)), allow}, false},
		{step{"grant again", other, update(path, history(grant, revokeSlow, regrant)), allow}, true},
		{step{"revoke dated a millisecond before the grant", other,
			update(path, history(grant, revokeSlow, regrant, revokeMs)), allow}, false},
	} {
		w.play(t, []step{tt.step})
		c := w.consentsOf(t, path)
		if got := c.Granted(model.ConsentAIAnalysis); got != tt.granted {
			t.Errorf("after %q: ai_analysis granted = %v, want %v (list order): %+v", tt.step.what, got, tt.granted, c.ConsentsGiven)
		}
		if cur := consents.Current(c.ConsentsGiven)[string(model.ConsentAIAnalysis)]; (cur.Status == model.ConsentGranted) != tt.granted {
			t.Errorf("after %q: consents.Current ai_analysis = %+v, want granted = %v", tt.step.what, cur, tt.granted)
		}
	}

	// A last entry written with microseconds (an iOS or Go client, a
	// device 3 min fast) and a revocation stamped with it read back at
	// millisecond precision (a JS Date, Timestamp.toMillis()/fromMillis).
	if _, err := w.c.Doc(path).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	last := now.Add(3*time.Minute + 456*time.Microsecond)
	micro := entry("granted", last)
	if _, err := w.c.Doc(path).Set(ctx, doc{"userId": "bob", "consentsGiven": []any{micro}}); err != nil {
		t.Fatal(err)
	}
	w.play(t, []step{{"revoke stamped with the last entry's agreedAt in milliseconds", other,
		update(path, patch("consentsGiven", []any{micro, entry("revoked", last.Truncate(time.Millisecond))})), allow}})
	if c := w.consentsOf(t, path); c.Granted(model.ConsentAIAnalysis) {
		t.Errorf("after the millisecond-stamped revocation ai_analysis is granted: %+v", c.ConsentsGiven)
	}

	// A last entry without a timestamp (no client could write one) does
	// not block a revocation either.
	undated := doc{"type": "ai_analysis", "version": "v1", "status": "granted"}
	if _, err := w.c.Doc(path).Set(ctx, doc{"userId": "bob", "consentsGiven": []any{undated}}); err != nil {
		t.Fatal(err)
	}
	w.play(t, []step{{"revoke after an undated entry", other,
		update(path, patch("consentsGiven", []any{undated, entry("revoked", now)})), allow}})

	// What stays denied: an entry outside request.time ± 5 min, and a
	// rewrite of the history.
	w.play(t, []step{
		{"append dated 10 min ago", other, update(path, patch("consentsGiven",
			[]any{undated, entry("revoked", now), entry("granted", time.Now().Add(-10*time.Minute))})), deny},
		{"rewrite the last entry", other, update(path, patch("consentsGiven",
			[]any{undated, entry("granted", now), entry("revoked", now)})), deny},
	})
}

// TestConsentCreateAcrossTypesInTickOrder: a client that creates its
// consents document at onboarding with one entry per type in a fixed type
// order, each dated when the user ticked it (the spec: "agreedAt: when
// this specific consent was given"), is allowed when the user ticked a
// later type first; a create holding a grant and a revocation of one type
// is allowed whatever their dates, and the later in the list is current.
func TestConsentCreateAcrossTypesInTickOrder(t *testing.T) {
	w := newWorld(t)
	path := "consents/alice"
	now := time.Now().UTC()
	for _, tt := range []struct {
		what    string
		entries []any
		granted map[model.ConsentType]bool
	}{
		{"onboarding create, entries in type order, privacy ticked 20 s before the terms", []any{
			doc{"type": "terms_of_service", "version": "v1", "agreedAt": now, "status": "granted"},
			doc{"type": "privacy_policy", "version": "v1", "agreedAt": now.Add(-20 * time.Second), "status": "granted"},
		}, map[model.ConsentType]bool{model.ConsentTermsOfService: true, model.ConsentPrivacyPolicy: true}},
		{"grant then revocation dated 2 min before it", []any{
			doc{"type": "ai_analysis", "version": "v1", "agreedAt": now, "status": "granted"},
			doc{"type": "ai_analysis", "version": "v1", "agreedAt": now.Add(-2 * time.Minute), "status": "revoked"},
		}, map[model.ConsentType]bool{model.ConsentAIAnalysis: false}},
		{"revocation then grant dated 2 min before it", []any{
			doc{"type": "sensitive_data", "version": "v1", "agreedAt": now, "status": "revoked"},
			doc{"type": "sensitive_data", "version": "v1", "agreedAt": now.Add(-2 * time.Minute), "status": "granted"},
		}, map[model.ConsentType]bool{model.ConsentSensitiveData: true}},
	} {
		t.Run(tt.what, func(t *testing.T) {
			if _, err := w.c.Doc(path).Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer w.restore(t, path)
			w.play(t, []step{{tt.what, owner, create(path, doc{"userId": "alice", "consentsGiven": tt.entries}), allow}})
			c := w.consentsOf(t, path)
			cur := consents.Current(c.ConsentsGiven)
			for typ, want := range tt.granted {
				if got := c.Granted(typ); got != want {
					t.Errorf("%s granted = %v, want %v (list order)", typ, got, want)
				}
				if got := cur[string(typ)].Status == model.ConsentGranted; got != want {
					t.Errorf("consents.Current %s = %+v, want granted = %v", typ, cur[string(typ)], want)
				}
			}
		})
	}
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
