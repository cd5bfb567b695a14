package fortnox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
)

// BenchmarkBook500 books 500 vouchers against the fake with Fortnox's real
// limit (25 requests per 5 s sliding window on real time) through the
// client's default limiter (24 per 5.1 s), with 4 concurrent workers, and
// reports the achieved API request rate against the 5 req/s ceiling and the
// 429s the fake answered. One iteration takes about 100 s:
//
//	go test -run '^$' -bench Book500 -benchtime 1x ./shared/fortnox/
//
// req/s is all API requests over the wall time; sustained-req/s leaves out
// the opening burst of 24 that the sliding window allows at once.
func BenchmarkBook500(b *testing.B) {
	if testing.Short() {
		b.Skip("takes about 100 s")
	}
	const vouchers, workers = 500, 4
	var rate, sustained, tooMany, maxInWindow float64
	for i := 0; i < b.N; i++ {
		s := fortnoxfake.New(fortnoxfake.Options{})
		c, err := New(Config{
			BaseURL: s.URL, TokenURL: s.TokenURL,
			ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), TenantID: s.Tenant(),
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		fy, err := c.FinancialYear(ctx, "2026-05-04")
		if err != nil {
			b.Fatal(err)
		}
		jobs := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for range workers {
			wg.Go(func() {
				for j := range jobs {
					_, err := c.CreateVoucherOnce(ctx, fy.ID, payout(Amount(10000+j), "2026-05-04"), fmt.Sprintf("po_bench%d", j))
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			})
		}
		for j := range vouchers {
			jobs <- j
		}
		close(jobs)
		wg.Wait()
		elapsed := time.Since(start)
		st := s.Stats()
		s.Close()
		if firstErr != nil {
			b.Fatal(firstErr)
		}
		if st.VouchersCreated != vouchers {
			b.Fatalf("%d vouchers created, want %d", st.VouchersCreated, vouchers)
		}
		rate = float64(st.Requests) / elapsed.Seconds()
		sustained = float64(st.Requests-DefaultLimit) / elapsed.Seconds()
		tooMany = float64(st.TooManyRequests)
		maxInWindow = float64(st.MaxInWindow)
	}
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(100*rate/5, "%ceiling")
	b.ReportMetric(sustained, "sustained-req/s")
	b.ReportMetric(100*sustained/5, "sustained-%ceiling")
	b.ReportMetric(tooMany, "429s")
	b.ReportMetric(maxInWindow, "max-per-5s")
}
