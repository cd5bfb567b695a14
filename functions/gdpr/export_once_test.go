package gdpr

import (
	"sync"
	"testing"

	"github.com/innerjourney/functions/shared/model"
)

// TestCreateExportConcurrentCreatesOne: a user tapping "export my data"
// twice (or two devices) sends concurrent requests; one export request is
// created and queued, the others get it back (created false).
func TestCreateExportConcurrentCreatesOne(t *testing.T) {
	e := newEnv(t, false)
	u := uid("once")
	e.set("users/"+u, model.User{UserID: u, DisplayName: "O", CreatedAt: e.clock.Now()})
	const n = 6
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		ids     = map[string]bool{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, made, err := e.s.CreateExport(e.ctx, u, u, SourceUser)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("CreateExport: %v", err)
				return
			}
			if made {
				created++
			}
			ids[r.RequestID] = true
		}()
	}
	wg.Wait()
	docs, err := e.fs.Collection(model.ColGDPRRequests).Where("userId", "==", u).Documents(e.ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if created != 1 || len(ids) != 1 || len(docs) != 1 {
		t.Errorf("%d created, %d ids returned, %d requests stored; want one of each", created, len(ids), len(docs))
	}
}
