package payouts

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
)

// BenchmarkSync500 books 500 completed payouts through the whole sync path
// (Firestore emulator: query, lease, booking mark, reference; Fortnox fake
// with Fortnox's real 25-requests-per-5-s sliding window on real time; the
// client's default limiter, 24 per 5.1 s; Settings.SyncWorkers = 4) and
// reports the achieved API request rate against the 5 req/s ceiling, the
// 429s the fake answered and the most requests it saw in one window. One
// iteration takes about 105 s:
//
//	go test -run '^$' -bench Sync500 -benchtime 1x ./functions/payouts/
func BenchmarkSync500(b *testing.B) {
	if testing.Short() {
		b.Skip("takes about 105 s")
	}
	const payouts = 500
	var rate, sustained, tooMany, maxInWindow, seconds float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b)
		e.clock.Set(time.Now().UTC())
		s := fortnoxfake.New(fortnoxfake.Options{})
		c, err := fortnox.New(fortnox.Config{BaseURL: s.URL, TokenURL: s.TokenURL,
			ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), TenantID: s.Tenant()})
		if err != nil {
			b.Fatal(err)
		}
		e.svc.Fortnox = func(context.Context) (*fortnox.Client, error) { return c, nil }
		bw := e.fs.BulkWriter(e.ctx)
		for j := range payouts {
			id := fmt.Sprintf("po_bench%03d_sek_20260504", j)
			tr := "tr_" + id
			if _, err := bw.Set(e.fs.Collection(model.ColPayouts).Doc(id), model.Payout{PayoutID: id, CoachID: "c1",
				Amount: int64(10000 + j), Currency: "SEK", PayoutDate: t0, Status: model.PayoutCompleted,
				Processor: ProcessorStripeConnect, ProcessorPayoutID: &tr}); err != nil {
				b.Fatal(err)
			}
		}
		bw.End()
		b.StartTimer()
		start := time.Now()
		rep, err := e.svc.SyncFortnox(e.ctx, SyncRequest{})
		elapsed := time.Since(start)
		b.StopTimer()
		st := s.Stats()
		s.Close()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Booked != payouts || st.VouchersCreated != payouts {
			b.Fatalf("booked %d (fake %d), want %d: %+v", rep.Booked, st.VouchersCreated, payouts, rep)
		}
		rate = float64(st.Requests) / elapsed.Seconds()
		sustained = float64(st.Requests-fortnox.DefaultLimit) / elapsed.Seconds()
		tooMany = float64(st.TooManyRequests)
		maxInWindow = float64(st.MaxInWindow)
		seconds = elapsed.Seconds()
	}
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(100*rate/5, "%ceiling")
	b.ReportMetric(sustained, "sustained-req/s")
	b.ReportMetric(100*sustained/5, "sustained-%ceiling")
	b.ReportMetric(tooMany, "429s")
	b.ReportMetric(maxInWindow, "max-per-5s")
	b.ReportMetric(seconds, "s")
}
