package payouts

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// Settings are the payout and booking rules. Start from DefaultSettings
// (or LoadSettings): zero values are replaced by the defaults, except for
// CommissionBps and VATBps, where zero is a valid rate.
type Settings struct {
	// PeriodDays is the length of a payout period (default 14). The
	// scheduled job runs weekly and starts a new period only when at least
	// PeriodDays have passed since the last period's end.
	PeriodDays int
	// Zone is where periods start and end at local midnight and where a
	// voucher's date is taken (default Europe/Stockholm).
	Zone *time.Location
	// CommissionBps is the platform commission in basis points of the net
	// amount of a payment (default 2000 = 20 %); program.commissionBps
	// overrides it per program.
	CommissionBps int
	// LookbackDays bounds how far back payments are considered: unpaid
	// payments (held by an open dispute, say) and refunds of paid-out ones
	// are picked up while paymentDate or updatedAt is within LookbackDays
	// before the period end (default 180).
	LookbackDays int
	// MaxPaymentsPerPayout bounds the payments one payout transaction takes
	// (default 300); a coach with more gets several payouts (suffix _2, …).
	MaxPaymentsPerPayout int
	// ConfirmAfter is how long a payout stays "processing" before the job
	// asks Stripe for its transfer when no webhook has settled it (default
	// 1 h).
	ConfirmAfter time.Duration

	// AccountingCurrency is the currency of the Fortnox books (default
	// SEK); payouts and sales in other currencies are not booked
	// automatically (they get fortnoxError).
	AccountingCurrency string
	// VoucherSeries of payout vouchers (default "P").
	VoucherSeries string
	// PayoutDebitAccount is debited with a payout (default 2890, Övriga
	// kortfristiga skulder: the coaches' liability that the sales voucher
	// credits; use a cost account such as 4600 when the sales booking is
	// off and sales are booked elsewhere).
	PayoutDebitAccount int
	// ClearingAccount is the processor's clearing account, credited with a
	// payout and debited with a sale (default 1580, Fordringar för
	// kontokort och vouchers: the Stripe balance).
	ClearingAccount int
	// BookSales enables the second voucher type: one voucher per allocated
	// payment (and per later adjustment) booking the sale (default off).
	BookSales bool
	// SalesSeries of sales vouchers (default "A").
	SalesSeries string
	// LiabilityAccount is credited with the coaches' share of a sale
	// (default 2890).
	LiabilityAccount int
	// CommissionAccount is credited with the commission less VAT (default
	// 3001, Försäljning inom Sverige, 25 % moms).
	CommissionAccount int
	// VATAccount is credited with the VAT on the commission (default 2611,
	// Utgående moms på försäljning inom Sverige, 25 %).
	VATAccount int
	// VATBps is the VAT rate included in the commission (default 2500).
	VATBps int
	// SyncWorkers is the number of concurrent bookings (default 4; the
	// Fortnox client's limiter paces them).
	SyncWorkers int
	// LeaseTTL is how long a Fortnox sync holds jobs/fortnox-sync without
	// renewing it (default 2 min; renewed every third of it).
	LeaseTTL time.Duration
	// RefreshTokenSeed is the first refresh token of the refresh-token flow
	// (FORTNOX_REFRESH_TOKEN), used until server_private/fortnox-token
	// holds one.
	RefreshTokenSeed config.Secret
}

// DefaultSettings returns the documented defaults.
func DefaultSettings() Settings {
	return Settings{
		PeriodDays: 14, Zone: stockholm(), CommissionBps: 2000, LookbackDays: 180,
		MaxPaymentsPerPayout: 300, ConfirmAfter: time.Hour,
		AccountingCurrency: "SEK", VoucherSeries: "P", PayoutDebitAccount: 2890, ClearingAccount: 1580,
		SalesSeries: "A", LiabilityAccount: 2890, CommissionAccount: 3001, VATAccount: 2611, VATBps: 2500,
		SyncWorkers: 4, LeaseTTL: 2 * time.Minute,
	}
}

func stockholm() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return time.UTC
	}
	return loc
}

// withDefaults fills zero fields from DefaultSettings.
func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.PeriodDays <= 0 {
		s.PeriodDays = d.PeriodDays
	}
	if s.Zone == nil {
		s.Zone = d.Zone
	}
	if s.LookbackDays <= 0 {
		s.LookbackDays = d.LookbackDays
	}
	if s.MaxPaymentsPerPayout <= 0 {
		s.MaxPaymentsPerPayout = d.MaxPaymentsPerPayout
	}
	if s.ConfirmAfter == 0 {
		s.ConfirmAfter = d.ConfirmAfter
	}
	if s.AccountingCurrency == "" {
		s.AccountingCurrency = d.AccountingCurrency
	}
	if s.VoucherSeries == "" {
		s.VoucherSeries = d.VoucherSeries
	}
	if s.PayoutDebitAccount == 0 {
		s.PayoutDebitAccount = d.PayoutDebitAccount
	}
	if s.ClearingAccount == 0 {
		s.ClearingAccount = d.ClearingAccount
	}
	if s.SalesSeries == "" {
		s.SalesSeries = d.SalesSeries
	}
	if s.LiabilityAccount == 0 {
		s.LiabilityAccount = d.LiabilityAccount
	}
	if s.CommissionAccount == 0 {
		s.CommissionAccount = d.CommissionAccount
	}
	if s.VATAccount == 0 {
		s.VATAccount = d.VATAccount
	}
	if s.SyncWorkers <= 0 {
		s.SyncWorkers = d.SyncWorkers
	}
	if s.LeaseTTL <= 0 {
		s.LeaseTTL = d.LeaseTTL
	}
	return s
}

// LoadSettings reads Settings from the environment through lookup
// (os.LookupEnv). Unset variables take the defaults. It fails with
// fault.FailedPrecondition naming the variable when a value is malformed or
// out of range.
func LoadSettings(lookup func(string) (string, bool)) (Settings, error) {
	s := DefaultSettings()
	ints := []struct {
		name     string
		dst      *int
		min, max int
	}{
		{"PAYOUTS_PERIOD_DAYS", &s.PeriodDays, 1, 366},
		{"PAYOUTS_COMMISSION_BPS", &s.CommissionBps, 0, 10000},
		{"PAYOUTS_LOOKBACK_DAYS", &s.LookbackDays, 1, 3660},
		{"FORTNOX_PAYOUT_DEBIT_ACCOUNT", &s.PayoutDebitAccount, 1000, 9999},
		{"FORTNOX_CLEARING_ACCOUNT", &s.ClearingAccount, 1000, 9999},
		{"FORTNOX_LIABILITY_ACCOUNT", &s.LiabilityAccount, 1000, 9999},
		{"FORTNOX_COMMISSION_ACCOUNT", &s.CommissionAccount, 1000, 9999},
		{"FORTNOX_VAT_ACCOUNT", &s.VATAccount, 1000, 9999},
		{"FORTNOX_VAT_BPS", &s.VATBps, 0, 10000},
	}
	for _, v := range ints {
		n, err := config.Int(lookup, v.name, *v.dst)
		if err != nil {
			return Settings{}, fmt.Errorf("payouts settings: %w", err)
		}
		if n < v.min || n > v.max {
			return Settings{}, fault.New(fault.FailedPrecondition, "payouts settings: %s must be between %d and %d", v.name, v.min, v.max)
		}
		*v.dst = n
	}
	str := func(name string) (string, bool) {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	if z, ok := str("PAYOUTS_ZONE"); ok {
		loc, err := time.LoadLocation(z)
		if err != nil {
			return Settings{}, fault.New(fault.FailedPrecondition, "payouts settings: PAYOUTS_ZONE is not a time zone")
		}
		s.Zone = loc
	}
	if c, ok := str("FORTNOX_ACCOUNTING_CURRENCY"); ok {
		c = model.NormalizeCurrency(c)
		if !model.ValidCurrency(c) {
			return Settings{}, fault.New(fault.FailedPrecondition, "payouts settings: FORTNOX_ACCOUNTING_CURRENCY is not an accepted currency")
		}
		s.AccountingCurrency = c
	}
	for name, dst := range map[string]*string{"FORTNOX_VOUCHER_SERIES": &s.VoucherSeries, "FORTNOX_SALES_SERIES": &s.SalesSeries} {
		if v, ok := str(name); ok {
			if len(v) > 10 || strings.ContainsAny(v, " /[]") {
				return Settings{}, fault.New(fault.FailedPrecondition, "payouts settings: %s is not a voucher series", name)
			}
			*dst = strings.ToUpper(v)
		}
	}
	if v, ok := str("FORTNOX_BOOK_SALES"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Settings{}, fault.New(fault.FailedPrecondition, "payouts settings: FORTNOX_BOOK_SALES must be true or false")
		}
		s.BookSales = b
	}
	if s.BookSales && s.PayoutDebitAccount != s.LiabilityAccount {
		// The sales vouchers credit the coaches' share to the liability;
		// a payout debiting another account (a cost) would leave the
		// liability growing and book the cost twice.
		return Settings{}, fault.New(fault.FailedPrecondition,
			"payouts settings: with FORTNOX_BOOK_SALES=true, FORTNOX_PAYOUT_DEBIT_ACCOUNT (%d) must be FORTNOX_LIABILITY_ACCOUNT (%d)",
			s.PayoutDebitAccount, s.LiabilityAccount)
	}
	if v, ok := str("FORTNOX_REFRESH_TOKEN"); ok {
		s.RefreshTokenSeed = config.NewSecret(v)
	}
	return s, nil
}
