package gdpr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// TestReview12ObjectOfStorageHosts: the rules accept any https link in a
// journal's audioUrl/videoUrl, and Cloud Storage serves an object also at
// its XML API's virtual-hosted URL (https://BUCKET.storage.googleapis.com/
// NAME) and at the console's authenticated URL
// (https://storage.cloud.google.com/BUCKET/NAME). objectOf must read both,
// with the bucket from the host name (so that mediaObjects' bucket filter
// still applies), and host names compare case-insensitively.
func TestReview12ObjectOfStorageHosts(t *testing.T) {
	tests := []struct {
		in, bucket, name string
		ok               bool
	}{
		{"https://b1.storage.googleapis.com/media/u1/a%20b.m4a", "b1", "media/u1/a b.m4a", true},
		{"https://proj.appspot.com.storage.googleapis.com/users/u1/a.m4a", "proj.appspot.com", "users/u1/a.m4a", true},
		{"https://B1.Storage.GoogleAPIs.com/users/u1/a.m4a?x-goog-signature=s", "b1", "users/u1/a.m4a", true},
		{"https://storage.cloud.google.com/b1/journal/u1/v.mp4", "b1", "journal/u1/v.mp4", true},
		{"https://STORAGE.googleapis.com:443/b1/users/u1/a.m4a", "b1", "users/u1/a.m4a", true},
		{"https://b1.storage.googleapis.com/", "", "", false},
		{"https://storage.cloud.google.com/b1", "", "", false},
		{"https://evilstorage.googleapis.com/b1/users/u1/a.m4a", "", "", false},
		{"https://b1.storage.googleapis.com.evil.example/users/u1/a.m4a", "", "", false},
	}
	for _, tt := range tests {
		b, n, ok := objectOf(tt.in)
		if b != tt.bucket || n != tt.name || ok != tt.ok {
			t.Errorf("objectOf(%q) = %q, %q, %v; want %q, %q, %v", tt.in, b, n, ok, tt.bucket, tt.name, tt.ok)
		}
	}
}

// TestReview12StorageURLMediaExportedAndErased: journal media referenced by
// a virtual-hosted or a console URL of our bucket are in the export and
// deleted by the erasure (they are under media/, which no prefix of the
// subject covers); the same object name behind a virtual-hosted URL of
// another bucket is neither exported nor deleted.
func TestReview12StorageURLMediaExportedAndErased(t *testing.T) {
	e := newEnv(t, true)
	u := uid("r12vh")
	now := e.clock.Now()
	str := func(s string) *string { return &s }
	vh := "media/" + u + "/vh.m4a"
	console := "media/" + u + "/console.mp4"
	elsewhere := "media/" + u + "/elsewhere.m4a" // in our bucket, but the link names another
	e.set("users/"+u, model.User{UserID: u, CreatedAt: now})
	e.set("user_activations/"+u+"_vh", model.UserActivation{UserActivationID: u + "_vh", UserID: u, ActivationID: "a1",
		Status: model.StatusCompleted, Log: &model.JournalLog{
			AudioURL: str("https://" + testBucket + ".storage.googleapis.com/" + vh),
			VideoURL: str("https://storage.cloud.google.com/" + testBucket + "/" + console)}})
	e.set("user_activations/"+u+"_other", model.UserActivation{UserActivationID: u + "_other", UserID: u, ActivationID: "a1",
		Status: model.StatusCompleted, Log: &model.JournalLog{
			AudioURL: str("https://other-bucket.storage.googleapis.com/" + elsewhere)}})
	for _, o := range []string{vh, console, elsewhere} {
		e.put(o, "content of "+o)
	}
	e.createAccount(u)

	files := e.archive(u)
	for _, o := range []string{vh, console} {
		if string(files["media/"+o]) != "content of "+o {
			t.Errorf("export lacks media/%s", o)
		}
	}
	if _, ok := files["media/"+elsewhere]; ok {
		t.Errorf("export holds media/%s, named by a link to another bucket", elsewhere)
	}

	if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if r := e.request(e.s.ErasureID(u)); r.Status != StatusDone {
		t.Fatalf("erasure %s: %s", r.Status, r.Error)
	}
	left := map[string]bool{}
	for _, o := range e.objects() {
		left[o] = true
	}
	for _, o := range []string{vh, console} {
		if left[o] {
			t.Errorf("%s survived the erasure", o)
		}
	}
	if !left[elsewhere] {
		t.Errorf("%s deleted, though its link names another bucket", elsewhere)
	}
}

// TestReview12ExportFindsSubcollectionsOfMissingParents: the documents
// the functions write below users/{uid} and coach_profiles/{uid} (all
// one level deep: private state, notifications, the Connect state) are in
// the export also when the parent document does not exist — ListCollectionIds
// and the descendant queries do not need the parent. (Evidence for the
// recorded concern "the export misses subcollections under deleted parent
// documents": it holds for none of them.)
func TestReview12ExportFindsSubcollectionsOfMissingParents(t *testing.T) {
	e := newEnv(t, false)
	u := uid("r12sub")
	e.set("users/"+u+"/private/insights", map[string]any{"lastRun": "2026-11-20"})
	e.set("users/"+u+"/notifications/n1", model.Notification{UserID: u, Kind: "k", Title: "t"})
	e.set(model.CoachConnectPath(u), map[string]any{"coachId": u, "stripeAccountId": "acct_" + u})
	files := e.archive(u)
	for file, path := range map[string]string{
		"data/users/private.json":       "users/" + u + "/private/insights",
		"data/users/notifications.json": "users/" + u + "/notifications/n1",
		"data/coach_profiles.json":      model.CoachConnectPath(u),
	} {
		var docs []ExportDoc
		if err := json.Unmarshal(files[file], &docs); err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if len(docs) != 1 || docs[0].Path != path {
			t.Errorf("%s = %+v, want %s", file, docs, path)
		}
	}
}

// markerAuth is the Auth admin of the erasure with a check run when it
// revokes the subject's refresh tokens.
type markerAuth struct {
	AuthAdmin
	revoked func(uid string)
}

func (a *markerAuth) RevokeRefreshTokens(ctx context.Context, uid string) error {
	a.revoked(uid)
	return a.AuthAdmin.RevokeRefreshTokens(ctx, uid)
}

// TestReview12ErasureMarksTheAccountForTheRules: Firebase ID tokens stay
// valid up to an hour after the account's refresh tokens are revoked and
// it is disabled or deleted, and security rules cannot check revocation.
// An erasure is done within seconds, so a client holding a token could go
// on writing journal entries, consents or a profile under the erased uid
// for most of an hour, and nothing would ever find them again. The
// erasure must mark the account for firestore.rules (which refuse every
// client write by a marked uid) before it revokes the tokens: the marker
// gdpr_requests/erasing_<lowercase hex SHA-256 of the uid>, the only
// form the rules can compute from request.auth.uid. It must outlive every
// token minted before the revocation (legalHoldUntil at least an hour
// after it), hold nothing that names the subject, and go with the
// retention job after that.
func TestReview12ErasureMarksTheAccountForTheRules(t *testing.T) {
	e := newEnv(t, true)
	u := uid("r12tok")
	sum := sha256.Sum256([]byte(u))
	marker := e.fs.Collection(model.ColGDPRRequests).Doc("erasing_" + hex.EncodeToString(sum[:]))
	e.set("users/"+u, model.User{UserID: u, CreatedAt: e.clock.Now()})
	e.createAccount(u)
	var revokedAt time.Time
	markedFirst := false
	e.s.Auth = &markerAuth{AuthAdmin: e.s.Auth, revoked: func(got string) {
		if got != u || !revokedAt.IsZero() {
			return
		}
		revokedAt = e.clock.Now()
		_, err := marker.Get(e.ctx)
		markedFirst = err == nil
	}}
	if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if r := e.request(e.s.ErasureID(u)); r.Status != StatusDone {
		t.Fatalf("erasure %s: %s", r.Status, r.Error)
	}
	if revokedAt.IsZero() {
		t.Fatal("the erasure never revoked the refresh tokens")
	}
	if !markedFirst {
		t.Error("no erasure marker when the refresh tokens were revoked")
	}
	snap, err := marker.Get(e.ctx)
	if err != nil {
		t.Fatalf("erasure marker %s after the erasure: %v", marker.ID, err)
	}
	b, _ := json.Marshal(jsonMap(snap.Data()))
	if strings.Contains(string(b), u) {
		t.Errorf("the marker names the subject: %s", b)
	}
	until, _ := snap.DataAt("legalHoldUntil")
	if ts, ok := until.(time.Time); !ok || ts.Before(revokedAt.Add(time.Hour)) {
		t.Errorf("marker legalHoldUntil %v: tokens minted before %v are valid an hour longer", until, revokedAt)
	}
	// Kept while a token may be valid, deleted by the retention job after.
	e.clock.Add(time.Hour)
	if _, err := e.s.Retain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := marker.Get(e.ctx); err != nil {
		t.Errorf("marker gone an hour after the revocation: %v", err)
	}
	e.clock.Add(time.Hour)
	if _, err := e.s.Retain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := marker.Get(e.ctx); err == nil {
		t.Error("marker kept after its legalHoldUntil")
	}
	if r := e.request(e.s.ErasureID(u)); r.Status != StatusDone {
		t.Errorf("the erasure record went with the marker: %+v", r)
	}
}
