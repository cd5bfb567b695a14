package payouts

import (
	"slices"
	"sort"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
)

// candidate is the state of one payment as a payout transaction (or a dry
// run) sees it: the payment, its allocation (nil when none) and the terms
// it is allocated by (saleTerms).
type candidate struct {
	payment *model.Payment
	alloc   *model.PayoutAllocation
	terms   terms

	allocChanged bool // alloc created or modified: write it
	markPayment  bool // set payments/{id}.payoutId
}

// skip reasons reported by a run (counts of payments).
const (
	skipNoProgram      = "no programId"
	skipProgramMissing = "program not found"
	// skipNoTermsWhenPaid: the payment's frozen terms say its program did
	// not exist when it was paid; a program created later under the id
	// does not make it payable.
	skipNoTermsWhenPaid = "program not found when paid"
	// skipRecreated: the payment's frozen terms say its program was
	// deleted and created again between the checkout and the recording of
	// the payment (RecreatedAfterCheckout): whoever owns the id now did
	// not sell it.
	skipRecreated     = "program re-created after checkout"
	skipBadSplit      = "invalid coachSplits or createdBy"
	skipBadCommission = "invalid commissionBps"
	skipBadCurrency   = "unsupported currency"
	skipForeignPayout = "payoutId set without allocation"
)

// Sources of the terms an allocation was made by
// (payout_allocations.termsSource).
const (
	// TermsFromPayment: the terms frozen on the payment when it was
	// recorded as paid (payments.programTerms).
	TermsFromPayment = "payment"
	// TermsFromProgram: the program as read at allocation time, for a
	// legacy payment recorded before terms were frozen.
	TermsFromProgram = "program"
)

// terms are what an unallocated payment is allocated by: its coaches,
// their splits and the commission, as a program (nil when there are none),
// and where they come from (TermsFromPayment or TermsFromProgram).
type terms struct {
	program *model.Program
	source  string
	// recreated: the frozen terms say the program was created again after
	// the checkout (no program; skipRecreated).
	recreated bool
}

// saleTerms returns the terms payment p is allocated by. Terms frozen on
// the payment by the webhook (payments.programTerms) are the ones in force
// when the customer paid, and always win: the program as it is now (prog)
// is not consulted, so neither a change of its split or commission nor a
// program deleted and created again under the same id by someone else
// changes who is paid for the sale; terms that say the program was created
// again after the checkout (RecreatedAfterCheckout) give no program, and
// the sale is skipped. Only a legacy payment, recorded before
// terms were frozen, falls back to prog (nil when the program does not
// exist or was not read).
func saleTerms(p *model.Payment, prog *model.Program) terms {
	t := p.ProgramTerms
	if t == nil {
		return terms{program: prog, source: TermsFromProgram}
	}
	if t.RecreatedAfterCheckout {
		return terms{source: TermsFromPayment, recreated: true}
	}
	if !t.ProgramFound {
		return terms{source: TermsFromPayment}
	}
	return terms{program: programOfTerms(ptr(p.ProgramID), *t), source: TermsFromPayment}
}

// eligibility decides whether an unallocated payment can be allocated for
// a period ending at end by its terms (saleTerms): its net amount, weights
// and commission, or the reason it cannot ("" with ok=false means "nothing
// to pay", not a problem; held means an open dispute).
func (s *Service) eligibility(p *model.Payment, t terms, end time.Time) (net int64, weights map[string]int64, bps int, held bool, reason string, ok bool) {
	if p.PayoutID != "" {
		return 0, nil, 0, false, skipForeignPayout, false
	}
	if !p.PaymentDate.Before(end) {
		return 0, nil, 0, false, "", false
	}
	net, countable, held := NetAmount(p)
	if !countable || net <= 0 {
		return 0, nil, 0, false, "", false
	}
	if held {
		return 0, nil, 0, true, "", false
	}
	w, b, reason, ok := s.termsOf(p, t)
	if !ok {
		return 0, nil, 0, false, reason, false
	}
	return net, w, b, false, "", true
}

// termsOf checks the program, currency and terms (saleTerms) a payment is
// allocated by: its weights and commission, or the reason it cannot be
// allocated.
func (s *Service) termsOf(p *model.Payment, t terms) (weights map[string]int64, bps int, reason string, ok bool) {
	if p.ProgramID == nil || *p.ProgramID == "" {
		return nil, 0, skipNoProgram, false
	}
	if !model.ValidCurrency(model.NormalizeCurrency(p.Currency)) {
		return nil, 0, skipBadCurrency, false
	}
	prog := t.program
	switch {
	case t.recreated:
		return nil, 0, skipRecreated, false
	case prog == nil && t.source == TermsFromPayment:
		return nil, 0, skipNoTermsWhenPaid, false
	case prog == nil:
		return nil, 0, skipProgramMissing, false
	}
	w, err := Weights(prog)
	if err != nil {
		return nil, 0, skipBadSplit, false
	}
	b, err := CommissionBps(prog, s.settings().CommissionBps)
	if err != nil {
		return nil, 0, skipBadCommission, false
	}
	return w, b, "", true
}

// refundedSale reports whether unallocated payment p is a sale of the
// period ending at end that was refunded (or lost to a dispute) in full
// before any payout run allocated it, with terms it could have been
// allocated by: nothing is paid for it, but it is allocated with its sale
// and its refund as events, booked when the sales booking is on
// (allocateRefunded).
func (s *Service) refundedSale(p *model.Payment, t terms, end time.Time) (weights map[string]int64, bps int, ok bool) {
	if p.PayoutID != "" || !p.PaymentDate.Before(end) || p.Amount <= 0 {
		return nil, 0, false
	}
	if net, countable, held := NetAmount(p); !countable || held || net != 0 {
		return nil, 0, false
	}
	w, b, _, ok := s.termsOf(p, t)
	return w, b, ok
}

// newAllocation freezes the split of payment p (net, weights, commission
// bps, terms source) in a new allocation: the sale for what the customer
// paid, on its date, and a refund or lost dispute seen before this
// allocation as an adjustment event of its own, dated when it happened
// (not netted into the sale).
func (s *Service) newAllocation(p *model.Payment, currency string, net int64, weights map[string]int64, bps int, source string, now time.Time) *model.PayoutAllocation {
	a := &model.PayoutAllocation{
		PaymentID: p.PaymentID, ProgramID: *p.ProgramID, Currency: currency, PaymentDate: p.PaymentDate,
		CommissionBps: bps, Weights: weights, TermsSource: source, CreatedAt: now,
	}
	if gross := max(p.Amount, 0); gross > net {
		s.addEvent(a, "allocation", gross, now)
		s.adjust(a, p, net, changedAt(p, now), now)
	} else {
		s.addEvent(a, "allocation", net, now)
	}
	if net == 0 {
		// Refunded in full: each coach's entries sum to nothing, and no
		// payout is to take them.
		a.Entries = []model.AllocationEntry{}
	}
	refreshOpen(a, now)
	return a
}

// claim applies the payout rules for one coach and currency to c (fresh
// state), on behalf of payout payoutID: it allocates an unallocated
// payment (freezing the split of all its coaches), appends an adjustment
// when the payment's net amount changed since allocation, and takes the
// coach's untaken entries. It returns the taken entries (none when the
// payment gives this coach nothing now).
func (s *Service) claim(c *candidate, coach, currency, payoutID string, end, now time.Time) []model.AllocationEntry {
	p := c.payment
	if c.alloc == nil {
		if model.NormalizeCurrency(p.Currency) != currency {
			return nil
		}
		net, weights, bps, _, _, ok := s.eligibility(p, c.terms, end)
		if !ok || weights[coach] <= 0 {
			return nil
		}
		c.alloc, c.allocChanged = s.newAllocation(p, currency, net, weights, bps, c.terms.source, now), true
		p.PayoutID, c.markPayment = payoutID, true
	} else {
		a := c.alloc
		if a.Currency != currency {
			return nil
		}
		if net, countable, _ := NetAmount(p); countable && net != a.Net {
			s.adjust(a, p, net, adjustedAt(a, p, now), now)
			c.allocChanged = true
		}
	}
	var taken []model.AllocationEntry
	for i := range c.alloc.Entries {
		e := &c.alloc.Entries[i]
		if e.CoachID == coach && e.PayoutID == "" {
			e.PayoutID = payoutID
			taken = append(taken, *e)
			c.allocChanged = true
		}
	}
	if len(taken) > 0 && p.PayoutID == "" {
		// The payout that named the payment failed and was released
		// (ReleaseFailed): the payout paying it now takes its place.
		p.PayoutID, c.markPayment = payoutID, true
	}
	if c.allocChanged {
		refreshOpen(c.alloc, now)
	}
	return taken
}

// addEvent moves the allocation to net: it appends an event with the
// change and one entry per coach whose share changes, computed from the
// frozen weights and commission so that each coach's entries sum to its
// share of the new net. The event awaits a sales voucher (salesPending)
// only when the sales booking is on now; made while it is off, it is
// SalesExempt (its sale is booked from Stripe's reports), and stays so
// when the booking is switched on later.
func (s *Service) addEvent(a *model.PayoutAllocation, kind string, net int64, now time.Time) {
	target := shares(net, a.CommissionBps, a.Weights)
	have := map[string]share{}
	for _, e := range a.Entries {
		h := have[e.CoachID]
		h.gross += e.Gross
		h.commission += e.Commission
		h.amount += e.Amount
		have[e.CoachID] = h
	}
	seq := len(a.Events) + 1
	commission := Commission(net, a.CommissionBps)
	if !a.SalesPending {
		// Nothing awaited a sales voucher, so every earlier event without
		// one was made while the sales booking was off (or closed as not
		// to be booked): booked outside, also for allocations written
		// before events carried SalesExempt.
		for i := range a.Events {
			if a.Events[i].SalesReference == nil {
				a.Events[i].SalesExempt = true
			}
		}
	}
	book := s.settings().BookSales
	a.Events = append(a.Events, model.AllocationEvent{
		Seq: seq, Kind: kind, Net: net - a.Net, Commission: commission - a.Commission, At: now,
		SalesExempt: !book,
	})
	coaches := make([]string, 0, len(target))
	for c := range target {
		coaches = append(coaches, c)
	}
	sort.Strings(coaches)
	for _, c := range coaches {
		t, h := target[c], have[c]
		d := share{gross: t.gross - h.gross, commission: t.commission - h.commission, amount: t.amount - h.amount}
		if d == (share{}) {
			continue
		}
		a.Entries = append(a.Entries, model.AllocationEntry{Seq: seq, CoachID: c, Gross: d.gross, Commission: d.commission, Amount: d.amount})
	}
	a.Net, a.Commission = net, commission
	a.SalesPending = salesPending(a.Events)
	if a.LegalHoldUntil != nil {
		// Held for an erased coach: the new event is a record of its own
		// year, kept as long as the bookkeeping law says for that year.
		if h := pseudonym.BookkeepingHoldUntil(now); h.After(*a.LegalHoldUntil) {
			a.LegalHoldUntil = &h
		}
	}
}

// heldCoach reports whether coach is the pseudonym of an erased coach in
// the allocation (its PseudonymisedCoaches, written by the GDPR erasure).
func heldCoach(a *model.PayoutAllocation, coach string) bool {
	return a != nil && slices.Contains(a.PseudonymisedCoaches, coach)
}

// salesPending reports whether an event still awaits its sales voucher
// (model.AllocationEvent.AwaitsSale).
func salesPending(events []model.AllocationEvent) bool {
	for i := range events {
		if events[i].AwaitsSale() {
			return true
		}
	}
	return false
}

// refreshOpen sets an allocation changed at now: its open coaches
// (openCoaches), hasOpen and updatedAt.
func refreshOpen(a *model.PayoutAllocation, now time.Time) {
	a.Open = openCoaches(a)
	a.HasOpen = len(a.Open) > 0
	a.UpdatedAt = now
}

// openCoaches lists the coaches with an entry no payout has taken.
func openCoaches(a *model.PayoutAllocation) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, e := range a.Entries {
		if e.PayoutID == "" && !seen[e.CoachID] {
			seen[e.CoachID] = true
			out = append(out, e.CoachID)
		}
	}
	sort.Strings(out)
	return out
}

// needsWork reports whether a payment may give coach something now:
// unallocated and eligible by its terms with coach among its weights, or
// allocated with the coach's entry untaken or the net amount changed.
func (s *Service) needsWork(p *model.Payment, a *model.PayoutAllocation, t terms, coach string, end time.Time) bool {
	if a == nil {
		_, w, _, _, _, ok := s.eligibility(p, t, end)
		return ok && w[coach] > 0
	}
	if net, countable, _ := NetAmount(p); countable && net != a.Net {
		return a.Weights[coach] > 0 || hasEntry(a, coach)
	}
	for _, e := range a.Entries {
		if e.CoachID == coach && e.PayoutID == "" {
			return true
		}
	}
	return false
}

func hasEntry(a *model.PayoutAllocation, coach string) bool {
	for _, e := range a.Entries {
		if e.CoachID == coach {
			return true
		}
	}
	return false
}

// adjust moves allocation a to payment p's net amount net with adjustment
// events: one per refund of p that no event books yet, dated the refund's
// creation (so that two refunds on either side of a year end are booked
// each in its own year, and a refund recorded after a run is still booked
// on its day), then one for what the refunds do not explain (a lost
// dispute, a refund not listed, a refund undone), dated rest.
// The refunds taken are the newest whose amounts fit the decrease (an
// allocation written before events named their refund has its older
// refunds in its net already), booked in date order.
func (s *Service) adjust(a *model.PayoutAllocation, p *model.Payment, net int64, rest, now time.Time) {
	var steps []model.Refund
	if left := a.Net - net; left > 0 && p.RefundDetails != nil {
		booked := map[string]bool{}
		for _, ev := range a.Events {
			if ev.RefundID != "" {
				booked[ev.RefundID] = true
			}
		}
		refunds := slices.Clone(p.RefundDetails.Refunds)
		sort.SliceStable(refunds, func(i, j int) bool { return refunds[i].CreatedAt.After(refunds[j].CreatedAt) })
		for _, r := range refunds {
			if left == 0 {
				break
			}
			if r.RefundID == "" || booked[r.RefundID] || r.Amount <= 0 || r.Amount > left ||
				r.CreatedAt.IsZero() || r.CreatedAt.After(now) || r.Status == "failed" || r.Status == "canceled" {
				continue
			}
			booked[r.RefundID] = true
			steps = append(steps, r)
			left -= r.Amount
		}
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].CreatedAt.Before(steps[j].CreatedAt) })
	}
	cur := a.Net
	for _, r := range steps {
		cur -= r.Amount
		s.addEvent(a, "adjustment", cur, r.CreatedAt)
		a.Events[len(a.Events)-1].RefundID = r.RefundID
	}
	if cur != net {
		s.addEvent(a, "adjustment", net, rest)
	}
}

// adjustedAt is the date of an adjustment of allocation a to payment p's
// net now: when the change happened (changedAt: the latest refund, or the
// lost dispute's closing), so that the refund is booked in its own period
// however late a payout run sees it; now when that time is unknown or not
// after a's latest event (it belongs to a change already allocated).
func adjustedAt(a *model.PayoutAllocation, p *model.Payment, now time.Time) time.Time {
	at := changedAt(p, now)
	if n := len(a.Events); n > 0 && !at.After(a.Events[n-1].At) {
		return now
	}
	return at
}

// changedAt is when payment p's net last changed (its latest refund, or
// its lost dispute's closing), not after now; now when unknown.
func changedAt(p *model.Payment, now time.Time) time.Time {
	var at time.Time
	if p.RefundDetails != nil {
		for _, r := range p.RefundDetails.Refunds {
			if r.CreatedAt.After(at) {
				at = r.CreatedAt
			}
		}
	}
	if d := p.Dispute; d != nil && d.Lost && d.ClosedAt != nil && d.ClosedAt.After(at) {
		at = *d.ClosedAt
	}
	if at.IsZero() || at.After(now) {
		return now
	}
	return at
}
