package fortnox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
)

// clock is a settable clock shared by a test's client and fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// memStore is an in-memory RefreshTokenStore recording every save.
type memStore struct {
	mu    sync.Mutex
	tok   string
	saves []string
	fail  error
}

func (m *memStore) LoadRefreshToken(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

func (m *memStore) SaveRefreshToken(_ context.Context, tok string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.tok = tok
	m.saves = append(m.saves, tok)
	return nil
}

// newFake starts a fake; unless the test sets a rate limit, the fake's is
// lifted so that tests about other things need no pacing.
func newFake(t testing.TB, opts fortnoxfake.Options) *fortnoxfake.Server {
	t.Helper()
	if opts.RateLimit == 0 {
		opts.RateLimit = 1 << 30
	}
	s := fortnoxfake.New(opts)
	t.Cleanup(s.Close)
	return s
}

// testConfig is a client-credentials config for s with fast retries and no
// client-side pacing (the fake's default window is far away for small tests).
func testConfig(s *fortnoxfake.Server) Config {
	return Config{
		BaseURL:        s.URL,
		TokenURL:       s.TokenURL,
		ClientID:       s.ClientID(),
		ClientSecret:   s.ClientSecret(),
		TenantID:       s.Tenant(),
		Limiter:        Unlimited{},
		RequestTimeout: 2 * time.Second,
		BackoffBase:    5 * time.Millisecond,
		BackoffMax:     50 * time.Millisecond,
		ReconcileDelay: time.Millisecond,
	}
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// payout is a balanced voucher: the coach liability debited against the
// payment processor's clearing account.
func payout(ore Amount, date string) Voucher {
	return Voucher{
		Description:     "Coach payout",
		TransactionDate: date,
		VoucherSeries:   "P",
		VoucherRows: []VoucherRow{
			{Account: 2890, Debit: ore},
			{Account: 1941, Credit: ore},
		},
	}
}

// assertBookedOnce checks that every marker is on exactly one stored voucher.
func assertBookedOnce(t *testing.T, s *fortnoxfake.Server, markers ...string) {
	t.Helper()
	counts := map[string]int{}
	for _, v := range s.Vouchers(s.Tenant()) {
		for _, m := range markers {
			if containsMarker(v.Description, m) {
				counts[m]++
			}
		}
	}
	for _, m := range markers {
		if counts[m] != 1 {
			t.Errorf("marker %s is on %d vouchers, want 1", m, counts[m])
		}
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"no client", Config{TenantID: "1"}, false},
		{"no tenant nor refresh", Config{ClientID: "a", ClientSecret: "b"}, false},
		{"tenant", Config{ClientID: "a", ClientSecret: "b", TenantID: "1"}, true},
		{"refresh token", Config{ClientID: "a", ClientSecret: "b", RefreshToken: "r"}, true},
		{"store", Config{ClientID: "a", ClientSecret: "b", RefreshTokens: &memStore{}}, true},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if err != nil && fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("%s: code %s", tc.name, fault.CodeOf(err))
		}
	}
}

func TestTokenFlows(t *testing.T) {
	clk := newClock()
	s := newFake(t, fortnoxfake.Options{Now: clk.Now})
	used := s.IssueRefreshToken(s.Tenant())
	{ // consume it
		c := newClient(t, Config{BaseURL: s.URL, TokenURL: s.TokenURL, ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), RefreshToken: used, Limiter: Unlimited{}})
		if _, err := c.FinancialYear(context.Background(), "2026-05-04"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		mutate   func(*Config, *memStore)
		setup    func()
		oauth    string
		status   int
		code     fault.Code
		newSaved bool
	}{
		{name: "client credentials", mutate: func(*Config, *memStore) {}},
		{name: "client credentials after token 503s", mutate: func(*Config, *memStore) {}, setup: func() { s.FailTokenNext(2, 503) }},
		{name: "wrong secret", mutate: func(c *Config, _ *memStore) { c.ClientSecret = "wrong" },
			oauth: "invalid_client", status: 401, code: fault.Unauthenticated},
		{name: "unknown tenant", mutate: func(c *Config, _ *memStore) { c.TenantID = "999" },
			oauth: "invalid_grant", status: 400, code: fault.Unauthenticated},
		{name: "refresh token from config", mutate: func(c *Config, st *memStore) {
			c.TenantID, c.RefreshToken, c.RefreshTokens = "", s.IssueRefreshToken(s.Tenant()), st
		}, newSaved: true},
		{name: "refresh token from store", mutate: func(c *Config, st *memStore) {
			c.TenantID, c.RefreshToken, c.RefreshTokens = "", "stale", st
			st.tok = s.IssueRefreshToken(s.Tenant())
		}, newSaved: true},
		{name: "reused refresh token", mutate: func(c *Config, _ *memStore) { c.TenantID, c.RefreshToken = "", used },
			oauth: "invalid_grant", status: 400, code: fault.Unauthenticated},
		{name: "expired refresh token", mutate: func(c *Config, _ *memStore) {
			c.TenantID, c.RefreshToken = "", s.IssueRefreshToken(s.Tenant())
			clk.Advance(46 * 24 * time.Hour)
		}, oauth: "invalid_grant", status: 400, code: fault.Unauthenticated},
		{name: "no refresh token in store", mutate: func(c *Config, st *memStore) { c.TenantID, c.RefreshTokens = "", st },
			code: fault.FailedPrecondition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(s)
			cfg.Now = clk.Now
			st := &memStore{}
			tc.mutate(&cfg, st)
			if tc.setup != nil {
				tc.setup()
			}
			c := newClient(t, cfg)
			_, err := c.FinancialYear(context.Background(), "2026-05-04")
			if tc.code == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
			} else {
				if got := fault.CodeOf(err); got != tc.code {
					t.Fatalf("code %s, want %s (err %v)", got, tc.code, err)
				}
				if fault.Retryable(err) {
					t.Errorf("%v is retryable", err)
				}
				var fe *Error
				if tc.oauth != "" && (!errors.As(err, &fe) || fe.OAuthError != tc.oauth || fe.HTTPStatus != tc.status) {
					t.Fatalf("err %v, want %s %d", err, tc.oauth, tc.status)
				}
			}
			if tc.newSaved && (len(st.saves) != 1 || st.tok != st.saves[0]) {
				t.Errorf("saves %v", st.saves)
			}
		})
	}
}

// TestRefreshRotationConcurrent: many goroutines need a token at once, round
// after round; each round exactly one refresh happens, every rotated token is
// saved, and no refresh token is ever presented twice.
func TestRefreshRotationConcurrent(t *testing.T) {
	clk := newClock()
	s := newFake(t, fortnoxfake.Options{Now: clk.Now})
	st := &memStore{tok: s.IssueRefreshToken(s.Tenant())}
	cfg := testConfig(s)
	cfg.TenantID, cfg.RefreshTokens, cfg.Now = "", st, clk.Now
	c := newClient(t, cfg)

	const rounds, workers = 6, 16
	for round := range rounds {
		switch round % 2 {
		case 1:
			clk.Advance(61 * time.Minute) // both sides see the token expire
		default:
			if round > 0 {
				s.ExpireTokens() // the server revokes; the client learns from a 401
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				if _, err := c.ListVouchers(context.Background(), 7, "P", "", ""); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if got := s.Stats().RefreshTokenReuse; got != 0 {
		t.Errorf("refresh tokens reused %d times", got)
	}
	if got := c.Stats().TokenRequests; got != rounds {
		t.Errorf("token requests %d, want %d", got, rounds)
	}
	if len(st.saves) != rounds {
		t.Errorf("saved %d refresh tokens, want %d", len(st.saves), rounds)
	}
	// The stored token is the live one: a fresh client (a new instance) can use it.
	cfg.Limiter = Unlimited{}
	c2 := newClient(t, cfg)
	if _, err := c2.ListVouchers(context.Background(), 7, "P", "", ""); err != nil {
		t.Fatalf("new instance with stored token: %v", err)
	}
}

// TestRefreshTokenSharedStore: two instances share one store and take turns
// refreshing; each presents the token the other saved, never a used one.
func TestRefreshTokenSharedStore(t *testing.T) {
	clk := newClock()
	s := newFake(t, fortnoxfake.Options{Now: clk.Now})
	st := &memStore{tok: s.IssueRefreshToken(s.Tenant())}
	cfg := testConfig(s)
	cfg.TenantID, cfg.RefreshTokens, cfg.Now = "", st, clk.Now
	a, b := newClient(t, cfg), newClient(t, cfg)
	for i, c := range []*Client{a, b, a, b, a} {
		if _, err := c.ListVouchers(context.Background(), 7, "P", "", ""); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		clk.Advance(2 * time.Hour)
	}
	if got := s.Stats().RefreshTokenReuse; got != 0 {
		t.Errorf("refresh tokens reused %d times", got)
	}
	if len(st.saves) != 5 {
		t.Errorf("saves %d, want 5", len(st.saves))
	}
}

// TestRefreshTokenSaveFailure: a rotated token that cannot be saved fails the
// call and is retried; once the store recovers, the token kept in memory is
// saved and work resumes.
func TestRefreshTokenSaveFailure(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{})
	st := &memStore{tok: s.IssueRefreshToken(s.Tenant()), fail: errors.New("store down")}
	cfg := testConfig(s)
	cfg.TenantID, cfg.RefreshTokens = "", st
	c := newClient(t, cfg)
	ctx := context.Background()
	if _, err := c.ListVouchers(ctx, 7, "P", "", ""); err == nil || !fault.Retryable(err) {
		t.Fatalf("err %v, want a retryable error", err)
	}
	if _, err := c.ListVouchers(ctx, 7, "P", "", ""); err == nil {
		t.Fatal("second call succeeded while the store is down")
	}
	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	if _, err := c.ListVouchers(ctx, 7, "P", "", ""); err != nil {
		t.Fatal(err)
	}
	if len(st.saves) != 1 || c.Stats().TokenRequests != 1 {
		t.Fatalf("saves %v, token requests %d", st.saves, c.Stats().TokenRequests)
	}
}

func TestFinancialYear(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{FinancialYears: []fortnoxfake.FinancialYear{
		{ID: 3, FromDate: "2025-07-01", ToDate: "2026-06-30"},
		{ID: 4, FromDate: "2026-07-01", ToDate: "2027-06-30"},
	}})
	c := newClient(t, testConfig(s))
	ctx := context.Background()
	tests := []struct {
		date string
		id   int
		code fault.Code
	}{
		{"2026-05-04", 3, ""},
		{"2026-06-30", 3, ""},
		{"2026-07-01", 4, ""},
		{"2025-07-01", 3, ""}, // from the cache
		{"2024-01-01", 0, fault.NotFound},
		{"2024-13-01", 0, fault.InvalidArgument},
	}
	for _, tc := range tests {
		y, err := c.FinancialYear(ctx, tc.date)
		if tc.code != "" {
			if fault.CodeOf(err) != tc.code {
				t.Errorf("%s: err %v, want %s", tc.date, err, tc.code)
			}
			continue
		}
		if err != nil || y.ID != tc.id {
			t.Errorf("%s: %+v, %v; want id %d", tc.date, y, err, tc.id)
		}
	}
	if got := c.Stats().Requests; got != 3 {
		t.Errorf("requests %d, want 3 (two years, one miss; the rest cached)", got)
	}
}

func TestCreateVoucherOnceFaults(t *testing.T) {
	tests := []struct {
		name            string
		inject          func(s *fortnoxfake.Server)
		reconciliations int64
		notCreated      bool // the first call ends with an unknown outcome, the second books
	}{
		{"no fault", func(*fortnoxfake.Server) {}, 0, false},
		{"timeout after create", func(s *fortnoxfake.Server) { s.TimeoutAfterCreateNext(1) }, 1, false},
		{"connection dropped after create", func(s *fortnoxfake.Server) { s.DropAfterCreateNext(1) }, 1, false},
		{"502 after create", func(s *fortnoxfake.Server) { s.FailAfterCreateNext(1, 502) }, 1, false},
		// Not created: the voucher is not found after the unknown
		// outcome, and the client does not post again (Fortnox might
		// still commit it); the next call looks, then posts.
		{"timeout before processing", func(s *fortnoxfake.Server) { s.TimeoutNext(1) }, 1, true},
		{"500 before processing", func(s *fortnoxfake.Server) { s.FailNext(1, 500) }, 1, true},
		{"two unknown outcomes in a row", func(s *fortnoxfake.Server) { s.FailNext(1, 503); s.TimeoutAfterCreateNext(1) }, 2, true},
		{"token revoked", func(s *fortnoxfake.Server) { s.ExpireTokens() }, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t, fortnoxfake.Options{})
			cfg := testConfig(s)
			cfg.RequestTimeout = 300 * time.Millisecond
			cfg.PageSize = 2 // the reconciliation must page
			c := newClient(t, cfg)
			ctx := context.Background()
			// Other vouchers of the same day, so that the marker is on a later page.
			for i := range 5 {
				if _, err := c.CreateVoucherOnce(ctx, 7, payout(Amount(100+i), "2026-05-04"), fmt.Sprintf("po_other%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			before := c.Stats()
			tc.inject(s)
			ref, err := c.CreateVoucherOnce(ctx, 7, payout(123456, "2026-05-04"), "po_1")
			if tc.notCreated {
				if !IsOutcomeUnknown(err) || !fault.Retryable(err) {
					t.Fatalf("first attempt: %v, want an unknown outcome and no second post", err)
				}
				if n := s.Stats().VouchersCreated; n != 5 {
					t.Fatalf("%d vouchers after the first attempt, want the 5 others", n)
				}
				ref, err = c.CreateVoucherOnce(ctx, 7, payout(123456, "2026-05-04"), "po_1")
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Stats().Reconciliations - before.Reconciliations; got < tc.reconciliations {
				t.Errorf("reconciliations %d, want ≥ %d", got, tc.reconciliations)
			}
			assertBookedOnce(t, s, "po_1", "po_other0", "po_other4")
			v, err := c.Voucher(ctx, ref.Year, ref.Series, ref.Number)
			if err != nil {
				t.Fatal(err)
			}
			if !containsMarker(v.Description, "po_1") || v.VoucherRows[0].Debit != 123456 || v.VoucherRows[1].Credit != 123456 {
				t.Fatalf("voucher %s is %+v", ref, v)
			}
			if ref.Year != 7 || ref.Series != "P" {
				t.Errorf("ref %+v", ref)
			}
		})
	}
}

// TestCreateVoucherOnceOutcomeUnknown: the POST times out after the voucher
// was stored and the list fails too; the error says the outcome is unknown,
// and the next call with the same marker finds the voucher instead of posting.
func TestCreateVoucherOnceOutcomeUnknown(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{})
	cfg := testConfig(s)
	cfg.RequestTimeout = 300 * time.Millisecond
	cfg.MaxAttempts = 2
	c := newClient(t, cfg)
	ctx := context.Background()
	if _, err := c.FinancialYear(ctx, "2026-05-04"); err != nil { // fetch the token first
		t.Fatal(err)
	}
	s.TimeoutAfterCreateNext(1)
	stop := make(chan struct{})
	go func() { // once the voucher is stored, make the listing fail
		for s.Stats().VouchersCreated == 0 {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		s.FailNext(100, 503)
	}()
	_, err := c.CreateVoucherOnce(ctx, 7, payout(5000, "2026-05-04"), "po_9")
	close(stop)
	if !IsOutcomeUnknown(err) || !fault.Retryable(err) {
		t.Fatalf("err %v, want a retryable outcome-unknown error", err)
	}
	s.FailNext(0, 0)
	ref, err := c.CreateVoucherOnce(ctx, 7, payout(5000, "2026-05-04"), "po_9")
	if err != nil {
		t.Fatal(err)
	}
	if ref.Number != 1 || s.Stats().VouchersCreated != 1 {
		t.Fatalf("ref %+v, created %d", ref, s.Stats().VouchersCreated)
	}
	assertBookedOnce(t, s, "po_9")
	// A separate process would use FindVoucher before posting.
	found, ok, err := c.FindVoucher(ctx, 7, "P", "2026-05-04", "po_9")
	if err != nil || !ok || found != ref {
		t.Fatalf("FindVoucher = %+v, %v, %v", found, ok, err)
	}
}

// TestRateLimitStorm: a client that ignores the limit (Unlimited) against a
// tight server window gets 429s, backs off, and books every voucher once.
func TestRateLimitStorm(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{RateLimit: 5, RateWindow: 200 * time.Millisecond})
	cfg := testConfig(s)
	cfg.BackoffBase, cfg.BackoffMax, cfg.MaxAttempts = 20*time.Millisecond, 200*time.Millisecond, 20
	c := newClient(t, cfg)
	const n = 30
	markers := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		markers[i] = fmt.Sprintf("po_storm%d", i)
		wg.Go(func() {
			if _, err := c.CreateVoucherOnce(context.Background(), 7, payout(Amount(1000+i), "2026-05-04"), markers[i]); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	assertBookedOnce(t, s, markers...)
	if st := s.Stats(); st.TooManyRequests == 0 || st.VouchersCreated != n {
		t.Fatalf("fake stats %+v: want 429s and %d vouchers", st, n)
	}
	if c.Stats().TooManyRequests == 0 {
		t.Error("client saw no 429")
	}
}

// TestLimiterKeepsBelowServerWindow: the client-side window (scaled down)
// keeps a sequential run and a concurrent run free of 429s.
func TestLimiterKeepsBelowServerWindow(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			const window = 250 * time.Millisecond
			s := newFake(t, fortnoxfake.Options{RateLimit: 25, RateWindow: window})
			cfg := testConfig(s)
			cfg.Limiter = NewSlidingWindow(DefaultLimit, window+40*time.Millisecond)
			c := newClient(t, cfg)
			const n = 80
			jobs := make(chan int)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range workers {
				wg.Go(func() {
					for i := range jobs {
						if _, err := c.CreateVoucherOnce(context.Background(), 7, payout(100, "2026-05-04"), fmt.Sprintf("po_%d", i)); err != nil {
							errs <- err
						}
					}
				})
			}
			for i := range n {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			st := s.Stats()
			// The client stamps requests when they leave and the server counts
			// them when they arrive, so a slow request can make the server see
			// 25 in a window, never more: a sequential run cannot get a 429.
			if st.VouchersCreated != n || st.MaxInWindow > 25 {
				t.Fatalf("stats %+v", st)
			}
			if workers == 1 && st.TooManyRequests != 0 {
				t.Fatalf("%d 429s in a sequential run", st.TooManyRequests)
			}
			t.Logf("max %d requests in a server window, %d 429s", st.MaxInWindow, st.TooManyRequests)
		})
	}
}

// TestTokenExpiresMidRun: the access token expires while vouchers are being
// booked, by the clock or by revocation; every voucher is booked once.
func TestTokenExpiresMidRun(t *testing.T) {
	tests := []struct {
		name   string
		expire func(clk *clock, s *fortnoxfake.Server)
	}{
		{"clock passes expiry", func(clk *clock, _ *fortnoxfake.Server) { clk.Advance(61 * time.Minute) }},
		{"clock within the last minute", func(clk *clock, _ *fortnoxfake.Server) { clk.Advance(59*time.Minute + 30*time.Second) }},
		{"server revokes", func(_ *clock, s *fortnoxfake.Server) { s.ExpireTokens() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := newFake(t, fortnoxfake.Options{Now: clk.Now})
			cfg := testConfig(s)
			cfg.Now = clk.Now
			c := newClient(t, cfg)
			var markers []string
			for i := range 20 {
				if i == 10 {
					tc.expire(clk, s)
				}
				m := fmt.Sprintf("po_mid%d", i)
				markers = append(markers, m)
				if _, err := c.CreateVoucherOnce(context.Background(), 7, payout(2500, "2026-05-04"), m); err != nil {
					t.Fatalf("voucher %d: %v", i, err)
				}
			}
			assertBookedOnce(t, s, markers...)
			if got := c.Stats().TokenRequests; got != 2 {
				t.Errorf("token requests %d, want 2", got)
			}
		})
	}
}

func TestVoucherValidation(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{})
	c := newClient(t, testConfig(s))
	long := make([]byte, 200)
	for i := range long {
		long[i] = 'x'
	}
	tests := []struct {
		name   string
		mutate func(*Voucher)
		marker string
	}{
		{"one row", func(v *Voucher) { v.VoucherRows = v.VoucherRows[:1] }, "m"},
		{"unbalanced by an öre", func(v *Voucher) { v.VoucherRows[0].Debit++ }, "m"},
		{"account 999", func(v *Voucher) { v.VoucherRows[0].Account = 999 }, "m"},
		{"account 10000", func(v *Voucher) { v.VoucherRows[1].Account = 10000 }, "m"},
		{"negative", func(v *Voucher) { v.VoucherRows[0].Debit, v.VoucherRows[1].Credit = -1, -1 }, "m"},
		{"too large", func(v *Voucher) { v.VoucherRows[0].Debit, v.VoucherRows[1].Credit = MaxAmount+1, MaxAmount+1 }, "m"},
		{"zero", func(v *Voucher) { v.VoucherRows[0].Debit, v.VoucherRows[1].Credit = 0, 0 }, "m"},
		{"no series", func(v *Voucher) { v.VoucherSeries = "" }, "m"},
		{"bad date", func(v *Voucher) { v.TransactionDate = "04/05/2026" }, "m"},
		{"description too long", func(v *Voucher) { v.Description = string(long) }, "m"},
		{"empty marker", func(*Voucher) {}, ""},
		{"marker with space", func(*Voucher) {}, "po 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := payout(100, "2026-05-04")
			tc.mutate(&v)
			_, err := c.CreateVoucherOnce(context.Background(), 7, v, tc.marker)
			if fault.CodeOf(err) != fault.InvalidArgument {
				t.Fatalf("err %v, want InvalidArgument", err)
			}
		})
	}
	if got := s.Stats().Requests + s.Stats().TokenRequests; got != 0 {
		t.Errorf("%d requests reached the fake", got)
	}
	// Fortnox's own validation comes back as *Error with InvalidArgument.
	v := payout(100, "2026-05-04")
	v.VoucherSeries = "Q"
	_, err := c.CreateVoucherOnce(context.Background(), 7, v, "m")
	var fe *Error
	if !errors.As(err, &fe) || fe.HTTPStatus != http.StatusBadRequest || fe.Code != fortnoxfake.CodeInvalidParameter || fault.CodeOf(err) != fault.InvalidArgument {
		t.Fatalf("unknown series: %v", err)
	}
	_, err = c.CreateVoucherOnce(context.Background(), 6, payout(100, "2026-05-04"), "m")
	if !errors.As(err, &fe) || fe.Code != fortnoxfake.CodeInvalidParameter {
		t.Fatalf("date outside year: %v", err)
	}
}

// TestExactMoneyThroughFake books amounts that float64 kronor would mangle
// and reads them back to the öre.
func TestExactMoneyThroughFake(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{})
	c := newClient(t, testConfig(s))
	ctx := context.Background()
	rows := []VoucherRow{
		{Account: 2890, Debit: 10},             // 0.10
		{Account: 2890, Debit: 20},             // 0.20
		{Account: 2890, Debit: 99_999_999_999}, // 999 999 999.99
		{Account: 2890, Debit: 1},
		{Account: 1941, Credit: 30},
		{Account: 1941, Credit: 100_000_000_000},
	}
	v := Voucher{Description: "exact", TransactionDate: "2026-05-04", VoucherSeries: "A", VoucherRows: rows}
	ref, err := c.CreateVoucherOnce(ctx, 7, v, "po_exact")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Voucher(ctx, ref.Year, ref.Series, ref.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.VoucherRows) != len(rows) {
		t.Fatalf("rows %+v", got.VoucherRows)
	}
	for i, r := range got.VoucherRows {
		if r.Debit != rows[i].Debit || r.Credit != rows[i].Credit || r.Account != rows[i].Account {
			t.Errorf("row %d: %+v, want %+v", i, r, rows[i])
		}
	}
	stored := s.Vouchers(s.Tenant())[0]
	if stored.Rows[2].Debit != 99_999_999_999 || stored.Rows[5].Credit != 100_000_000_000 {
		t.Errorf("fake stored %+v", stored.Rows)
	}
	if got.Description != "exact [po_exact]" {
		t.Errorf("description %q", got.Description)
	}
}

func TestListVouchersPaging(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{})
	cfg := testConfig(s)
	cfg.PageSize = 3
	c := newClient(t, cfg)
	ctx := context.Background()
	for i := range 10 {
		date := "2026-05-04"
		if i%2 == 1 {
			date = "2026-05-05"
		}
		if _, err := c.CreateVoucherOnce(ctx, 7, payout(100, date), fmt.Sprintf("po_l%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.ListVouchers(ctx, 7, "P", "", "")
	if err != nil || len(all) != 10 || all[9].VoucherNumber != 10 {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	day, err := c.ListVouchers(ctx, 7, "P", "2026-05-05", "2026-05-05")
	if err != nil || len(day) != 5 {
		t.Fatalf("one day: %d, %v", len(day), err)
	}
	ref, ok, err := c.FindVoucher(ctx, 7, "P", "2026-05-05", "po_l9")
	if err != nil || !ok || ref.Number != 10 {
		t.Fatalf("FindVoucher po_l9 = %+v %v %v", ref, ok, err)
	}
	if _, ok, _ := c.FindVoucher(ctx, 7, "P", "2026-05-04", "po_l9"); ok {
		t.Fatal("found po_l9 on the wrong day")
	}
	if _, ok, _ := c.FindVoucher(ctx, 7, "P", "2026-05-04", "po_l"); ok {
		t.Fatal("a prefix of a marker matched")
	}
	if _, err := c.Voucher(ctx, 7, "P", 99); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("missing voucher: %v", err)
	}
}

func TestContainsMarker(t *testing.T) {
	tests := []struct {
		s, marker string
		want      bool
	}{
		{"Coach payout [po_1]", "po_1", true},
		{"Coach payout [po_12]", "po_1", false},
		{"po_1", "po_1", true},
		{"xpo_1", "po_1", false},
		{"po_1-2", "po_1", false},
		{"po_12 and po_1.", "po_1", true},
		{"payout åpo_1", "po_1", false},
		{"", "po_1", false},
	}
	for _, tc := range tests {
		if got := containsMarker(tc.s, tc.marker); got != tc.want {
			t.Errorf("containsMarker(%q, %q) = %v", tc.s, tc.marker, got)
		}
	}
}

func TestVoucherRef(t *testing.T) {
	r := VoucherRef{Series: "P", Number: 42, Year: 7}
	if r.String() != "P/42/7" {
		t.Fatal(r.String())
	}
	back, err := ParseVoucherRef("P/42/7")
	if err != nil || back != r {
		t.Fatalf("%+v %v", back, err)
	}
	for _, bad := range []string{"", "P/42", "/1/2", "P/x/7", "P/0/7", "P/1/2/3"} {
		if _, err := ParseVoucherRef(bad); fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("ParseVoucherRef(%q): %v", bad, err)
		}
	}
}

func TestSlidingWindow(t *testing.T) {
	l := NewSlidingWindow(3, time.Hour)
	ctx := context.Background()
	for i := range 3 {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fourth wait: %v, want the deadline", err)
	}
}

// TestCreateVoucherOnceLateCommitBookedOnce: Fortnox stores the voucher
// only after the client gave up waiting (a gateway's 504 while it goes on
// working). The client's look after ReconcileDelay does not find it yet;
// it must not post again (two vouchers with the payout's marker), only
// say the outcome is unknown. The next call, once the voucher is there,
// finds it.
func TestCreateVoucherOnceLateCommitBookedOnce(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{})
	cfg := testConfig(s)
	cfg.RequestTimeout = 200 * time.Millisecond
	c := newClient(t, cfg)
	ctx := context.Background()
	if _, err := c.FinancialYear(ctx, "2026-05-04"); err != nil { // fetch the token first
		t.Fatal(err)
	}
	s.CommitLateNext(1, 300*time.Millisecond)
	_, err := c.CreateVoucherOnce(ctx, 7, payout(5000, "2026-05-04"), "po_late")
	if !IsOutcomeUnknown(err) || !fault.Retryable(err) {
		t.Fatalf("first call: %v, want an unknown outcome", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().VouchersCreated == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ref, err := c.CreateVoucherOnce(ctx, 7, payout(5000, "2026-05-04"), "po_late")
	if err != nil {
		t.Fatal(err)
	}
	assertBookedOnce(t, s, "po_late")
	if ref.Number != 1 {
		t.Errorf("ref %+v, want the late voucher", ref)
	}
}

// TestTokenRefusedWith403Reauthenticates: Fortnox documents 403 "Failed
// authentication" (2000310) beside 401; a token refused that way is
// replaced once and the request repeated (it was not processed), on the
// voucher POST and on the other requests alike. A 403 with another code
// (a missing permission) is not: a new token cannot help.
func TestTokenRefusedWith403Reauthenticates(t *testing.T) {
	s := newFake(t, fortnoxfake.Options{RefusedTokenStatus: http.StatusForbidden})
	c := newClient(t, testConfig(s))
	ctx := context.Background()
	if _, err := c.FinancialYear(ctx, "2026-05-04"); err != nil {
		t.Fatal(err)
	}
	s.ExpireTokens()
	if _, err := c.CreateVoucherOnce(ctx, 7, payout(5000, "2026-05-04"), "po_403"); err != nil {
		t.Fatalf("voucher after a 403 for the token: %v", err)
	}
	s.ExpireTokens()
	if _, err := c.Voucher(ctx, 7, "P", 1); err != nil {
		t.Fatalf("read after a 403 for the token: %v", err)
	}
	assertBookedOnce(t, s, "po_403")
	s.FailNext(1, http.StatusForbidden)
	before := c.Stats().Requests
	if _, err := c.Voucher(ctx, 7, "P", 1); fault.CodeOf(err) != fault.PermissionDenied {
		t.Errorf("a 403 of another code: %v, want PERMISSION_DENIED", err)
	}
	if n := c.Stats().Requests - before; n != 1 {
		t.Errorf("%d requests for a 403 of another code, want 1", n)
	}
}
