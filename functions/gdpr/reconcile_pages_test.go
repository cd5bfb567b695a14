package gdpr

import (
	"fmt"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/model"
)

// TestReconcileCoversManyPagesARun: the sweep checked one page of 300
// users an hour, so a million users took 139 days to pass, and a user who
// deleted their account with the client SDK (which names no uid to the
// Auth backstop) could wait months for the erasure GDPR wants within one.
// A sweep now goes on page after page (ReconcilePages), saving its cursor
// after each; here 1 000 users (one without an account, on the fourth
// page) are all checked in one sweep, and the next sweep starts over.
func TestReconcileCoversManyPagesARun(t *testing.T) {
	e := newEnv(t, true)
	prefix := uid("rp")
	const n = 1000
	var accounts []*auth.UserToImport
	var ids []string
	bw := e.fs.BulkWriter(e.ctx)
	gone := fmt.Sprintf("%s-%04d", prefix, 950)
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		if _, err := bw.Set(e.fs.Collection(model.ColUsers).Doc(id), model.User{UserID: id}); err != nil {
			t.Fatal(err)
		}
		if id != gone {
			accounts = append(accounts, (&auth.UserToImport{}).UID(id))
			ids = append(ids, id)
		}
	}
	bw.End()
	if res, err := e.auth.Client.ImportUsers(e.ctx, accounts); err != nil || res.FailureCount > 0 {
		t.Fatalf("import accounts: %+v, %v", res, err)
	}
	t.Cleanup(func() { _, _ = e.auth.Client.DeleteUsers(e.ctx, ids) })
	e.clock.Add(2 * time.Hour) // past the new accounts' hour of grace

	rr, err := e.s.Reconcile(e.ctx)
	if err != nil || rr.Held {
		t.Fatalf("reconcile %+v, %v", rr, err)
	}
	if rr.Checked != n || rr.Missing != 1 || rr.Started != 1 || rr.Pages != 4 || rr.Cursor != "" {
		t.Errorf("reconcile %+v, want 1000 checked in 4 pages, the one without an account erased, the cursor back at the start", rr)
	}
	if r := e.request(e.s.ErasureID(gone)); r.Source != SourceReconcile {
		t.Errorf("request %+v", r)
	}
	if rr, err := e.s.Reconcile(e.ctx); err != nil || rr.Checked != n || rr.Started != 0 {
		t.Errorf("next sweep %+v, %v: want all checked again from the start, no second request", rr, err)
	}
}
