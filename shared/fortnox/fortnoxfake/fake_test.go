package fortnoxfake

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// do sends a request and returns the status and the decoded JSON body.
func do(t *testing.T, method, u string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, u, data, err)
		}
	}
	return resp.StatusCode, m
}

func basic(id, secret string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(id, secret)
	return req.Header.Get("Authorization")
}

const form = "application/x-www-form-urlencoded"

func clientCredentials(t *testing.T, s *Server) string {
	t.Helper()
	status, m := do(t, "POST", s.TokenURL, map[string]string{
		"Authorization": basic(s.ClientID(), s.ClientSecret()), "Content-Type": form, "TenantId": s.Tenant(),
	}, "grant_type=client_credentials")
	if status != 200 {
		t.Fatalf("token: %d %v", status, m)
	}
	return m["access_token"].(string)
}

func TestTokenEndpoint(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := newServer(t, Options{Now: clk.Now})
	good := basic(s.ClientID(), s.ClientSecret())
	rt := s.IssueRefreshToken(s.Tenant())
	expiring := s.IssueRefreshToken(s.Tenant())

	// Consume rt once so that it is "used".
	status, m := do(t, "POST", s.TokenURL, map[string]string{"Authorization": good, "Content-Type": form},
		"grant_type=refresh_token&refresh_token="+rt)
	if status != 200 || m["refresh_token"] == "" || m["refresh_token"] == rt || m["expires_in"].(float64) != 3600 {
		t.Fatalf("refresh: %d %v", status, m)
	}
	next := m["refresh_token"].(string)

	tests := []struct {
		name      string
		auth      string
		tenant    string
		body      string
		advance   time.Duration
		status    int
		wantError string
	}{
		{"client credentials", good, s.Tenant(), "grant_type=client_credentials", 0, 200, ""},
		{"wrong secret", basic(s.ClientID(), "nope"), s.Tenant(), "grant_type=client_credentials", 0, 401, "invalid_client"},
		{"no basic auth", "", s.Tenant(), "grant_type=client_credentials", 0, 401, "invalid_client"},
		{"missing TenantId", good, "", "grant_type=client_credentials", 0, 400, "invalid_request"},
		{"unknown tenant", good, "999", "grant_type=client_credentials", 0, 400, "invalid_grant"},
		{"unsupported grant", good, "", "grant_type=password", 0, 400, "unsupported_grant_type"},
		{"refresh reuse", good, "", "grant_type=refresh_token&refresh_token=" + rt, 0, 400, "invalid_grant"},
		{"unknown refresh", good, "", "grant_type=refresh_token&refresh_token=zzz", 0, 400, "invalid_grant"},
		{"rotated refresh", good, "", "grant_type=refresh_token&refresh_token=" + next, 0, 200, ""},
		{"expired refresh", good, "", "grant_type=refresh_token&refresh_token=" + expiring, 46 * 24 * time.Hour, 400, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.Advance(tc.advance)
			h := map[string]string{"Content-Type": form}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			if tc.tenant != "" {
				h["TenantId"] = tc.tenant
			}
			status, m := do(t, "POST", s.TokenURL, h, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d (%v)", status, tc.status, m)
			}
			if tc.wantError != "" && m["error"] != tc.wantError {
				t.Fatalf("error %v, want %s", m["error"], tc.wantError)
			}
			if tc.wantError == "" && m["access_token"] == "" {
				t.Fatalf("no access token: %v", m)
			}
		})
	}
	if got := s.Stats().RefreshTokenReuse; got != 1 {
		t.Errorf("RefreshTokenReuse = %d, want 1", got)
	}
}

func TestBearerAndExpiry(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := newServer(t, Options{Now: clk.Now})
	tok := clientCredentials(t, s)
	get := func(auth string) int {
		status, _ := do(t, "GET", s.URL+"/3/financialyears?date=2026-03-01", map[string]string{"Authorization": auth}, "")
		return status
	}
	if got := get(""); got != 401 {
		t.Errorf("no token: %d", got)
	}
	if got := get("Bearer nope"); got != 401 {
		t.Errorf("bad token: %d", got)
	}
	if got := get("Bearer " + tok); got != 200 {
		t.Errorf("good token: %d", got)
	}
	clk.Advance(time.Hour)
	if got := get("Bearer " + tok); got != 401 {
		t.Errorf("expired token: %d", got)
	}
	tok = clientCredentials(t, s)
	s.ExpireTokens()
	if got := get("Bearer " + tok); got != 401 {
		t.Errorf("token after ExpireTokens: %d", got)
	}
}

func TestRateWindow(t *testing.T) {
	s := newServer(t, Options{RateWindow: time.Minute}) // wide window: no slot frees during the test
	auth := map[string]string{"Authorization": "Bearer " + clientCredentials(t, s)}
	for i := 1; i <= 27; i++ {
		status, _ := do(t, "GET", s.URL+"/3/financialyears", auth, "")
		want := 200
		if i > 25 {
			want = 429
		}
		if status != want {
			t.Fatalf("request %d: %d, want %d", i, status, want)
		}
	}
	st := s.Stats()
	if st.TooManyRequests != 2 || st.MaxInWindow != 25 || st.Requests != 25 {
		t.Fatalf("stats %+v", st)
	}
}

func voucherBody(series, date string, rows ...string) string {
	return `{"Voucher":{"Description":"test","TransactionDate":"` + date + `","VoucherSeries":"` + series +
		`","VoucherRows":[` + strings.Join(rows, ",") + `]}}`
}

func TestVoucherValidation(t *testing.T) {
	s := newServer(t, Options{})
	auth := map[string]string{"Authorization": "Bearer " + clientCredentials(t, s), "Content-Type": "application/json"}
	d := func(acct, amount string) string { return `{"Account":` + acct + `,"Debit":` + amount + `,"Credit":0}` }
	c := func(acct, amount string) string { return `{"Account":` + acct + `,"Debit":0,"Credit":` + amount + `}` }
	tests := []struct {
		name, query, body string
		status, code      int
	}{
		{"ok", "?financialyear=7", voucherBody("A", "2026-05-02", d("2890", "100.10"), c("1930", "100.1")), 201, 0},
		{"ok without year", "", voucherBody("A", "2026-05-02", d("2890", "1e2"), c("1930", "100")), 201, 0},
		{"one row", "", voucherBody("A", "2026-05-02", d("2890", "1")), 400, CodeInvalidVoucher},
		{"unbalanced by an öre", "", voucherBody("A", "2026-05-02", d("2890", "100.01"), c("1930", "100")), 400, CodeInvalidVoucher},
		{"account too low", "", voucherBody("A", "2026-05-02", d("999", "1"), c("1930", "1")), 400, CodeAccountNotFound},
		{"account too high", "", voucherBody("A", "2026-05-02", d("10000", "1"), c("1930", "1")), 400, CodeAccountNotFound},
		{"negative", "", voucherBody("A", "2026-05-02", d("2890", "-1"), c("1930", "-1")), 400, CodeInvalidVoucher},
		{"fraction of an öre", "", voucherBody("A", "2026-05-02", d("2890", "0.005"), c("1930", "0.005")), 400, CodeInvalidVoucher},
		{"15 digits", "", voucherBody("A", "2026-05-02", d("2890", "1000000000000.00"), c("1930", "1000000000000.00")), 400, CodeInvalidVoucher},
		{"all zero", "", voucherBody("A", "2026-05-02", d("2890", "0"), c("1930", "0")), 400, CodeInvalidVoucher},
		{"unknown series", "", voucherBody("Q", "2026-05-02", d("2890", "1"), c("1930", "1")), 400, CodeInvalidParameter},
		{"date outside year", "?financialyear=6", voucherBody("A", "2026-05-02", d("2890", "1"), c("1930", "1")), 400, CodeInvalidParameter},
		{"bad date", "", voucherBody("A", "2026-13-02", d("2890", "1"), c("1930", "1")), 400, CodeInvalidParameter},
		{"no voucher", "", `{"voucher2":{}}`, 400, CodeNoData},
		{"bad json", "", `{"Voucher":`, 400, CodeBadJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, m := do(t, "POST", s.URL+"/3/vouchers"+tc.query, auth, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, m)
			}
			if tc.code != 0 {
				ei, _ := m["ErrorInformation"].(map[string]any)
				if ei == nil || int(ei["Code"].(float64)) != tc.code {
					t.Fatalf("error %v, want code %d", m, tc.code)
				}
			}
		})
	}
	vs := s.Vouchers(s.Tenant())
	if len(vs) != 2 || vs[0].Number != 1 || vs[1].Number != 2 || vs[0].Year != 7 || vs[0].Rows[0].Debit != 10010 || vs[1].Rows[1].Credit != 10000 {
		t.Fatalf("stored %+v", vs)
	}
}

// TestPeriodLock: a voucher dated on or before the locked date is refused
// (400, CodePeriodLocked) and not stored, one after it is booked, and
// lifting the lock books the refused date again.
func TestPeriodLock(t *testing.T) {
	s := newServer(t, Options{})
	auth := map[string]string{"Authorization": "Bearer " + clientCredentials(t, s), "Content-Type": "application/json"}
	rows := []string{`{"Account":1580,"Debit":30}`, `{"Account":2890,"Credit":30}`}
	s.LockPeriodThrough("2026-05-31")
	tests := []struct {
		name, lock, date string
		status, code     int
	}{
		{"in the locked period", "2026-05-31", "2026-05-30", 400, CodePeriodLocked},
		{"on the lock date", "2026-05-31", "2026-05-31", 400, CodePeriodLocked},
		{"after the lock", "2026-05-31", "2026-06-01", 201, 0},
		{"lock lifted", "", "2026-05-30", 201, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.LockPeriodThrough(tc.lock)
			status, m := do(t, "POST", s.URL+"/3/vouchers?financialyear=7", auth, voucherBody("P", tc.date, rows...))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, m)
			}
			if tc.code != 0 {
				ei, _ := m["ErrorInformation"].(map[string]any)
				if ei == nil || int(ei["Code"].(float64)) != tc.code || !strings.Contains(ei["Message"].(string), tc.lock) {
					t.Fatalf("error %v, want code %d naming %s", m, tc.code, tc.lock)
				}
			}
		})
	}
	var dates []string
	for _, v := range s.Vouchers(s.Tenant()) {
		dates = append(dates, v.TransactionDate)
	}
	if strings.Join(dates, " ") != "2026-06-01 2026-05-30" {
		t.Fatalf("stored %v, want the two vouchers outside the lock", dates)
	}
}

func TestSublistPagingAndSingle(t *testing.T) {
	s := newServer(t, Options{})
	auth := map[string]string{"Authorization": "Bearer " + clientCredentials(t, s), "Content-Type": "application/json"}
	rows := []string{`{"Account":2890,"Debit":1.5}`, `{"Account":1930,"Credit":1.5}`}
	for i, date := range []string{"2026-01-10", "2026-01-10", "2026-01-11", "2026-01-10", "2026-01-12"} {
		series := "P"
		if i == 3 {
			series = "A"
		}
		if status, m := do(t, "POST", s.URL+"/3/vouchers?financialyear=7", auth, voucherBody(series, date, rows...)); status != 201 {
			t.Fatalf("create: %d %v", status, m)
		}
	}
	list := func(q url.Values) (numbers []int, meta map[string]any) {
		t.Helper()
		status, m := do(t, "GET", s.URL+"/3/vouchers/sublist/P?"+q.Encode(), auth, "")
		if status != 200 {
			t.Fatalf("list: %d %v", status, m)
		}
		for _, v := range m["Vouchers"].([]any) {
			vm := v.(map[string]any)
			if _, ok := vm["VoucherRows"]; ok {
				t.Fatal("list items carry rows")
			}
			numbers = append(numbers, int(vm["VoucherNumber"].(float64)))
		}
		return numbers, m["MetaInformation"].(map[string]any)
	}
	nums, meta := list(url.Values{"financialyear": {"7"}, "fromdate": {"2026-01-10"}, "todate": {"2026-01-11"}, "limit": {"2"}, "page": {"2"}})
	if len(nums) != 1 || nums[0] != 3 || meta["@TotalPages"].(float64) != 2 || meta["@TotalResources"].(float64) != 3 || meta["@CurrentPage"].(float64) != 2 {
		t.Fatalf("page 2: %v %v", nums, meta)
	}
	nums, _ = list(url.Values{"financialyear": {"7"}, "fromdate": {"2026-01-12"}})
	if len(nums) != 1 || nums[0] != 4 {
		t.Fatalf("from 12th: %v", nums)
	}
	nums, _ = list(url.Values{"financialyear": {"6"}})
	if len(nums) != 0 {
		t.Fatalf("other year: %v", nums)
	}
	status, m := do(t, "GET", s.URL+"/3/vouchers/P/2?financialyear=7", auth, "")
	if status != 200 || len(m["Voucher"].(map[string]any)["VoucherRows"].([]any)) != 2 {
		t.Fatalf("single: %d %v", status, m)
	}
	status, m = do(t, "GET", s.URL+"/3/vouchers/P/9?financialyear=7", auth, "")
	if status != 404 || m["errorInformation"] == nil {
		t.Fatalf("missing: %d %v", status, m)
	}
}

func TestFaultSwitches(t *testing.T) {
	s := newServer(t, Options{})
	tok := clientCredentials(t, s)
	hc := &http.Client{Timeout: 200 * time.Millisecond}
	post := func() error {
		req, _ := http.NewRequest("POST", s.URL+"/3/vouchers", strings.NewReader(
			voucherBody("A", "2026-05-02", `{"Account":2890,"Debit":1}`, `{"Account":1930,"Credit":1}`)))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	s.TimeoutNext(1)
	if err := post(); err == nil {
		t.Fatal("TimeoutNext: no error")
	}
	if n := len(s.Vouchers(s.Tenant())); n != 0 {
		t.Fatalf("TimeoutNext stored %d", n)
	}
	s.TimeoutAfterCreateNext(1)
	if err := post(); err == nil {
		t.Fatal("TimeoutAfterCreateNext: no error")
	}
	s.DropAfterCreateNext(1)
	if err := post(); err == nil {
		t.Fatal("DropAfterCreateNext: no error")
	}
	if n := len(s.Vouchers(s.Tenant())); n != 2 {
		t.Fatalf("after-create faults stored %d, want 2", n)
	}
	s.FailNext(1, 503)
	if status, _ := do(t, "GET", s.URL+"/3/financialyears", map[string]string{"Authorization": "Bearer " + tok}, ""); status != 503 {
		t.Fatalf("FailNext: %d", status)
	}
}

func TestListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Options{Listener: l})
	if s.URL != "http://"+l.Addr().String() {
		t.Fatalf("URL %s, listener %s", s.URL, l.Addr())
	}
	clientCredentials(t, s)
}
