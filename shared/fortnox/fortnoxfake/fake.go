// Package fortnoxfake is an in-process fake of the Fortnox API for tests and
// local development, built on net/http/httptest from Fortnox's documented
// behaviour:
//
//   - POST /oauth-v1/token: Basic client authentication (invalid_client,
//     401), grant_type=client_credentials with the TenantId header, and
//     grant_type=refresh_token with single-use refresh tokens (a used,
//     unknown or expired one answers 400 invalid_grant); every grant issues
//     an access token valid for one hour by the fake's clock, and the
//     refresh grant a new refresh token (valid 45 days).
//   - A bearer-token check on /3/… (401 with ErrorInformation).
//   - The rate limit: 25 requests per 5 s sliding window per client id and
//     tenant, answering 429 beyond; the window runs on real time and counts
//     only the requests it let through.
//   - GET /3/financialyears[?date=YYYY-MM-DD] and /3/financialyears/{id}.
//   - POST /3/vouchers[?financialyear=ID] with Fortnox's validation (at least
//     two rows, accounts 1000–9999, non-negative amounts of at most 14
//     digits in whole öre, debit equal to credit to the öre, an existing
//     series, a date inside the financial year), answering 201 with
//     VoucherNumber increasing per series and year and Year = the
//     financial-year id; GET /3/vouchers/{series}/{number}?financialyear=ID;
//     GET /3/vouchers/sublist/{series} (and /3/vouchers) with financialyear,
//     fromdate, todate, page and limit, answering MetaInformation
//     (@TotalResources, @TotalPages, @CurrentPage).
//   - Period locking (Settings → Bookkeeping → period lock in Fortnox):
//     LockPeriodThrough refuses vouchers dated on or before a date with 400
//     and code 2000401, the way a locked period makes a booking fail for good
//     until someone unlocks it.
//   - Fault injection: requests that hang until the client gives up
//     (TimeoutNext), a voucher stored and then its answer withheld
//     (TimeoutAfterCreateNext) or its connection dropped
//     (DropAfterCreateNext), a voucher stored only after the client gave
//     up (CommitLateNext), forced error statuses (FailNext,
//     FailAfterCreateNext, FailTokenNext), and ExpireTokens.
//
// Error codes follow Fortnox's published list where it has one (2000310
// invalid login, 2000588 invalid parameter, 2001304 account not found,
// 2001392 no data, 2002115 bad JSON, 1000003 system exception); for voucher
// content errors it uses 2000587, its own choice. Error bodies deliberately
// use different key casings (ErrorInformation/errorInformation,
// Message/message), as Fortnox does.
//
// It does not model accounts beyond the 1000–9999 range, voucher series
// registers, approval, attachments or XML.
package fortnoxfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fortnox error codes the fake answers with.
const (
	CodeSystemException  = 1000003
	CodeInvalidLogin     = 2000310
	CodeInvalidVoucher   = 2000587 // the fake's code for voucher content errors
	CodePeriodLocked     = 2000401 // a date in a locked period (as integrations report it; not in Fortnox's published list)
	CodeInvalidParameter = 2000588
	CodeNotFound         = 2000729
	CodeAccountNotFound  = 2001304
	CodeNoData           = 2001392
	CodeBadJSON          = 2002115
)

// FinancialYear is one financial year of the fake company.
type FinancialYear struct {
	ID       int
	FromDate string // YYYY-MM-DD, inclusive
	ToDate   string // YYYY-MM-DD, inclusive
}

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	// ClientID and ClientSecret the token endpoint accepts, default
	// "fake-client-id" and "fake-client-secret".
	ClientID     string
	ClientSecret string
	// Tenants that have consented (accepted TenantId values), default
	// {"1234567"}.
	Tenants []string
	// FinancialYears of every tenant, default the calendar years 2020–2035
	// with ids 1–16.
	FinancialYears []FinancialYear
	// Series are the voucher series that exist, default A–E and P.
	Series []string
	// Now is the clock for token lifetimes, default time.Now. The rate
	// window always uses real time.
	Now func() time.Time
	// AccessTokenTTL (default 1 h) and RefreshTokenTTL (default 45 days).
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// RateLimit requests per RateWindow per client and tenant, default 25
	// per 5 s.
	RateLimit  int
	RateWindow time.Duration
	// RefusedTokenStatus is the status of the answer to an expired or
	// unknown access token, default 401; Fortnox documents 403 "Failed
	// authentication" too, with the same code (CodeInvalidLogin).
	RefusedTokenStatus int
	// MaxHang bounds how long an injected timeout holds a request when the
	// client does not give up first, default 2 minutes; then it answers 504.
	MaxHang time.Duration
	// Listener to serve on, e.g. a fixed local port for local development
	// (net.Listen("tcp", "127.0.0.1:8099")); default a random local port.
	Listener net.Listener
}

// Stats are the fake's counters.
type Stats struct {
	// Requests is the number of authenticated /3/ requests received.
	Requests int64
	// TooManyRequests is the number of 429 answers.
	TooManyRequests int64
	// TokenRequests is the number of token-endpoint requests.
	TokenRequests int64
	// RefreshTokenReuse counts refresh tokens presented again after use.
	RefreshTokenReuse int64
	// VouchersCreated is the number of vouchers stored.
	VouchersCreated int64
	// MaxInWindow is the largest number of requests let through within one
	// rate window for any client and tenant.
	MaxInWindow int
}

// Server is a running fake. It is safe for concurrent use.
type Server struct {
	// URL is the API base URL (the fake's https://api.fortnox.se).
	URL string
	// TokenURL is the token endpoint (the fake's
	// https://apps.fortnox.se/oauth-v1/token).
	TokenURL string

	srv  *httptest.Server
	opts Options
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	access  map[string]*accessToken
	refresh map[string]*refreshToken
	tenants map[string]*tenant
	windows map[string][]time.Time
	series  map[string]bool
	stats   Stats

	timeoutNext, timeoutAfterCreateNext, dropAfterCreateNext int
	commitLateNext                                           int
	commitLateDelay                                          time.Duration
	failNext, failAfterCreateNext, failTokenNext             int
	failStatus, failAfterCreateStatus, failTokenStatus       int
	lockedThrough                                            string // YYYY-MM-DD; "" when no period is locked
}

type accessToken struct {
	client, tenant string
	expires        time.Time
}

type refreshToken struct {
	client, tenant string
	expires        time.Time
	used           bool
}

// New starts a fake Fortnox on a local port. Close it when done.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = "fake-client-id"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "fake-client-secret"
	}
	if len(opts.Tenants) == 0 {
		opts.Tenants = []string{"1234567"}
	}
	if len(opts.FinancialYears) == 0 {
		for y := 2020; y <= 2035; y++ {
			opts.FinancialYears = append(opts.FinancialYears, FinancialYear{
				ID: y - 2019, FromDate: strconv.Itoa(y) + "-01-01", ToDate: strconv.Itoa(y) + "-12-31"})
		}
	}
	if len(opts.Series) == 0 {
		opts.Series = []string{"A", "B", "C", "D", "E", "P"}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = time.Hour
	}
	if opts.RefreshTokenTTL <= 0 {
		opts.RefreshTokenTTL = 45 * 24 * time.Hour
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 25
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = 5 * time.Second
	}
	if opts.MaxHang <= 0 {
		opts.MaxHang = 2 * time.Minute
	}
	s := &Server{
		opts:    opts,
		done:    make(chan struct{}),
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
		tenants: map[string]*tenant{},
		windows: map[string][]time.Time{},
		series:  map[string]bool{},
	}
	for _, t := range opts.Tenants {
		s.tenants[t] = newTenant()
	}
	for _, sr := range opts.Series {
		s.series[sr] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth-v1/token", s.handleToken)
	mux.HandleFunc("/3/", s.handleAPI)
	s.srv = httptest.NewUnstartedServer(mux)
	if opts.Listener != nil {
		_ = s.srv.Listener.Close()
		s.srv.Listener = opts.Listener
	}
	s.srv.Start()
	s.URL = s.srv.URL
	s.TokenURL = s.srv.URL + "/oauth-v1/token"
	return s
}

// Close releases held requests and stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// ClientID returns the accepted client id.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the accepted client secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Tenant returns the first configured tenant id.
func (s *Server) Tenant() string { return s.opts.Tenants[0] }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// IssueRefreshToken returns a new refresh token for the tenant, as the
// authorization-code flow would (for testing the refresh-token grant).
func (s *Server) IssueRefreshToken(tenantID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newRefreshLocked(s.opts.ClientID, tenantID)
}

// ExpireTokens makes every access token issued so far invalid now (refresh
// tokens stay valid).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		t.expires = time.Time{}
	}
}

// TimeoutNext makes the next n API requests hang, unprocessed, until the
// client gives up (or MaxHang passes, then 504).
func (s *Server) TimeoutNext(n int) { s.mu.Lock(); s.timeoutNext = n; s.mu.Unlock() }

// TimeoutAfterCreateNext makes the next n successful voucher POSTs store the
// voucher and then withhold the answer until the client gives up.
func (s *Server) TimeoutAfterCreateNext(n int) {
	s.mu.Lock()
	s.timeoutAfterCreateNext = n
	s.mu.Unlock()
}

// CommitLateNext makes the next n valid voucher POSTs hang, unanswered,
// until the client gives up, and store the voucher delay after that, as
// Fortnox does when it goes on with a request whose answer was lost (a
// gateway's 504 while the backend still works). A listing in between does
// not show it.
func (s *Server) CommitLateNext(n int, delay time.Duration) {
	s.mu.Lock()
	s.commitLateNext, s.commitLateDelay = n, delay
	s.mu.Unlock()
}

// DropAfterCreateNext makes the next n successful voucher POSTs store the
// voucher and then close the connection without an answer.
func (s *Server) DropAfterCreateNext(n int) { s.mu.Lock(); s.dropAfterCreateNext = n; s.mu.Unlock() }

// FailNext makes the next n API requests answer status (e.g. 500, 503)
// without being processed.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	s.failNext, s.failStatus = n, status
	s.mu.Unlock()
}

// FailAfterCreateNext makes the next n successful voucher POSTs store the
// voucher and then answer status (e.g. 502) instead of 201.
func (s *Server) FailAfterCreateNext(n, status int) {
	s.mu.Lock()
	s.failAfterCreateNext, s.failAfterCreateStatus = n, status
	s.mu.Unlock()
}

// LockPeriodThrough locks the books through date (YYYY-MM-DD, inclusive),
// as Fortnox's period lock does: from now on every voucher dated on or
// before it is refused (400, CodePeriodLocked) until the lock is moved or
// lifted; "" lifts it. Vouchers already stored stay readable.
func (s *Server) LockPeriodThrough(date string) {
	s.mu.Lock()
	s.lockedThrough = date
	s.mu.Unlock()
}

// FailTokenNext makes the next n token requests answer status unprocessed.
func (s *Server) FailTokenNext(n, status int) {
	s.mu.Lock()
	s.failTokenNext, s.failTokenStatus = n, status
	s.mu.Unlock()
}

// ---- token endpoint ----

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	s.mu.Lock()
	s.stats.TokenRequests++
	if s.failTokenNext > 0 {
		s.failTokenNext--
		status := s.failTokenStatus
		s.mu.Unlock()
		oauthError(w, status, "server_error", "injected failure")
		return
	}
	s.mu.Unlock()

	id, secret, ok := basicAuth(r)
	if !ok || id != s.opts.ClientID || secret != s.opts.ClientSecret {
		w.Header().Set("WWW-Authenticate", `Basic realm="fortnox"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		tenantID := r.Header.Get("TenantId")
		if tenantID == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "TenantId header is required")
			return
		}
		if s.tenants[tenantID] == nil {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "No consent for the tenant")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": s.newAccessLocked(id, tenantID, now),
			"scope":        "bookkeeping",
			"expires_in":   int(s.opts.AccessTokenTTL / time.Second),
			"token_type":   "bearer",
		})
	case "refresh_token":
		rt := s.refresh[r.PostForm.Get("refresh_token")]
		switch {
		case rt == nil || rt.client != id:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
			return
		case rt.used:
			s.stats.RefreshTokenReuse++
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Refresh token already used")
			return
		case !now.Before(rt.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Refresh token expired")
			return
		}
		rt.used = true
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token":  s.newAccessLocked(id, rt.tenant, now),
			"refresh_token": s.newRefreshLocked(id, rt.tenant),
			"scope":         "bookkeeping",
			"expires_in":    int(s.opts.AccessTokenTTL / time.Second),
			"token_type":    "bearer",
		})
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type")
	}
}

func basicAuth(r *http.Request) (id, secret string, ok bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 6 || !strings.EqualFold(h[:6], "Basic ") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(raw), ":")
	return id, secret, ok
}

func (s *Server) newAccessLocked(client, tenantID string, now time.Time) string {
	tok := randomToken()
	s.access[tok] = &accessToken{client: client, tenant: tenantID, expires: now.Add(s.opts.AccessTokenTTL)}
	return tok
}

func (s *Server) newRefreshLocked(client, tenantID string) string {
	tok := randomToken()
	s.refresh[tok] = &refreshToken{client: client, tenant: tenantID, expires: s.opts.Now().Add(s.opts.RefreshTokenTTL)}
	return tok
}

func randomToken() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- API ----

// authenticate checks the bearer token and the rate window. It answers the
// request itself and returns ok=false when the request must stop.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (tenantID string, ok bool) {
	h := r.Header.Get("Authorization")
	tok, hasBearer := strings.CutPrefix(h, "Bearer ")
	now := s.opts.Now()
	s.mu.Lock()
	at := s.access[strings.TrimSpace(tok)]
	if !hasBearer || at == nil || !now.Before(at.expires) {
		s.mu.Unlock()
		status := s.opts.RefusedTokenStatus
		if status == 0 {
			status = http.StatusUnauthorized
		}
		apiError(w, status, CodeInvalidLogin, "Ogiltig inloggning", lowerKeys)
		return "", false
	}
	key := at.client + "\x00" + at.tenant
	wall := time.Now()
	win := s.windows[key]
	cut := 0
	for cut < len(win) && !win[cut].After(wall.Add(-s.opts.RateWindow)) {
		cut++
	}
	win = win[cut:]
	if len(win) >= s.opts.RateLimit {
		s.windows[key] = win
		s.stats.TooManyRequests++
		s.mu.Unlock()
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "Too Many Requests"})
		return "", false
	}
	win = append(win, wall)
	s.windows[key] = win
	s.stats.MaxInWindow = max(s.stats.MaxInWindow, len(win))
	s.stats.Requests++
	s.mu.Unlock()
	return at.tenant, true
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	tenantID, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	switch {
	case s.timeoutNext > 0:
		s.timeoutNext--
		s.mu.Unlock()
		if s.hang(r) {
			apiError(w, http.StatusGatewayTimeout, CodeSystemException, "Gateway timeout", capitalKeys)
		}
		return
	case s.failNext > 0:
		s.failNext--
		status := s.failStatus
		s.mu.Unlock()
		apiError(w, status, CodeSystemException, "System exception", capitalKeys)
		return
	}
	s.mu.Unlock()

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // "3", resource, …
	switch {
	case len(parts) == 2 && parts[1] == "financialyears" && r.Method == http.MethodGet:
		s.listFinancialYears(w, r)
	case len(parts) == 3 && parts[1] == "financialyears" && r.Method == http.MethodGet:
		s.getFinancialYear(w, parts[2])
	case len(parts) == 2 && parts[1] == "vouchers" && r.Method == http.MethodPost:
		s.createVoucher(w, r, tenantID)
	case len(parts) == 2 && parts[1] == "vouchers" && r.Method == http.MethodGet:
		s.listVouchers(w, r, tenantID, "")
	case len(parts) == 4 && parts[1] == "vouchers" && parts[2] == "sublist" && r.Method == http.MethodGet:
		s.listVouchers(w, r, tenantID, parts[3])
	case len(parts) == 4 && parts[1] == "vouchers" && r.Method == http.MethodGet:
		s.getVoucher(w, r, tenantID, parts[2], parts[3])
	case len(parts) >= 2 && (parts[1] == "vouchers" || parts[1] == "financialyears"):
		w.Header().Set("Allow", "GET, POST")
		apiError(w, http.StatusMethodNotAllowed, CodeInvalidParameter, "Metoden stöds inte", capitalKeys)
	default:
		apiError(w, http.StatusNotFound, CodeNotFound, "Resursen finns inte", lowerCamelKeys)
	}
}

// hang holds the request until the client gives up, the server closes or
// MaxHang passes; it reports whether the request is still there to answer.
func (s *Server) hang(r *http.Request) bool {
	t := time.NewTimer(s.opts.MaxHang)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	case <-t.C:
		return true
	}
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // aborts the response without writing one
}

func (s *Server) listFinancialYears(w http.ResponseWriter, r *http.Request) {
	date := r.URL.Query().Get("date")
	if date != "" && !validDate(date) {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Ogiltig parameter i anropet. (date)", capitalKeys)
		return
	}
	years := []map[string]any{}
	for _, y := range s.opts.FinancialYears {
		if date == "" || (y.FromDate <= date && date <= y.ToDate) {
			years = append(years, s.yearJSON(y))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"MetaInformation": meta(len(years), 1, max(1, len(years))),
		"FinancialYears":  years,
	})
}

func (s *Server) getFinancialYear(w http.ResponseWriter, id string) {
	for _, y := range s.opts.FinancialYears {
		if strconv.Itoa(y.ID) == id {
			writeJSON(w, http.StatusOK, map[string]any{"FinancialYear": s.yearJSON(y)})
			return
		}
	}
	apiError(w, http.StatusNotFound, CodeNotFound, "Räkenskapsåret hittades inte", lowerCamelKeys)
}

func (s *Server) yearJSON(y FinancialYear) map[string]any {
	return map[string]any{
		"@url":             s.URL + "/3/financialyears/" + strconv.Itoa(y.ID),
		"Id":               y.ID,
		"FromDate":         y.FromDate,
		"ToDate":           y.ToDate,
		"AccountChartType": "BAS 2024",
		"AccountingMethod": "ACCRUAL",
	}
}

// ---- answers ----

type keyStyle int

const (
	capitalKeys    keyStyle = iota // {"ErrorInformation":{"Error":1,"Message":…,"Code":…}}
	lowerKeys                      // {"ErrorInformation":{"error":1,"message":…,"code":…}}
	lowerCamelKeys                 // {"errorInformation":{"error":1,"message":…,"code":…}}
)

func apiError(w http.ResponseWriter, status, code int, message string, style keyStyle) {
	var body map[string]any
	switch style {
	case capitalKeys:
		body = map[string]any{"ErrorInformation": map[string]any{"Error": 1, "Message": message, "Code": code}}
	case lowerKeys:
		body = map[string]any{"ErrorInformation": map[string]any{"error": 1, "message": message, "code": code}}
	default:
		body = map[string]any{"errorInformation": map[string]any{"error": 1, "message": message, "code": code}}
	}
	writeJSON(w, status, body)
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func meta(total, page, pages int) map[string]any {
	return map[string]any{"@TotalResources": total, "@TotalPages": pages, "@CurrentPage": page}
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
