package gdpr

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
)

// benchMix is the benchmark user's 10 000 documents: mostly journal
// entries, then daily insights and notifications (the users/{uid}
// subtree), and records that are anonymised or held rather than deleted.
var benchMix = []struct {
	what string
	n    int
}{
	{"user_activations", 7000}, {"daily_insights", 1500}, {"notifications", 1000}, {"sessions", 200},
	{"enrollments", 100}, {"payments", 100}, {"live_sessions", 100},
}

// seedBenchUser writes the benchmark user's documents and returns their count.
func seedBenchUser(b *testing.B, e *env, u string) int {
	b.Helper()
	now := e.clock.Now()
	bw := e.fs.BulkWriter(e.ctx)
	total := 0
	set := func(path string, v any) {
		if _, err := bw.Set(e.fs.Doc(path), v); err != nil {
			b.Fatal(err)
		}
		total++
	}
	set("users/"+u, model.User{UserID: u, CreatedAt: now})
	for _, m := range benchMix {
		for i := 0; i < m.n; i++ {
			switch m.what {
			case "user_activations":
				set(fmt.Sprintf("user_activations/%s_%d", u, i), model.UserActivation{UserID: u, ActivationID: "a",
					Status: model.StatusCompleted, Log: &model.JournalLog{Text: "Felt calm and focused after the session today."}})
			case "daily_insights":
				set(fmt.Sprintf("users/%s/daily_insights/d%d", u, i), model.DailyInsight{UserID: u, Headline: "h", Content: "c", CreatedAt: now})
			case "notifications":
				set(fmt.Sprintf("users/%s/notifications/n%d", u, i), model.Notification{UserID: u, Title: "t", CreatedAt: now})
			case "sessions":
				set(fmt.Sprintf("sessions/%s_%d", u, i), model.Session{UserID: u, ExpiresAt: now.Add(time.Hour)})
			case "enrollments":
				set(fmt.Sprintf("enrollments/%s_p%d", u, i), model.Enrollment{UserID: u, ProgramID: fmt.Sprint("p", i)})
			case "payments":
				set(fmt.Sprintf("payments/bp%d", i), model.Payment{UserID: u, Amount: 100, Currency: "SEK", PaymentDate: now})
			case "live_sessions":
				set(fmt.Sprintf("live_sessions/bl%d", i), model.LiveSession{Title: "s", Participants: []string{u, "someone-else"},
					Reflections: []model.SessionReflection{{UserID: u, Text: "r", SubmittedAt: now}}, ReflectionUserIDs: []string{u}})
			}
		}
	}
	bw.End()
	return total
}

// rawDeleteRate seeds n documents shaped like journal entries and times
// their deletion through one BulkWriter with the references known in
// advance: the emulator's raw delete rate.
func rawDeleteRate(b *testing.B, e *env, n int) float64 {
	b.Helper()
	refs := make([]*firestore.DocumentRef, n)
	bw := e.fs.BulkWriter(e.ctx)
	for i := range refs {
		refs[i] = e.fs.Collection("bench_raw").Doc(fmt.Sprint("r", i))
		if _, err := bw.Set(refs[i], model.UserActivation{UserID: "x", ActivationID: "a", Status: model.StatusCompleted,
			Log: &model.JournalLog{Text: "Felt calm and focused after the session today."}}); err != nil {
			b.Fatal(err)
		}
	}
	bw.End()
	start := time.Now()
	bw = e.fs.BulkWriter(e.ctx)
	jobs := make([]*firestore.BulkWriterJob, n)
	for i, r := range refs {
		j, err := bw.Delete(r)
		if err != nil {
			b.Fatal(err)
		}
		jobs[i] = j
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkErasure10k erases a user with 10 000 documents end to end (the
// request, plan, Auth, Storage, every rule, the users/{uid} subtree,
// verification, audit record) and measures, in the same run, the
// emulator's raw BulkWriter delete rate of 10 000 known documents.
//
//	go test ./functions/gdpr -run '^$' -bench Erasure10k -benchtime 1x
func BenchmarkErasure10k(b *testing.B) {
	e := newEnv(b, true)
	if testing.Verbose() {
		slog.SetLogLoggerLevel(slog.LevelDebug) // per-step timings
	}
	var raw, erased []float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		raw = append(raw, rawDeleteRate(b, e, 10000))
		u := uid("bench")
		n := seedBenchUser(b, e, u)
		e.createAccount(u)
		for k := 0; k < 10; k++ {
			e.put(fmt.Sprintf("users/%s/media/%d.m4a", u, k), "audio")
		}
		b.StartTimer()
		start := time.Now()
		req, _, err := e.s.StartErasure(e.ctx, u, "bench", SourceOps, true)
		if err != nil {
			b.Fatal(err)
		}
		out, err := e.s.Run(e.ctx, req.RequestID, "bench")
		if err != nil || out != OutcomeDone {
			b.Fatalf("erasure: %s, %v", out, err)
		}
		erased = append(erased, float64(n)/time.Since(start).Seconds())
		b.StopTimer()
		if r := e.request(req.RequestID); r.Proof["user_activations.userId"] != 0 || r.Proof["users"] != 0 || r.Proof["held:payments.userId"] != 100 {
			b.Fatalf("proof %v", r.Proof)
		}
		b.StartTimer()
	}
	var rs, es float64
	for i := range raw {
		rs += raw[i]
		es += erased[i]
	}
	rs, es = rs/float64(len(raw)), es/float64(len(erased))
	b.ReportMetric(rs, "raw-deletes/s")
	b.ReportMetric(es, "erased-docs/s")
	b.ReportMetric(100*es/rs, "%-of-raw")
	b.ReportMetric(0, "ns/op")
}
