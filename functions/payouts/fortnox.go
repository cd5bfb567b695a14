package payouts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// JobFortnoxSync is the lease document jobs/fortnox-sync.
const JobFortnoxSync = "fortnox-sync"

// DocFortnoxToken is server_private/fortnox-token, the refresh token of the
// refresh-token flow.
const DocFortnoxToken = "fortnox-token"

// TokenStore is a fortnox.RefreshTokenStore on Firestore
// (server_private/fortnox-token: no client, admins included, can read it).
// Saves are transactions, so concurrent instances see each other's
// rotations.
type TokenStore struct {
	Firestore *firestore.Client
	Now       func() time.Time
}

func (t *TokenStore) ref() *firestore.DocumentRef {
	return t.Firestore.Collection(model.ColServerPrivate).Doc(DocFortnoxToken)
}

// LoadRefreshToken implements fortnox.RefreshTokenStore; "" when none is
// stored.
func (t *TokenStore) LoadRefreshToken(ctx context.Context) (string, error) {
	snap, err := t.ref().Get(ctx)
	if store.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", store.Classify("load fortnox refresh token", err)
	}
	v, _ := snap.DataAt("refreshToken")
	s, _ := v.(string)
	return s, nil
}

// SaveRefreshToken implements fortnox.RefreshTokenStore.
func (t *TokenStore) SaveRefreshToken(ctx context.Context, token string) error {
	now := time.Now().UTC()
	if t.Now != nil {
		now = t.Now().UTC()
	}
	err := t.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if _, err := tx.Get(t.ref()); err != nil && !store.IsNotFound(err) {
			return err
		}
		return tx.Set(t.ref(), map[string]any{"refreshToken": token, "updatedAt": now, "rotations": firestore.Increment(1)}, firestore.MergeAll)
	}, firestore.MaxAttempts(txAttempts))
	return store.Classify("save fortnox refresh token", err)
}

// NewFortnoxClient builds the Fortnox client from the configuration: the
// client-credentials flow when FORTNOX_TENANT_ID is set, else the
// refresh-token flow with the token kept in Firestore (TokenStore, seeded
// from FORTNOX_REFRESH_TOKEN). It fails with FailedPrecondition naming
// missing variables.
func NewFortnoxClient(cfg *config.Config, st Settings, fs *firestore.Client, now func() time.Time) (*fortnox.Client, error) {
	if err := cfg.Require("FORTNOX_CLIENT_ID", "FORTNOX_CLIENT_SECRET"); err != nil {
		return nil, err
	}
	fc := fortnox.Config{
		BaseURL: cfg.FortnoxAPIURL, TokenURL: cfg.FortnoxTokenURL,
		ClientID: cfg.FortnoxClientID, ClientSecret: cfg.FortnoxClientSecret.Reveal(),
		TenantID: cfg.FortnoxTenantID, Now: now,
	}
	if fc.TenantID == "" {
		fc.RefreshTokens = &TokenStore{Firestore: fs, Now: now}
		fc.RefreshToken = st.RefreshTokenSeed.Reveal()
	}
	return fortnox.New(fc)
}

// SyncRequest asks for a Fortnox sync (fortnox-sync message data, `ops
// fortnox sync`).
type SyncRequest struct {
	// DryRun lists what would be booked without booking or writing.
	DryRun bool `json:"dryRun,omitempty"`
}

// SyncReport is what a sync did.
type SyncReport struct {
	// Busy: another sync holds the lease; this one did nothing.
	Busy   bool `json:"busy"`
	DryRun bool `json:"dryRun"`
	// Pending is the number of completed payouts without a voucher found.
	Pending int `json:"pending"`
	// Booked vouchers were created now; Recovered ones were found by their
	// marker after an interrupted earlier attempt.
	Booked    int `json:"booked"`
	Recovered int `json:"recovered"`
	Failed    int `json:"failed"`
	// NotBooked counts payouts left out, by reason.
	NotBooked map[string]int `json:"notBooked"`
	// Reversals* count the vouchers of partly reversed transfers
	// (syncReversals).
	ReversalsBooked    int `json:"reversalsBooked"`
	ReversalsRecovered int `json:"reversalsRecovered"`
	ReversalsFailed    int `json:"reversalsFailed"`
	SalesBooked        int `json:"salesBooked"`
	SalesRecovered     int `json:"salesRecovered"`
	SalesFailed        int `json:"salesFailed"`
	// SalesNotBooked counts the payments whose sales this sync left to be
	// booked by hand, by reason (another currency than the books').
	SalesNotBooked map[string]int `json:"salesNotBooked"`
	// Planned lists the vouchers a dry run would post.
	Planned []PlannedVoucher `json:"planned,omitempty"`
	// Client counters of this sync.
	Requests        int64 `json:"requests"`
	TooManyRequests int64 `json:"tooManyRequests"`
	Reconciliations int64 `json:"reconciliations"`
}

// PlannedVoucher is one voucher of a dry run.
type PlannedVoucher struct {
	Marker  string               `json:"marker"`
	Date    string               `json:"date"`
	Series  string               `json:"series"`
	Rows    []fortnox.VoucherRow `json:"rows"`
	Purpose string               `json:"purpose"` // payout, reversal, sale
}

// Reasons a payout is not booked.
const (
	notBookedZero     = "nothing to book (zero amount)"
	notBookedCurrency = "currency other than the books' (book manually)"
	notBookedReleased = "released to another payout (never booked)"
)

// isReleased reports whether the payout's sales were released to another
// payout (payouts.release, see ReleaseFailed).
func isReleased(snap *firestore.DocumentSnapshot) bool {
	v, err := snap.DataAt("release")
	return err == nil && v != nil
}

// SyncFortnox books every completed payout without a fortnoxReference as
// one voucher (and, with Settings.BookSales, every allocation event as a
// sales voucher), exactly once: it holds the lease jobs/fortnox-sync (a
// concurrent sync returns Busy), marks each payout fortnoxBooking before
// posting, and on a rerun that finds the mark without a reference looks
// the voucher up by its marker (the payout id) before posting. It also
// confirms processing payouts from Stripe first. Failures of single
// bookings are recorded on the payout (fortnoxError) and counted; it
// returns an error only when it cannot work at all (no client, Firestore
// unavailable, the lease lost).
func (s *Service) SyncFortnox(ctx context.Context, req SyncRequest) (*SyncReport, error) {
	rep := &SyncReport{DryRun: req.DryRun, NotBooked: map[string]int{}, SalesNotBooked: map[string]int{}}
	if s.Fortnox == nil {
		return rep, fault.New(fault.FailedPrecondition, "fortnox sync: Fortnox is not configured")
	}
	if !req.DryRun {
		lctx, release, ok, err := s.acquire(ctx)
		if err != nil {
			return rep, fmt.Errorf("fortnox sync: %w", err)
		}
		if !ok {
			rep.Busy = true
			return rep, nil
		}
		defer release()
		ctx = lctx
		if _, err := s.Confirm(ctx); err != nil {
			return rep, fmt.Errorf("fortnox sync: %w", err)
		}
	}
	c, err := s.Fortnox(ctx)
	if err != nil {
		return rep, fmt.Errorf("fortnox sync: %w", err)
	}
	before := c.Stats()
	count := func() {
		after := c.Stats()
		rep.Requests = after.Requests - before.Requests
		rep.TooManyRequests = after.TooManyRequests - before.TooManyRequests
		rep.Reconciliations = after.Reconciliations - before.Reconciliations
	}
	defer count()
	if err := s.syncPayouts(ctx, c, req, rep); err != nil {
		return rep, fmt.Errorf("fortnox sync: %w", err)
	}
	if err := s.syncReversals(ctx, c, req, rep); err != nil {
		return rep, fmt.Errorf("fortnox sync: %w", err)
	}
	if s.settings().BookSales {
		if err := s.syncSales(ctx, c, req, rep); err != nil {
			return rep, fmt.Errorf("fortnox sync: %w", err)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return rep, fmt.Errorf("fortnox sync: %w", err)
	}
	count()
	slog.InfoContext(ctx, "fortnox sync", "booked", rep.Booked, "recovered", rep.Recovered, "failed", rep.Failed,
		"reversalsBooked", rep.ReversalsBooked, "reversalsFailed", rep.ReversalsFailed,
		"salesBooked", rep.SalesBooked, "salesFailed", rep.SalesFailed, "requests", rep.Requests, "tooManyRequests", rep.TooManyRequests)
	return rep, nil
}

func (s *Service) syncPayouts(ctx context.Context, c *fortnox.Client, req SyncRequest, rep *SyncReport) error {
	st := s.settings()
	snaps, err := unsyncedPayouts(ctx, s.Firestore)
	if err != nil {
		return err
	}
	var todo []*model.Payout
	for _, snap := range snaps {
		var po model.Payout
		if err := snap.DataTo(&po); err != nil {
			continue
		}
		po.PayoutID = snap.Ref.ID
		switch {
		case isReleased(snap):
			// Its sales were released to another payout (ReleaseFailed),
			// which is booked: a released payout is never booked.
			rep.NotBooked[notBookedReleased]++
			if !req.DryRun && po.FortnoxError == "" {
				slog.ErrorContext(ctx, "released payout is completed: not booked, check by hand",
					"alert", "payout_released_completed", "payoutId", po.PayoutID)
				_ = s.payoutBookingError(ctx, po.PayoutID, "released to another payout: not booked; check the transfer by hand")
			}
		case po.Amount <= 0:
			rep.NotBooked[notBookedZero]++
		case po.Currency != st.AccountingCurrency:
			rep.NotBooked[notBookedCurrency]++
			if !req.DryRun && po.FortnoxError == "" {
				_ = s.payoutBookingError(ctx, po.PayoutID, "currency "+po.Currency+" is not the books' currency "+st.AccountingCurrency+": book manually")
			}
		default:
			todo = append(todo, &po)
		}
	}
	rep.Pending = len(todo)
	if req.DryRun {
		for _, po := range todo {
			date := s.localDate(po.PayoutDate)
			if po.FortnoxBooking != nil {
				date = po.FortnoxBooking.Date
			}
			v := s.payoutVoucher(po, date, st.VoucherSeries)
			rep.Planned = append(rep.Planned, PlannedVoucher{Marker: po.PayoutID, Date: date, Series: v.VoucherSeries, Rows: v.VoucherRows, Purpose: "payout"})
		}
		return nil
	}
	// Look the financial years up once, before the workers ask at once.
	years := map[string]bool{}
	for _, po := range todo {
		date := s.localDate(po.PayoutDate)
		if !years[date] {
			years[date] = true
			_, _ = c.FinancialYear(ctx, date) // a failure is recorded per payout below
		}
	}
	var mu sync.Mutex
	done := 0
	s.parallel(ctx, len(todo), func(i int) {
		po := todo[i]
		out, err := s.book(ctx, c, s.payoutBooking(po))
		mu.Lock()
		defer mu.Unlock()
		tally(out, err, &rep.Booked, &rep.Recovered, &rep.Failed)
		done++
		s.progress("vouchers", done, len(todo))
	})
	return nil
}

// unsyncedPayouts reads every completed payout without a Fortnox
// reference, oldest first, page by page (the catalogue query's limit).
func unsyncedPayouts(ctx context.Context, fs *firestore.Client) ([]*firestore.DocumentSnapshot, error) {
	q := indexes.MustLookup(indexes.QFortnoxUnsynced).MustBuild(fs, string(model.PayoutCompleted), nil)
	var all []*firestore.DocumentSnapshot
	for page := q; ; {
		snaps, err := page.Documents(ctx).GetAll()
		if err != nil {
			return nil, store.Classify("query completed payouts", err)
		}
		all = append(all, snaps...)
		if len(snaps) == 0 || len(snaps) < indexes.MustLookup(indexes.QFortnoxUnsynced).Limit {
			return all, nil
		}
		page = q.StartAfter(snaps[len(snaps)-1])
	}
}

// parallel runs fn(0…n-1) on Settings.SyncWorkers goroutines, starting no
// new item once ctx is done or less than 20 s remain before its deadline.
func (s *Service) parallel(ctx context.Context, n int, fn func(i int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(s.settings().SyncWorkers, max(n, 1)) {
		wg.Go(func() {
			for i := range jobs {
				fn(i)
			}
		})
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 20*time.Second {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// localDate is t's date in Settings.Zone (now when t is zero).
func (s *Service) localDate(t time.Time) string {
	if t.IsZero() {
		t = s.now()
	}
	return t.In(s.settings().Zone).Format(time.DateOnly)
}

// payoutVoucher is the voucher of a payout: the payout debit account
// (coach liability) against the clearing account (Stripe balance).
func (s *Service) payoutVoucher(po *model.Payout, date, series string) fortnox.Voucher {
	st := s.settings()
	return fortnox.Voucher{
		Description:     "Coach payout " + po.PayoutID,
		TransactionDate: date,
		VoucherSeries:   series,
		VoucherRows: []fortnox.VoucherRow{
			{Account: st.PayoutDebitAccount, Debit: fortnox.Amount(po.Amount)},
			{Account: st.ClearingAccount, Credit: fortnox.Amount(po.Amount)},
		},
	}
}

// booking is one voucher to post exactly once, with its bookkeeping in
// Firestore.
type booking struct {
	marker string
	date   string // proposed transaction date (a mark's date wins)
	series string
	// voucher builds the voucher for the mark's date and series.
	voucher func(m *model.FortnoxBooking) fortnox.Voucher
	// mark records m unless a mark or a reference exists: it returns the
	// mark in force, whether it was there before, and done when the
	// voucher is already referenced.
	mark func(ctx context.Context, m *model.FortnoxBooking) (cur *model.FortnoxBooking, resumed, done bool, err error)
	// store records the reference.
	store func(ctx context.Context, ref fortnox.VoucherRef) error
	// fail records a problem.
	fail func(ctx context.Context, msg string) error
}

type outcome int

const (
	outcomeNone outcome = iota
	outcomeBooked
	outcomeRecovered
	outcomeAlready
)

// planned is the voucher a dry run lists for b: at its proposed date, in
// its series.
func planned(b booking, purpose string) PlannedVoucher {
	v := b.voucher(&model.FortnoxBooking{Date: b.date, Series: b.series})
	return PlannedVoucher{Marker: b.marker, Date: b.date, Series: v.VoucherSeries, Rows: v.VoucherRows, Purpose: purpose}
}

// tally counts the result of book in a report's counters.
func tally(out outcome, err error, booked, recovered, failed *int) {
	switch {
	case err != nil:
		*failed++
	case out == outcomeBooked:
		*booked++
	case out == outcomeRecovered:
		*recovered++
	}
}

// book posts one voucher exactly once (see SyncFortnox).
func (s *Service) book(ctx context.Context, c *fortnox.Client, b booking) (outcome, error) {
	failed := func(err error) (outcome, error) {
		if ferr := b.fail(context.WithoutCancel(ctx), truncate(err.Error())); ferr != nil {
			slog.WarnContext(ctx, "fortnox booking error not recorded", "marker", b.marker)
		}
		slog.WarnContext(ctx, "fortnox booking failed", "marker", b.marker, "code", string(fault.CodeOf(err)))
		return outcomeNone, err
	}
	fy, err := c.FinancialYear(ctx, b.date)
	if err != nil {
		return failed(err)
	}
	m, resumed, done, err := b.mark(ctx, &model.FortnoxBooking{StartedAt: s.now(), Date: b.date, Series: b.series, FinancialYear: fy.ID})
	if err != nil {
		return outcomeNone, err
	}
	if done {
		return outcomeAlready, nil
	}
	result := outcomeBooked
	var ref fortnox.VoucherRef
	found := false
	if resumed {
		ref, found, err = c.FindVoucher(ctx, m.FinancialYear, m.Series, m.Date, b.marker)
		if err != nil {
			return failed(err)
		}
		if found {
			result = outcomeRecovered
		}
	}
	if !found {
		ref, err = c.CreateVoucherOnce(ctx, m.FinancialYear, b.voucher(m), b.marker)
		if err != nil {
			return failed(err)
		}
	}
	// The voucher exists now: record it even if the sync is being stopped.
	if err := b.store(context.WithoutCancel(ctx), ref); err != nil {
		return outcomeNone, err
	}
	return result, nil
}

// payoutBooking is the booking of one payout.
func (s *Service) payoutBooking(po *model.Payout) booking {
	ref := s.Firestore.Collection(model.ColPayouts).Doc(po.PayoutID)
	return booking{
		marker: po.PayoutID,
		date:   s.localDate(po.PayoutDate),
		series: s.settings().VoucherSeries,
		voucher: func(m *model.FortnoxBooking) fortnox.Voucher {
			return s.payoutVoucher(po, m.Date, m.Series)
		},
		mark: func(ctx context.Context, m *model.FortnoxBooking) (cur *model.FortnoxBooking, resumed, done bool, err error) {
			err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				cur, resumed, done = nil, false, false
				snap, err := tx.Get(ref)
				if err != nil {
					return err
				}
				var p model.Payout
				if err := snap.DataTo(&p); err != nil {
					return err
				}
				if p.FortnoxReference != nil {
					done = true
					return nil
				}
				if p.FortnoxBooking != nil {
					cur, resumed = p.FortnoxBooking, true
					return nil
				}
				if isReleased(snap) {
					return fault.New(fault.FailedPrecondition, "payout was released to another payout: not booked")
				}
				cur = m
				return tx.Update(ref, []firestore.Update{{Path: "fortnoxBooking", Value: m}, {Path: "updatedAt", Value: s.now()}})
			}, firestore.MaxAttempts(txAttempts))
			return cur, resumed, done, store.Classify("mark payout booking", err)
		},
		store: func(ctx context.Context, vr fortnox.VoucherRef) error {
			err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				snap, err := tx.Get(ref)
				if err != nil {
					return err
				}
				if v, _ := snap.DataAt("fortnoxReference"); v != nil {
					if v != vr.String() {
						slog.ErrorContext(ctx, "payout booked twice in Fortnox", "alert", "fortnox_booked_twice",
							"payoutId", po.PayoutID, "kept", v, "other", vr.String())
					}
					return nil
				}
				return tx.Update(ref, []firestore.Update{
					{Path: "fortnoxReference", Value: vr.String()},
					{Path: "fortnoxVoucher", Value: model.FortnoxVoucher{Series: vr.Series, Number: vr.Number, Year: vr.Year}},
					{Path: "fortnoxError", Value: firestore.Delete},
					{Path: "updatedAt", Value: s.now()},
				})
			}, firestore.MaxAttempts(txAttempts))
			return store.Classify("store payout voucher", err)
		},
		fail: func(ctx context.Context, msg string) error { return s.payoutBookingError(ctx, po.PayoutID, msg) },
	}
}

func (s *Service) payoutBookingError(ctx context.Context, payoutID, msg string) error {
	_, err := s.Firestore.Collection(model.ColPayouts).Doc(payoutID).Update(ctx, []firestore.Update{
		{Path: "fortnoxError", Value: msg}, {Path: "updatedAt", Value: s.now()}})
	return store.Classify("record payout booking error", err)
}

// ---- reversals of payout transfers ----

// ReversalBooking is one voucher of payouts.reversalBookings (server-only,
// added here): Amount (minor units) of the payout's transfer that came
// back, booked under the marker reversalMarker(payoutId, Seq) with the
// mark/find/create flow of every voucher. ReversalID is the Stripe
// reversal (trr_…, a key of payouts.transferReversals) it books; empty on
// a voucher of an amount known only cumulatively (every voucher booked
// before reversals were recorded one by one, and what a payout's known
// reversals do not explain). Settlement is set when the voucher was booked
// by hand and recorded by an operator (SettleVoucher); Booking is then the
// sync's mark, if it got that far, or nil.
type ReversalBooking struct {
	Seq        int                   `firestore:"seq" json:"seq"`
	ReversalID string                `firestore:"reversalId,omitempty" json:"reversalId,omitempty"`
	Amount     int64                 `firestore:"amount" json:"amount"`
	Booking    *model.FortnoxBooking `firestore:"fortnoxBooking" json:"fortnoxBooking"`
	Reference  *string               `firestore:"fortnoxReference" json:"fortnoxReference"`
	Settlement *Settlement           `firestore:"settlement,omitempty" json:"settlement,omitempty"`
}

// reversalPayout is a payout with the vouchers of its transfer's
// reversals.
type reversalPayout struct {
	model.Payout
	ReversalBookings []ReversalBooking `firestore:"reversalBookings,omitempty"`
}

// reversalItem is one reversal voucher a payout awaits.
type reversalItem struct {
	seq     int
	id      string // the Stripe reversal; "" for an amount known only cumulatively
	amount  int64
	at      time.Time             // when the reversal was made (a new voucher's date)
	booking *model.FortnoxBooking // the mark of a voucher marked before (resumed)
	resumed bool
}

// awaited lists the reversal vouchers p awaits, in booking order: every
// voucher marked but not referenced (resumed as marked), then one voucher
// per reversal of TransferReversals not booked yet, by (time, id), then
// what the cumulative TransferReversal has beyond the reversals known
// (dated when it last grew). What vouchers without a reversal id booked
// (all vouchers booked before reversals were recorded one by one) covers
// the earliest reversals first: a reversal it covers is not booked again,
// one it covers in part is booked for the rest. New vouchers are numbered
// on from the highest seq, in that order.
func (p *reversalPayout) awaited() []reversalItem {
	var out []reversalItem
	booked := map[string]int64{} // by reversal id: the amount its vouchers book
	var lump int64               // booked without a reversal id
	seq := 0
	for _, b := range p.ReversalBookings {
		seq = max(seq, b.Seq)
		if b.ReversalID != "" {
			booked[b.ReversalID] += b.Amount
		} else {
			lump += b.Amount
		}
		if b.Reference == nil {
			out = append(out, reversalItem{seq: b.Seq, id: b.ReversalID, amount: b.Amount, booking: b.Booking, resumed: true})
		}
	}
	ids := make([]string, 0, len(p.TransferReversals))
	for id, r := range p.TransferReversals {
		ids = append(ids, id)
		if amount, ok := booked[id]; ok {
			// A reversal booked for the rest of what the lump covered:
			// that part stays covered, it covers nothing else.
			lump -= min(lump, max(r.Amount-amount, 0))
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := p.TransferReversals[ids[i]], p.TransferReversals[ids[j]]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return ids[i] < ids[j]
	})
	var known int64
	for _, id := range ids {
		r := p.TransferReversals[id]
		known += r.Amount
		if _, ok := booked[id]; ok {
			continue
		}
		cover := min(lump, r.Amount)
		lump -= cover
		if rest := r.Amount - cover; rest > 0 {
			seq++
			out = append(out, reversalItem{seq: seq, id: id, amount: rest, at: r.At})
		}
	}
	if rest := p.ReversedAmount() - known - lump; rest > 0 {
		seq++
		out = append(out, reversalItem{seq: seq, amount: rest, at: p.TransferReversal.At})
	}
	return out
}

// reversalMarker is the Fortnox marker of a payout's seq-th reversal
// voucher (never matched by the payout's own marker: see
// fortnox.FindVoucher's whole-token match).
func reversalMarker(payoutID string, seq int) string {
	return payoutID + "_r" + strconv.Itoa(seq)
}

// reversalVoucher books amount of a payout's transfer taken back by Stripe
// (a partial reversal): the clearing account (Stripe balance) against the
// payout debit account (the coach is owed it again), the payout voucher in
// reverse.
func (s *Service) reversalVoucher(payoutID string, seq int, amount int64, date, series string) fortnox.Voucher {
	st := s.settings()
	return fortnox.Voucher{
		Description:     "Coach payout transfer reversal " + reversalMarker(payoutID, seq),
		TransactionDate: date,
		VoucherSeries:   series,
		VoucherRows: []fortnox.VoucherRow{
			{Account: st.ClearingAccount, Debit: fortnox.Amount(amount)},
			{Account: st.PayoutDebitAccount, Credit: fortnox.Amount(amount)},
		},
	}
}

// syncReversals books the partial reversals of booked payouts' transfers
// (reversalPending, see model.Payout.TransferReversals): one voucher per
// reversal, dated the local day Stripe made it (BFL: each business event
// its own verification on its day), in the order of awaited; the payout
// voucher keeps the transfer's amount and date, as Stripe's balance shows
// both. A payout whose known reversals do not add up to the amount
// reversed (recorded before reversals were kept one by one, or beyond
// the ten a transfer object embeds) has its transfer's reversals listed
// from Stripe first (ReversalLister) and recorded; when that fails it
// waits for the next sync (reversalError), rather than booking reversals
// it cannot date. Without a lister (Stripe not configured) that rest is
// one voucher dated when the amount last grew. A payout waits while it is
// not completed and booked; released payouts and payouts in another
// currency are not booked.
func (s *Service) syncReversals(ctx context.Context, c *fortnox.Client, req SyncRequest, rep *SyncReport) error {
	st := s.settings()
	snaps, err := indexes.MustLookup(indexes.QPayoutsReversalDue).MustBuild(s.Firestore, true).Documents(ctx).GetAll()
	if err != nil {
		return store.Classify("query reversed payouts", err)
	}
	lister, _ := s.Transfers.(ReversalLister)
	type todo struct {
		po    *reversalPayout
		items []reversalItem
	}
	var work []todo
	for _, snap := range snaps {
		var po reversalPayout
		if err := snap.DataTo(&po); err != nil {
			continue
		}
		po.PayoutID = snap.Ref.ID
		if po.Status != model.PayoutCompleted || po.FortnoxReference == nil || isReleased(snap) ||
			po.Currency != st.AccountingCurrency || po.TransferReversal == nil {
			continue
		}
		if lister != nil && po.ReversalsKnown() < po.ReversedAmount() && po.ProcessorPayoutID != nil && *po.ProcessorPayoutID != "" {
			if err := s.listReversals(ctx, lister, &po, req.DryRun); err != nil {
				rep.ReversalsFailed++
				slog.WarnContext(ctx, "transfer reversals not listed", "payoutId", po.PayoutID, "code", string(fault.CodeOf(err)))
				if !req.DryRun {
					if ferr := s.reversalBookingError(ctx, po.PayoutID, truncate(err.Error())); ferr != nil {
						slog.WarnContext(ctx, "reversal booking error not recorded", "payoutId", po.PayoutID)
					}
				}
				continue
			}
		}
		work = append(work, todo{&po, po.awaited()})
	}
	if req.DryRun {
		for _, w := range work {
			for _, it := range w.items {
				rep.Planned = append(rep.Planned, planned(s.reversalBooking(w.po, it), "reversal"))
			}
		}
		return nil
	}
	var mu sync.Mutex
	s.parallel(ctx, len(work), func(i int) {
		w := work[i]
		if len(w.items) == 0 {
			// Everything reversed is booked (e.g. a repeated event).
			if err := s.settleReversals(ctx, w.po.PayoutID); err != nil {
				slog.WarnContext(ctx, "reversal pending not cleared", "payoutId", w.po.PayoutID)
			}
			return
		}
		for _, it := range w.items {
			out, err := s.book(ctx, c, s.reversalBooking(w.po, it))
			mu.Lock()
			tally(out, err, &rep.ReversalsBooked, &rep.ReversalsRecovered, &rep.ReversalsFailed)
			mu.Unlock()
			if err != nil {
				break // later vouchers of the payout wait for this one
			}
		}
	})
	return nil
}

// truncate shortens an error message recorded on a document.
func truncate(msg string) string {
	if len(msg) > 300 {
		return msg[:300]
	}
	return msg
}

// listReversals lists every reversal of po's transfer from Stripe and
// records those po does not know (model.Payout.ReversalNews, in a
// transaction; in a dry run only in po). A transfer reversed in full is
// refused (FailedPrecondition): such a payout fails, and is not booked
// as partial reversals.
func (s *Service) listReversals(ctx context.Context, lister ReversalLister, po *reversalPayout, dryRun bool) error {
	rs, err := lister.Reversals(ctx, *po.ProcessorPayoutID)
	if err != nil {
		return fmt.Errorf("list transfer reversals: %w", err)
	}
	listed := reversalsByID(rs)
	var sum int64
	for _, r := range listed {
		sum += r.Amount
	}
	if sum >= po.Amount {
		// Fully reversed meanwhile: the payout fails (the webhook or
		// Confirm), and its booked voucher is reversed by hand.
		return fault.New(fault.FailedPrecondition, "transfer of the payout is fully reversed: reversals not booked, check by hand")
	}
	if dryRun {
		po.ReversalUpdates(sum, listed, s.now()) // recorded in po only
		return nil
	}
	ref := s.Firestore.Collection(model.ColPayouts).Doc(po.PayoutID)
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cur, err := readIn[reversalPayout](tx, ref)
		if err != nil {
			return err
		}
		cur.PayoutID = po.PayoutID
		ups := cur.ReversalUpdates(sum, listed, s.now())
		*po = cur
		if len(ups) == 0 {
			return nil
		}
		return tx.Update(ref, append(ups, firestore.Update{Path: "updatedAt", Value: s.now()}))
	}, firestore.MaxAttempts(txAttempts))
	return store.Classify("record transfer reversals", err)
}

// settleReversals clears reversalPending of a payout that awaits no
// reversal voucher (checked again in the transaction).
func (s *Service) settleReversals(ctx context.Context, payoutID string) error {
	ref := s.Firestore.Collection(model.ColPayouts).Doc(payoutID)
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		p, err := readIn[reversalPayout](tx, ref)
		if err != nil {
			return err
		}
		if !p.ReversalPending || len(p.awaited()) > 0 {
			return nil
		}
		return tx.Update(ref, []firestore.Update{{Path: "reversalPending", Value: false}, {Path: "updatedAt", Value: s.now()}})
	}, firestore.MaxAttempts(txAttempts))
	return store.Classify("settle payout reversals", err)
}

func (s *Service) reversalBookingError(ctx context.Context, payoutID, msg string) error {
	_, err := s.Firestore.Collection(model.ColPayouts).Doc(payoutID).Update(ctx, []firestore.Update{
		{Path: "reversalError", Value: msg}, {Path: "updatedAt", Value: s.now()}})
	return store.Classify("record reversal booking error", err)
}

// reversalBooking is the booking of reversal voucher it of payout po: a
// voucher marked before as marked; a new one as it.seq, marked only while
// the payout still awaits it under that seq (else the sync is told to
// retry: the payout's reversals changed meanwhile). A reversal's amount
// never changes; a voucher of an amount known only cumulatively books at
// most what was planned (what Stripe reversed since is the next voucher,
// on its own day).
func (s *Service) reversalBooking(po *reversalPayout, it reversalItem) booking {
	ref := s.Firestore.Collection(model.ColPayouts).Doc(po.PayoutID)
	date := s.localDate(it.at)
	if it.booking != nil {
		date = it.booking.Date
	}
	amount := it.amount
	read := func(tx *firestore.Transaction) (*reversalPayout, error) {
		snap, err := tx.Get(ref)
		if err != nil {
			return nil, err
		}
		var cur reversalPayout
		if err := snap.DataTo(&cur); err != nil {
			return nil, err
		}
		if isReleased(snap) {
			return nil, fault.New(fault.FailedPrecondition, "payout was released to another payout: reversal not booked")
		}
		return &cur, nil
	}
	return booking{
		marker: reversalMarker(po.PayoutID, it.seq),
		date:   date,
		series: s.settings().VoucherSeries,
		voucher: func(m *model.FortnoxBooking) fortnox.Voucher {
			return s.reversalVoucher(po.PayoutID, it.seq, amount, m.Date, m.Series)
		},
		mark: func(ctx context.Context, m *model.FortnoxBooking) (cur *model.FortnoxBooking, resumed, done bool, err error) {
			err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				cur, resumed, done = nil, false, false
				p, err := read(tx)
				if err != nil {
					return err
				}
				for _, b := range p.ReversalBookings {
					if b.Seq == it.seq {
						if b.ReversalID != it.id {
							return fault.New(fault.Aborted, "reversal bookings of the payout changed: retried on the next sync")
						}
						// Marked before (by this sync's plan or an earlier
						// one that died after posting).
						done, cur, resumed, amount = b.Reference != nil, b.Booking, true, b.Amount
						return nil
					}
				}
				awaited := p.awaited()
				if len(awaited) == 0 {
					done = true
					return tx.Update(ref, []firestore.Update{{Path: "reversalPending", Value: false}, {Path: "updatedAt", Value: s.now()}})
				}
				var next *reversalItem
				for i := range awaited {
					if a := &awaited[i]; !a.resumed && a.id == it.id {
						next = a
						break
					}
				}
				switch {
				case next == nil || next.seq != it.seq:
					return fault.New(fault.Aborted, "reversals of the payout changed: retried on the next sync")
				case it.id != "" && next.amount != it.amount:
					return fault.New(fault.Aborted, "reversal bookings of the payout changed: retried on the next sync")
				}
				amount, cur = min(next.amount, it.amount), m
				return tx.Update(ref, []firestore.Update{
					{Path: "reversalBookings", Value: append(p.ReversalBookings, ReversalBooking{Seq: it.seq, ReversalID: it.id, Amount: amount, Booking: m})},
					{Path: "updatedAt", Value: s.now()}})
			}, firestore.MaxAttempts(txAttempts))
			return cur, resumed, done, store.Classify("mark reversal booking", err)
		},
		store: func(ctx context.Context, vr fortnox.VoucherRef) error {
			err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				p, err := read(tx)
				if err != nil {
					return err
				}
				for i := range p.ReversalBookings {
					b := &p.ReversalBookings[i]
					if b.Seq != it.seq {
						continue
					}
					if b.Reference != nil {
						return nil
					}
					r := vr.String()
					b.Reference = &r
					return tx.Update(ref, []firestore.Update{{Path: "reversalBookings", Value: p.ReversalBookings},
						{Path: "reversalPending", Value: len(p.awaited()) > 0}, {Path: "reversalError", Value: firestore.Delete},
						{Path: "updatedAt", Value: s.now()}})
				}
				return fault.New(fault.NotFound, "reversal booking %d not found", it.seq)
			}, firestore.MaxAttempts(txAttempts))
			return store.Classify("store reversal voucher", err)
		},
		fail: func(ctx context.Context, msg string) error { return s.reversalBookingError(ctx, po.PayoutID, msg) },
	}
}

// ---- sales vouchers ----

// saleDate is the date an allocation event is booked on: the payment's
// date for the allocation itself, the time the change was seen for an
// adjustment.
func saleDate(a *model.PayoutAllocation, ev model.AllocationEvent) time.Time {
	if ev.Seq == 1 && !a.PaymentDate.IsZero() {
		return a.PaymentDate
	}
	return ev.At
}

// saleMarker is the Fortnox marker of an allocation event.
func saleMarker(paymentID string, seq int) string {
	return "sale_" + idPart(paymentID) + "_" + strconv.Itoa(seq)
}

// salesVoucher books one allocation event (agent model): the clearing
// account against the coaches' liability, the commission less VAT and the
// VAT on the commission; a negative event (a refund) books the reverse.
func (s *Service) salesVoucher(a *model.PayoutAllocation, ev model.AllocationEvent, date, series string) fortnox.Voucher {
	st := s.settings()
	vat := VATIncluded(ev.Commission, st.VATBps)
	pool := ev.Net - ev.Commission
	signed := []struct {
		account int
		debit   int64 // negative: credit
	}{
		{st.ClearingAccount, ev.Net},
		{st.LiabilityAccount, -pool},
		{st.CommissionAccount, -(ev.Commission - vat)},
		{st.VATAccount, -vat},
	}
	v := fortnox.Voucher{
		Description:     "Program sale " + saleMarker(a.PaymentID, ev.Seq),
		TransactionDate: date, VoucherSeries: series,
	}
	for _, l := range signed {
		switch {
		case l.debit > 0:
			v.VoucherRows = append(v.VoucherRows, fortnox.VoucherRow{Account: l.account, Debit: fortnox.Amount(l.debit)})
		case l.debit < 0:
			v.VoucherRows = append(v.VoucherRows, fortnox.VoucherRow{Account: l.account, Credit: fortnox.Amount(-l.debit)})
		}
	}
	return v
}

func (s *Service) syncSales(ctx context.Context, c *fortnox.Client, req SyncRequest, rep *SyncReport) error {
	st := s.settings()
	snaps, err := indexes.MustLookup(indexes.QAllocationsSalesDue).MustBuild(s.Firestore, true).Documents(ctx).GetAll()
	if err != nil {
		return store.Classify("query allocations", err)
	}
	var allocs []*model.PayoutAllocation
	for _, snap := range snaps {
		var a model.PayoutAllocation
		if err := snap.DataTo(&a); err != nil {
			continue
		}
		a.PaymentID = snap.Ref.ID
		allocs = append(allocs, &a)
	}
	if req.DryRun {
		for _, a := range allocs {
			if a.Currency != st.AccountingCurrency {
				rep.SalesNotBooked[notBookedCurrency]++
				continue
			}
			for _, ev := range a.Events {
				if ev.AwaitsSale() && a.Currency == st.AccountingCurrency {
					rep.Planned = append(rep.Planned, planned(s.saleBooking(a, ev), "sale"))
				}
			}
		}
		return nil
	}
	var mu sync.Mutex
	done := 0
	s.parallel(ctx, len(allocs), func(i int) {
		a := allocs[i]
		if a.Currency != st.AccountingCurrency {
			mu.Lock()
			rep.SalesNotBooked[notBookedCurrency]++
			mu.Unlock()
			// Closed (salesPending false), so counted once: the event's
			// salesError says why, for the person who books it.
			if err := s.closeSales(ctx, a.PaymentID, "currency "+a.Currency+" is not the books' currency: book manually"); err != nil {
				slog.WarnContext(ctx, "sales booking not closed", "paymentId", a.PaymentID)
			} else {
				slog.WarnContext(ctx, "sale left for manual booking: another currency", "paymentId", a.PaymentID, "currency", a.Currency)
			}
			return
		}
		for _, ev := range a.Events {
			if !ev.AwaitsSale() {
				continue
			}
			out, err := s.book(ctx, c, s.saleBooking(a, ev))
			mu.Lock()
			tally(out, err, &rep.SalesBooked, &rep.SalesRecovered, &rep.SalesFailed)
			mu.Unlock()
			if err != nil {
				break // later events wait for this one
			}
		}
		mu.Lock()
		done++
		s.progress("sales", done, len(allocs))
		mu.Unlock()
	})
	return nil
}

// updateEvent changes one event of an allocation in a transaction and
// keeps salesPending in step.
func (s *Service) updateEvent(ctx context.Context, paymentID string, seq int, fn func(ev *model.AllocationEvent) (write bool)) (*model.AllocationEvent, error) {
	ref := s.Firestore.Collection(model.ColPayoutAllocations).Doc(paymentID)
	var out *model.AllocationEvent
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out = nil
		a, err := readIn[model.PayoutAllocation](tx, ref)
		if err != nil {
			return err
		}
		for i := range a.Events {
			if a.Events[i].Seq != seq {
				continue
			}
			ev := &a.Events[i]
			if !fn(ev) {
				c := *ev
				out = &c
				return nil
			}
			c := *ev
			out = &c
			return tx.Update(ref, []firestore.Update{{Path: "events", Value: a.Events}, {Path: "salesPending", Value: salesPending(a.Events)},
				{Path: "updatedAt", Value: s.now()}})
		}
		return fault.New(fault.NotFound, "allocation event %d not found", seq)
	}, firestore.MaxAttempts(txAttempts))
	return out, store.Classify("update allocation event", err)
}

// saleBooking is the booking of one allocation event.
func (s *Service) saleBooking(a *model.PayoutAllocation, ev model.AllocationEvent) booking {
	st := s.settings()
	return booking{
		marker: saleMarker(a.PaymentID, ev.Seq),
		date:   s.localDate(saleDate(a, ev)),
		series: st.SalesSeries,
		voucher: func(m *model.FortnoxBooking) fortnox.Voucher {
			return s.salesVoucher(a, ev, m.Date, m.Series)
		},
		mark: func(ctx context.Context, m *model.FortnoxBooking) (cur *model.FortnoxBooking, resumed, done bool, err error) {
			set := false
			got, err := s.updateEvent(ctx, a.PaymentID, ev.Seq, func(e *model.AllocationEvent) bool {
				set = false
				if !e.AwaitsSale() || e.SalesBooking != nil {
					return false
				}
				e.SalesBooking, set = m, true
				return true
			})
			if err != nil {
				return nil, false, false, err
			}
			if !got.AwaitsSale() {
				return nil, false, true, nil
			}
			return got.SalesBooking, !set, false, nil
		},
		store: func(ctx context.Context, vr fortnox.VoucherRef) error {
			ref := vr.String()
			_, err := s.updateEvent(ctx, a.PaymentID, ev.Seq, func(e *model.AllocationEvent) bool {
				if e.SalesReference != nil {
					return false
				}
				e.SalesReference, e.SalesError = &ref, ""
				return true
			})
			return err
		},
		fail: func(ctx context.Context, msg string) error {
			_, err := s.updateEvent(ctx, a.PaymentID, ev.Seq, func(e *model.AllocationEvent) bool {
				if e.SalesReference != nil || e.SalesError == msg {
					return false
				}
				e.SalesError = msg // retried on the next sync (salesPending stays true)
				return true
			})
			return err
		},
	}
}

// closeSales marks every unbooked event of an allocation as not to be
// booked automatically.
func (s *Service) closeSales(ctx context.Context, paymentID, msg string) error {
	ref := s.Firestore.Collection(model.ColPayoutAllocations).Doc(paymentID)
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		a, err := readIn[model.PayoutAllocation](tx, ref)
		if err != nil {
			return err
		}
		for i := range a.Events {
			if a.Events[i].SalesReference == nil {
				a.Events[i].SalesError = msg
			}
		}
		return tx.Update(ref, []firestore.Update{{Path: "events", Value: a.Events}, {Path: "salesPending", Value: false}, {Path: "updatedAt", Value: s.now()}})
	}, firestore.MaxAttempts(txAttempts))
	return store.Classify("close sales booking", err)
}

// ---- the lease ----

// leaseReleaseTimeout bounds the release of the sync's lease, which is
// best effort (the lease expires after Settings.LeaseTTL anyway).
const leaseReleaseTimeout = 30 * time.Second

// leaseRunningOut reports whether a lease held until held, renewed every
// ttl/3, has less than a renewal interval left at now: the holder must stop
// before it expires and another sync may take it.
func leaseRunningOut(now, held time.Time, ttl time.Duration) bool {
	return !now.Before(held.Add(-ttl / 3))
}

// acquire takes the lease jobs/fortnox-sync for Settings.LeaseTTL and keeps
// renewing it; the returned context is cancelled if the lease is lost.
// ok=false means another holder has it.
func (s *Service) acquire(ctx context.Context) (context.Context, func(), bool, error) {
	holder := s.Holder
	if holder == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		holder = hex.EncodeToString(b)
	}
	ttl := s.settings().LeaseTTL
	ref := s.Firestore.Collection(model.ColJobs).Doc(JobFortnoxSync)
	take := func(ctx context.Context, renew bool) (bool, error) {
		ok := false
		err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			ok = false
			snap, err := tx.Get(ref)
			if err != nil && !store.IsNotFound(err) {
				return err
			}
			job := model.Job{Name: JobFortnoxSync, Checkpoint: map[string]any{}}
			if snap != nil && snap.Exists() {
				if err := snap.DataTo(&job); err != nil {
					return err
				}
				if job.Checkpoint == nil {
					job.Checkpoint = map[string]any{}
				}
			}
			cur, _ := job.Checkpoint["holder"].(string)
			until, _ := job.Checkpoint["leaseUntil"].(time.Time)
			now := s.now()
			if renew && cur != holder {
				return nil
			}
			if !renew && cur != "" && cur != holder && until.After(now) {
				return nil
			}
			ok = true
			job.Checkpoint["holder"] = holder
			job.Checkpoint["leaseUntil"] = now.Add(ttl)
			if !renew {
				job.Checkpoint["startedAt"] = now
			}
			job.UpdatedAt = now
			return tx.Set(ref, job)
		}, firestore.MaxAttempts(txAttempts))
		return ok, store.Classify("fortnox sync lease", err)
	}
	ok, err := take(ctx, false)
	if err != nil || !ok {
		return ctx, func() {}, ok, err
	}
	lctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	held := s.now().Add(ttl) // the lease is ours until then at least
	wg.Go(func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-lctx.Done():
				return
			case <-t.C:
				at := s.now()
				ok, err := take(lctx, true)
				switch {
				case err == nil && ok:
					held = at.Add(ttl)
				case err == nil:
					cancel(fault.New(fault.Aborted, "fortnox sync lease lost"))
					return
				case leaseRunningOut(s.now(), held, ttl):
					// Renewals keep failing: stop before the lease can
					// expire and a second sync take it while this one
					// still posts (it would find this one's mark but not
					// yet its voucher, and post it again).
					cancel(fault.Wrap(err, fault.Unavailable, "fortnox sync lease could not be renewed"))
					return
				}
			}
		}
	})
	release := func() {
		close(stop)
		wg.Wait()
		cancel(nil)
		// Best effort, and bounded: the lease expires anyway, so a
		// Firestore that keeps failing must not hold the function until
		// its timeout.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), leaseReleaseTimeout)
		defer rcancel()
		_ = s.Firestore.RunTransaction(rctx, func(ctx context.Context, tx *firestore.Transaction) error {
			snap, err := tx.Get(ref)
			if err != nil {
				return err
			}
			if h, _ := leaseHolder(snap); h != holder {
				return nil
			}
			now := s.now()
			return tx.Update(ref, []firestore.Update{{Path: "checkpoint.holder", Value: ""},
				{Path: "checkpoint.leaseUntil", Value: now}, {Path: "checkpoint.lastSyncAt", Value: now}, {Path: "updatedAt", Value: now}})
		})
	}
	return lctx, release, true, nil
}
