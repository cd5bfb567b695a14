package insights

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// faultyClient returns an admin client of the emulator's project whose
// BatchWrite answers DEADLINE_EXCEEDED (a per-write status, as Firestore
// answers a write that timed out) for each write fail accepts, without
// sending that write; the batch's other writes are sent as usual.
func faultyClient(t *testing.T, project string, fail func(w *firestorepb.Write) bool) *firestore.Client {
	t.Helper()
	intercept := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		r, ok := req.(*firestorepb.BatchWriteRequest)
		if !ok {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		failed := make([]bool, len(r.Writes))
		sent := &firestorepb.BatchWriteRequest{Database: r.Database, Labels: r.Labels}
		for i, w := range r.Writes {
			if failed[i] = fail(w); !failed[i] {
				sent.Writes = append(sent.Writes, w)
			}
		}
		if len(sent.Writes) == len(r.Writes) {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		got := &firestorepb.BatchWriteResponse{}
		if len(sent.Writes) > 0 {
			if err := invoker(ctx, method, sent, got, cc, opts...); err != nil {
				return err
			}
		}
		out := reply.(*firestorepb.BatchWriteResponse)
		k := 0
		for i := range r.Writes {
			if failed[i] {
				out.WriteResults = append(out.WriteResults, &firestorepb.WriteResult{})
				out.Status = append(out.Status, status.New(codes.DeadlineExceeded, "injected write timeout").Proto())
				continue
			}
			out.WriteResults = append(out.WriteResults, got.WriteResults[k])
			out.Status = append(out.Status, got.Status[k])
			k++
		}
		return nil
	}
	return interceptedClient(t, project, grpc.WithChainUnaryInterceptor(intercept))
}

// again is the fake rewrite of a later attempt: it differs from fresh, so
// that a second rewrite of the same insight shows.
func again(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
	w := fresh(in)
	w.Headline, w.Intention = "Again: "+in.Headline, "Again: "+in.Intention
	return w, nil
}

// TestRewriteNotificationMatchesInsight: with rewriting on, the texts of
// an insight are not the same from one attempt to the next (the model
// answers differently, or fails once and not the next time), so the
// notification a user receives must carry the wording of the insight
// actually stored, whichever attempt wrote it. Regression: the insight and
// its notification were created side by side, so when the insight's write
// failed and the notification's succeeded, the redelivered shard rewrote
// the insight afresh and stored it beside a notification with the first
// attempt's wording; and an insight created meanwhile by another delivery
// (a duplicated shard, `ops insights run`) got a notification with this
// delivery's own rewrite.
func TestRewriteNotificationMatchesInsight(t *testing.T) {
	const uid = "a"
	insightDoc := "/documents/" + model.ColUsers + "/" + uid + "/" + model.SubColInsights + "/2026-11-21"
	tests := []struct {
		name string
		// failInsightOnce makes the first write of the insight time out.
		failInsightOnce bool
		// first answers the first delivery's rewrite (h: the harness).
		first func(h *harness) func(context.Context, *model.DailyInsight) (Rewrite, error)
		// redeliver runs the shard again (fresh snapshots) after the first
		// delivery.
		redeliver bool
		// wantPrefix starts the stored insight's headline.
		wantPrefix string
	}{
		{
			name:            "insight write failed, its notification written",
			failInsightOnce: true,
			first: func(*harness) func(context.Context, *model.DailyInsight) (Rewrite, error) {
				return func(_ context.Context, in *model.DailyInsight) (Rewrite, error) { return fresh(in), nil }
			},
			redeliver:  true,
			wantPrefix: "Again: ",
		},
		{
			name: "rewrite failed, insight write failed, rewrite succeeds on redelivery",
			first: func(*harness) func(context.Context, *model.DailyInsight) (Rewrite, error) {
				return func(context.Context, *model.DailyInsight) (Rewrite, error) {
					return Rewrite{}, fault.New(fault.Unavailable, "gemini: 503")
				}
			},
			failInsightOnce: true,
			redeliver:       true,
			wantPrefix:      "Again: ",
		},
		{
			name: "insight created meanwhile by another delivery",
			first: func(h *harness) func(context.Context, *model.DailyInsight) (Rewrite, error) {
				return func(ctx context.Context, in *model.DailyInsight) (Rewrite, error) {
					other := *in
					other.Headline, other.Intention, other.RewrittenBy = "Other: "+in.Headline, "Other: "+in.Intention, fakeModel
					ref := h.c.Collection(model.ColUsers).Doc(uid).Collection(model.SubColInsights).Doc(in.Date)
					if _, err := ref.Create(ctx, &other); err != nil {
						h.t.Errorf("the other delivery's insight: %v", err)
					}
					return fresh(in), nil
				}
			},
			wantPrefix: "Other: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := testenv.FirestoreEmulator(t)
			var armed atomic.Bool
			armed.Store(tt.failInsightOnce)
			c := faultyClient(t, fs.NewProject(t), func(w *firestorepb.Write) bool {
				return strings.HasSuffix(w.GetUpdate().GetName(), insightDoc) && armed.CompareAndSwap(true, false)
			})
			rec := &queue.Recorder{}
			h := &harness{t: t, c: c, rec: rec, s: &Service{Firestore: c, Publisher: rec, Now: func() time.Time { return clock },
				ShardSize: 10}}
			r := &fakeRewriter{rewrite: tt.first(h)}
			h.s.Rewriter = r
			h.put(uid, dueUser("1990-05-15"))
			h.put("b", dueUser("1991-06-16"))
			h.consent(uid, model.ConsentGranted)
			data := h.fanoutOne()

			st, err := h.worker(data, time.Minute)
			if tt.failInsightOnce {
				if !fault.Retryable(err) || st.Failed != 1 {
					t.Fatalf("first delivery: %+v %v, want one user failed and a retryable error", st, err)
				}
			} else if err != nil {
				t.Fatalf("first delivery: %+v %v", st, err)
			}
			// Rewritten counts only rewrites stored: none when the insight
			// write failed or another delivery's insight was there first.
			if st.Rewritten != 0 {
				t.Errorf("first delivery: %d rewritten, want 0 (the rewrite was not stored)", st.Rewritten)
			}
			if tt.redeliver {
				r.rewrite = again
				if st, err := h.worker(data, 2*time.Minute); err != nil || st.Failed != 0 {
					t.Fatalf("redelivery: %+v %v", st, err)
				}
			}
			in, note := h.insight(uid)
			if !strings.HasPrefix(in.Headline, tt.wantPrefix) {
				t.Errorf("stored insight %q, want the wording starting %q", in.Headline, tt.wantPrefix)
			}
			if note.Title != in.Headline || note.Body != in.Intention {
				t.Errorf("notification %q / %q, want the stored insight's %q / %q", note.Title, note.Body, in.Headline, in.Intention)
			}
			if !h.dueAt(uid).After(clock) {
				t.Errorf("%s: insightDueAt not advanced", uid)
			}
			// The user without the consent is delivered as before.
			if b, bn := h.insight("b"); b.RewrittenBy != "" || bn.Title != b.Headline || bn.Body != b.Intention {
				t.Errorf("b: insight %+v, notification %+v", b, bn)
			}
		})
	}
}

// TestRewriteNotificationAfterInsightCosts: with rewriting on, a user's
// notification follows their insight (the wording stored) and still costs
// one write; a shard needs the same reads and writes as in
// TestDeliveryCosts, and a redelivered shard writes nothing.
func TestRewriteNotificationAfterInsightCosts(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	log := &rpcLog{}
	c := loggedClient(t, fs.NewProject(t), log)
	rec := &queue.Recorder{}
	r := &fakeRewriter{}
	h := &harness{t: t, c: c, rec: rec, s: &Service{Firestore: c, Publisher: rec, Now: func() time.Time { return clock },
		ShardSize: 30, Rewriter: r}}
	const n = 25 // more than a BulkWriter batch (20 writes)
	for i := range n {
		uid := fmt.Sprintf("n%02d", i)
		h.put(uid, dueUser(fmt.Sprintf("19%02d-05-15", 50+i)))
		if i%2 == 0 {
			h.consent(uid, model.ConsentGranted)
		}
	}
	data := h.fanoutOne()
	log.start()
	st, err := h.worker(data, time.Minute)
	if err != nil || st.Created != n || st.Rewritten != (n+1)/2 {
		t.Fatalf("worker: %+v %v", st, err)
	}
	log.mu.Lock()
	writes := log.writes
	log.on = false
	log.mu.Unlock()
	want := map[string]int{"create " + model.SubColInsights: n, "create " + model.SubColNotes: n,
		"set " + model.SubColPrivate: n, "update-at " + model.ColUsers: n}
	if fmt.Sprint(writes) != fmt.Sprint(want) {
		t.Errorf("writes %v, want %v", writes, want)
	}
	for i := range n {
		uid := fmt.Sprintf("n%02d", i)
		in, note := h.insight(uid)
		if note.Title != in.Headline || note.Body != in.Intention || (in.RewrittenBy != "") != (i%2 == 0) {
			t.Errorf("%s: insight %q (by %q), notification %q", uid, in.Headline, in.RewrittenBy, note.Title)
		}
	}
	before := h.snapshot("n00", "n01")
	if st, err := h.worker(data, 2*time.Minute); err != nil || st.Created != 0 || st.Existing != n {
		t.Errorf("redelivery: %+v %v", st, err)
	}
	if after := h.snapshot("n00", "n01"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the redelivery wrote:\nbefore %v\nafter  %v", before, after)
	}
}

// TestRewriteLateRedeliveryOfStillDueUser covers the path of a shard
// redelivered after MaxSnapshotAge whose user is still due (the first
// attempt delivered the insight but its advance failed, e.g. the user
// changed meanwhile): the worker reads the users and, for the consenting
// ones, their insights of the date (readDelivered), so the model is not
// asked again and the user keeps the delivered wording.
func TestRewriteLateRedeliveryOfStillDueUser(t *testing.T) {
	h := newHarness(t)
	r := &fakeRewriter{}
	h.s.Rewriter, h.s.ShardSize = r, 10
	h.put("a", dueUser("1990-05-15"))
	h.consent("a", model.ConsentGranted)
	data := h.fanoutOne()
	if st, err := h.worker(data, time.Minute); err != nil || st.Rewritten != 1 {
		t.Fatalf("first delivery: %+v %v", st, err)
	}
	first, _ := h.insight("a")
	// The advance did not happen: the user is still due.
	if _, err := h.c.Collection(model.ColUsers).Doc("a").Update(h.ctx(),
		[]firestore.Update{{Path: "insightDueAt", Value: *dueUser("").due}}); err != nil {
		t.Fatal(err)
	}
	r.rewrite = again
	st, err := h.worker(data, MaxSnapshotAge+time.Minute)
	if err != nil || st.Existing != 1 || st.Rewritten != 0 {
		t.Fatalf("late redelivery: %+v %v", st, err)
	}
	if got := r.calls.Load(); got != 1 {
		t.Errorf("rewriter called %d times, want once", got)
	}
	in, note := h.insight("a")
	if in.Headline != first.Headline || note.Title != in.Headline || note.Body != in.Intention || !h.dueAt("a").After(clock) {
		t.Errorf("insight %q, notification %q / %q; want the first delivery's %q, advanced", in.Headline, note.Title, note.Body, first.Headline)
	}
}
