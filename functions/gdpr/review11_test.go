package gdpr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// TestReview11ExportResumesAtFinish: an export run that stops after its
// archive is uploaded and its checkpoint names "finish" — the run budget
// used (yield: checkpoint saved, continuation published, as after 7
// minutes) or a crash (nothing written, the lease expires, the message is
// redelivered) — must end done with the archive on the next run, not
// fail; and no archive may be left in Storage without an expiry.
func TestReview11ExportResumesAtFinish(t *testing.T) {
	for _, how := range []string{"yield", "crash"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, false)
			u := uid("r11")
			e.set("users/"+u, model.User{UserID: u, DisplayName: "R", CreatedAt: e.clock.Now()})
			e.put("users/"+u+"/avatar.png", "png")
			r, _, err := e.s.CreateExport(e.ctx, u, u, SourceUser)
			if err != nil {
				t.Fatal(err)
			}
			e.pub.Messages = nil
			stopped := false
			e.s.OnProgress = func(req *model.GDPRRequest) {
				if stopped || req.Checkpoint["step"] != "finish" {
					return
				}
				stopped = true
				if how == "yield" {
					e.s.runBudget = time.Nanosecond // the 7 minutes are used up
				} else {
					panic(errCrash)
				}
			}
			func() {
				defer func() {
					if p := recover(); p != nil && p != errCrash {
						panic(p)
					}
				}()
				out, err := e.s.Run(e.ctx, r.RequestID, "first")
				t.Logf("first run: %s, %v", out, err)
			}()
			if !stopped {
				t.Fatal("the run never reached the finish checkpoint")
			}
			e.s.OnProgress, e.s.runBudget = nil, 0
			if how == "crash" {
				e.clock.Add(LeaseTTL + time.Second) // the crashed run's lease expires
			} else if n := len(e.pub.On(TopicRequests)); n != 1 {
				t.Fatalf("%d continuation messages", n)
			}
			// The continuation (or the redelivered message), and Pub/Sub's
			// redeliveries while the worker returns a retryable error.
			for i := 0; i <= MaxAttempts && open(e.request(r.RequestID).Status); i++ {
				out, err := e.s.Run(e.ctx, r.RequestID, fmt.Sprint("redelivery-", i))
				if i == 0 || err == nil {
					t.Logf("run %d: %s, %v", i+2, out, err)
				}
			}
			got := e.request(r.RequestID)
			if got.Status != StatusDone || got.ExportPath == "" || got.ExpiresAt == nil {
				t.Errorf("after resuming at finish: status %s, error %q, exportPath %q, expiresAt %v; want done with the archive",
					got.Status, got.Error, got.ExportPath, got.ExpiresAt)
			}
			// Whatever happened, the archive must not outlive the export TTL.
			e.clock.Add(ExportTTL + time.Hour)
			if _, err := e.s.Retain(e.ctx); err != nil {
				t.Fatal(err)
			}
			for _, o := range e.objects() {
				if o == exportPath(u, r.RequestID) {
					t.Errorf("archive %s still in Storage %v after the export TTL", o, ExportTTL+time.Hour)
				}
			}
		})
	}
}

type crash struct{}

var errCrash = &crash{}

// TestReview11ExportArchiveMatchesRecordAfterLeaseTakeover: the export
// step renews no lease while it writes the archive; a run whose lease
// expires meanwhile (a long export, a duplicate delivery taking over)
// still uploads its archive over the one the new owner finished and
// recorded, so exportBytes/exportSha256 (returned by getExportDownload)
// no longer describe the object served.
func TestReview11ExportArchiveMatchesRecordAfterLeaseTakeover(t *testing.T) {
	e := newEnv(t, false)
	u := uid("r11")
	e.set("users/"+u, model.User{UserID: u, DisplayName: "R", CreatedAt: e.clock.Now()})
	r, _, err := e.s.CreateExport(e.ctx, u, u, SourceUser)
	if err != nil {
		t.Fatal(err)
	}
	tookOver := false
	e.s.OnProgress = func(req *model.GDPRRequest) {
		if tookOver || req.Checkpoint["step"] != "export" {
			return
		}
		tookOver = true
		// The first run is slow (its lease lapses); a duplicate delivery
		// takes over and finishes.
		e.clock.Add(LeaseTTL + time.Second)
		if out, err := e.s.Run(e.ctx, r.RequestID, "second"); out != OutcomeDone || err != nil {
			t.Errorf("second run: %s, %v", out, err)
		}
		e.clock.Add(time.Second)
	}
	out, err := e.s.Run(e.ctx, r.RequestID, "first")
	t.Logf("first run: %s, %v", out, err)
	e.s.OnProgress = nil
	got := e.request(r.RequestID)
	if got.Status != StatusDone {
		t.Fatalf("export %s: %s", got.Status, got.Error)
	}
	rd, err := e.s.Storage.Bucket(testBucket).Object(got.ExportPath).NewReader(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	h := sha256.New()
	n, _ := io.Copy(h, rd)
	if sum := hex.EncodeToString(h.Sum(nil)); sum != got.ExportSHA256 || n != got.ExportBytes {
		t.Errorf("the archive served (%d bytes, sha256 %s) is not the one recorded (%d bytes, sha256 %s)",
			n, sum, got.ExportBytes, got.ExportSHA256)
	}
}
