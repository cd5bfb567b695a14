package fortnox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/innerjourney/functions/shared/fault"
)

// FinancialYear is a Fortnox financial year (räkenskapsår). Its ID is what
// voucher requests take as financialyear and what vouchers carry as Year.
type FinancialYear struct {
	ID               int    `json:"Id"`
	FromDate         string `json:"FromDate"` // YYYY-MM-DD, inclusive
	ToDate           string `json:"ToDate"`   // YYYY-MM-DD, inclusive
	AccountingMethod string `json:"AccountingMethod,omitempty"`
}

// contains reports whether the date (YYYY-MM-DD) falls within the year.
// ISO dates compare correctly as strings.
func (y FinancialYear) contains(date string) bool {
	return y.FromDate <= date && date <= y.ToDate
}

// Voucher is a Fortnox voucher (verifikation), in Fortnox's JSON field names.
// On create, Description, TransactionDate, VoucherSeries and VoucherRows are
// sent; VoucherNumber and Year are assigned by Fortnox. Vouchers returned by
// list calls carry no rows.
type Voucher struct {
	URL             string       `json:"@url,omitempty"`
	Description     string       `json:"Description"`
	TransactionDate string       `json:"TransactionDate"` // YYYY-MM-DD
	VoucherSeries   string       `json:"VoucherSeries"`
	VoucherRows     []VoucherRow `json:"VoucherRows,omitempty"`
	Comments        string       `json:"Comments,omitempty"`
	CostCenter      string       `json:"CostCenter,omitempty"`
	Project         string       `json:"Project,omitempty"`
	ReferenceNumber string       `json:"ReferenceNumber,omitempty"`
	ReferenceType   string       `json:"ReferenceType,omitempty"`
	VoucherNumber   int          `json:"VoucherNumber,omitempty"`
	Year            int          `json:"Year,omitempty"`
	ApprovalState   int          `json:"ApprovalState,omitempty"`
}

// VoucherRow is one row of a voucher: an account of the chart (BAS, 1000–
// 9999) debited or credited with an amount in öre.
type VoucherRow struct {
	Account                int    `json:"Account"`
	Debit                  Amount `json:"Debit"`
	Credit                 Amount `json:"Credit"`
	Description            string `json:"Description,omitempty"`
	TransactionInformation string `json:"TransactionInformation,omitempty"`
	CostCenter             string `json:"CostCenter,omitempty"`
	Project                string `json:"Project,omitempty"`
	Removed                bool   `json:"Removed,omitempty"`
}

// VoucherRef identifies a booked voucher: series, number and financial-year
// id (a voucher number is unique only within its series and year).
type VoucherRef struct {
	Series string `json:"series" firestore:"series"`
	Number int    `json:"number" firestore:"number"`
	Year   int    `json:"year" firestore:"year"`
}

// String formats the reference as "series/number/year", e.g. "P/42/3", the
// form ParseVoucherRef reads (suitable for payouts.fortnoxReference).
func (r VoucherRef) String() string {
	return r.Series + "/" + strconv.Itoa(r.Number) + "/" + strconv.Itoa(r.Year)
}

// ParseVoucherRef reads the form written by VoucherRef.String. It fails with
// InvalidArgument on anything else.
func ParseVoucherRef(s string) (VoucherRef, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" {
		return VoucherRef{}, fault.Invalid("fortnox: voucher reference %q is not series/number/year", s)
	}
	n, err1 := strconv.Atoi(parts[1])
	y, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || n <= 0 || y <= 0 {
		return VoucherRef{}, fault.Invalid("fortnox: voucher reference %q is not series/number/year", s)
	}
	return VoucherRef{Series: parts[0], Number: n, Year: y}, nil
}

// MaxDescription is the longest voucher description this client sends, in
// characters; a conservative cap so that Fortnox never truncates the marker.
const MaxDescription = 200

// Validate checks the voucher against Fortnox's rules before anything is
// sent: a series, a YYYY-MM-DD date, a description of at most
// MaxDescription characters, at least two rows, accounts 1000–9999, amounts
// between 0 and MaxAmount, debits equal to credits to the öre and not all
// zero. It returns an InvalidArgument error naming the first problem.
func (v Voucher) Validate() error {
	if strings.TrimSpace(v.VoucherSeries) == "" {
		return fault.Invalid("fortnox: voucher series is required")
	}
	if _, err := time.Parse(time.DateOnly, v.TransactionDate); err != nil {
		return fault.Invalid("fortnox: transaction date %q is not YYYY-MM-DD", v.TransactionDate)
	}
	if n := utf8.RuneCountInString(v.Description); n > MaxDescription {
		return fault.Invalid("fortnox: description has %d characters, at most %d", n, MaxDescription)
	}
	if len(v.VoucherRows) < 2 {
		return fault.Invalid("fortnox: a voucher needs at least two rows, has %d", len(v.VoucherRows))
	}
	var debit, credit Amount
	for i, r := range v.VoucherRows {
		if r.Account < 1000 || r.Account > 9999 {
			return fault.Invalid("fortnox: row %d: account %d is not 1000–9999", i+1, r.Account)
		}
		for _, a := range []Amount{r.Debit, r.Credit} {
			if a < 0 || a > MaxAmount {
				return fault.Invalid("fortnox: row %d: amount %s is not between 0 and %s", i+1, a, MaxAmount)
			}
		}
		debit += r.Debit // cannot overflow: each ≤ 1e14 and far fewer than 92 000 rows fit a request
		credit += r.Credit
	}
	if debit != credit {
		return fault.Invalid("fortnox: voucher does not balance: debit %s, credit %s", debit, credit)
	}
	if debit == 0 {
		return fault.Invalid("fortnox: voucher has no amounts")
	}
	return nil
}

// ---- financial years ----

// FinancialYear returns the financial year containing date (YYYY-MM-DD),
// from GET /3/financialyears?date=…, cached for the client's lifetime. It
// returns NotFound when the company has no financial year for that date
// (someone must create it in Fortnox), InvalidArgument for a bad date.
func (c *Client) FinancialYear(ctx context.Context, date string) (FinancialYear, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return FinancialYear{}, fault.Invalid("fortnox: date %q is not YYYY-MM-DD", date)
	}
	c.mu.Lock()
	for _, y := range c.years {
		if y.contains(date) {
			c.mu.Unlock()
			return y, nil
		}
	}
	c.mu.Unlock()
	var ans struct {
		FinancialYears []FinancialYear `json:"FinancialYears"`
	}
	if err := c.get(ctx, "/3/financialyears", url.Values{"date": {date}}, &ans); err != nil {
		return FinancialYear{}, fmt.Errorf("fortnox: financial year for %s: %w", date, err)
	}
	for _, y := range ans.FinancialYears {
		if y.contains(date) {
			c.mu.Lock()
			c.years = append(c.years, y)
			c.mu.Unlock()
			return y, nil
		}
	}
	return FinancialYear{}, fault.New(fault.NotFound, "fortnox: no financial year contains %s", date)
}

// ---- vouchers ----

// Voucher returns one voucher with its rows (GET
// /3/vouchers/{series}/{number}?financialyear=…). A missing voucher is an
// *Error with fault code NotFound.
func (c *Client) Voucher(ctx context.Context, financialYearID int, series string, number int) (Voucher, error) {
	var ans struct {
		Voucher Voucher `json:"Voucher"`
	}
	path := "/3/vouchers/" + url.PathEscape(series) + "/" + strconv.Itoa(number)
	q := url.Values{"financialyear": {strconv.Itoa(financialYearID)}}
	if err := c.get(ctx, path, q, &ans); err != nil {
		return Voucher{}, fmt.Errorf("fortnox: get voucher %s/%d/%d: %w", series, number, financialYearID, err)
	}
	return ans.Voucher, nil
}

// ListVouchers returns the vouchers of a series in a financial year with a
// transaction date from fromDate to toDate inclusive (either may be ""),
// reading every page of GET /3/vouchers/sublist/{series}. Listed vouchers
// carry no rows.
func (c *Client) ListVouchers(ctx context.Context, financialYearID int, series, fromDate, toDate string) ([]Voucher, error) {
	var out []Voucher
	err := c.eachVoucher(ctx, financialYearID, series, fromDate, toDate, func(v Voucher) bool {
		out = append(out, v)
		return true
	})
	return out, err
}

// eachVoucher calls fn for each listed voucher, page by page, until fn
// returns false.
func (c *Client) eachVoucher(ctx context.Context, financialYearID int, series, fromDate, toDate string, fn func(Voucher) bool) error {
	path := "/3/vouchers/sublist/" + url.PathEscape(series)
	for page := 1; ; page++ {
		q := url.Values{
			"financialyear": {strconv.Itoa(financialYearID)},
			"page":          {strconv.Itoa(page)},
			"limit":         {strconv.Itoa(c.cfg.PageSize)},
		}
		if fromDate != "" {
			q.Set("fromdate", fromDate)
		}
		if toDate != "" {
			q.Set("todate", toDate)
		}
		var ans struct {
			MetaInformation struct {
				TotalResources int `json:"@TotalResources"`
				TotalPages     int `json:"@TotalPages"`
				CurrentPage    int `json:"@CurrentPage"`
			} `json:"MetaInformation"`
			Vouchers []Voucher `json:"Vouchers"`
		}
		if err := c.get(ctx, path, q, &ans); err != nil {
			return fmt.Errorf("fortnox: list vouchers %s page %d: %w", series, page, err)
		}
		for _, v := range ans.Vouchers {
			if !fn(v) {
				return nil
			}
		}
		if page >= ans.MetaInformation.TotalPages || len(ans.Vouchers) == 0 {
			return nil
		}
	}
}

// FindVoucher looks for the voucher carrying marker in its description among
// the series' vouchers dated date (YYYY-MM-DD) in the financial year. It
// returns found=false when there is none. Use it before posting when an
// earlier attempt, possibly in another process, may have created the
// voucher (for instance when the caller's own record says a booking was
// started but no reference was stored).
func (c *Client) FindVoucher(ctx context.Context, financialYearID int, series, date, marker string) (ref VoucherRef, found bool, err error) {
	if marker == "" {
		return VoucherRef{}, false, fault.Invalid("fortnox: a marker is required")
	}
	err = c.eachVoucher(ctx, financialYearID, series, date, date, func(v Voucher) bool {
		if containsMarker(v.Description, marker) {
			ref, found = VoucherRef{Series: v.VoucherSeries, Number: v.VoucherNumber, Year: v.Year}, true
			return false
		}
		return true
	})
	if ref.Year == 0 {
		ref.Year = financialYearID
	}
	if ref.Series == "" {
		ref.Series = series
	}
	return ref, found, err
}

// containsMarker reports whether marker occurs in s as a whole token: not
// preceded or followed by a letter, digit, '_' or '-', so that "po_1" does
// not match inside "po_12".
func containsMarker(s, marker string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], marker)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(marker)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (start == 0 || !isMarkerRune(before)) && (end == len(s) || !isMarkerRune(after)) {
			return true
		}
		i = start + 1
	}
}

func isMarkerRune(r rune) bool {
	return r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// withMarker returns the voucher's description carrying the marker: as is
// when it already contains it, else with " [marker]" appended.
func withMarker(description, marker string) string {
	if containsMarker(description, marker) {
		return description
	}
	if description == "" {
		return marker
	}
	return description + " [" + marker + "]"
}

// CreateVoucherOnce books v in the financial year and returns its reference,
// making sure that at most one voucher carrying marker exists even when
// requests time out, connections drop or Fortnox answers 5xx.
//
// marker is a caller-chosen unique id (the payout id): the description gets
// " [marker]" appended unless it already contains it, because the voucher
// list, the only place to look for it afterwards, shows the description and
// not the rows. The marker must be free of whitespace and '[', ']'.
//
// How the guarantee is kept: a 429 or a refused token (tokenRefused) means
// Fortnox did not process the POST, so it is repeated (after backoff, or
// after fetching a new token once). A network error, a timeout or a 5xx leaves the outcome
// unknown: the client waits ReconcileDelay, lists the series' vouchers of
// the transaction date (all pages) and returns the voucher carrying the
// marker if there is one. When there is none, or the list cannot be read
// either, it does not post again (Fortnox may commit the lost POST later
// still: a gateway's 504 while it goes on working): it returns an error
// wrapping ErrOutcomeUnknown (fault code Unavailable) and remembers the
// marker, so that the next CreateVoucherOnce with it on this Client looks
// before it posts; a caller that keeps its own record of the attempt
// (functions/payouts' booking mark) looks on its next run the same way. Other 4xx answers are returned as *Error (InvalidArgument for
// validation errors) and are not retried. A voucher that fails Validate is
// refused before any request.
func (c *Client) CreateVoucherOnce(ctx context.Context, financialYearID int, v Voucher, marker string) (VoucherRef, error) {
	if marker == "" || strings.ContainsAny(marker, " \t\r\n[]") {
		return VoucherRef{}, fault.Invalid("fortnox: marker %q must be non-empty without spaces or brackets", marker)
	}
	if financialYearID <= 0 {
		return VoucherRef{}, fault.Invalid("fortnox: financial year id %d", financialYearID)
	}
	v.Description = withMarker(v.Description, marker)
	v.URL, v.VoucherNumber, v.Year, v.ApprovalState = "", 0, 0, 0
	if err := v.Validate(); err != nil {
		return VoucherRef{}, err
	}
	body, err := json.Marshal(struct {
		Voucher Voucher `json:"Voucher"`
	}{v})
	if err != nil {
		return VoucherRef{}, fault.Wrap(err, fault.Internal, "fortnox: encode voucher")
	}
	key := strconv.Itoa(financialYearID) + "\x00" + v.VoucherSeries + "\x00" + v.TransactionDate + "\x00" + marker
	op := fmt.Sprintf("fortnox: create voucher [%s]", marker)

	c.mu.Lock()
	pending := c.pending[key]
	c.mu.Unlock()
	if pending {
		ref, found, err := c.FindVoucher(ctx, financialYearID, v.VoucherSeries, v.TransactionDate, marker)
		if err != nil {
			return VoucherRef{}, fault.Wrap(fmt.Errorf("%w: %w", ErrOutcomeUnknown, err), fault.Unavailable, op)
		}
		c.setPending(key, false)
		if found {
			return ref, nil
		}
	}

	q := url.Values{"financialyear": {strconv.Itoa(financialYearID)}}
	reauthed := false
	for attempt := 1; ; attempt++ {
		o := c.attempt(ctx, http.MethodPost, "/3/vouchers", q, body)
		var cause error
		var retryAfter time.Duration
		switch {
		case o.err != nil && !o.sent:
			return VoucherRef{}, fmt.Errorf("%s: %w", op, o.err)
		case o.err != nil:
			cause = o.err
		case o.status >= 200 && o.status < 300:
			var ans struct {
				Voucher Voucher `json:"Voucher"`
			}
			if err := json.Unmarshal(o.body, &ans); err != nil || ans.Voucher.VoucherNumber == 0 {
				cause = fmt.Errorf("unreadable %d answer", o.status)
				break
			}
			c.setPending(key, false)
			return VoucherRef{Series: ans.Voucher.VoucherSeries, Number: ans.Voucher.VoucherNumber, Year: ans.Voucher.Year}, nil
		case !reauthed && tokenRefused(o.status, o.body):
			reauthed = true
			c.invalidate(o.token)
			attempt--
			continue
		case o.status == http.StatusTooManyRequests:
			c.tooMany.Add(1)
			retryAfter = parseRetryAfter(o.header)
			if attempt >= c.cfg.MaxAttempts {
				return VoucherRef{}, fmt.Errorf("%s: %w", op, decodeError(o.status, o.body))
			}
		case o.status >= 500:
			cause = decodeError(o.status, o.body)
		default:
			return VoucherRef{}, fmt.Errorf("%s: %w", op, decodeError(o.status, o.body))
		}

		if cause != nil {
			// Outcome unknown: look before posting again.
			c.setPending(key, true)
			c.reconciliations.Add(1)
			if err := c.sleep(ctx, c.cfg.ReconcileDelay); err != nil {
				return VoucherRef{}, fault.Wrap(fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause), fault.CodeOf(err), op)
			}
			ref, found, err := c.FindVoucher(ctx, financialYearID, v.VoucherSeries, v.TransactionDate, marker)
			if err != nil {
				return VoucherRef{}, fault.Wrap(fmt.Errorf("%w: %w (reconcile: %w)", ErrOutcomeUnknown, cause, err), fault.Unavailable, op)
			}
			if found {
				c.setPending(key, false)
				return ref, nil
			}
			// Not there yet is not "not created": Fortnox may still commit
			// the POST it was working on when the answer was lost (a 504,
			// a timeout). Posting again here could book it twice; the next
			// call with this marker looks first (the pending key here, the
			// caller's own record across processes).
			return VoucherRef{}, fault.Wrap(fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause), fault.Unavailable,
				op+": not in Fortnox yet; the next attempt looks again before posting")
		}
		c.retries.Add(1)
		if err := c.sleep(ctx, c.backoff(attempt, retryAfter)); err != nil {
			return VoucherRef{}, fmt.Errorf("%s: %w", op, err)
		}
	}
}

func (c *Client) setPending(key string, on bool) {
	c.mu.Lock()
	if on {
		c.pending[key] = true
	} else {
		delete(c.pending, key)
	}
	c.mu.Unlock()
}

// IsOutcomeUnknown reports whether err says a voucher create may or may not
// have happened (see ErrOutcomeUnknown).
func IsOutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }
