package payouts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/testenv"
)

// Crash-consistency sweep of the payouts jobs (review 20; RPCs: Firestore,
// Stripe Connect and Fortnox HTTP, counted and faulted by one
// testenv.Faults). Each job (payoutsRun of a due period, the transfers
// and confirmations of a weekly payoutsRun, fortnoxSync) is run once
// uninterrupted on a fresh database: the reference. Then, for crash points
// k of that run and modes of testenv.CrashModes (r20Cases: a sample by
// default, every point in every mode with -r20.full), on a fresh database
// with the k-th RPC faulted, followed by what the platform does next: a
// Pub/Sub redelivery (same clock) when the handler answered a retryable
// error (or, with -r20.death, whenever the kill is the process's death:
// nothing it does afterwards reaches Firestore, Stripe or Fortnox), and
// the job's next scheduled runs (a week apart for payoutsRun, after
// Stripe's 24-hour idempotency window; a day apart for fortnoxSync, after
// the lease expired). The end state (r20World.state: every document,
// Stripe's transfers per payout, Fortnox's vouchers per marker, the
// payouts alerted) must be the reference's (r20Sweep).

// r20Stripe is a stateful Stripe Connect on stripe-mock: every transfer
// is created and read through stripe-mock (the HTTP path and decoding of
// stripe-go), and kept here, since stripe-mock keeps nothing. An
// idempotency key (the payout id) returns its transfer for 24 hours, as
// Stripe does; later it makes a new transfer. Find answers from the kept
// transfers by transfer_group.
type r20Stripe struct {
	mock TransferAPI
	now  func() time.Time

	mu   sync.Mutex
	made []*stripe.Transfer  // every transfer made, in order
	keys map[string]r20Keyed // idempotency key → transfer and when first used
}

type r20Keyed struct {
	tr *stripe.Transfer
	at time.Time
}

func (s *r20Stripe) Create(ctx context.Context, p *model.Payout, dest string) (*stripe.Transfer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[p.PayoutID]; ok && s.now().Sub(k.at) < 24*time.Hour {
		c := *k.tr
		return &c, nil
	}
	tr, err := s.mock.Create(ctx, p, dest)
	if err != nil {
		return nil, err
	}
	s.keep(tr, p.PayoutID, p.Amount, dest)
	c := *tr
	return &c, nil
}

// keep records transfer tr of payout payoutID (the caller holds mu).
func (s *r20Stripe) keep(tr *stripe.Transfer, payoutID string, amount int64, dest string) {
	n := 1
	for _, m := range s.made {
		if m.TransferGroup == payoutID {
			n++
		}
	}
	sum := sha256.Sum256([]byte(payoutID))
	tr.ID = fmt.Sprintf("tr_r20%s_%d", hex.EncodeToString(sum[:4]), n)
	tr.Amount, tr.TransferGroup, tr.Metadata = amount, payoutID, map[string]string{"payoutId": payoutID}
	tr.Destination = &stripe.Account{ID: dest}
	tr.Reversed, tr.AmountReversed, tr.Reversals = false, 0, nil
	s.made = append(s.made, tr)
	if _, ok := s.keys[payoutID]; !ok {
		s.keys[payoutID] = r20Keyed{tr: tr, at: s.now()}
	}
}

// preload records a transfer an earlier run made for payoutID.
func (s *r20Stripe) preload(payoutID string, amount int64, dest string, at time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := &stripe.Transfer{}
	s.keep(tr, payoutID, amount, dest)
	s.keys[payoutID] = r20Keyed{tr: tr, at: at}
	return tr.ID
}

func (s *r20Stripe) Find(_ context.Context, payoutID string) (*stripe.Transfer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tr := range s.made {
		if tr.TransferGroup == payoutID {
			c := *tr
			return &c, nil
		}
	}
	return nil, nil
}

func (s *r20Stripe) Get(ctx context.Context, id string) (*stripe.Transfer, error) {
	got, err := s.mock.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tr := range s.made {
		if tr.ID == id {
			c := *tr
			c.Object, c.Created = got.Object, got.Created
			return &c, nil
		}
	}
	return nil, &stripe.Error{HTTPStatusCode: 404, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing}
}

// reverse records a partial reversal of payoutID's transfer, made at at.
func (s *r20Stripe) reverse(payoutID, id string, amount int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tr := range s.made {
		if tr.TransferGroup == payoutID {
			if tr.Reversals == nil {
				tr.Reversals = &stripe.TransferReversalList{}
			}
			tr.Reversals.Data = append([]*stripe.TransferReversal{{ID: id, Amount: amount, Created: at.Unix(), Currency: "sek"}}, tr.Reversals.Data...)
			tr.AmountReversed += amount
			tr.Reversed = tr.AmountReversed >= tr.Amount
			return
		}
	}
}

// Reversals implements ReversalLister from the kept transfers.
func (s *r20Stripe) Reversals(_ context.Context, transferID string) ([]*stripe.TransferReversal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tr := range s.made {
		if tr.ID == transferID && tr.Reversals != nil {
			return append([]*stripe.TransferReversal(nil), tr.Reversals.Data...), nil
		}
	}
	return nil, nil
}

// state lists the transfers per payout (a pseudo-document of the dumps).
func (s *r20Stripe) state() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for _, tr := range s.made {
		l, _ := out[tr.TransferGroup].([]string)
		out[tr.TransferGroup] = append(l, fmt.Sprintf("%s %d → %s, %d reversed", tr.ID, tr.Amount, tr.Destination.ID, tr.AmountReversed))
	}
	return out
}

// r20Transfers passes Stripe calls to next, counted and faulted as RPCs
// of f.
type r20Transfers struct {
	next TransferAPI
	f    *testenv.Faults
	dead *atomic.Bool
}

// call makes fn an RPC of t.f named name, failing once the process died.
func (t *r20Transfers) call(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return t.f.Call(ctx, name, func(ctx context.Context) error {
		if t.dead.Load() {
			return errR20Dead
		}
		return fn(ctx)
	})
}

// errR20Dead is what a call of a dead process gets (never retried by
// the clients: the process is gone).
var errR20Dead = grpcstatus.Error(codes.Canceled, "process killed")

// r20DeadOptions fail every Firestore RPC once dead is set: the process
// was killed, so nothing it would still do (writes on a context without
// cancel included) reaches the database. A Rollback still goes through:
// Firestore ends a dead client's transaction (and frees its locks) once
// it has been idle for a while; the emulator would hold them for ever.
func r20DeadOptions(dead *atomic.Bool) []grpc.DialOption {
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if strings.HasSuffix(method, "/Rollback") {
			return invoker(context.WithoutCancel(ctx), method, req, reply, cc, opts...)
		}
		if dead.Load() {
			return errR20Dead
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if dead.Load() {
			return nil, errR20Dead
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream)}
}

func (t *r20Transfers) Create(ctx context.Context, p *model.Payout, dest string) (tr *stripe.Transfer, err error) {
	err = t.call(ctx, "stripe/transfer.New", func(ctx context.Context) (err error) {
		tr, err = t.next.Create(ctx, p, dest)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tr, nil
}

func (t *r20Transfers) Find(ctx context.Context, payoutID string) (tr *stripe.Transfer, err error) {
	err = t.call(ctx, "stripe/transfer.List", func(ctx context.Context) (err error) {
		tr, err = t.next.Find(ctx, payoutID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tr, nil
}

func (t *r20Transfers) Get(ctx context.Context, id string) (tr *stripe.Transfer, err error) {
	err = t.call(ctx, "stripe/transfer.Get", func(ctx context.Context) (err error) {
		tr, err = t.next.Get(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tr, nil
}

// Reversals implements ReversalLister.
func (t *r20Transfers) Reversals(ctx context.Context, transferID string) (rs []*stripe.TransferReversal, err error) {
	err = t.call(ctx, "stripe/transferreversal.List", func(ctx context.Context) (err error) {
		rs, err = t.next.(ReversalLister).Reversals(ctx, transferID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// r20RoundTrip sends Fortnox HTTP requests, counted and faulted as RPCs
// of f (the answer is read whole before a CrashLost drops it).
type r20RoundTrip struct {
	f    *testenv.Faults
	dead *atomic.Bool
}

func (rt r20RoundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	var resp *http.Response
	name := "fortnox:" + req.Method + ":" + strings.ReplaceAll(strings.TrimPrefix(req.URL.Path, "/"), "/", ".")
	err := rt.f.Call(req.Context(), name, func(context.Context) error {
		if rt.dead.Load() {
			return errR20Dead
		}
		r, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		resp = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// r20World is one crash case's (or reference's) fresh project, with its
// Stripe and Fortnox.
type r20World struct {
	t       *testing.T
	e       *env
	emu     *testenv.Firestore
	project string
	stripe  *r20Stripe
	fx      *fortnoxfake.Server
	logs    *testenv.Logs
}

// r20Job is one job of the sweep.
type r20Job struct {
	name string
	// seed writes the starting state (and Stripe's) through w.e.fs.
	seed func(w *r20World)
	// stripe and fortnox: the job talks to them.
	stripe, fortnox bool
	// handle delivers the job's message to svc; busy reports that it did
	// nothing because another delivery holds the job (the sync's lease).
	handle func(ctx context.Context, svc *Service) (busy bool, err error)
	// next is when the next scheduled run comes.
	next time.Duration
	// noRedelivery: a delivery that failed is not redelivered (Pub/Sub
	// gave up, or the instance acked before it died): the next scheduled
	// run is the rerun.
	noRedelivery bool
}

var r20Instances atomic.Int64

func r20NewWorld(t *testing.T, job r20Job) *r20World {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	project := emu.NewProject(t)
	fs := emu.Client(t, project)
	c := &clock{t: t0}
	st := DefaultSettings()
	st.SyncWorkers = 1 // one booking at a time: the RPC numbering is the same in every run
	e := &env{t: t, ctx: context.Background(), fs: fs, clock: c,
		svc: &Service{Firestore: fs, Now: c.Now, Settings: st, PseudonymKey: testKey}}
	w := &r20World{t: t, e: e, emu: emu, project: project, logs: testenv.CaptureLogs(t)}
	if job.stripe {
		w.stripe = &r20Stripe{mock: NewStripeTransfers("sk_test_123", testenv.StripeMock(t)), now: c.Now, keys: map[string]r20Keyed{}}
	}
	if job.fortnox {
		w.fx = fortnoxfake.New(fortnoxfake.Options{RateLimit: 100000, RateWindow: time.Second, Now: c.Now, MaxHang: 5 * time.Second})
		t.Cleanup(w.fx.Close)
	}
	job.seed(w)
	return w
}

// service is the service of one delivery: a new instance (its own Fortnox
// client), whose Firestore, Stripe and Fortnox calls go through f when f
// is set.
func (w *r20World) service(f *testenv.Faults, dead *atomic.Bool) *Service {
	w.t.Helper()
	svc := *w.e.svc
	svc.Holder = fmt.Sprintf("r20-%d", r20Instances.Add(1)) // an instance of its own
	if f != nil {
		opts := append(f.DialOptions(), r20DeadOptions(dead)...)
		svc.Firestore = w.emu.InterceptedClient(w.t, w.project, opts...)
	}
	if w.stripe != nil {
		svc.Transfers = w.stripe
		if f != nil {
			svc.Transfers = &r20Transfers{next: w.stripe, f: f, dead: dead}
		}
	}
	if w.fx != nil {
		hc := &http.Client{}
		if f != nil {
			hc.Transport = r20RoundTrip{f: f, dead: dead}
		}
		c, err := fortnox.New(fortnox.Config{
			BaseURL: w.fx.URL, TokenURL: w.fx.TokenURL, ClientID: w.fx.ClientID(), ClientSecret: w.fx.ClientSecret(),
			TenantID: w.fx.Tenant(), HTTPClient: hc, Now: w.e.clock.Now, Limiter: fortnox.Unlimited{},
			RequestTimeout: 400 * time.Millisecond, BackoffBase: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
			ReconcileDelay: 10 * time.Millisecond,
		})
		if err != nil {
			w.t.Fatal(err)
		}
		svc.Fortnox = func(context.Context) (*fortnox.Client, error) { return c, nil }
	}
	return &svc
}

// state is the end state compared: every document, Stripe's transfers
// per payout, Fortnox's vouchers per marker, and the payouts alerted.
func (w *r20World) state() map[string]any {
	w.t.Helper()
	st := testenv.DumpDatabase(w.t, w.e.fs, nil)
	if w.stripe != nil {
		st["stripe/transfers"] = w.stripe.state()
	}
	if w.fx != nil {
		// Fortnox numbers vouchers in the order they come: a reference is
		// compared as the voucher (its marker) it names.
		label := map[string]string{}
		byMarker := map[string]any{}
		for _, v := range w.fx.Vouchers(w.fx.Tenant()) {
			label[fmt.Sprintf("%s/%d/%d", v.Series, v.Number, v.Year)] = "voucher «" + v.Description + "»"
			l, _ := byMarker[v.Description].([]string)
			byMarker[v.Description] = append(l, fmt.Sprintf("%s %s %+v", v.Series, v.TransactionDate, v.Rows))
		}
		for path, doc := range st {
			st[path] = r20Relabel(doc, label)
		}
		st["fortnox/vouchers"] = byMarker
	}
	// The payouts alerted (README: a payout held because its coach was
	// erased logs an ERROR line alert=payout_coach_erased): once at
	// least, whatever happened (alertCounts: how often).
	alerts := map[string]any{}
	for id := range w.alertCounts() {
		alerts[id] = true
	}
	st["logs/alerted"] = alerts
	job0, _ := st["jobs/payouts"].(map[string]any)
	if cp, ok := job0["checkpoint"].(map[string]any); ok {
		// How many payouts the last run wrote: a redelivery after the
		// payouts were written truly wrote none.
		delete(cp, "lastRunPayouts")
	}
	return st
}

// alertCounts are the alert=payout_coach_erased lines logged so far, per
// payout.
func (w *r20World) alertCounts() map[string]int {
	out := map[string]int{}
	for _, rec := range w.logs.Records("alert", AlertCoachErased) {
		id, _ := rec["payoutId"].(string)
		out[id]++
	}
	return out
}

// r20Relabel replaces in v every voucher reference of label (a
// fortnoxReference string, or a fortnoxVoucher {series, number, year}) by
// its label.
func r20Relabel(v any, label map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		if n, ok := x["number"]; ok && len(x) == 3 {
			if l, ok := label[fmt.Sprintf("%v/%v/%v", x["series"], n, x["year"])]; ok {
				return l
			}
		}
		m := map[string]any{}
		for k, e := range x {
			m[k] = r20Relabel(e, label)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = r20Relabel(e, label)
		}
		return l
	case string:
		if l, ok := label[x]; ok {
			return l
		}
	}
	return v
}

// r20Settled is st without the times that say when something was done
// (by a later run when the first delivery left it to that run): what was
// done, to whom and for how much stays.
func r20Settled(st map[string]any) map[string]any {
	var strip func(v any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			m := map[string]any{}
			for k, e := range x {
				switch k {
				case "updatedAt", "startedAt", "payoutDate", "transferStartedAt", "leaseUntil", "lastSyncAt", "lastRunAt":
					continue
				}
				m[k] = strip(e)
			}
			return m
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				l[i] = strip(e)
			}
			return l
		}
		return v
	}
	out := map[string]any{}
	for k, v := range st {
		out[k] = strip(v)
	}
	return out
}

// r20Case is one crash case (or the reference) under way.
type r20Case struct {
	t   *testing.T
	job r20Job
	w   *r20World
	// calls are the RPCs of the first delivery; what says what happened.
	calls []string
	what  string
}

// r20Start delivers job's message with RPC at faulted (mode; at 0: no
// fault) on a fresh database, then the redelivery the platform makes: when
// the handler answered a retryable error, or the process died
// (-r20.death), unless job.noRedelivery.
func r20Start(t *testing.T, job r20Job, at int, mode testenv.CrashMode) *r20Case {
	t.Helper()
	w := r20NewWorld(t, job)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dead := &atomic.Bool{}
	f := &testenv.Faults{At: at, Mode: mode, Cancel: func() {
		cancel()
		if *r20Death {
			dead.Store(true)
		}
	}}
	_, err := job.handle(ctx, w.service(f, dead))
	what := "first delivery: " + r20Outcome(err)
	hit := at > 0 && at <= f.Count()
	if hit && mode != testenv.CrashError && err == nil {
		what += " although killed"
	}
	redeliver := fault.Retryable(err) || dead.Load() // a dead process acks nothing
	if redeliver && job.noRedelivery {
		redeliver, what = false, what+"; not redelivered"
	}
	if redeliver {
		busy, err := job.handle(context.Background(), w.service(nil, nil))
		what += "; redelivered: " + r20Outcome(err)
		if busy {
			what += ", busy (the dead delivery's lease)"
		}
	}
	return &r20Case{t: t, job: job, w: w, calls: f.Calls(), what: what}
}

// next runs the job's next scheduled run.
func (c *r20Case) next() {
	c.t.Helper()
	c.w.e.clock.Add(c.job.next)
	if _, err := c.job.handle(context.Background(), c.w.service(nil, nil)); err != nil {
		c.t.Errorf("%s: next scheduled run: %v", c.what, err)
	}
}

// r20Reference is the uninterrupted run's end state, after the next
// scheduled run, and after one more (r20Settled), and its RPCs.
type r20Reference struct {
	first, afterNext, settled map[string]any
	calls                     []string
}

func r20Ref(t *testing.T, job r20Job) r20Reference {
	t.Helper()
	c := r20Start(t, job, 0, "")
	ref := r20Reference{first: c.w.state(), calls: c.calls}
	c.next()
	ref.afterNext = c.w.state()
	c.next()
	ref.settled = r20Settled(c.w.state())
	return ref
}

// r20Outcome says what a handler answered, and what the platform does
// with it.
func r20Outcome(err error) string {
	switch {
	case err == nil:
		return "nil (acked)"
	case fault.Retryable(err):
		return fmt.Sprintf("retryable error, redelivery asked (%v)", err)
	}
	return fmt.Sprintf("permanent error, dropped (%v)", err)
}

var (
	r20Full  = flag.Bool("r20.full", false, "review 20 sweeps: every crash point in every mode")
	r20Death = flag.Bool("r20.death", false, "review 20 sweeps: a kill is the process's death (nothing it does afterwards reaches anyone)")
)

// r20Cases are the crash points exercised of a reference run whose RPCs
// are calls. With -r20.full: every RPC in every mode. By default, to keep
// the sweeps within seconds: every external call (Stripe, Fortnox) in
// every mode; every Firestore Commit before, lost and failing (after a
// Commit's answer is before the next RPC); every other read (a read takes
// no effect: before, lost and after kill the run at the same point) lost
// or failing, by turns.
func r20Cases(calls []string) [][2]any {
	var out [][2]any
	reads := 0
	for i, c := range calls {
		external := strings.Contains(c, ":") || strings.Contains(c, ".")
		for _, mode := range testenv.CrashModes {
			switch {
			case *r20Full, external:
			case c == "Commit" && mode != testenv.CrashAfter:
			case c != "Commit" && reads%4 == 0 && mode == testenv.CrashLost, c != "Commit" && reads%4 == 2 && mode == testenv.CrashError:
			default:
				continue
			}
			out = append(out, [2]any{i + 1, mode})
		}
		if !external && c != "Commit" {
			reads++
		}
	}
	return out
}

// r20Sweep is the sweep of one job. A case must end, once the
// redelivery the platform makes (if any) and then the next two scheduled
// runs have run, as the reference did (r20Settled: the times things were
// done at aside): nothing lost, nothing done twice. A case whose state
// after the redelivery is already the reference's is done (the next runs
// are deterministic); the others, whose work was left to the next
// scheduled run (a failure the job records and retries by design, a
// delivery not redelivered, a lease held by the dead delivery), are
// listed in the log.
func r20Sweep(t *testing.T, job r20Job) {
	ref := r20Ref(t, job)
	n := len(ref.calls)
	t.Logf("%s: %d RPCs uninterrupted: %s", job.name, n, strings.Join(ref.calls, " "))
	exercised, redelivered := 0, 0
	var later, twice, acked []string
	for _, kc := range r20Cases(ref.calls) {
		k, mode := kc[0].(int), kc[1].(testenv.CrashMode)
		c := r20Start(t, job, k, mode)
		exercised++
		if strings.Contains(c.what, "redelivered:") {
			redelivered++
		}
		rpc := "?"
		if k <= len(c.calls) {
			rpc = c.calls[k-1]
		}
		if strings.Contains(c.what, "although killed") {
			acked = append(acked, fmt.Sprintf("%s %d (%s)", mode, k, rpc))
		}
		if len(testenv.DiffDumps(ref.first, c.w.state())) > 0 {
			later = append(later, fmt.Sprintf("%s %d (%s)", mode, k, rpc))
			c.next()
			c.next()
			if d := testenv.DiffDumps(ref.settled, r20Settled(c.w.state())); len(d) > 0 {
				t.Errorf("killed %s RPC %d/%d (%s): %s; after the next two scheduled runs the state differs:\n  %s",
					mode, k, n, rpc, c.what, strings.Join(d, "\n  "))
			}
		}
		for id, m := range c.w.alertCounts() {
			if m > 1 {
				twice = append(twice, fmt.Sprintf("%s %d (%s) %s ×%d", mode, k, rpc, id, m))
			}
		}
	}
	t.Logf("%s: %d crash points exercised, %d redelivered; left to the next scheduled run: %d: %s",
		job.name, exercised, redelivered, len(later), r20List(later))
	t.Logf("%s: the handler answered nil although killed: %d: %s", job.name, len(acked), r20List(acked))
	if len(twice) > 0 {
		t.Logf("%s: alerted more than once (a run died between the alert and the hold): %s", job.name, strings.Join(twice, "; "))
	}
	if redelivered+len(later) == 0 {
		t.Error("no crash point failed the delivery: the fault injection does not reach the handler")
	}
}

// r20List joins l, the first 30 of it.
func r20List(l []string) string {
	if len(l) > 30 {
		return strings.Join(l[:30], ", ") + ", …"
	}
	return strings.Join(l, ", ")
}

// r20Twice delivers the job's message twice, then twice concurrently
// (on fresh databases); each must end as one delivery does.
func r20Twice(t *testing.T, job r20Job) {
	ref := r20Ref(t, job)
	w := r20NewWorld(t, job)
	for i := range 2 {
		if _, err := job.handle(context.Background(), w.service(nil, nil)); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if d := testenv.DiffDumps(ref.first, w.state()); len(d) > 0 {
		t.Errorf("delivered twice: end state differs:\n  %s", strings.Join(d, "\n  "))
	}
	w = r20NewWorld(t, job)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		svc := w.service(nil, nil)
		wg.Go(func() { _, errs[i] = job.handle(context.Background(), svc) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent delivery %d: %v", i+1, err)
		}
	}
	// A concurrent sync may have found the lease busy: the next one books.
	c := &r20Case{t: t, job: job, w: w, what: "delivered twice concurrently"}
	c.next()
	if d := testenv.DiffDumps(ref.afterNext, w.state()); len(d) > 0 {
		t.Errorf("delivered twice concurrently, then the next run: end state differs:\n  %s", strings.Join(d, "\n  "))
	}
	for id, n := range w.alertCounts() {
		if n != 1 {
			t.Errorf("delivered twice concurrently: payout %s alerted %d times, want once", id, n)
		}
	}
}

// ---- the jobs ----

func r20Message(data string) *events.PubSubMessage {
	return &events.PubSubMessage{ID: "m-r20", Data: []byte(data)}
}

// r20RunJob is payoutsRun of a due period, sales booking on: three
// coaches (two eligible, one whose payouts are disabled), solo sales in
// two currencies (two payouts in SEK: two payments a payout), a shared
// sale, a coach with a negative balance carried in, a sale refunded in
// full before its allocation, a refund of a sale paid out in the last
// period (an adjustment), and a pending payout whose coach was erased
// since; allocation, payouts, checkpoint, transfers, the hold.
func r20RunJob() r20Job {
	return r20Job{
		name:   "payoutsRun (due period)",
		stripe: true,
		next:   7 * 24 * time.Hour,
		seed: func(w *r20World) {
			e := w.e
			e.set("jobs/payouts", model.Job{Name: JobPayouts, Checkpoint: map[string]any{"lastPeriodEnd": "2026-04-20"}, UpdatedAt: t0.AddDate(0, 0, -14)})
			e.program("solo", []string{"c1"}, nil, nil)
			e.program("duo", []string{"c1", "c2"}, nil, nil)
			e.program("off", []string{"c3"}, nil, nil)
			e.coach("c1", "acct_c1", true)
			e.coach("c2", "acct_c2", true)
			e.coach("c3", "acct_c3", false)
			e.set("users/c2/private/payouts", model.CoachPayoutState{CoachID: "c2", CarryForward: map[string]int64{"SEK": -500}, UpdatedAt: t0.AddDate(0, 0, -14)})
			e.payment("a", "solo", 10000, "SEK", 3)
			e.payment("a2", "solo", 3000, "SEK", 6)
			e.payment("a3", "solo", 4500, "EUR", 6)
			e.payment("b", "duo", 15001, "SEK", 2)
			e.payment("c", "off", 8000, "SEK", 5)
			e.payment("d", "duo", 9000, "SEK", 4, func(p *model.Payment) {
				p.Status = model.PaymentRefunded
				p.RefundDetails = &model.RefundDetails{AmountRefunded: 9000}
				p.UpdatedAt = p.PaymentDate.Add(time.Hour)
			})
			// Paid out in the last period (c1 8 000 of 10 000), refunded
			// 2 500 since: c1's payout is 2 000 less.
			old := t0.AddDate(0, 0, -20)
			e.payment("old", "solo", 10000, "SEK", 20, func(p *model.Payment) {
				p.Status = model.PaymentPartiallyRefunded
				p.RefundDetails = &model.RefundDetails{AmountRefunded: 2500}
				p.PayoutID = "po_earlier"
				p.UpdatedAt = t0.AddDate(0, 0, -2)
			})
			// A payout of an earlier period whose coach was erased since:
			// held, with its alert.
			gone := pseudonym.Of(testKey, "gone")
			e.set("payouts/po_"+gone+"_sek_20260420", model.Payout{PayoutID: "po_" + gone + "_sek_20260420", CoachID: gone, Amount: 600, Currency: "SEK",
				PayoutDate: old, Status: model.PayoutPending, Processor: ProcessorStripeConnect, RelatedPaymentIDs: []string{"y"},
				Pseudonymised: true, CreatedAt: old, UpdatedAt: old})
			e.set("payout_allocations/old", model.PayoutAllocation{PaymentID: "old", ProgramID: "solo", Currency: "SEK", PaymentDate: old,
				Net: 10000, Commission: 2000, CommissionBps: 2000, Weights: map[string]int64{"c1": 1}, TermsSource: TermsFromProgram,
				Events:  []model.AllocationEvent{{Seq: 1, Kind: "allocation", Net: 10000, Commission: 2000, At: old, SalesExempt: true}},
				Entries: []model.AllocationEntry{{Seq: 1, CoachID: "c1", Gross: 10000, Commission: 2000, Amount: 8000, PayoutID: "po_earlier"}},
				Open:    []string{}, CreatedAt: old, UpdatedAt: old})
		},
		handle: func(ctx context.Context, svc *Service) (bool, error) {
			// Two payments a payout: c1's SEK sales take two (ids _… and _…_2).
			svc.Settings.MaxPaymentsPerPayout, svc.Settings.BookSales = 2, true
			return false, svc.OnPayoutsRun(ctx, r20Message(`{"scheduled":true}`))
		},
	}
}

// r20TransfersJob is the weekly payoutsRun when no period is due:
// ExecuteTransfers and Confirm only, over payouts in every state an
// earlier run can leave.
func r20TransfersJob() r20Job {
	ago := t0.Add(-2 * time.Hour)
	payout := func(w *r20World, id, coach string, amount int64, st model.PayoutStatus, mods ...func(*model.Payout)) {
		p := model.Payout{PayoutID: id, CoachID: coach, Amount: amount, Currency: "SEK", PayoutDate: ago, Status: st,
			Processor: ProcessorStripeConnect, RelatedPaymentIDs: []string{"x"}, CreatedAt: ago, UpdatedAt: ago}
		for _, m := range mods {
			m(&p)
		}
		w.e.set("payouts/"+id, p)
	}
	erased := pseudonym.Of(testKey, "gone")
	return r20Job{
		name:   "payoutsRun (transfers and confirmations)",
		stripe: true,
		// The rerun is a week later, after Stripe's 24-hour idempotency
		// window: only the lookup by transfer_group keeps a transfer made
		// but not recorded from being made again.
		next:         7 * 24 * time.Hour,
		noRedelivery: true,
		seed: func(w *r20World) {
			e := w.e
			e.set("jobs/payouts", model.Job{Name: JobPayouts, Checkpoint: map[string]any{"lastPeriodEnd": "2026-05-04"}, UpdatedAt: ago})
			e.coach("c1", "acct_c1", true)
			e.coach("c2", "acct_c2", true)
			e.coach("c3", "", false)
			started := ago
			// Pending, never attempted (two coaches).
			payout(w, "po_new1", "c1", 4000, model.PayoutPending)
			payout(w, "po_new2", "c2", 2500, model.PayoutPending)
			// Pending, an earlier run died after transfer.New.
			payout(w, "po_started", "c1", 3000, model.PayoutPending, func(p *model.Payout) { p.TransferStartedAt = &started })
			w.stripe.preload("po_started", 3000, "acct_c1", ago)
			// Processing with its transfer recorded, older than
			// ConfirmAfter; Stripe reversed 300 of it meanwhile.
			tr := w.stripe.preload("po_proc", 1500, "acct_c2", ago)
			w.stripe.reverse("po_proc", "trr_p1", 300, ago.Add(30*time.Minute))
			payout(w, "po_proc", "c2", 1500, model.PayoutProcessing, func(p *model.Payout) { p.ProcessorPayoutID = &tr; p.TransferStartedAt = &started })
			// Processing through a transfer.* webhook, its id never recorded.
			w.stripe.preload("po_lost", 1200, "acct_c1", ago)
			payout(w, "po_lost", "c1", 1200, model.PayoutProcessing, func(p *model.Payout) { p.TransferStartedAt = &started })
			// A coach without an account.
			payout(w, "po_wait", "c3", 999, model.PayoutPending)
			// Erased coaches: one never attempted (held), one whose
			// earlier attempt made the transfer (recorded).
			payout(w, "po_erased", erased, 700, model.PayoutPending, func(p *model.Payout) { p.Pseudonymised = true })
			payout(w, "po_erased_tr", erased, 800, model.PayoutPending, func(p *model.Payout) { p.Pseudonymised = true; p.TransferStartedAt = &started })
			w.stripe.preload("po_erased_tr", 800, "acct_gone", ago)
		},
		handle: func(ctx context.Context, svc *Service) (bool, error) {
			return false, svc.OnPayoutsRun(ctx, r20Message(`{"scheduled":true}`))
		},
	}
}

// r20SyncJob is fortnoxSync with the sales booking on: a processing
// payout its Confirm completes (then books), two completed payouts to
// book, a booked payout whose transfer was partly reversed (one reversal
// known, one to list from Stripe), and the sales vouchers of two
// allocations (a sale, and a sale with a later refund).
func r20SyncJob() r20Job {
	return r20Job{
		name:    "fortnoxSync",
		fortnox: true,
		stripe:  true,
		next:    24 * time.Hour,
		seed: func(w *r20World) {
			e := w.e
			day := t0.AddDate(0, 0, -1)
			done := func(id, coach string, amount int64, mods ...func(*model.Payout)) {
				tr := "tr_" + id
				p := model.Payout{PayoutID: id, CoachID: coach, Amount: amount, Currency: "SEK", PayoutDate: day, Status: model.PayoutCompleted,
					Processor: ProcessorStripeConnect, ProcessorPayoutID: &tr, RelatedPaymentIDs: []string{"a"}, CreatedAt: day, UpdatedAt: day}
				for _, m := range mods {
					m(&p)
				}
				e.set("payouts/"+id, p)
			}
			done("po_b1", "c1", 12345)
			done("po_b2", "c2", 6789)
			tr := w.stripe.preload("po_conf", 4321, "acct_c1", day)
			done("po_conf", "c1", 4321, func(p *model.Payout) { p.Status, p.ProcessorPayoutID = model.PayoutProcessing, &tr })
			rtr := w.stripe.preload("po_rev", 5000, "acct_c1", day.AddDate(0, 0, -3))
			w.stripe.reverse("po_rev", "trr_1", 700, day.AddDate(0, 0, -2))
			w.stripe.reverse("po_rev", "trr_2", 400, day)
			done("po_rev", "c1", 5000, func(p *model.Payout) {
				ref := "P/900/7"
				p.ProcessorPayoutID = &rtr
				p.FortnoxReference, p.FortnoxVoucher = &ref, &model.FortnoxVoucher{Series: "P", Number: 900, Year: 7}
				r := model.TransferReversal{Amount: 700, At: day.AddDate(0, 0, -2)}
				p.TransferReversals, p.ReversalPending = map[string]model.TransferReversal{"trr_1": r}, true
				p.TransferReversal = &model.TransferReversal{Amount: 1100, At: day}
			})
			alloc := func(id string, events ...model.AllocationEvent) {
				e.set("payout_allocations/"+id, model.PayoutAllocation{PaymentID: id, ProgramID: "solo", Currency: "SEK", PaymentDate: day.AddDate(0, 0, -3),
					CommissionBps: 2000, Weights: map[string]int64{"c1": 1}, Events: events, Entries: []model.AllocationEntry{}, Open: []string{},
					SalesPending: true, CreatedAt: day, UpdatedAt: day})
			}
			alloc("s1", model.AllocationEvent{Seq: 1, Kind: "allocation", Net: 12500, Commission: 2500, At: day})
			alloc("s2", model.AllocationEvent{Seq: 1, Kind: "allocation", Net: 10000, Commission: 2000, At: day},
				model.AllocationEvent{Seq: 2, Kind: "adjustment", Net: -4000, Commission: -800, At: day.Add(2 * time.Hour)})
		},
		handle: func(ctx context.Context, svc *Service) (bool, error) {
			// OnFortnoxSync with {} is SyncFortnox, its error as is; the
			// report says whether the lease was busy.
			svc.Settings.BookSales = true
			rep, err := svc.SyncFortnox(ctx, SyncRequest{})
			return rep != nil && rep.Busy, err
		},
	}
}

// TestReview20RunCrashPoints sweeps payoutsRun of a due period.
func TestReview20RunCrashPoints(t *testing.T) { r20Sweep(t, r20RunJob()) }

// TestReview20TransfersCrashPoints sweeps the transfers and confirmations
// of a weekly payoutsRun.
func TestReview20TransfersCrashPoints(t *testing.T) { r20Sweep(t, r20TransfersJob()) }

// TestReview20SyncCrashPoints sweeps fortnoxSync.
func TestReview20SyncCrashPoints(t *testing.T) { r20Sweep(t, r20SyncJob()) }

// TestReview20DeliveredTwice delivers each job's message twice, and twice
// concurrently.
func TestReview20DeliveredTwice(t *testing.T) {
	for _, job := range []r20Job{r20RunJob(), r20TransfersJob(), r20SyncJob()} {
		t.Run(job.name, func(t *testing.T) { r20Twice(t, job) })
	}
}

// TestReview20ErasedCoachAlertNotLost: the run that holds a pending payout
// of an erased coach (failed, "coach erased…") logs the alert operators
// settle it by; when that run dies with the hold written but before the
// alert (the hold's Commit answer lost), the redelivery and the next
// scheduled runs must still alert it, once.
func TestReview20ErasedCoachAlertNotLost(t *testing.T) {
	gone := pseudonym.Of(testKey, "gone")
	job := r20Job{
		name: "payoutsRun (an erased coach's payout)",
		next: 7 * 24 * time.Hour,
		seed: func(w *r20World) {
			w.e.set("jobs/payouts", model.Job{Name: JobPayouts, Checkpoint: map[string]any{"lastPeriodEnd": "2026-05-04"}, UpdatedAt: t0})
			w.e.set("payouts/po_held", model.Payout{PayoutID: "po_held", CoachID: gone, Amount: 600, Currency: "SEK", PayoutDate: t0.AddDate(0, 0, -14),
				Status: model.PayoutPending, Processor: ProcessorStripeConnect, RelatedPaymentIDs: []string{"y"}, Pseudonymised: true,
				CreatedAt: t0.AddDate(0, 0, -14), UpdatedAt: t0.AddDate(0, 0, -14)})
		},
		handle: func(ctx context.Context, svc *Service) (bool, error) {
			return false, svc.OnPayoutsRun(ctx, r20Message(`{"scheduled":true}`))
		},
	}
	ref := r20Start(t, job, 0, "")
	hold := slices.Index(ref.calls, "Commit") + 1 // the first write is the hold
	if hold == 0 {
		t.Fatalf("no write in %v", ref.calls)
	}
	for _, mode := range []testenv.CrashMode{testenv.CrashLost, testenv.CrashAfter, testenv.CrashError} {
		t.Run(string(mode), func(t *testing.T) {
			c := r20Start(t, job, hold, mode)
			c.next()
			c.next()
			if p := c.w.e.payout("po_held"); p.Status != model.PayoutFailed || p.Reason != ReasonCoachErased {
				t.Errorf("%s: payout %s %q, want failed %q", c.what, p.Status, p.Reason, ReasonCoachErased)
			}
			if n := c.w.alertCounts()["po_held"]; n != 1 {
				t.Errorf("%s; two scheduled runs later: %d %s alerts, want 1", c.what, n, AlertCoachErased)
			}
		})
	}
}
