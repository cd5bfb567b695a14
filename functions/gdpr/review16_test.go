package gdpr

import (
	"testing"
	"time"
)

// TestReview16ExportsAreNotRepeatedAtWill: requestDataExport refused a
// second export only while one was open. A signed-in user could call it
// again as soon as each export finished: every run reads the whole record
// and copies every journal media object of the user into a new archive,
// kept in Storage for ExportTTL (7 days), so a loop of calls multiplied
// the user's media in the bucket and the reads without bound (GDPR Art.
// 12(5) lets the controller refuse manifestly excessive, repetitive
// requests). A user who asks again within ExportInterval of a finished,
// unexpired export now gets that export back (created false); an admin
// acting for the user, and the user after the interval, get a new one.
func TestReview16ExportsAreNotRepeatedAtWill(t *testing.T) {
	e := newEnv(t, false)
	f := e.seed(1)
	first, err := e.s.RequestDataExport(e.ctx, call(f.subject, false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := e.deliver(); n != 1 {
		t.Fatalf("%d messages", n)
	}
	id := first.(RequestView).RequestID
	if r := e.request(id); r.Status != StatusDone {
		t.Fatalf("first export %s: %s", r.Status, r.Error)
	}
	e.clock.Add(time.Hour)
	again, err := e.s.RequestDataExport(e.ctx, call(f.subject, false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := again.(RequestView); v.Created || v.RequestID != id || v.Status != StatusDone {
		t.Fatalf("a second export an hour after the first: %+v; want the first one back (created false)", v)
	}
	if n := e.deliver(); n != 0 {
		t.Fatalf("%d messages after the repeated request", n)
	}
	// An admin acting for the user gets a new one.
	admin, err := e.s.RequestDataExport(e.ctx, call("admin-1", true, `{"uid":"`+f.subject+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := admin.(RequestView); !v.Created || v.RequestID == id {
		t.Fatalf("admin's export: %+v", v)
	}
	if n := e.deliver(); n != 1 {
		t.Fatalf("%d messages", n)
	}
	// A day after the last one (ExportInterval), the user gets a new one.
	e.clock.Add(25 * time.Hour)
	later, err := e.s.RequestDataExport(e.ctx, call(f.subject, false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := later.(RequestView); !v.Created || v.RequestID == id {
		t.Fatalf("a day later: %+v", v)
	}
}
