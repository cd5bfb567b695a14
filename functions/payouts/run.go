package payouts

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/store"
)

// JobPayouts is the checkpoint document jobs/payouts (lastPeriodEnd).
const JobPayouts = "payouts"

// ProcessorStripeConnect is payouts.processor of every payout made here.
const ProcessorStripeConnect = "stripe_connect"

// txAttempts bounds the attempts of one transaction under contention
// (concurrent runs on the same payments).
const txAttempts = 40

// RunRequest asks for a payout run: the data of a payouts-run Pub/Sub
// message, of the runPayouts callable and of `ops payouts run`.
type RunRequest struct {
	// PeriodEnd is the period's exclusive end, a local date YYYY-MM-DD in
	// Settings.Zone (midnight); default today. Payments with paymentDate
	// before it are paid out.
	PeriodEnd string `json:"periodEnd,omitempty"`
	// PeriodStart is the period's start as recorded in calculationPeriod;
	// default the previous period's end, else PeriodEnd − PeriodDays.
	PeriodStart string `json:"periodStart,omitempty"`
	// DryRun computes and reports the payouts without writing anything or
	// transferring.
	DryRun bool `json:"dryRun,omitempty"`
	// Scheduled makes the calculation run only when a period is due
	// (PeriodDays since jobs/payouts.lastPeriodEnd); transfers of pending
	// payouts and confirmations run every time.
	Scheduled bool `json:"scheduled,omitempty"`
}

// RunReport is what a run did (or, in a dry run, would do).
type RunReport struct {
	PeriodStart string         `json:"periodStart"`
	PeriodEnd   string         `json:"periodEnd"`
	Due         bool           `json:"due"`
	DryRun      bool           `json:"dryRun"`
	Payouts     []PayoutLine   `json:"payouts"`
	Held        int            `json:"held"`    // payments waiting for an open dispute
	Skipped     map[string]int `json:"skipped"` // reason → payments that cannot be paid out as they are
	Transfers   TransferReport `json:"transfers"`
}

// PayoutLine summarises one payout written by a run.
type PayoutLine struct {
	PayoutID   string `json:"payoutId"`
	CoachID    string `json:"coachId"`
	Currency   string `json:"currency"`
	Amount     int64  `json:"amount"`
	Gross      int64  `json:"gross"`
	Commission int64  `json:"commission"`
	CarriedIn  int64  `json:"carriedIn"`
	CarriedOut int64  `json:"carriedOut"`
	Payments   int    `json:"payments"`
	Status     string `json:"status"`
}

// key is a coach and currency: one payout per key and period.
type key struct{ coach, currency string }

// plan is what a run loaded before its transactions.
type plan struct {
	start, end time.Time
	startDate  string
	endDate    string
	payments   map[string]*model.Payment
	allocs     map[string]*model.PayoutAllocation
	programs   map[string]*model.Program
	work       map[key][]string
	held       int
	skipped    map[string]int
	// refunded are the unallocated sales refunded in full before their
	// allocation (refundedSale), allocated whatever the sales booking
	// says: made while it is off, their events are salesExempt.
	refunded []string
}

// Run computes the payouts of a period and transfers every pending payout.
// It is safe to run twice or concurrently: each payment's shares are taken
// by one payout only (see claim). Errors: FailedPrecondition without
// Service.PseudonymKey; InvalidArgument for a bad request; Firestore errors keep their codes (retryable ones are worth a
// redelivery). Problems with single payments or transfers are reported,
// not returned.
func (s *Service) Run(ctx context.Context, req RunRequest) (*RunReport, error) {
	if len(s.PseudonymKey) == 0 {
		return nil, fault.New(fault.FailedPrecondition, "payouts run: no pseudonym key (IJ_PSEUDONYM_KEY): payout ids are built from the coaches' keyed pseudonyms, never from raw uids")
	}
	p, due, err := s.period(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("payouts run: %w", err)
	}
	rep := &RunReport{PeriodStart: p.startDate, PeriodEnd: p.endDate, Due: due, DryRun: req.DryRun,
		Payouts: []PayoutLine{}, Skipped: map[string]int{}}
	if due {
		if err := s.load(ctx, p); err != nil {
			return rep, fmt.Errorf("payouts run: %w", err)
		}
		rep.Held, rep.Skipped = p.held, p.skipped
		keys := make([]key, 0, len(p.work))
		for k := range p.work {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].coach != keys[j].coach {
				return keys[i].coach < keys[j].coach
			}
			return keys[i].currency < keys[j].currency
		})
		var dry *overlay
		if req.DryRun {
			dry = &overlay{payments: map[string]*candidate{}, states: map[string]*model.CoachPayoutState{}}
		}
		for i, k := range keys {
			lines, err := s.settle(ctx, p, k, p.work[k], dry)
			if err != nil {
				return rep, fmt.Errorf("payouts run: coach payout %s: %w", idPart(k.coach), err)
			}
			rep.Payouts = append(rep.Payouts, lines...)
			s.progress("payouts", i+1, len(keys))
		}
		if !req.DryRun {
			if err := s.allocateRefunded(ctx, p); err != nil {
				return rep, fmt.Errorf("payouts run: %w", err)
			}
			if err := s.checkpoint(ctx, p, len(rep.Payouts)); err != nil {
				return rep, fmt.Errorf("payouts run: %w", err)
			}
		}
		slog.InfoContext(ctx, "payouts computed", "periodEnd", p.endDate, "payouts", len(rep.Payouts),
			"held", p.held, "dryRun", req.DryRun)
	}
	if req.DryRun {
		return rep, nil
	}
	tr, err := s.ExecuteTransfers(ctx)
	rep.Transfers = tr
	if err != nil {
		return rep, fmt.Errorf("payouts run: %w", err)
	}
	n, err := s.Confirm(ctx)
	rep.Transfers.Confirmed = n
	if err != nil {
		return rep, fmt.Errorf("payouts run: %w", err)
	}
	return rep, nil
}

// period resolves the request's period and whether it is due.
func (s *Service) period(ctx context.Context, req RunRequest) (*plan, bool, error) {
	st := s.settings()
	now := s.now()
	y, m, d := now.In(st.Zone).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, st.Zone)
	end := today
	if req.PeriodEnd != "" {
		t, err := parseDate(req.PeriodEnd, st.Zone)
		if err != nil {
			return nil, false, fault.Invalid("periodEnd %q is not a date YYYY-MM-DD", req.PeriodEnd)
		}
		if t.After(today) {
			return nil, false, fault.Invalid("periodEnd %s is in the future", req.PeriodEnd)
		}
		end = t
	}
	last, err := s.lastPeriodEnd(ctx)
	if err != nil {
		return nil, false, err
	}
	due := true
	if req.Scheduled && !last.IsZero() && end.Before(last.AddDate(0, 0, st.PeriodDays)) {
		due = false
	}
	start := end.AddDate(0, 0, -st.PeriodDays)
	if !last.IsZero() && last.Before(end) {
		start = last
	}
	if req.PeriodStart != "" {
		t, err := parseDate(req.PeriodStart, st.Zone)
		if err != nil {
			return nil, false, fault.Invalid("periodStart %q is not a date YYYY-MM-DD", req.PeriodStart)
		}
		start = t
	}
	if !start.Before(end) {
		return nil, false, fault.Invalid("period start %s is not before its end %s", start.Format(time.DateOnly), end.Format(time.DateOnly))
	}
	return &plan{start: start.UTC(), end: end.UTC(), startDate: start.Format(time.DateOnly), endDate: end.Format(time.DateOnly)}, due, nil
}

func parseDate(s string, loc *time.Location) (time.Time, error) {
	if !model.ValidDate(s) {
		return time.Time{}, fault.Invalid("not a date")
	}
	return time.ParseInLocation(time.DateOnly, s, loc)
}

// lastPeriodEnd reads jobs/payouts.checkpoint.lastPeriodEnd (zero when
// none).
func (s *Service) lastPeriodEnd(ctx context.Context) (time.Time, error) {
	snap, err := s.Firestore.Collection(model.ColJobs).Doc(JobPayouts).Get(ctx)
	if store.IsNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, store.Classify("read jobs/payouts", err)
	}
	v, _ := snap.DataAt("checkpoint.lastPeriodEnd")
	str, _ := v.(string)
	if str == "" {
		return time.Time{}, nil
	}
	t, err := parseDate(str, s.settings().Zone)
	if err != nil {
		return time.Time{}, nil
	}
	return t, nil
}

// checkpoint records the period's end in jobs/payouts (never moving it
// back).
func (s *Service) checkpoint(ctx context.Context, p *plan, payouts int) error {
	ref := s.Firestore.Collection(model.ColJobs).Doc(JobPayouts)
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil && !store.IsNotFound(err) {
			return err
		}
		job := model.Job{Name: JobPayouts, Checkpoint: map[string]any{}}
		if snap != nil && snap.Exists() {
			if err := snap.DataTo(&job); err != nil {
				return err
			}
			if job.Checkpoint == nil {
				job.Checkpoint = map[string]any{}
			}
		}
		if last, _ := job.Checkpoint["lastPeriodEnd"].(string); last < p.endDate {
			job.Checkpoint["lastPeriodEnd"] = p.endDate
			job.Checkpoint["lastPeriodStart"] = p.startDate
		}
		job.Checkpoint["lastRunAt"] = s.now()
		job.Checkpoint["lastRunPayouts"] = payouts
		job.UpdatedAt = s.now()
		return tx.Set(ref, job)
	}, firestore.MaxAttempts(txAttempts))
	return store.Classify("write jobs/payouts", err)
}

// load reads the payments that may give someone something at the end of
// the period, their allocations and programs, and groups the work by coach
// and currency.
func (s *Service) load(ctx context.Context, p *plan) error {
	st := s.settings()
	fs := s.Firestore
	since := p.end.AddDate(0, 0, -st.LookbackDays)
	p.payments = map[string]*model.Payment{}
	p.allocs = map[string]*model.PayoutAllocation{}
	p.programs = map[string]*model.Program{}
	p.work = map[key][]string{}
	p.skipped = map[string]int{}

	pay := fs.Collection(model.ColPayments)
	statuses := []any{string(model.PaymentSucceeded), string(model.PaymentPartiallyRefunded), string(model.PaymentRefunded)}
	var queries []firestore.Query
	for _, st := range statuses {
		// The period's payments (and earlier ones still unpaid).
		queries = append(queries, indexes.MustLookup(indexes.QPayoutSettledPayments).MustBuild(fs, st, since, p.end))
	}
	// Refunds and disputes of payments paid out before (any payment
	// updated since), up to now.
	queries = append(queries, indexes.MustLookup(indexes.QPayoutRefunds).MustBuild(fs, statuses, since, s.now().Add(time.Hour)))
	for _, q := range queries {
		snaps, err := q.Documents(ctx).GetAll()
		if err != nil {
			return store.Classify("query payments", err)
		}
		for _, snap := range snaps {
			if err := addPayment(p, snap); err != nil {
				return err
			}
		}
	}
	// Allocations with a share no payout has taken yet (an interrupted run).
	open, err := indexes.MustLookup(indexes.QAllocationsUnpaid).MustBuild(fs, true).Documents(ctx).GetAll()
	if err != nil {
		return store.Classify("query open allocations", err)
	}
	var missing []*firestore.DocumentRef
	for _, snap := range open {
		if _, ok := p.payments[snap.Ref.ID]; !ok {
			missing = append(missing, pay.Doc(snap.Ref.ID))
		}
	}
	if err := getEach(ctx, fs, missing, func(snap *firestore.DocumentSnapshot) error {
		if !snap.Exists() {
			return nil
		}
		return addPayment(p, snap)
	}); err != nil {
		return err
	}

	var allocRefs, progRefs []*firestore.DocumentRef
	for id := range p.payments {
		allocRefs = append(allocRefs, fs.Collection(model.ColPayoutAllocations).Doc(id))
	}
	if err := getEach(ctx, fs, allocRefs, func(snap *firestore.DocumentSnapshot) error {
		if !snap.Exists() {
			return nil
		}
		var a model.PayoutAllocation
		if err := snap.DataTo(&a); err != nil {
			return fault.Wrap(err, fault.Internal, "decode allocation "+snap.Ref.ID)
		}
		p.allocs[snap.Ref.ID] = &a
		return nil
	}); err != nil {
		return err
	}
	// Programs are read only for the legacy payments among the
	// unallocated ones (readsProgram); the others carry their terms.
	seenProg := map[string]bool{}
	for id, pm := range p.payments {
		if p.allocs[id] == nil && readsProgram(pm) && !seenProg[*pm.ProgramID] {
			seenProg[*pm.ProgramID] = true
			progRefs = append(progRefs, fs.Collection(model.ColPrograms).Doc(*pm.ProgramID))
		}
	}
	if err := getEach(ctx, fs, progRefs, func(snap *firestore.DocumentSnapshot) error {
		if !snap.Exists() {
			return nil
		}
		p.programs[snap.Ref.ID] = decodeProgram(snap)
		return nil
	}); err != nil {
		return err
	}

	for id, pm := range p.payments {
		a := p.allocs[id]
		var prog *model.Program
		if pm.ProgramID != nil {
			prog = p.programs[*pm.ProgramID]
		}
		t := saleTerms(pm, prog)
		var coaches []string
		cur := model.NormalizeCurrency(pm.Currency)
		if a == nil {
			_, w, _, held, reason, ok := s.eligibility(pm, t, p.end)
			switch {
			case held:
				p.held++
			case reason != "":
				p.skipped[reason]++
			}
			if !ok {
				// Allocated also while the sales booking is off (its
				// events salesExempt, as any event made then): a sale and
				// refund booked from Stripe's reports are never booked
				// again once the booking is switched on.
				if _, _, refunded := s.refundedSale(pm, t, p.end); refunded {
					p.refunded = append(p.refunded, id)
				}
				continue
			}
			for c := range w {
				coaches = append(coaches, c)
			}
		} else {
			cur = a.Currency
			for c := range a.Weights {
				coaches = append(coaches, c)
			}
		}
		for _, c := range coaches {
			if s.needsWork(pm, a, t, c, p.end) {
				k := key{c, cur}
				p.work[k] = append(p.work[k], id)
			}
		}
	}
	for k, ids := range p.work {
		sort.Slice(ids, func(i, j int) bool {
			a, b := p.payments[ids[i]], p.payments[ids[j]]
			if !a.PaymentDate.Equal(b.PaymentDate) {
				return a.PaymentDate.Before(b.PaymentDate)
			}
			return ids[i] < ids[j]
		})
		p.work[k] = ids
	}
	return nil
}

// allocateRefunded allocates the sales of the plan refunded in full before
// their allocation (refundedSale), each in a transaction of its own that
// re-reads the payment and creates its allocation unless one exists: the
// sale (dated the payment's date) and its refund (dated when it happened)
// as two events, awaiting their sales vouchers while the sales booking is
// on (salesExempt while it is off: booked from Stripe's reports), with no
// entries, so that no payout takes anything of them and neither a rerun
// nor switching the booking on books anything twice.
func (s *Service) allocateRefunded(ctx context.Context, p *plan) error {
	fs := s.Firestore
	for _, id := range p.refunded {
		payRef := fs.Collection(model.ColPayments).Doc(id)
		allocRef := fs.Collection(model.ColPayoutAllocations).Doc(id)
		refs := []*firestore.DocumentRef{payRef, allocRef}
		if pm := p.payments[id]; readsProgram(pm) {
			refs = append(refs, fs.Collection(model.ColPrograms).Doc(*pm.ProgramID))
		}
		err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			snaps, err := tx.GetAll(refs)
			if err != nil {
				return err
			}
			if !snaps[0].Exists() || snaps[1].Exists() {
				return nil
			}
			var pm model.Payment
			if err := snaps[0].DataTo(&pm); err != nil {
				return nil
			}
			pm.PaymentID = id
			var prog *model.Program
			if len(snaps) > 2 && pm.ProgramTerms == nil && snaps[2].Exists() {
				prog = decodeProgram(snaps[2])
			}
			t := saleTerms(&pm, prog)
			w, bps, ok := s.refundedSale(&pm, t, p.end)
			if !ok {
				return nil
			}
			a := s.newAllocation(&pm, model.NormalizeCurrency(pm.Currency), 0, w, bps, t.source, s.now())
			return tx.Create(allocRef, a)
		}, firestore.MaxAttempts(txAttempts))
		if err != nil {
			return store.Classify("allocate refunded sale", err)
		}
	}
	return nil
}

func addPayment(p *plan, snap *firestore.DocumentSnapshot) error {
	if _, ok := p.payments[snap.Ref.ID]; ok {
		return nil
	}
	var pm model.Payment
	if err := snap.DataTo(&pm); err != nil {
		p.skipped["unreadable payment"]++
		return nil
	}
	pm.PaymentID = snap.Ref.ID
	p.payments[snap.Ref.ID] = &pm
	return nil
}

// readsProgram reports whether allocating payment pm needs its program
// read: a legacy payment (no frozen programTerms) with a program id that
// can be a document id. Every other payment is allocated by the terms it
// carries (saleTerms), whatever the program says now.
func readsProgram(pm *model.Payment) bool {
	return pm.ProgramTerms == nil && pm.ProgramID != nil && *pm.ProgramID != "" && safeID.MatchString(*pm.ProgramID)
}

// decodeProgram reads the terms of a program document for a legacy
// payment: the coaches (model.ProgramCoachIDs), coachSplits and
// commissionBps, by model.ProgramTermsOf, the reading the webhook freezes
// on payments. The rest of the document is written by its coaches and
// bounded by the rules only in size, so a malformed field the payouts do
// not use (tags: [1]) must not keep a sale from being paid, as it does not
// keep the webhook from recording it. A split or commission of the wrong
// type is kept as an out-of-range value, so that Weights and CommissionBps
// reject it and the payment is skipped with that reason. It never fails.
func decodeProgram(snap *firestore.DocumentSnapshot) *model.Program {
	return programOfTerms(snap.Ref.ID, model.ProgramTermsOf(snap.Data()))
}

// programOfTerms is the program a sale is allocated by, from terms read
// (decodeProgram) or frozen on the payment (saleTerms): coaches, splits
// and commission. A coachSplits that was not a map becomes a split that
// Weights rejects.
func programOfTerms(id string, t model.ProgramTerms) *model.Program {
	prog := &model.Program{ProgramID: id, CreatedBy: t.CoachIDs, CoachSplits: t.CoachSplits, CommissionBps: t.CommissionBps}
	if t.CoachSplitsInvalid {
		prog.CoachSplits = map[string]int{"": -1} // not a map: rejected by Weights
	}
	return prog
}

// getEach reads refs in batches and calls fn for each snapshot.
func getEach(ctx context.Context, fs *firestore.Client, refs []*firestore.DocumentRef, fn func(*firestore.DocumentSnapshot) error) error {
	const batch = 300
	for i := 0; i < len(refs); i += batch {
		snaps, err := fs.GetAll(ctx, refs[i:min(i+batch, len(refs))])
		if err != nil {
			return store.Classify("read documents", err)
		}
		for _, snap := range snaps {
			if err := fn(snap); err != nil {
				return err
			}
		}
	}
	return nil
}

// overlay holds a dry run's in-memory results, so that later coaches of a
// shared payment see the allocation an earlier coach would have written.
type overlay struct {
	payments map[string]*candidate
	states   map[string]*model.CoachPayoutState
	payouts  map[string]bool
}

// BasePayoutID is the id of a coach's payout in a currency for the period
// ending at endDate (YYYY-MM-DD): po_{pseudonym}_{currency}_{YYYYMMDD},
// where pseudonym is the coach's keyed pseudonym pseudonym.Of(key, coach)
// ("ps_" and 32 hex digits; key is Service.PseudonymKey). The id never
// carries the coach's uid, so a payout held after the coach's erasure (its
// id, payments.payoutId, the allocation entries' payoutId and the Fortnox
// voucher's description) names the coach only as the pseudonym the
// erasure writes as coachId; it stays deterministic, so reruns find the
// same ids. Later payouts of the same key and period (a rerun that found
// new work, or a coach with more than MaxPaymentsPerPayout payments) get
// _2, _3, ….
func BasePayoutID(key []byte, coach, currency, endDate string) string {
	return "po_" + pseudonym.Of(key, coach) + "_" + strings.ToLower(currency) + "_" + strings.ReplaceAll(endDate, "-", "")
}

// coachErased reports whether payout po's coach was erased
// (functions/gdpr), so that no transfer can ever reach them: its coachId
// is model.ErasedRef (an erased coach's share of a sale allocated after
// the erasure, which rewrote the sale's frozen terms) or a keyed pseudonym
// (the erasure's pseudonymisePayout, or a run's payout of a held
// allocation), or the payout is marked pseudonymised.
func coachErased(po *model.Payout) bool {
	return po.Pseudonymised || erasedCoachID(po.CoachID)
}

// erasedCoachID reports whether coachID is what an erasure leaves in a
// coach's place: model.ErasedRef or a keyed pseudonym.
func erasedCoachID(coachID string) bool {
	return coachID == model.ErasedRef || pseudonym.Is(coachID)
}

// settle writes the payouts of one coach and currency.
func (s *Service) settle(ctx context.Context, p *plan, k key, ids []string, dry *overlay) ([]PayoutLine, error) {
	per := s.settings().MaxPaymentsPerPayout
	base := BasePayoutID(s.PseudonymKey, k.coach, k.currency, p.endDate)
	for _, pid := range ids {
		if heldCoach(p.allocs[pid], k.coach) {
			// An erased coach's share (a refund after the erasure): the
			// coach is already the pseudonym the erasure wrote as coachId
			// of their held payouts; the id names it as theirs do.
			base = "po_" + k.coach + "_" + strings.ToLower(k.currency) + "_" + strings.ReplaceAll(p.endDate, "-", "")
			break
		}
	}
	var lines []PayoutLine
	suffix := 1
	for i := 0; i < len(ids); i += per {
		chunk := ids[i:min(i+per, len(ids))]
		for ; ; suffix++ {
			if suffix > 1000 {
				return lines, fault.New(fault.Internal, "too many payouts for one coach and period")
			}
			id := base
			if suffix > 1 {
				id += "_" + strconv.Itoa(suffix)
			}
			line, exists, err := s.settleOne(ctx, p, k, id, chunk, dry)
			if err != nil {
				return lines, err
			}
			if exists {
				continue
			}
			if line != nil {
				lines = append(lines, *line)
				suffix++
			}
			break
		}
	}
	return lines, nil
}

// settleOne creates payout id from the chunk's payments in one
// transaction (or computes it, in a dry run). exists reports that the
// payout id is taken (the caller tries the next one); a nil line means
// there was nothing to take.
func (s *Service) settleOne(ctx context.Context, p *plan, k key, id string, ids []string, dry *overlay) (line *PayoutLine, exists bool, err error) {
	fs := s.Firestore
	payoutRef := fs.Collection(model.ColPayouts).Doc(id)
	stateRef := fs.Collection(model.ColUsers).Doc(k.coach).Collection(model.SubColPrivate).Doc(model.DocPayoutState)
	if !safeID.MatchString(k.coach) {
		stateRef = fs.Collection(model.ColUsers).Doc(idPart(k.coach)).Collection(model.SubColPrivate).Doc(model.DocPayoutState)
	}
	refs := []*firestore.DocumentRef{payoutRef, stateRef}
	for _, pid := range ids {
		refs = append(refs, fs.Collection(model.ColPayments).Doc(pid), fs.Collection(model.ColPayoutAllocations).Doc(pid))
	}
	// The programs of the legacy payments not yet allocated; the others
	// are allocated by their frozen terms (saleTerms) or already are.
	progIdx := map[string]int{}
	for _, pid := range ids {
		if pm := p.payments[pid]; p.allocs[pid] == nil && readsProgram(pm) {
			if _, ok := progIdx[*pm.ProgramID]; !ok {
				progIdx[*pm.ProgramID] = len(refs)
				refs = append(refs, fs.Collection(model.ColPrograms).Doc(*pm.ProgramID))
			}
		}
	}

	body := func(ctx context.Context, get func([]*firestore.DocumentRef) ([]*firestore.DocumentSnapshot, error),
		write func(fn func(*firestore.Transaction) error) error) error {
		line, exists = nil, false
		snaps, err := get(refs)
		if err != nil {
			return err
		}
		if snaps[0].Exists() || (dry != nil && dry.payouts[id]) {
			exists = true
			return nil
		}
		state := &model.CoachPayoutState{CoachID: k.coach, CarryForward: map[string]int64{}}
		if dry != nil && dry.states[k.coach] != nil {
			state = dry.states[k.coach]
		} else if snaps[1].Exists() {
			if err := snaps[1].DataTo(state); err != nil {
				return fault.Wrap(err, fault.Internal, "decode payout state")
			}
			if state.CarryForward == nil {
				state.CarryForward = map[string]int64{}
			}
		}
		now := s.now()
		cands := make([]*candidate, len(ids))
		var gross, commission, amount int64
		var related []string
		held := false // k.coach is an erased coach's pseudonym
		for i, pid := range ids {
			c := &candidate{}
			if dry != nil && dry.payments[pid] != nil {
				c = dry.payments[pid]
				c.allocChanged, c.markPayment = false, false
			} else {
				ps, as := snaps[2+2*i], snaps[3+2*i]
				if !ps.Exists() {
					continue
				}
				var pm model.Payment
				if err := ps.DataTo(&pm); err != nil {
					continue
				}
				pm.PaymentID = pid
				c.payment = &pm
				if as.Exists() {
					var a model.PayoutAllocation
					if err := as.DataTo(&a); err != nil {
						return fault.Wrap(err, fault.Internal, "decode allocation")
					}
					c.alloc = &a
				}
				var prog *model.Program
				if pr := pm.ProgramID; pr != nil && pm.ProgramTerms == nil {
					if j, ok := progIdx[*pr]; ok && snaps[j].Exists() {
						prog = decodeProgram(snaps[j])
					}
				}
				c.terms = saleTerms(&pm, prog)
			}
			cands[i] = c
			taken := s.claim(c, k.coach, k.currency, id, p.end, now)
			if len(taken) == 0 {
				continue
			}
			related = append(related, pid)
			held = held || heldCoach(c.alloc, k.coach)
			for _, e := range taken {
				gross += e.Gross
				commission += e.Commission
				amount += e.Amount
			}
		}
		if len(related) == 0 {
			return nil
		}
		carryIn := min(state.CarryForward[k.currency], 0)
		total := amount + carryIn
		po := model.Payout{
			PayoutID: id, CoachID: k.coach, Amount: max(total, 0), Currency: k.currency, PayoutDate: now,
			Status: model.PayoutPending, Processor: ProcessorStripeConnect, RelatedPaymentIDs: related,
			CalculationPeriod: &model.Period{Start: p.start, End: p.end},
			Gross:             gross, Commission: commission, CarriedIn: carryIn, CarriedOut: min(total, 0),
			CreatedAt: now, UpdatedAt: now,
		}
		if po.Amount == 0 {
			po.Status = model.PayoutCompleted
			po.Reason = "nothing to transfer: refunds or a carried-forward balance absorbed the earnings"
		}
		if held {
			// A record of an erased coach: held like the payouts the
			// erasure pseudonymised (functions/gdpr pseudonymisePayout), so
			// that retentionCleanup deletes it when its hold ends.
			hold := pseudonym.BookkeepingHoldUntil(now)
			po.Pseudonymised, po.LegalHoldUntil = true, &hold
		}
		state.CarryForward[k.currency] = po.CarriedOut
		state.CoachID, state.LastPayoutID, state.UpdatedAt = k.coach, id, now
		line = &PayoutLine{PayoutID: id, CoachID: k.coach, Currency: k.currency, Amount: po.Amount, Gross: gross,
			Commission: commission, CarriedIn: carryIn, CarriedOut: po.CarriedOut, Payments: len(related), Status: string(po.Status)}
		if dry != nil {
			for i, c := range cands {
				if c != nil && c.payment != nil {
					dry.payments[ids[i]] = c
				}
			}
			dry.states[k.coach] = state
			if dry.payouts == nil {
				dry.payouts = map[string]bool{}
			}
			dry.payouts[id] = true
			return nil
		}
		return write(func(tx *firestore.Transaction) error {
			for i, c := range cands {
				if c == nil || c.payment == nil {
					continue
				}
				if c.allocChanged {
					if err := tx.Set(refs[3+2*i], c.alloc); err != nil {
						return err
					}
				}
				if c.markPayment {
					if err := tx.Update(refs[2+2*i], []firestore.Update{{Path: "payoutId", Value: id}}); err != nil {
						return err
					}
				}
			}
			if err := tx.Set(stateRef, state); err != nil {
				return err
			}
			return tx.Create(payoutRef, po)
		})
	}

	if dry != nil {
		err = body(ctx, func(r []*firestore.DocumentRef) ([]*firestore.DocumentSnapshot, error) { return fs.GetAll(ctx, r) }, nil)
		return line, exists, store.Classify("dry run "+id, err)
	}
	err = fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		return body(ctx, tx.GetAll, func(fn func(*firestore.Transaction) error) error { return fn(tx) })
	}, firestore.MaxAttempts(txAttempts))
	if err != nil {
		return nil, false, store.Classify("create payout "+id, err)
	}
	return line, exists, nil
}
