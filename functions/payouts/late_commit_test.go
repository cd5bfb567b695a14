package payouts

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
)

// TestFortnoxLateCommitBookedOnce: Fortnox stores a payout's voucher only
// after the client gave up waiting for the answer. The sync found nothing
// yet and posted again, so the payout was on two vouchers and nothing
// noticed. Now that sync records the booking as failed (outcome unknown)
// and the next one, in a new process (a new client), finds the voucher
// and records it: one voucher.
func TestFortnoxLateCommitBookedOnce(t *testing.T) {
	e := newEnv(t)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	id := "po_late_sek_20260504"
	e.completed(id, 123456, "SEK", t0)
	s.CommitLateNext(1, 300*time.Millisecond)
	if rep := e.sync(SyncRequest{}); rep.Booked != 0 || rep.Failed != 1 {
		t.Errorf("first sync %+v, want the booking failed with its outcome unknown", rep)
	}
	time.Sleep(600 * time.Millisecond) // the late commit, 300 ms after the client gave up, is in
	withFortnoxClient(t, e, s, nil)
	if rep := e.sync(SyncRequest{}); rep.Recovered != 1 || rep.Booked != 0 {
		t.Errorf("second sync %+v, want the late voucher recovered", rep)
	}
	checkBooked(t, e, s, id)
}
