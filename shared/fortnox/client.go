// Package fortnox is a client for the parts of the Fortnox API that Inner
// Journey uses to book coach payouts: OAuth2 tokens, financial years and
// vouchers (verifikationer).
//
// What it takes care of:
//
//   - Tokens. With Config.TenantID set it uses the client-credentials grant
//     (Basic client id/secret plus the TenantId header); otherwise the
//     refresh-token grant, whose single-use refresh tokens are rotated under
//     a lock (concurrent callers never present one twice) and persisted
//     through a RefreshTokenStore. Access tokens are cached until one minute
//     before they expire, by the injected clock.
//   - The rate limit. Fortnox allows 25 requests per 5 s per client id and
//     tenant; a SlidingWindow limiter (24 per 5.1 s by default, shared by
//     all Clients of one tenant in the process) keeps below it.
//   - Retries. GETs and token requests are retried with exponential backoff
//     and jitter on 429, 5xx and network errors (honouring Retry-After); a
//     401 (or a 403 refusing the token) re-authenticates once. A voucher POST is never retried blindly:
//     when its outcome is unknown (timeout, dropped connection, 5xx) the
//     client lists the series' vouchers of that date and looks for the
//     caller's marker before posting again (CreateVoucherOnce).
//   - Errors. Answers other than 2xx become *Error, decoded from Fortnox's
//     error shapes in any key casing; every error maps to a fault code
//     (fault.CodeOf, fault.Retryable).
//   - Money. Amount is integer öre, converted exactly to and from Fortnox's
//     decimal kronor.
//
// The package logs nothing; Stats exposes counters for progress reports.
package fortnox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

// Default endpoints.
const (
	DefaultBaseURL  = "https://api.fortnox.se"
	DefaultTokenURL = "https://apps.fortnox.se/oauth-v1/token"
)

// RefreshTokenStore persists the current refresh token of the refresh-token
// flow. Fortnox refresh tokens are single-use: every refresh returns a new
// one and invalidates the old, so the new one must be saved before the old
// is forgotten. Implementations must be safe for concurrent use.
type RefreshTokenStore interface {
	// LoadRefreshToken returns the stored token, or "" when none is stored.
	LoadRefreshToken(ctx context.Context) (string, error)
	// SaveRefreshToken stores token, replacing the previous one.
	SaveRefreshToken(ctx context.Context, token string) error
}

// Config configures a Client. ClientID and ClientSecret are required, and
// either TenantID (client-credentials flow) or a refresh token (RefreshToken
// or RefreshTokens holding one). Zero values take the documented defaults.
type Config struct {
	// BaseURL of the API, default DefaultBaseURL. Paths /3/… are appended.
	BaseURL string
	// TokenURL of the OAuth2 token endpoint, default DefaultTokenURL.
	TokenURL string
	// ClientID and ClientSecret of the integration (secrets: never logged).
	ClientID     string
	ClientSecret string
	// TenantID selects the client-credentials grant for that tenant (the
	// customer's Fortnox database number).
	TenantID string
	// RefreshToken is the initial refresh token of the refresh-token flow,
	// used when RefreshTokens is nil or holds none (the store, once it holds
	// a token, is the source of truth).
	RefreshToken string
	// RefreshTokens persists rotated refresh tokens; optional.
	RefreshTokens RefreshTokenStore
	// HTTPClient sends the requests, default a new http.Client without an
	// overall timeout (RequestTimeout bounds each attempt).
	HTTPClient *http.Client
	// Now is the clock for token expiry, default time.Now.
	Now func() time.Time
	// Limiter paces API requests (not token requests). Default: a
	// SlidingWindow of DefaultLimit per DefaultWindow shared by every Client
	// in the process with the same BaseURL, ClientID and TenantID.
	Limiter Limiter
	// RequestTimeout bounds one HTTP attempt, default 30 s.
	RequestTimeout time.Duration
	// MaxAttempts bounds the attempts of one operation, default 8.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the exponential backoff between
	// attempts (defaults 500 ms and 16 s); a Retry-After header wins when
	// longer.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// ReconcileDelay is how long CreateVoucherOnce waits after an unknown
	// outcome before listing vouchers, default 2 s (negative: no wait).
	ReconcileDelay time.Duration
	// PageSize is the page size of voucher lists, default 500 (Fortnox's
	// maximum).
	PageSize int
}

// Stats are a Client's counters since it was created.
type Stats struct {
	// Requests is the number of API requests sent (every attempt).
	Requests int64
	// TokenRequests is the number of token-endpoint requests sent.
	TokenRequests int64
	// Retries is the number of attempts repeated after a retryable failure.
	Retries int64
	// TooManyRequests is the number of 429 answers received.
	TooManyRequests int64
	// Reconciliations is the number of voucher POSTs whose outcome was
	// unknown and had to be looked up.
	Reconciliations int64
}

// Client talks to the Fortnox API for one tenant. It is safe for concurrent
// use.
type Client struct {
	cfg      Config
	base     string
	hc       *http.Client
	now      func() time.Time
	limiter  Limiter
	authLock chan struct{} // held while fetching a token

	mu      sync.Mutex
	access  string
	expires time.Time
	refresh string // current refresh token
	unsaved bool   // refresh rotated but not yet persisted
	years   []FinancialYear
	pending map[string]bool // voucher keys whose create outcome is unknown

	requests, tokenRequests, retries, tooMany, reconciliations atomic.Int64
}

// New returns a Client for cfg. It fails with InvalidArgument when required
// settings are missing; it makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, fault.Invalid("fortnox: client id and client secret are required")
	}
	if cfg.TenantID == "" && cfg.RefreshToken == "" && cfg.RefreshTokens == nil {
		return nil, fault.Invalid("fortnox: a tenant id or a refresh token is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = DefaultTokenURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 500 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 16 * time.Second
	}
	if cfg.ReconcileDelay == 0 {
		cfg.ReconcileDelay = 2 * time.Second
	}
	if cfg.PageSize <= 0 || cfg.PageSize > 500 {
		cfg.PageSize = 500
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Limiter == nil {
		cfg.Limiter = sharedLimiter(base + "\x00" + cfg.ClientID + "\x00" + cfg.TenantID)
	}
	return &Client{
		cfg:      cfg,
		base:     base,
		hc:       cfg.HTTPClient,
		now:      cfg.Now,
		limiter:  cfg.Limiter,
		authLock: make(chan struct{}, 1),
		refresh:  cfg.RefreshToken,
		pending:  map[string]bool{},
	}, nil
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:        c.requests.Load(),
		TokenRequests:   c.tokenRequests.Load(),
		Retries:         c.retries.Load(),
		TooManyRequests: c.tooMany.Load(),
		Reconciliations: c.reconciliations.Load(),
	}
}

// ---- tokens ----

// tokenAnswer is the token endpoint's answer.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
}

// token returns a valid access token, fetching one under authLock when the
// cached one is missing or expires within a minute.
func (c *Client) token(ctx context.Context) (string, error) {
	if tok, ok := c.cachedToken(); ok {
		return tok, nil
	}
	select {
	case c.authLock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.authLock }()

	c.mu.Lock()
	unsaved, refresh := c.unsaved, c.refresh
	c.mu.Unlock()
	if unsaved {
		if err := c.persist(ctx, refresh); err != nil {
			return "", err
		}
	}
	if tok, ok := c.cachedToken(); ok { // another caller fetched it meanwhile
		return tok, nil
	}
	return c.fetchToken(ctx)
}

func (c *Client) cachedToken() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access != "" && !c.unsaved && c.now().Before(c.expires.Add(-time.Minute)) {
		return c.access, true
	}
	return "", false
}

// invalidate forgets the cached access token if it is still tok (the API
// refused it), so that the next call fetches a new one.
func (c *Client) invalidate(tok string) {
	c.mu.Lock()
	if c.access == tok {
		c.access = ""
	}
	c.mu.Unlock()
}

// fetchToken asks the token endpoint for a new access token. The caller
// holds authLock.
func (c *Client) fetchToken(ctx context.Context) (string, error) {
	if c.cfg.TenantID != "" {
		ans, err := c.tokenRequest(ctx, url.Values{"grant_type": {"client_credentials"}}, true)
		if err != nil {
			return "", fmt.Errorf("fortnox: client credentials: %w", err)
		}
		return c.storeAccess(ans), nil
	}

	used, err := c.currentRefreshToken(ctx)
	if err != nil {
		return "", err
	}
	ans, err := c.tokenRequest(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {used}}, false)
	var fe *Error
	if errors.As(err, &fe) && fe.OAuthError == "invalid_grant" && c.cfg.RefreshTokens != nil {
		// Another process may have rotated the token and saved its successor.
		stored, lerr := c.cfg.RefreshTokens.LoadRefreshToken(ctx)
		if lerr == nil && stored != "" && stored != used {
			used = stored
			ans, err = c.tokenRequest(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {used}}, false)
		}
	}
	if err != nil {
		return "", fmt.Errorf("fortnox: refresh token: %w", err)
	}
	tok := c.storeAccess(ans)
	if ans.RefreshToken != "" && ans.RefreshToken != used {
		c.mu.Lock()
		c.refresh, c.unsaved = ans.RefreshToken, true
		c.mu.Unlock()
		if err := c.persist(ctx, ans.RefreshToken); err != nil {
			return "", err
		}
	}
	return tok, nil
}

func (c *Client) storeAccess(ans tokenAnswer) string {
	ttl := time.Duration(ans.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	c.mu.Lock()
	c.access, c.expires = ans.AccessToken, c.now().Add(ttl)
	c.mu.Unlock()
	return ans.AccessToken
}

// currentRefreshToken returns the refresh token to present: the stored one
// when a store is configured and holds one (another instance may have
// rotated it since this client last did), else the last one this client
// received, else Config.RefreshToken.
func (c *Client) currentRefreshToken(ctx context.Context) (string, error) {
	if c.cfg.RefreshTokens != nil {
		stored, err := c.cfg.RefreshTokens.LoadRefreshToken(ctx)
		if err != nil {
			return "", fault.Wrap(err, fault.Unavailable, "fortnox: load refresh token")
		}
		if stored != "" {
			c.mu.Lock()
			c.refresh = stored
			c.mu.Unlock()
			return stored, nil
		}
	}
	c.mu.Lock()
	tok := c.refresh
	c.mu.Unlock()
	if tok == "" {
		return "", fault.New(fault.FailedPrecondition, "fortnox: no refresh token: the integration must be authorised again")
	}
	return tok, nil
}

// persistTimeout bounds the save of a rotated refresh token, which does
// not end with the caller's context (see persist).
const persistTimeout = 30 * time.Second

// persist saves a rotated refresh token. The previous token is spent at
// Fortnox once the grant has answered, so the save does not stop when ctx
// ends (a function timeout, an instance shutting down, a lost lease): only
// persistTimeout bounds it; a token left in this process's memory would
// die with it, and the next instance would present the spent one. While
// the save fails, the client keeps the token in memory and every call fails
// (and retries the save), so that a lost token does not go unnoticed.
func (c *Client) persist(ctx context.Context, tok string) error {
	if c.cfg.RefreshTokens != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
		defer cancel()
		if err := c.cfg.RefreshTokens.SaveRefreshToken(sctx, tok); err != nil {
			return fault.Wrap(err, fault.Unavailable, "fortnox: rotated refresh token not saved")
		}
	}
	c.mu.Lock()
	if c.refresh == tok {
		c.unsaved = false
	}
	c.mu.Unlock()
	return nil
}

// tokenRequest posts a grant to the token endpoint, retrying on 429 and 5xx
// (and, when retryNetwork, on network errors: a refresh-token grant whose
// answer was lost may already have consumed the token, so it is not
// repeated).
func (c *Client) tokenRequest(ctx context.Context, form url.Values, retryNetwork bool) (tokenAnswer, error) {
	body := form.Encode()
	for attempt := 1; ; attempt++ {
		status, header, data, err := c.tokenAttempt(ctx, body)
		var retryAfter time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return tokenAnswer{}, err
			}
			err = fault.Wrap(err, fault.Unavailable, "token request failed")
			if !retryNetwork {
				return tokenAnswer{}, err
			}
		case status == http.StatusOK:
			var ans tokenAnswer
			if err := json.Unmarshal(data, &ans); err != nil || ans.AccessToken == "" {
				return tokenAnswer{}, fault.New(fault.Unavailable, "token endpoint answered without an access token")
			}
			return ans, nil
		case status == http.StatusTooManyRequests || status >= 500:
			err = decodeError(status, data)
			retryAfter = parseRetryAfter(header)
			if status == http.StatusTooManyRequests {
				c.tooMany.Add(1)
			}
		default:
			return tokenAnswer{}, decodeError(status, data)
		}
		if attempt >= c.cfg.MaxAttempts {
			return tokenAnswer{}, err
		}
		c.retries.Add(1)
		if serr := c.sleep(ctx, c.backoff(attempt, retryAfter)); serr != nil {
			return tokenAnswer{}, serr
		}
	}
}

func (c *Client) tokenAttempt(ctx context.Context, body string) (int, http.Header, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.cfg.TenantID != "" {
		req.Header.Set("TenantId", c.cfg.TenantID)
	}
	c.tokenRequests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, data, nil
}

// ---- API requests ----

// outcome is the result of one API attempt.
type outcome struct {
	status int
	header http.Header
	body   []byte
	token  string // the access token used
	sent   bool   // the request may have reached Fortnox
	err    error  // set when no answer was read
}

// attempt sends one API request: token, rate limiter, HTTP.
func (c *Client) attempt(ctx context.Context, method, path string, query url.Values, body []byte) outcome {
	tok, err := c.token(ctx)
	if err != nil {
		return outcome{err: err}
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return outcome{err: err}
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, u, rd)
	if err != nil {
		return outcome{err: fault.Invalid("fortnox: bad request: %v", err)}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return outcome{token: tok, sent: true, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return outcome{token: tok, sent: true, err: err}
	}
	return outcome{status: resp.StatusCode, header: resp.Header, body: data, token: tok, sent: true}
}

// get performs an idempotent GET and decodes the JSON answer into out,
// retrying on network errors, 429 and 5xx, and re-authenticating once on a
// refused token (tokenRefused).
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	reauthed := false
	for attempt := 1; ; attempt++ {
		o := c.attempt(ctx, http.MethodGet, path, query, nil)
		var err error
		var retryAfter time.Duration
		switch {
		case o.err != nil:
			if !o.sent || ctx.Err() != nil {
				return o.err
			}
			err = fault.Wrap(o.err, fault.Unavailable, "request failed")
		case o.status >= 200 && o.status < 300:
			if err := json.Unmarshal(o.body, out); err != nil {
				return fault.Wrap(err, fault.Unavailable, "unreadable answer")
			}
			return nil
		case !reauthed && tokenRefused(o.status, o.body):
			reauthed = true
			c.invalidate(o.token)
			attempt--
			continue
		case o.status == http.StatusTooManyRequests || o.status >= 500:
			if o.status == http.StatusTooManyRequests {
				c.tooMany.Add(1)
			}
			err = decodeError(o.status, o.body)
			retryAfter = parseRetryAfter(o.header)
		default:
			return decodeError(o.status, o.body)
		}
		if attempt >= c.cfg.MaxAttempts {
			return err
		}
		c.retries.Add(1)
		if serr := c.sleep(ctx, c.backoff(attempt, retryAfter)); serr != nil {
			return serr
		}
	}
}

// backoff returns the wait before attempt+1: exponential from BackoffBase,
// capped at BackoffMax, with equal jitter; at least retryAfter.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.cfg.BackoffBase
	for i := 1; i < attempt && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.BackoffMax)
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header given in seconds.
func parseRetryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}
