package payouts

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
)

// withFortnox starts a fake Fortnox and gives the service a fast client
// for it: a generous rate window (unless opts sets one), short timeouts,
// backoffs and reconcile delay, and the env's clock for token lifetimes.
func withFortnox(t *testing.T, e *env, opts fortnoxfake.Options, tune func(*fortnox.Config)) *fortnoxfake.Server {
	t.Helper()
	if opts.RateLimit == 0 {
		opts.RateLimit, opts.RateWindow = 100000, time.Second
	}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	opts.MaxHang = 5 * time.Second
	s := fortnoxfake.New(opts)
	t.Cleanup(s.Close)
	withFortnoxClient(t, e, s, tune)
	return s
}

// withFortnoxClient gives e's service a Fortnox client of the fake s
// (tune, when set, adjusts its configuration).
func withFortnoxClient(t *testing.T, e *env, s *fortnoxfake.Server, tune func(*fortnox.Config)) {
	t.Helper()
	cfg := fortnox.Config{
		BaseURL: s.URL, TokenURL: s.TokenURL, ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), TenantID: s.Tenant(),
		Now: e.clock.Now, Limiter: fortnox.Unlimited{}, RequestTimeout: 400 * time.Millisecond,
		BackoffBase: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, ReconcileDelay: 10 * time.Millisecond,
	}
	if tune != nil {
		tune(&cfg)
	}
	c, err := fortnox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Fortnox = func(context.Context) (*fortnox.Client, error) { return c, nil }
}

// completed writes a completed payout (as the transfer webhook leaves it).
func (e *env) completed(id string, amount int64, currency string, at time.Time) {
	e.t.Helper()
	tr := "tr_" + id
	e.set("payouts/"+id, model.Payout{PayoutID: id, CoachID: "c1", Amount: amount, Currency: currency, PayoutDate: at,
		Status: model.PayoutCompleted, Processor: ProcessorStripeConnect, ProcessorPayoutID: &tr, CreatedAt: at, UpdatedAt: at})
}

func (e *env) sync(req SyncRequest) *SyncReport {
	e.t.Helper()
	rep, err := e.svc.SyncFortnox(e.ctx, req)
	if err != nil {
		e.t.Fatalf("SyncFortnox: %v", err)
	}
	return rep
}

// checkBooked verifies that each payout is on exactly one voucher of the
// fake, with the payout's reference, the right rows and financial year.
func checkBooked(t *testing.T, e *env, s *fortnoxfake.Server, ids ...string) {
	t.Helper()
	st := e.svc.settings()
	byMarker := map[string][]fortnoxfake.Voucher{}
	for _, v := range s.Vouchers(s.Tenant()) {
		id := strings.TrimPrefix(v.Description, "Coach payout ")
		byMarker[id] = append(byMarker[id], v)
	}
	for _, id := range ids {
		vs := byMarker[id]
		if len(vs) != 1 {
			t.Errorf("payout %s is on %d vouchers", id, len(vs))
			continue
		}
		v, p := vs[0], e.payout(id)
		ref := fmt.Sprintf("%s/%d/%d", v.Series, v.Number, v.Year)
		if p.FortnoxReference == nil || *p.FortnoxReference != ref || p.FortnoxVoucher == nil ||
			*p.FortnoxVoucher != (model.FortnoxVoucher{Series: v.Series, Number: v.Number, Year: v.Year}) || p.FortnoxError != "" {
			t.Errorf("payout %s: reference %v %+v (voucher %s), error %q", id, p.FortnoxReference, p.FortnoxVoucher, ref, p.FortnoxError)
		}
		date := p.PayoutDate.In(st.Zone).Format(time.DateOnly)
		wantYear := 0
		if y, _ := fmt.Sscanf(date[:4], "%d", &wantYear); y == 1 {
			wantYear -= 2019 // the fake's calendar years 2020… have ids 1…
		}
		if v.Series != st.VoucherSeries || v.TransactionDate != date || v.Year != wantYear || len(v.Rows) != 2 ||
			v.Rows[0] != (fortnoxfake.Row{Account: st.PayoutDebitAccount, Debit: p.Amount}) ||
			v.Rows[1] != (fortnoxfake.Row{Account: st.ClearingAccount, Credit: p.Amount}) {
			t.Errorf("payout %s (%d öre, %s): voucher %+v", id, p.Amount, date, v)
		}
	}
	if n := len(s.Vouchers(s.Tenant())); n != len(ids) {
		t.Errorf("%d vouchers in Fortnox, want %d", n, len(ids))
	}
}

// TestFortnoxSync: completed payouts become one voucher each, in the right
// financial year, and nothing else is booked.
func TestFortnoxSync(t *testing.T) {
	e := newEnv(t)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	var ids []string
	for i, amt := range []int64{1, 99, 100, 123456789, 4000000000000, 50000} {
		id := fmt.Sprintf("po_c%d_sek_20260504", i)
		e.completed(id, amt, "SEK", t0)
		ids = append(ids, id)
	}
	// New Year's Eve: 23:30 UTC is already 2026 in Stockholm.
	e.completed("po_ny_sek_20260101", 7000, "SEK", time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC))
	e.completed("po_oy_sek_20251231", 7000, "SEK", time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC))
	ids = append(ids, "po_ny_sek_20260101", "po_oy_sek_20251231")
	e.completed("po_eur_eur_20260504", 5000, "EUR", t0)
	e.completed("po_zero_sek_20260504", 0, "SEK", t0)
	e.set("payouts/po_wait_sek_20260504", model.Payout{PayoutID: "po_wait_sek_20260504", CoachID: "c1", Amount: 100, Currency: "SEK",
		Status: model.PayoutProcessing, Processor: ProcessorStripeConnect, PayoutDate: t0})

	dry := e.sync(SyncRequest{DryRun: true})
	if dry.Pending != len(ids) || len(dry.Planned) != len(ids) || len(s.Vouchers(s.Tenant())) != 0 {
		t.Fatalf("dry run %+v", dry)
	}
	rep := e.sync(SyncRequest{})
	if rep.Booked != len(ids) || rep.Failed != 0 || rep.NotBooked[notBookedCurrency] != 1 || rep.NotBooked[notBookedZero] != 1 {
		t.Fatalf("sync %+v", rep)
	}
	checkBooked(t, e, s, ids...)
	if p := e.payout("po_ny_sek_20260101"); p.FortnoxVoucher.Year != 7 {
		t.Errorf("New Year's Eve payout in year %d, want 7 (2026)", p.FortnoxVoucher.Year)
	}
	if p := e.payout("po_eur_eur_20260504"); p.FortnoxReference != nil || !strings.Contains(p.FortnoxError, "book manually") {
		t.Errorf("EUR payout: %+v", p)
	}
	if rep := e.sync(SyncRequest{}); rep.Booked != 0 || rep.Pending != 0 {
		t.Errorf("rerun %+v", rep)
	}
	checkBooked(t, e, s, ids...)
}

// TestFortnoxSyncFaults: 429 storms, timeouts and dropped connections after
// a create, 5xx answers and tokens expiring mid-run: every payout is booked
// exactly once (a failed booking is finished by the next sync).
func TestFortnoxSyncFaults(t *testing.T) {
	tests := []struct {
		name   string
		opts   fortnoxfake.Options
		tune   func(*fortnox.Config)
		inject func(e *env, s *fortnoxfake.Server)
		check  func(t *testing.T, s *fortnoxfake.Server, rep *SyncReport)
	}{
		{name: "429 storm", opts: fortnoxfake.Options{RateLimit: 5, RateWindow: 200 * time.Millisecond},
			tune: func(c *fortnox.Config) {
				c.MaxAttempts, c.BackoffBase, c.BackoffMax = 30, 20*time.Millisecond, 200*time.Millisecond
			},
			check: func(t *testing.T, s *fortnoxfake.Server, rep *SyncReport) {
				if s.Stats().TooManyRequests == 0 || rep.TooManyRequests == 0 {
					t.Errorf("no 429s: %+v", s.Stats())
				}
			}},
		{name: "timeouts after create", inject: func(_ *env, s *fortnoxfake.Server) { s.TimeoutAfterCreateNext(3) }},
		{name: "connection dropped after create", inject: func(_ *env, s *fortnoxfake.Server) { s.DropAfterCreateNext(3) }},
		{name: "502 after create", inject: func(_ *env, s *fortnoxfake.Server) { s.FailAfterCreateNext(3, 502) }},
		{name: "503 and hangs before processing", inject: func(_ *env, s *fortnoxfake.Server) { s.FailNext(3, 503); s.TimeoutNext(2) }},
		{name: "token revoked mid-run", inject: func(_ *env, s *fortnoxfake.Server) { s.ExpireTokens() }},
		{name: "token expires by the clock mid-run", inject: func(e *env, _ *fortnoxfake.Server) { e.clock.Add(61 * time.Minute) }},
		{name: "token endpoint down then a timeout after create", inject: func(e *env, s *fortnoxfake.Server) {
			s.ExpireTokens()
			s.FailTokenNext(2, 503)
			s.TimeoutAfterCreateNext(1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			s := withFortnox(t, e, tt.opts, tt.tune)
			var ids []string
			for i := range 24 {
				id := fmt.Sprintf("po_f%02d_sek_20260504", i)
				e.completed(id, int64(10000+i), "SEK", t0)
				ids = append(ids, id)
			}
			injected := false
			e.svc.Progress = func(stage string, done, _ int) {
				if stage == "vouchers" && done >= 6 && !injected && tt.inject != nil {
					injected = true
					tt.inject(e, s)
				}
			}
			rep := e.sync(SyncRequest{})
			for i := 0; i < 3 && rep.Booked+rep.Recovered < len(ids); i++ {
				more := e.sync(SyncRequest{})
				rep.Booked += more.Booked
				rep.Recovered += more.Recovered
			}
			checkBooked(t, e, s, ids...)
			if tt.check != nil {
				tt.check(t, s, rep)
			}
			t.Logf("requests %d, 429s %d, reconciliations %d, failed first time %d", rep.Requests, rep.TooManyRequests, rep.Reconciliations, rep.Failed)
		})
	}
}

// TestFortnoxCrashAfterCreate: a sync died between Fortnox's 201 and the
// Firestore write (the payout carries the booking mark, the voucher
// exists); the next sync finds the voucher by its marker instead of
// booking again. A mark without a voucher (died before the POST) books.
func TestFortnoxCrashAfterCreate(t *testing.T) {
	e := newEnv(t)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.completed("po_crash_sek_20260504", 31415, "SEK", t0)
	e.completed("po_early_sek_20260504", 2718, "SEK", t0)
	mark := model.FortnoxBooking{StartedAt: t0, Date: "2026-05-04", Series: "P", FinancialYear: 7}
	e.update("payouts/po_crash_sek_20260504", fsUpdate("fortnoxBooking", mark)...)
	e.update("payouts/po_early_sek_20260504", fsUpdate("fortnoxBooking", mark)...)
	c, _ := e.svc.Fortnox(e.ctx)
	po := e.payout("po_crash_sek_20260504")
	if _, err := c.CreateVoucherOnce(e.ctx, 7, e.svc.payoutVoucher(&po, "2026-05-04", "P"), po.PayoutID); err != nil {
		t.Fatal(err)
	}
	rep := e.sync(SyncRequest{})
	if rep.Recovered != 1 || rep.Booked != 1 {
		t.Fatalf("sync %+v", rep)
	}
	checkBooked(t, e, s, "po_crash_sek_20260504", "po_early_sek_20260504")
}

// TestFortnoxSyncLease: one sync at a time; a dead holder's lease expires.
func TestFortnoxSyncLease(t *testing.T) {
	e := newEnv(t)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("po_l%d_sek_20260504", i)
		e.completed(id, 1000, "SEK", t0)
		ids = append(ids, id)
	}
	other := &Service{Firestore: e.fs, Now: e.clock.Now, Settings: e.svc.Settings, Holder: "other"}
	_, release, ok, err := other.acquire(e.ctx)
	if err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	if rep := e.sync(SyncRequest{}); !rep.Busy || rep.Booked != 0 {
		t.Fatalf("sync beside a held lease: %+v", rep)
	}
	release()

	// Concurrent syncs: whoever holds the lease books; the rest are busy.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			svc := *e.svc
			svc.Holder = ""
			if _, err := svc.SyncFortnox(e.ctx, SyncRequest{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	checkBooked(t, e, s, ids...)

	// A holder that died keeps the lease only until it expires.
	if _, _, ok, _ := other.acquire(e.ctx); !ok {
		t.Fatal("free lease not taken")
	}
	e.completed("po_late_sek_20260504", 500, "SEK", t0)
	if rep := e.sync(SyncRequest{}); !rep.Busy {
		t.Fatal("lease of a live holder taken")
	}
	e.clock.Add(e.svc.settings().LeaseTTL + time.Second)
	if rep := e.sync(SyncRequest{}); rep.Busy || rep.Booked != 1 {
		t.Fatalf("expired lease not taken over: %+v", rep)
	}
}

// TestFortnoxRefreshTokenFlow: without a tenant id the client rotates
// single-use refresh tokens kept in Firestore; an access token expiring
// mid-run is refreshed, the rotation is saved, and a new instance carries
// on from the stored token (the seed is spent).
func TestFortnoxRefreshTokenFlow(t *testing.T) {
	e := newEnv(t)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	seed := s.IssueRefreshToken(s.Tenant())
	newClient := func() {
		c, err := fortnox.New(fortnox.Config{BaseURL: s.URL, TokenURL: s.TokenURL, ClientID: s.ClientID(), ClientSecret: s.ClientSecret(),
			RefreshToken: seed, RefreshTokens: &TokenStore{Firestore: e.fs, Now: e.clock.Now}, Now: e.clock.Now,
			Limiter: fortnox.Unlimited{}, ReconcileDelay: 10 * time.Millisecond, BackoffBase: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Fortnox = func(context.Context) (*fortnox.Client, error) { return c, nil }
	}
	newClient()
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("po_r%d_sek_20260504", i)
		e.completed(id, 1000, "SEK", t0)
		ids = append(ids, id)
	}
	e.svc.Progress = func(stage string, done, _ int) {
		if stage == "vouchers" && done == 5 {
			e.clock.Add(2 * time.Hour)
		}
	}
	e.sync(SyncRequest{})
	e.svc.Progress = nil
	tok, err := (&TokenStore{Firestore: e.fs}).LoadRefreshToken(e.ctx)
	if err != nil || tok == "" || tok == seed {
		t.Fatalf("stored refresh token %q (err %v)", tok, err)
	}
	// Another instance, a day later, with only the spent seed configured.
	e.clock.Add(24 * time.Hour)
	newClient()
	e.completed("po_next_sek_20260504", 1000, "SEK", t0)
	if rep := e.sync(SyncRequest{}); rep.Booked != 1 {
		t.Fatalf("second instance: %+v", rep)
	}
	checkBooked(t, e, s, append(ids, "po_next_sek_20260504")...)
	if st := s.Stats(); st.RefreshTokenReuse != 0 || st.TokenRequests < 3 {
		t.Errorf("token stats %+v", st)
	}
}

// TestSalesVouchers: with the sales booking on, each allocation event is
// booked once (agent model: clearing against coach liability, commission
// less VAT and VAT), refunds in reverse; vouchers balance to the öre.
func TestSalesVouchers(t *testing.T) {
	e := newEnv(t)
	e.svc.Settings.BookSales = true
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.program("duo", []string{"c1", "c2"}, nil, nil)
	e.payment("a", "duo", 12500, "SEK", 2)
	e.payment("b", "duo", 999, "EUR", 2)
	e.run(RunRequest{})
	rep := e.sync(SyncRequest{})
	if rep.SalesBooked != 1 || rep.SalesFailed != 0 {
		t.Fatalf("sync %+v", rep)
	}
	e.clock.Set(t0.AddDate(0, 0, 14))
	e.refund("a", 5001, false)
	e.run(RunRequest{})
	rep = e.sync(SyncRequest{})
	if rep.SalesBooked != 1 {
		t.Fatalf("second sync %+v", rep)
	}
	if rep := e.sync(SyncRequest{}); rep.SalesBooked != 0 {
		t.Fatalf("third sync %+v", rep)
	}
	type row = fortnoxfake.Row
	want := map[string][]row{
		"Program sale sale_a_1": {{Account: 1580, Debit: 12500}, {Account: 2890, Credit: 10000}, {Account: 3001, Credit: 2000}, {Account: 2611, Credit: 500}},
		// −5001: commission 2500 → 1500 (−1000), VAT −200, pool −4001.
		"Program sale sale_a_2": {{Account: 1580, Credit: 5001}, {Account: 2890, Debit: 4001}, {Account: 3001, Debit: 800}, {Account: 2611, Debit: 200}},
	}
	vs := s.Vouchers(s.Tenant())
	if len(vs) != len(want) {
		t.Fatalf("%d vouchers: %+v", len(vs), vs)
	}
	dates := map[string]string{"Program sale sale_a_1": "2026-05-02", "Program sale sale_a_2": "2026-05-18"}
	for _, v := range vs {
		w, ok := want[v.Description]
		if !ok || v.Series != "A" || fmt.Sprint(v.Rows) != fmt.Sprint(w) || v.TransactionDate != dates[v.Description] {
			t.Errorf("voucher %q of %s rows %+v, want %+v", v.Description, v.TransactionDate, v.Rows, w)
		}
	}
	snap, err := e.fs.Doc("payout_allocations/b").Get(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var a model.PayoutAllocation
	if err := snap.DataTo(&a); err != nil || a.SalesPending || !strings.Contains(a.Events[0].SalesError, "book manually") {
		t.Errorf("EUR allocation %+v (%v)", a, err)
	}
}

// TestSalesBookingSkipsEventsMadeWhileDisabled: the sales booking books
// only the allocation events made while it is enabled. An event made while
// it was off (its sale booked from Stripe's reports) is SalesExempt: never
// planned, never booked, never keeps the allocation salesPending, also in
// an earlier financial year Fortnox no longer accepts vouchers in (here:
// none covers the payment's date) and for allocations written before
// events carried the flag.
func TestSalesBookingSkipsEventsMadeWhileDisabled(t *testing.T) {
	// From 2026-05-10 only: the payment's day (2026-05-02) cannot be booked.
	lateYear := []fortnoxfake.FinancialYear{{ID: 7, FromDate: "2026-05-10", ToDate: "2026-12-31"}}
	tests := []struct {
		name string
		// years of the fake (nil: the defaults).
		years []fortnoxfake.FinancialYear
		// allocatedOn, refundedOn: the sales booking when the payment was
		// allocated and when its refund was seen (synced on at the end).
		allocatedOn, refundedOn bool
		// legacy strips salesExempt from the stored allocation after the
		// first run, as written before the flag existed.
		legacy bool
		// wantBooked are the sales markers booked; wantExempt the events'
		// flags by seq.
		wantBooked []string
		wantExempt []bool
	}{
		{name: "allocated while off, refund while on", allocatedOn: false, refundedOn: true,
			wantBooked: []string{"sale_a_2"}, wantExempt: []bool{true, false}},
		{name: "allocated while off in a year Fortnox refuses", years: lateYear, allocatedOn: false, refundedOn: true,
			wantBooked: []string{"sale_a_2"}, wantExempt: []bool{true, false}},
		{name: "allocation written before the flag", allocatedOn: false, refundedOn: true, legacy: true,
			wantBooked: []string{"sale_a_2"}, wantExempt: []bool{true, false}},
		{name: "allocated while on, refund while off", allocatedOn: true, refundedOn: false,
			wantBooked: []string{"sale_a_1"}, wantExempt: []bool{false, true}},
		{name: "always on", allocatedOn: true, refundedOn: true,
			wantBooked: []string{"sale_a_1", "sale_a_2"}, wantExempt: []bool{false, false}},
		{name: "always off", allocatedOn: false, refundedOn: false,
			wantBooked: nil, wantExempt: []bool{true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := withFortnox(t, e, fortnoxfake.Options{FinancialYears: tc.years}, nil)
			e.program("p1", []string{"c1"}, nil, nil)
			e.payment("a", "p1", 12500, "SEK", 2)
			e.svc.Settings.BookSales = tc.allocatedOn
			e.run(RunRequest{})
			if tc.legacy {
				a := e.allocation("a")
				for i := range a.Events {
					a.Events[i].SalesExempt = false
				}
				e.set("payout_allocations/a", a)
			}

			e.svc.Settings.BookSales = tc.refundedOn
			e.clock.Set(t0.AddDate(0, 0, 14))
			e.refund("a", 5001, false)
			e.run(RunRequest{})

			e.svc.Settings.BookSales = true
			var planned []string
			for _, v := range e.sync(SyncRequest{DryRun: true}).Planned {
				planned = append(planned, v.Marker)
			}
			rep := e.sync(SyncRequest{})
			var booked []string
			for _, v := range s.Vouchers(s.Tenant()) {
				booked = append(booked, strings.TrimPrefix(v.Description, "Program sale "))
			}
			if fmt.Sprint(planned) != fmt.Sprint(tc.wantBooked) || fmt.Sprint(booked) != fmt.Sprint(tc.wantBooked) ||
				rep.SalesFailed != 0 {
				t.Errorf("planned %v, booked %v (report %+v), want %v", planned, booked, rep, tc.wantBooked)
			}
			a := e.allocation("a")
			var exempt []bool
			for _, ev := range a.Events {
				exempt = append(exempt, ev.SalesExempt)
			}
			if fmt.Sprint(exempt) != fmt.Sprint(tc.wantExempt) || a.SalesPending {
				t.Errorf("events exempt %v, want %v; salesPending %v after the sync", exempt, tc.wantExempt, a.SalesPending)
			}
		})
	}
}

// allocation reads payout_allocations/{paymentID}.
func (e *env) allocation(paymentID string) model.PayoutAllocation {
	e.t.Helper()
	snap, err := e.fs.Doc("payout_allocations/" + paymentID).Get(e.ctx)
	if err != nil {
		e.t.Fatalf("allocation %s: %v", paymentID, err)
	}
	var a model.PayoutAllocation
	if err := snap.DataTo(&a); err != nil {
		e.t.Fatalf("decode allocation %s: %v", paymentID, err)
	}
	return a
}

// TestLeaseRunningOut: with renewals every ttl/3, a sync whose renewals
// fail stops at the second failure in a row (a third of the lease left),
// never after its lease could have expired and another sync taken it.
func TestLeaseRunningOut(t *testing.T) {
	ttl := 3 * time.Minute
	held := time.Date(2026, 11, 21, 12, 3, 0, 0, time.UTC) // renewed at 12:00
	for _, tc := range []struct {
		at   time.Time
		stop bool
	}{
		{held.Add(-ttl + ttl/3), false}, // first failed renewal: two thirds left
		{held.Add(-ttl/3 - time.Second), false},
		{held.Add(-ttl / 3), true}, // second failed renewal
		{held, true},
		{held.Add(time.Minute), true},
	} {
		if got := leaseRunningOut(tc.at, held, ttl); got != tc.stop {
			t.Errorf("at %s (held until %s): running out %v, want %v", tc.at.Format("15:04:05"), held.Format("15:04:05"), got, tc.stop)
		}
	}
}
