package wellbeing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// Crash-consistency sweep of a wellbeing alert (review 20): a screening
// signal is raised (Raise, redelivered by the profile trigger while it
// fails retryably), the outbox trigger publishes the alert (PublishAlert),
// the Pub/Sub worker delivers it to the on-call webhook (Deliverer.Deliver)
// and the backstop sweeps every 5 minutes for an hour and a half. The run
// is made once uninterrupted on a fresh database (the reference), then,
// for every RPC k of it (Firestore RPCs, the outbox's publish and the
// webhook POST, counted in one sequence by testenv.Faults) and every mode of testenv.CrashModes,
// on a fresh database, with the stage that made the k-th RPC killed there.
// Two platforms: "redelivered" (Eventarc and Pub/Sub deliver the killed
// stage's event again after each retryable error, with Pub/Sub's backoff
// on the test clock) and "dropped" (the killed stage's event is not
// delivered again: a lost message; only the sweeper is left).
//
// Expected (package doc, steps 3–4): the on-call webhook accepts the
// alert at least once; the event is recorded delivered (notified,
// notifiedAt, deliveredTo webhook, no lease left) by exactly one write;
// one event, one notification; the rest of the end state is the
// reference's, but for the times and counters of the retries.

// r20Start is the clock of the signal.
var r20Start = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// r20Publisher passes the outbox's publishes to next, counting and
// faulting each as an RPC of f.
type r20Publisher struct {
	f    *testenv.Faults
	next queue.Publisher
}

func (p r20Publisher) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	var id string
	err := p.f.Call(ctx, "pubsub/Publish", func(ctx context.Context) (err error) {
		id, err = p.next.Publish(ctx, topic, data, attrs)
		return err
	})
	return id, err
}

// r20Recorder counts the commits that reached the database and stamped
// notifiedAt on a wellbeing event (the delivery's record).
type r20Recorder struct {
	mu       sync.Mutex
	notified map[string]int // event id → committed writes setting notifiedAt
}

func (r *r20Recorder) interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	cr, ok := req.(*firestorepb.CommitRequest)
	if !ok || err != nil {
		return err
	}
	for _, w := range cr.GetWrites() {
		name := w.GetUpdate().GetName()
		if !strings.Contains(name, "/"+model.ColWellbeingEvents+"/") || !slices.Contains(w.GetUpdateMask().GetFieldPaths(), "notifiedAt") {
			continue
		}
		r.mu.Lock()
		r.notified[name[strings.LastIndex(name, "/")+1:]]++
		r.mu.Unlock()
	}
	return err
}

// r20Run is one run of the pipeline.
type r20Run struct {
	t         *testing.T
	redeliver bool
	clk       *clock
	kill      testenv.KillSwitch // of the attempt running
	log       []string
}

// attempt runs fn as the platform delivers one event: with a context the
// fault kills, then again after each retryable error (backoff 10 s
// doubling, at most 10 deliveries) when r.redeliver or the stage is
// always retried (always: the profile trigger's event, redelivered at once
// on the test clock, so that the raised episode's times are the
// reference's); it returns the last error.
func (r *r20Run) attempt(stage string, always bool, fn func(ctx context.Context) error) error {
	backoff := 10 * time.Second
	var err error
	for i := 0; i < 10; i++ {
		ctx, cancel := r.kill.Context()
		err = fn(ctx)
		cancel()
		if err == nil {
			return nil
		}
		r.log = append(r.log, fmt.Sprintf("%s: %v", stage, fault.CodeOf(err)))
		if !fault.Retryable(err) || !(r.redeliver || always) {
			return err
		}
		if !always {
			r.clk.Add(backoff)
		}
		backoff = min(2*backoff, 600*time.Second)
	}
	return err
}

// r20Result is what a run left.
type r20Result struct {
	dump     map[string]any
	events   []string
	accepted map[string]int // webhook: accepted posts per event
	notified map[string]int // committed writes of notifiedAt per event
	rpcs     int
	calls    []string
	what     string
}

// r20Pipeline raises one signal and runs the alert's delivery with the
// at-th RPC faulted (mode; 0: none).
func r20Pipeline(t *testing.T, redeliver bool, at int, mode testenv.CrashMode) r20Result {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	p := emu.NewProject(t)
	c := emu.Client(t, p)
	r := &r20Run{t: t, redeliver: redeliver, clk: &clock{t: r20Start}}
	f := &testenv.Faults{At: at, Mode: mode, Cancel: r.kill.Kill}
	rec := &r20Recorder{notified: map[string]int{}}
	fc := emu.InterceptedClient(t, p, append(f.DialOptions(), grpc.WithChainUnaryInterceptor(rec.interceptor))...)
	hook := newWebhook(t)
	d := &Deliverer{Firestore: fc, WebhookURL: config.NewSecret(hook.URL), Now: r.clk.Now,
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: f.Transport(http.DefaultTransport, func(*http.Request) string { return "webhook/POST" })}}
	pub := &queue.Recorder{}

	// The profile trigger raises the protocol; its event is redelivered
	// while the handler fails retryably (whatever the platform variant:
	// the signal itself is the caller's to keep).
	if err := r.attempt("raise", true, func(ctx context.Context) error {
		_, err := (&Protocol{Now: r.clk.Now}).Raise(ctx, fc, signal("u1", "k"))
		return err
	}); err != nil {
		t.Fatalf("raise never succeeded: %v", err)
	}
	refs, err := c.Collection(model.ColWellbeingEvents).DocumentRefs(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	// The outbox trigger, once per created event.
	for _, ref := range refs {
		_ = r.attempt("outbox", false, func(ctx context.Context) error {
			_, err := PublishAlert(ctx, fc, r20Publisher{f: f, next: pub}, r.clk.Now, ref.ID)
			return err
		})
	}
	// The Pub/Sub worker, once per published message.
	for _, m := range pub.On(Topic) {
		_ = r.attempt("deliver", false, func(ctx context.Context) error {
			var a Alert
			if err := (&events.PubSubMessage{Data: m.Data}).JSON(&a); err != nil {
				return err
			}
			_, err := d.Deliver(ctx, a)
			return err
		})
	}
	// The backstop, every 5 minutes until the event is recorded delivered
	// and a sweep has completed (at most for 90 minutes).
	sw := &Sweeper{Firestore: fc, Deliverer: d, Now: r.clk.Now, Log: slog.New(&logCapture{})}
	for i := 0; i < 18; i++ {
		r.clk.Add(5 * time.Minute)
		err := r.attempt("sweep", false, func(ctx context.Context) error {
			_, err := sw.Sweep(ctx)
			return err
		})
		if err == nil && r20Delivered(t, c, refs) {
			break
		}
	}
	res := r20Result{rpcs: f.Count(), calls: f.Calls(), notified: rec.notified, accepted: map[string]int{}}
	for _, ref := range refs {
		res.events = append(res.events, ref.ID)
		_, res.accepted[ref.ID] = hook.counts(ref.ID)
	}
	res.dump = testenv.DumpDatabase(t, c, map[string][]string{
		// The times and counters of the retries.
		model.ColWellbeingEvents + "/": {"publishedAt", "notifiedAt", "deliveryAttempts", "deliveryError"},
		model.ColJobs + "/":            {"updatedAt", "checkpoint"},
	})
	res.what = strings.Join(r.log, ", ")
	if res.what == "" {
		res.what = "no failure"
	}
	return res
}

// r20Delivered reports whether every event of refs is recorded notified.
func r20Delivered(t *testing.T, c *firestore.Client, refs []*firestore.DocumentRef) bool {
	t.Helper()
	for _, ref := range refs {
		snap, err := ref.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := snap.DataAt("notified"); v != true {
			return false
		}
	}
	return true
}

// r20Check reports how res breaks the expectation, given the reference
// want.
func r20Check(want, res r20Result) []string {
	var bad []string
	if d := testenv.DiffDumps(want.dump, res.dump); len(d) > 0 {
		bad = append(bad, "end state differs:\n  "+strings.Join(d, "\n  "))
	}
	if len(res.events) != 1 {
		return append(bad, fmt.Sprintf("%d events, want 1", len(res.events)))
	}
	id := res.events[0]
	ev, _ := res.dump[model.ColWellbeingEvents+"/"+id].(map[string]any)
	if ev["notified"] != true || ev["deliveredTo"] != "webhook" || ev["deliveryClaimedAt"] != nil {
		bad = append(bad, fmt.Sprintf("event not recorded delivered to the webhook: notified %v, deliveredTo %v, deliveryClaimedAt %v",
			ev["notified"], ev["deliveredTo"], ev["deliveryClaimedAt"]))
	}
	if res.accepted[id] < 1 {
		bad = append(bad, "the on-call webhook never accepted the alert (lost)")
	}
	if n := res.notified[id]; n != 1 {
		bad = append(bad, fmt.Sprintf("recorded delivered by %d writes, want exactly 1", n))
	}
	return bad
}

// TestReview20AlertCrashPoints is the sweep: every RPC of the
// uninterrupted run (the raise, the outbox, the delivery and one sweep),
// every mode, both platforms.
func TestReview20AlertCrashPoints(t *testing.T) {
	for _, redeliver := range []bool{true, false} {
		name := "dropped"
		if redeliver {
			name = "redelivered"
		}
		t.Run(name, func(t *testing.T) {
			want := r20Pipeline(t, redeliver, 0, "")
			if bad := r20Check(want, want); len(bad) > 0 {
				t.Fatalf("uninterrupted run: %s", strings.Join(bad, "; "))
			}
			t.Logf("%d RPCs uninterrupted: %s", want.rpcs, strings.Join(want.calls, " "))
			exercised, dupes := 0, 0
			for k := 1; k <= want.rpcs; k++ {
				for _, mode := range testenv.CrashModes {
					res := r20Pipeline(t, redeliver, k, mode)
					exercised++
					if res.accepted[res.events[0]] > 1 {
						dupes++
					}
					if bad := r20Check(want, res); len(bad) > 0 {
						t.Errorf("killed %s RPC %d (%s) of %d: %s; %s", mode, k, want.calls[k-1], want.rpcs, res.what, strings.Join(bad, "; "))
					}
				}
			}
			t.Logf("%d crash points exercised; %d paged on-call more than once (at least once is the promise)", exercised, dupes)
		})
	}
}
