package fortnoxfake

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Voucher is a voucher stored by the fake, amounts in öre.
type Voucher struct {
	Series          string
	Number          int
	Year            int // financial-year id
	Description     string
	TransactionDate string
	Comments        string
	ReferenceNumber string
	ReferenceType   string
	Rows            []Row
	Created         time.Time // by the fake's clock
}

// Row is one row of a stored voucher.
type Row struct {
	Account                int
	Debit, Credit          int64 // öre
	Description            string
	TransactionInformation string
	CostCenter, Project    string
}

type seriesYear struct {
	series string
	year   int
}

type tenant struct {
	vouchers map[seriesYear][]*Voucher // in number order
}

func newTenant() *tenant { return &tenant{vouchers: map[seriesYear][]*Voucher{}} }

// Vouchers returns copies of the tenant's vouchers, ordered by series, year
// and number.
func (s *Server) Vouchers(tenantID string) []Voucher {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenantID]
	if t == nil {
		return nil
	}
	var out []Voucher
	for _, vs := range t.vouchers {
		for _, v := range vs {
			c := *v
			c.Rows = append([]Row(nil), v.Rows...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Series != b.Series {
			return a.Series < b.Series
		}
		if a.Year != b.Year {
			return a.Year < b.Year
		}
		return a.Number < b.Number
	})
	return out
}

// wire shapes of a voucher as clients send it.
type voucherIn struct {
	Description     string
	TransactionDate string
	VoucherSeries   string
	Comments        string
	ReferenceNumber string
	ReferenceType   string
	CostCenter      string
	Project         string
	VoucherRows     []struct {
		Account                json.Number
		Debit                  json.Number
		Credit                 json.Number
		Description            string
		TransactionInformation string
		CostCenter             string
		Project                string
	}
}

// maxOre is Fortnox's 14-digit cap on Debit and Credit (incl. 2 decimals).
const maxOre = 99_999_999_999_999

func (s *Server) createVoucher(w http.ResponseWriter, r *http.Request, tenantID string) {
	var body struct{ Voucher *voucherIn }
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, CodeBadJSON, "Error deserializing JSON: JSON_ERROR_SYNTAX", capitalKeys)
		return
	}
	in := body.Voucher
	if in == nil {
		apiError(w, http.StatusBadRequest, CodeNoData, "Ingen eller felaktig typ av data.", capitalKeys)
		return
	}
	bad := func(code int, msg string) { apiError(w, http.StatusBadRequest, code, msg, capitalKeys) }

	if !validDate(in.TransactionDate) {
		bad(CodeInvalidParameter, "Ogiltigt datum (TransactionDate)")
		return
	}
	year, ok := s.yearFor(r.URL.Query().Get("financialyear"), in.TransactionDate)
	if !ok {
		bad(CodeInvalidParameter, "Räkenskapsår saknas för datumet eller är ogiltigt (financialyear)")
		return
	}
	if !(year.FromDate <= in.TransactionDate && in.TransactionDate <= year.ToDate) {
		bad(CodeInvalidParameter, "Datumet ligger utanför räkenskapsåret")
		return
	}
	s.mu.Lock()
	locked := s.lockedThrough
	s.mu.Unlock()
	if locked != "" && in.TransactionDate <= locked {
		bad(CodePeriodLocked, "Du har låst perioden t.o.m. "+locked+". Lås upp perioden för att fortsätta.")
		return
	}
	if !s.series[in.VoucherSeries] {
		bad(CodeInvalidParameter, "Verifikationsserien finns inte ("+in.VoucherSeries+")")
		return
	}
	if strings.TrimSpace(in.Description) == "" {
		bad(CodeInvalidVoucher, "Beskrivning saknas")
		return
	}
	if len(in.VoucherRows) < 2 {
		bad(CodeInvalidVoucher, "Verifikationen måste ha minst två rader")
		return
	}
	v := &Voucher{
		Series: in.VoucherSeries, Year: year.ID, Description: in.Description,
		TransactionDate: in.TransactionDate, Comments: in.Comments,
		ReferenceNumber: in.ReferenceNumber, ReferenceType: in.ReferenceType,
		Created: s.opts.Now(),
	}
	var debit, credit int64
	for _, row := range in.VoucherRows {
		acct, err := strconv.Atoi(row.Account.String())
		if err != nil || acct < 1000 || acct > 9999 {
			bad(CodeAccountNotFound, "Kunde inte hitta konto ("+row.Account.String()+")")
			return
		}
		d, okD := parseOre(row.Debit)
		c, okC := parseOre(row.Credit)
		if !okD || !okC {
			bad(CodeInvalidVoucher, "Felaktigt belopp på konto "+strconv.Itoa(acct))
			return
		}
		debit += d
		credit += c
		cc, pr := row.CostCenter, row.Project
		if cc == "" {
			cc = in.CostCenter
		}
		if pr == "" {
			pr = in.Project
		}
		v.Rows = append(v.Rows, Row{Account: acct, Debit: d, Credit: c, Description: row.Description,
			TransactionInformation: row.TransactionInformation, CostCenter: cc, Project: pr})
	}
	if debit != credit {
		bad(CodeInvalidVoucher, "Verifikationen är inte i balans")
		return
	}
	if debit == 0 {
		bad(CodeInvalidVoucher, "Verifikationen saknar belopp")
		return
	}

	s.mu.Lock()
	if s.commitLateNext > 0 {
		s.commitLateNext--
		delay := s.commitLateDelay
		s.mu.Unlock()
		<-r.Context().Done() // the client gives up
		go func() {
			select {
			case <-time.After(delay):
			case <-s.done:
				return
			}
			s.mu.Lock()
			s.storeVoucher(tenantID, v)
			s.mu.Unlock()
		}()
		return
	}
	s.storeVoucher(tenantID, v)
	var fault string
	var failStatus int
	switch {
	case s.dropAfterCreateNext > 0:
		s.dropAfterCreateNext--
		fault = "drop"
	case s.timeoutAfterCreateNext > 0:
		s.timeoutAfterCreateNext--
		fault = "timeout"
	case s.failAfterCreateNext > 0:
		s.failAfterCreateNext--
		fault, failStatus = "fail", s.failAfterCreateStatus
	}
	answer := s.voucherJSON(v, true)
	s.mu.Unlock()

	switch fault {
	case "drop":
		drop(w)
		return
	case "timeout":
		if !s.hang(r) {
			return
		}
	case "fail":
		apiError(w, failStatus, CodeSystemException, "System exception", capitalKeys)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"Voucher": answer})
}

// storeVoucher numbers v in its series and year and stores it; s.mu is
// held.
func (s *Server) storeVoucher(tenantID string, v *Voucher) {
	t := s.tenants[tenantID]
	k := seriesYear{v.Series, v.Year}
	v.Number = len(t.vouchers[k]) + 1
	t.vouchers[k] = append(t.vouchers[k], v)
	s.stats.VouchersCreated++
}

// yearFor picks the financial year named by the financialyear parameter, or
// the one containing date when the parameter is absent.
func (s *Server) yearFor(param, date string) (FinancialYear, bool) {
	if param != "" {
		id, err := strconv.Atoi(param)
		if err != nil {
			return FinancialYear{}, false
		}
		for _, y := range s.opts.FinancialYears {
			if y.ID == id {
				return y, true
			}
		}
		return FinancialYear{}, false
	}
	for _, y := range s.opts.FinancialYears {
		if y.FromDate <= date && date <= y.ToDate {
			return y, true
		}
	}
	return FinancialYear{}, false
}

// parseOre reads a decimal kronor amount exactly into öre; empty means 0.
// It refuses negatives, fractions of an öre and more than 14 digits.
func parseOre(n json.Number) (int64, bool) {
	s := strings.TrimSpace(n.String())
	if s == "" {
		return 0, true
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsAny(s, "/xXpP") || strings.Contains(strings.ToLower(s), "inf") {
		return 0, false
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() || r.Sign() < 0 {
		return 0, false
	}
	if r.Num().Cmp(big.NewInt(maxOre)) > 0 {
		return 0, false
	}
	return r.Num().Int64(), true
}

// formatOre writes öre as a decimal kronor JSON number with two decimals.
func formatOre(o int64) json.Number {
	var b bytes.Buffer
	u := uint64(o)
	if o < 0 {
		b.WriteByte('-')
		u = -u
	}
	b.WriteString(strconv.FormatUint(u/100, 10))
	b.WriteByte('.')
	f := u % 100
	b.WriteByte(byte('0' + f/10))
	b.WriteByte(byte('0' + f%10))
	return json.Number(b.String())
}

func (s *Server) voucherURL(v *Voucher) string {
	return s.URL + "/3/vouchers/" + url.PathEscape(v.Series) + "/" + strconv.Itoa(v.Number) +
		"?financialyear=" + strconv.Itoa(v.Year)
}

// voucherJSON renders a voucher; with rows for single answers, without for
// lists (as Fortnox's lists carry no rows).
func (s *Server) voucherJSON(v *Voucher, withRows bool) map[string]any {
	m := map[string]any{
		"@url":            s.voucherURL(v),
		"Comments":        v.Comments,
		"Description":     v.Description,
		"ReferenceNumber": v.ReferenceNumber,
		"ReferenceType":   v.ReferenceType,
		"TransactionDate": v.TransactionDate,
		"VoucherNumber":   v.Number,
		"VoucherSeries":   v.Series,
		"Year":            v.Year,
		"ApprovalState":   0,
	}
	if withRows {
		rows := make([]map[string]any, 0, len(v.Rows))
		for _, r := range v.Rows {
			rows = append(rows, map[string]any{
				"Account":                r.Account,
				"CostCenter":             r.CostCenter,
				"Credit":                 formatOre(r.Credit),
				"Debit":                  formatOre(r.Debit),
				"Description":            r.Description,
				"Project":                r.Project,
				"Removed":                false,
				"TransactionInformation": r.TransactionInformation,
				"Quantity":               0,
			})
		}
		m["VoucherRows"] = rows
	}
	return m
}

func (s *Server) getVoucher(w http.ResponseWriter, r *http.Request, tenantID, series, number string) {
	n, err := strconv.Atoi(number)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Ogiltigt verifikationsnummer", capitalKeys)
		return
	}
	year, ok := s.yearFor(r.URL.Query().Get("financialyear"), s.opts.Now().Format(time.DateOnly))
	if !ok {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Ogiltig parameter i anropet. (financialyear)", capitalKeys)
		return
	}
	s.mu.Lock()
	vs := s.tenants[tenantID].vouchers[seriesYear{series, year.ID}]
	var ans map[string]any
	if n >= 1 && n <= len(vs) {
		ans = s.voucherJSON(vs[n-1], true)
	}
	s.mu.Unlock()
	if ans == nil {
		apiError(w, http.StatusNotFound, CodeNotFound, "Verifikationen hittades inte", lowerCamelKeys)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"Voucher": ans})
}

func (s *Server) listVouchers(w http.ResponseWriter, r *http.Request, tenantID, series string) {
	q := r.URL.Query()
	bad := func(param string) {
		apiError(w, http.StatusBadRequest, CodeInvalidParameter, "Ogiltig parameter i anropet. ("+param+")", capitalKeys)
	}
	year, ok := s.yearFor(q.Get("financialyear"), s.opts.Now().Format(time.DateOnly))
	if !ok {
		bad("financialyear")
		return
	}
	from, to := q.Get("fromdate"), q.Get("todate")
	if (from != "" && !validDate(from)) || (to != "" && !validDate(to)) {
		bad("fromdate/todate")
		return
	}
	page, limit := 1, 100
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			bad("page")
			return
		}
		page = n
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			bad("limit")
			return
		}
		limit = n
	}
	if series != "" && !s.series[series] {
		apiError(w, http.StatusNotFound, CodeNotFound, "Verifikationsserien finns inte", lowerCamelKeys)
		return
	}

	s.mu.Lock()
	var match []*Voucher
	for k, vs := range s.tenants[tenantID].vouchers {
		if k.year != year.ID || (series != "" && k.series != series) {
			continue
		}
		for _, v := range vs {
			if (from == "" || v.TransactionDate >= from) && (to == "" || v.TransactionDate <= to) {
				match = append(match, v)
			}
		}
	}
	sort.Slice(match, func(i, j int) bool {
		if match[i].Series != match[j].Series {
			return match[i].Series < match[j].Series
		}
		return match[i].Number < match[j].Number
	})
	pages := max(1, (len(match)+limit-1)/limit)
	items := []map[string]any{}
	for i := (page - 1) * limit; i < len(match) && i < page*limit; i++ {
		items = append(items, s.voucherJSON(match[i], false))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"MetaInformation": meta(len(match), page, pages),
		"Vouchers":        items,
	})
}
