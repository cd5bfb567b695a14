package payments

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/store"
)

var benchSeq atomic.Int64

// benchEvent is a unique checkout.session.completed of prog-1 by a new
// user: the webhook's heaviest common path (inbox, payment, program,
// enrolment, two coach assignments, client profile in one transaction).
func benchEvent() []byte {
	n := benchSeq.Add(1)
	id := fmt.Sprintf("%d_%d", time.Now().UnixNano()%1e9, n)
	return event("evt_bench_"+id, "checkout.session.completed", t0,
		objCheckout("cs_b"+id, "pi_b"+id, "", "bu"+id, "prog-1", 49900, "paid"))
}

// reportLatency adds req/s, p50 and p99 (milliseconds) to b.
func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}

// BenchmarkWebhook measures the webhook on loopback against the Firestore
// emulator (signed request → verified → one transaction → 200), serially
// and with 4 concurrent senders, beside the emulator's raw transaction
// round trip (one read, one write) in the same run:
//
//	go test ./functions/payments -run '^$' -bench Webhook -benchtime 400x
func BenchmarkWebhook(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(prev) })
	h := newHarness(b)
	h.seed()
	post := func(b *testing.B) time.Duration {
		payload := benchEvent()
		sig := sign(payload, secretPlatform, time.Now())
		start := time.Now()
		code, body := h.post(payload, sig)
		d := time.Since(start)
		if code != http.StatusOK || body["status"] != StatusProcessed {
			b.Fatalf("webhook: %d %v", code, body)
		}
		return d
	}
	b.Run("webhook", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			lat = append(lat, post(b))
		}
		reportLatency(b, lat, time.Since(start))
	})
	b.Run("webhook-parallel4", func(b *testing.B) {
		var mu sync.Mutex
		lat := make([]time.Duration, 0, b.N)
		b.SetParallelism(4 / max(1, runtimeProcs()))
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d := post(b)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
		reportLatency(b, lat, time.Since(start))
	})
	b.Run("raw-transaction", func(b *testing.B) {
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			ref := h.db.Collection("bench").Doc(fmt.Sprintf("d%d", benchSeq.Add(1)))
			t := time.Now()
			err := h.db.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				if _, err := tx.Get(ref); err != nil && !isNotFound(err) {
					return err
				}
				return tx.Set(ref, map[string]any{"n": i})
			})
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		reportLatency(b, lat, time.Since(start))
	})
}

func isNotFound(err error) bool { return store.IsNotFound(err) }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
