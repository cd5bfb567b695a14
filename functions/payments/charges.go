package payments

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/store"
)

// Metadata keys the callables put on Checkout Sessions, PaymentIntents,
// subscriptions and Connect accounts.
const (
	metaUID       = "uid"
	metaProgramID = "programId"
	// metaProgramCreated is the Firestore create time of the program
	// document at checkout (RFC 3339, nanoseconds): the program's version.
	metaProgramCreated = "programCreated"
	metaPlanID         = "planId"
	metaKind           = "kind"
	metaCoachUID       = "coachUid"
	metaPayoutID       = "payoutId"
)

// formatProgramCreated is a program document's create time as metadata
// programCreated: UTC, RFC 3339 with nanoseconds.
func formatProgramCreated(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// programCreatedOf reads metadata programCreated (formatProgramCreated):
// nil when absent or not such a time (an object not from our checkout, or
// metadata edited by hand), which leaves the payment as without it.
func programCreatedOf(md map[string]string) *time.Time {
	v, ok := md[metaProgramCreated]
	if !ok || v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil
	}
	return ptr(t.UTC())
}

// paymentFacts is what one event tells about one payment. Each event
// contributes the facts it knows; mergePayment folds them into the stored
// document so that any order of events gives the same result.
type paymentFacts struct {
	docID string // payments/{docID}: the PaymentIntent id (cs_/in_ when none)
	piID  string
	// base is the payment's own outcome the event reports ("" when it
	// says nothing); at is the event's time, the order guard.
	base model.PaymentStatus
	at   time.Time
	// paidAt is the object's own time of the payment (paymentDate).
	paidAt         time.Time
	amount         int64
	currency       string
	customerID     string
	uid            string // from our own metadata / client_reference_id
	programID      string
	subscriptionID string
	chargeID       string
	invoiceURL     string
	description    string
	reportedRefund int64
	refunds        []model.Refund
	dispute        *model.Dispute
	// programCreated is the program's version at checkout (metadata
	// programCreated), nil when the object carries none.
	programCreated *time.Time
	// stub lets the event create the payment before the user is known
	// (refunds and disputes carry no customer); later events fill it in.
	stub bool
}

// paymentTx is a payment's reads inside a transaction and the writes they
// lead to.
type paymentTx struct {
	ref     *firestore.DocumentRef
	old     *model.Payment
	doc     model.Payment
	changed bool
	// mapCustomer, when set, creates stripe_customers/{cus} → uid at
	// mapRef.
	mapCustomer *model.StripeCustomer
	mapRef      *firestore.DocumentRef
	enroll      *enrollmentTx
	skip        string
	// held is set when the payment is kept only for the books: its user's
	// GDPR erasure has finished (or had, when the stored payment is already
	// pseudonymised). The document carries the pseudonym, not the uid, and
	// no customer mapping, enrolment or coach assignment is written.
	held bool
}

// readPayment does the reads of a payment effect and computes the merged
// document. It never writes.
func (s *Service) readPayment(ctx context.Context, tx *firestore.Transaction, f paymentFacts) (*paymentTx, error) {
	p := &paymentTx{ref: s.Firestore.Collection(model.ColPayments).Doc(f.docID)}
	snap, err := tx.Get(p.ref)
	switch {
	case err == nil:
		var old model.Payment
		if err := snap.DataTo(&old); err != nil {
			return nil, fmt.Errorf("decode payment: %w", err)
		}
		p.old = &old
	case !store.IsNotFound(err):
		return nil, err
	}
	uid, mapped := "", false
	if f.customerID != "" {
		if uid, mapped, err = s.customerUser(tx, f.customerID); err != nil {
			return nil, err
		}
	}
	if uid == "" {
		uid = f.uid
	}
	if p.old == nil && uid == "" && !f.stub {
		p.skip = "unknown customer"
		return p, nil
	}
	// An erased user's payment is kept for the books only, exactly as the
	// erasure leaves it: a late or redelivered event must not bring the
	// uid back (checked before any write).
	subject := uid
	if p.old != nil && p.old.UserID != "" {
		subject = p.old.UserID
	}
	var ps string
	switch {
	case p.old != nil && p.old.Pseudonymised:
		p.held = true
	case subject != "":
		done, err := s.erasureDone(tx, subject)
		if err != nil {
			return nil, err
		}
		if done {
			p.held, ps = true, pseudonym.Of(s.PseudonymKey, subject)
		}
	}
	if !p.held && !mapped && f.uid != "" && model.ValidDocID(f.customerID) {
		p.mapCustomer = &model.StripeCustomer{CustomerID: f.customerID, UserID: f.uid}
		p.mapRef = s.Firestore.Collection(model.ColStripeCustomers).Doc(f.customerID)
	}
	if p.held {
		uid = ps
	}
	p.doc = mergePayment(p.old, f, uid)
	var prog *programInfo
	progRead := false // prog is what programs/{pid} holds now (nil: none)
	pid := deref(p.doc.ProgramID)
	switch {
	case p.held:
		s.holdPayment(&p.doc, ps)
		if pid != "" {
			if prog, err = s.readProgram(tx, pid); err != nil {
				return nil, err
			}
			progRead = true
		}
	case pid != "" && p.doc.UserID != "":
		if p.enroll, err = s.readEnrollment(tx, p.doc.UserID, pid); err != nil {
			return nil, err
		}
		prog, progRead = p.enroll.program, p.enroll.programRead
		p.enroll.recreated = p.enroll.forOtherVersion(p.doc)
		if lostAccess(p.doc) {
			if err := p.enroll.readRevocation(tx, p.doc.PaymentID); err != nil {
				return nil, err
			}
		}
	}
	if freezesTerms(p.old, p.doc) {
		if !progRead {
			if prog, err = s.readProgram(tx, pid); err != nil {
				return nil, err
			}
		}
		p.doc.ProgramTerms = frozenTerms(prog, p.doc.ProgramCreated, s.now())
	}
	if otherVersion(prog, p.doc.ProgramCreated) {
		prog = nil // re-created since the checkout: not the program bought (its title included)
	}
	p.doc.Description = describe(p.doc, prog)
	p.changed = p.old == nil || store.Hash(*p.old) != store.Hash(p.doc)
	return p, nil
}

// write stages the payment's writes: the document when it changed, the
// customer mapping, and the enrolment that follows from the merged state.
func (p *paymentTx) write(tx *firestore.Transaction, now time.Time) error {
	if p.skip != "" {
		return nil
	}
	if p.changed {
		p.doc.UpdatedAt = now
		if p.doc.CreatedAt.IsZero() {
			p.doc.CreatedAt = now
		}
		if err := tx.Set(p.ref, p.doc); err != nil {
			return err
		}
	}
	if m := p.mapCustomer; m != nil {
		m.CreatedAt = now
		if err := tx.Set(p.mapRef, *m); err != nil {
			return err
		}
	}
	if p.enroll != nil {
		switch {
		case hasAccess(p.doc):
			if p.enroll.recreated {
				return nil // bought another version of the program: grants nothing
			}
			return p.enroll.grant(tx, p.doc.PaymentID, now)
		case lostAccess(p.doc):
			return p.enroll.revoke(tx, p.doc.PaymentID, now)
		}
	}
	return nil
}

// errNoPseudonymKey fails an event that needs the GDPR pseudonym key when
// none is configured; Stripe retries it after the fix.
var errNoPseudonymKey = fault.New(fault.FailedPrecondition, "payments: the pseudonym key (IJ_PSEUDONYM_KEY) is not configured")

// erasureDone reports, inside tx, whether uid's GDPR erasure has finished:
// gdpr_requests/{pseudonym.ErasureRequestID} exists with status done. An
// open erasure (pending, running, verifying) still finds and erases what
// an event writes meanwhile, and a failed one is retried by an admin, so
// only a finished one stops the webhook from writing about the user. The
// status is read alone, so a request document in any other shape does not
// block money events.
func (s *Service) erasureDone(tx *firestore.Transaction, uid string) (bool, error) {
	if len(s.PseudonymKey) == 0 {
		return false, errNoPseudonymKey
	}
	id := pseudonym.ErasureRequestID(s.PseudonymKey, uid)
	snap, err := tx.Get(s.Firestore.Collection(model.ColGDPRRequests).Doc(id))
	if store.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read erasure request: %w", err)
	}
	st, _ := snap.DataAt("status")
	return st == model.GDPRDone, nil
}

// holdPayment makes a payment what the GDPR erasure leaves of it
// (functions/gdpr pseudonymisePayment): userId the keyed pseudonym ps
// (kept when the payment already carries one), customerId the pseudonym
// of the customer id, no invoiceUrl, pseudonymised, and legalHoldUntil the
// end of the bookkeeping hold of its paymentDate (else createdAt, else
// now), never moved earlier. Amounts, dates, refunds, disputes and Stripe
// references stay: the books need them.
func (s *Service) holdPayment(p *model.Payment, ps string) {
	if ps != "" {
		p.UserID = ps
	}
	if c := p.CustomerID; c != "" && !strings.HasPrefix(c, pseudonym.Prefix) {
		p.CustomerID = pseudonym.Of(s.PseudonymKey, c)
	}
	p.InvoiceURL = ""
	p.Pseudonymised = true
	at := p.PaymentDate
	if at.IsZero() {
		at = p.CreatedAt
	}
	if at.IsZero() {
		at = s.now()
	}
	if hold := pseudonym.BookkeepingHoldUntil(at); p.LegalHoldUntil == nil || hold.After(*p.LegalHoldUntil) {
		p.LegalHoldUntil = &hold
	}
}

// paid reports whether a payment's status says the customer paid (also
// when refunds followed): the statuses the payouts pay out.
func paid(p model.Payment) bool {
	switch p.Status {
	case model.PaymentSucceeded, model.PaymentPartiallyRefunded, model.PaymentRefunded:
		return true
	}
	return false
}

// freezesTerms reports whether this recording of a payment (old → doc)
// freezes its program's terms (payments.programTerms): doc is paid, names
// a program and has no terms yet, and the payment is not a legacy one.
// Terms, once frozen, are never replaced: mergePayment keeps the stored
// ones, so a refund, a dispute, a redelivery or a replay of any event
// leaves them as the first successful recording wrote them. A legacy
// payment is one stored as paid for a program without terms: it was
// recorded before terms were frozen (every later recording freezes them
// with the success, also when the program is missing), and a later event
// does not freeze the program's present terms as if they had been in
// force when the customer paid; the payouts read the program for it, as
// before.
func freezesTerms(old *model.Payment, doc model.Payment) bool {
	if doc.ProgramTerms != nil || doc.ProgramID == nil || *doc.ProgramID == "" || !paid(doc) {
		return false
	}
	legacy := old != nil && old.ProgramTerms == nil && old.ProgramID != nil && *old.ProgramID != "" && paid(*old)
	return !legacy
}

// frozenTerms are the terms a payment records of its program (nil: the
// program does not exist, or its id is not a document id), frozen at now.
// checkout is the program version the payment's checkout was for
// (payments.programCreated, nil when unknown): a program found with
// another create time was deleted and created again since the checkout,
// and its terms are not the sale's, so none are taken
// (RecreatedAfterCheckout, ProgramFound false; the payouts skip the sale).
// A program missing now is frozen as missing, whatever checkout says.
func frozenTerms(prog *programInfo, checkout *time.Time, now time.Time) *model.ProgramTerms {
	t := model.ProgramTerms{}
	switch {
	case otherVersion(prog, checkout):
		t = model.ProgramTerms{RecreatedAfterCheckout: true,
			ProgramCreateTime: prog.terms.ProgramCreateTime, ProgramUpdateTime: prog.terms.ProgramUpdateTime}
	case prog != nil:
		t = prog.terms
		t.CoachIDs = append([]string{}, prog.terms.CoachIDs...)
	}
	if t.CoachIDs == nil {
		t.CoachIDs = []string{}
	}
	t.FrozenAt = now.UTC()
	return &t
}

// sameTime reports whether a (nil: unknown) is the instant b.
func sameTime(a *time.Time, b time.Time) bool { return a != nil && a.Equal(b) }

// paymentVersion is the version of the program a payment was for: its
// checkout's programCreated, else the create time of the program its terms
// were frozen from (a checkout from before the version was sent), and
// goneVersion when the program did not exist then (no program created
// later is the one paid for); nil when unknown.
func paymentVersion(p model.Payment) *time.Time {
	switch {
	case p.ProgramCreated != nil || p.ProgramTerms == nil:
		return p.ProgramCreated
	case !p.ProgramTerms.ProgramFound:
		v := goneVersion
		return &v
	}
	return p.ProgramTerms.ProgramCreateTime
}

// goneVersion is the version of a program that no longer existed when it
// was recorded (the Unix epoch): no program created later has it. An
// enrolment granted before versions were recorded whose program is
// deleted gets it (onProgramWritten), and a payment whose terms were
// frozen without the program is for it (paymentVersion).
var goneVersion = time.Unix(0, 0).UTC()

// readProgram reads programs/{id} inside tx, tolerantly (readProgramInfo):
// nil when the id is not a valid document id or the program does not
// exist.
func (s *Service) readProgram(tx *firestore.Transaction, programID string) (*programInfo, error) {
	if !model.ValidDocID(programID) {
		return nil, nil
	}
	snap, err := tx.Get(s.Firestore.Collection(model.ColPrograms).Doc(programID))
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return readProgramInfo(snap), nil
}

// describe is a payment's description, derived from its merged state so
// that it does not depend on which event came first.
func describe(p model.Payment, prog *programInfo) string {
	switch {
	case p.ProgramID != nil && prog != nil && prog.title != "":
		return "Enrollment in " + prog.title
	case p.ProgramID != nil && strings.HasPrefix(p.Description, "Enrollment in "):
		return p.Description // the program was deleted since, or has no readable title
	case p.ProgramID != nil:
		return "Program purchase"
	case p.SubscriptionID != nil || p.Description == descSubscription:
		return descSubscription
	}
	return "Payment"
}

const descSubscription = "Subscription payment"

// hasAccess reports whether a payment grants its program.
func hasAccess(p model.Payment) bool {
	if p.Dispute != nil && p.Dispute.Lost {
		return false
	}
	return p.Status == model.PaymentSucceeded || p.Status == model.PaymentPartiallyRefunded
}

// lostAccess reports whether a payment's program access must be revoked:
// fully refunded or a lost dispute.
func lostAccess(p model.Payment) bool {
	return p.Status == model.PaymentRefunded || (p.Dispute != nil && p.Dispute.Lost)
}

// customerUser reads stripe_customers/{cus}.
func (s *Service) customerUser(tx *firestore.Transaction, cus string) (uid string, found bool, err error) {
	if !model.ValidDocID(cus) {
		return "", false, nil
	}
	snap, err := tx.Get(s.Firestore.Collection(model.ColStripeCustomers).Doc(cus))
	if store.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var m model.StripeCustomer
	if err := snap.DataTo(&m); err != nil {
		return "", false, fmt.Errorf("decode stripe customer: %w", err)
	}
	return m.UserID, true, nil
}

// baseRank orders the payment's own outcomes; succeeded is final.
func baseRank(s model.PaymentStatus) int {
	switch s {
	case model.PaymentPending:
		return 1
	case model.PaymentFailed:
		return 2
	case model.PaymentSucceeded, model.PaymentPartiallyRefunded, model.PaymentRefunded:
		return 3
	}
	return 0
}

func baseOf(s model.PaymentStatus) model.PaymentStatus {
	if s == model.PaymentPartiallyRefunded || s == model.PaymentRefunded {
		return model.PaymentSucceeded
	}
	return s
}

// mergePayment folds an event's facts into the stored payment (nil when
// none). The rules make the result independent of the order of events:
// identity fields are set once; a succeeded payment stays succeeded;
// between pending and failed the later event wins (ties: higher rank);
// paymentDate is the earliest success time; refunds are a union by id
// with status precedence and the refunded amount never shrinks unless a
// refund failed; a dispute moves only forward in status precedence.
func mergePayment(old *model.Payment, f paymentFacts, uid string) model.Payment {
	var p model.Payment
	if old != nil {
		p = *old
		if old.RefundDetails != nil {
			rd := *old.RefundDetails
			rd.Refunds = append([]model.Refund(nil), old.RefundDetails.Refunds...)
			p.RefundDetails = &rd
		}
		if old.Dispute != nil {
			d := *old.Dispute
			p.Dispute = &d
		}
	}
	p.PaymentID = f.docID
	p.Processor = "stripe"
	if p.ProcessorPaymentID == "" {
		p.ProcessorPaymentID = f.piID
		if p.ProcessorPaymentID == "" {
			p.ProcessorPaymentID = f.docID
		}
	}
	if p.UserID == "" {
		p.UserID = uid
	}
	if f.amount > 0 {
		p.Amount = f.amount
	}
	if p.Currency == "" && f.currency != "" {
		p.Currency = model.NormalizeCurrency(f.currency)
	}
	if p.ProgramID == nil && f.programID != "" {
		p.ProgramID = ptr(f.programID)
	}
	// The program's version comes with its id and is set once too; only
	// an object naming the same program can give it, and only before the
	// terms are frozen: terms frozen without it are settled, and a version
	// arriving later would contradict them.
	if p.ProgramCreated == nil && p.ProgramTerms == nil && f.programCreated != nil && f.programID != "" && deref(p.ProgramID) == f.programID {
		p.ProgramCreated = ptr(*f.programCreated)
	}
	if p.SubscriptionID == nil && f.subscriptionID != "" {
		p.SubscriptionID = ptr(f.subscriptionID)
	}
	fill(&p.ChargeID, f.chargeID)
	fill(&p.CustomerID, f.customerID)
	fill(&p.InvoiceURL, f.invoiceURL)
	if f.description == descSubscription {
		p.Description = descSubscription
	}

	oldBase := baseOf(p.Status)
	base := oldBase
	if f.base != "" {
		switch {
		case oldBase == "" || f.base == model.PaymentSucceeded:
			base = f.base
		case oldBase == model.PaymentSucceeded:
		case f.at.After(p.SourceUpdated) || (f.at.Equal(p.SourceUpdated) && baseRank(f.base) > baseRank(oldBase)):
			base = f.base
		}
		when := f.paidAt
		if when.IsZero() {
			when = f.at
		}
		switch {
		case f.base == model.PaymentSucceeded && (oldBase != model.PaymentSucceeded || p.PaymentDate.IsZero() || when.Before(p.PaymentDate)):
			p.PaymentDate = when
		case f.base != model.PaymentSucceeded && base != model.PaymentSucceeded && (p.PaymentDate.IsZero() || when.Before(p.PaymentDate)):
			p.PaymentDate = when
		}
	}
	if f.at.After(p.SourceUpdated) {
		p.SourceUpdated = f.at
	}

	if len(f.refunds) > 0 || f.reportedRefund > 0 || p.RefundDetails != nil {
		p.RefundDetails = mergeRefunds(p.RefundDetails, f.refunds, f.reportedRefund)
	}
	if f.dispute != nil {
		p.Dispute = mergeDispute(p.Dispute, f.dispute)
	}

	p.Status = base
	if base == model.PaymentSucceeded && p.RefundDetails != nil && p.RefundDetails.AmountRefunded > 0 {
		if p.Amount > 0 && p.RefundDetails.AmountRefunded >= p.Amount {
			p.Status = model.PaymentRefunded
		} else {
			p.Status = model.PaymentPartiallyRefunded
		}
	}
	return p
}

func refundRank(status string) int {
	switch status {
	case "failed":
		return 3
	case "succeeded", "canceled":
		return 2
	}
	return 1 // pending, requires_action
}

func refundActive(status string) bool { return status != "failed" && status != "canceled" }

func mergeRefunds(old *model.RefundDetails, in []model.Refund, reported int64) *model.RefundDetails {
	byID := map[string]model.Refund{}
	var prevAmount int64
	if old != nil {
		prevAmount = old.AmountRefunded
		for _, r := range old.Refunds {
			byID[r.RefundID] = r
		}
	}
	for _, r := range in {
		cur, ok := byID[r.RefundID]
		if !ok || refundRank(r.Status) > refundRank(cur.Status) {
			byID[r.RefundID] = r
		}
	}
	rd := &model.RefundDetails{Refunds: []model.Refund{}}
	var active int64
	anyFailed := false
	for _, r := range byID {
		rd.Refunds = append(rd.Refunds, r)
		if refundActive(r.Status) {
			active += r.Amount
		} else {
			anyFailed = true
		}
	}
	sort.Slice(rd.Refunds, func(i, j int) bool {
		a, b := rd.Refunds[i], rd.Refunds[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.RefundID < b.RefundID
	})
	if anyFailed {
		rd.AmountRefunded = active
	} else {
		rd.AmountRefunded = max(prevAmount, reported, active)
	}
	return rd
}

func disputeRank(status string) int {
	switch status {
	case "won", "lost", "warning_closed", "charge_refunded":
		return 3
	case "under_review", "warning_under_review":
		return 2
	}
	return 1 // needs_response, warning_needs_response
}

func mergeDispute(old, in *model.Dispute) *model.Dispute {
	d := *in
	if old == nil {
		return &d
	}
	if old.DisputeID != in.DisputeID {
		if in.CreatedAt.After(old.CreatedAt) || (in.CreatedAt.Equal(old.CreatedAt) && in.DisputeID > old.DisputeID) {
			return &d
		}
		return old
	}
	if disputeRank(in.Status) > disputeRank(old.Status) {
		return &d
	}
	keep := *old
	if disputeRank(in.Status) == disputeRank(old.Status) && in.Status == old.Status &&
		in.ClosedAt != nil && (keep.ClosedAt == nil || in.ClosedAt.Before(*keep.ClosedAt)) {
		keep.ClosedAt = in.ClosedAt
	}
	return &keep
}

// paymentEffect wraps facts into an effect.
func (s *Service) paymentEffect(f paymentFacts) effect {
	return effect{apply: func(ctx context.Context, tx *firestore.Transaction) (Result, error) {
		p, err := s.readPayment(ctx, tx, f)
		if err != nil {
			return Result{}, err
		}
		if p.skip != "" {
			return ignored(p.skip), nil
		}
		if err := p.write(tx, s.now()); err != nil {
			return Result{}, err
		}
		if p.held {
			return heldResult, nil
		}
		return processed, nil
	}}
}

// checkoutEffect handles checkout.session.completed and the async payment
// outcomes: a payment-mode session is the program purchase; a
// subscription-mode session only confirms the customer mapping (the
// subscription events carry the rest).
func (s *Service) checkoutEffect(cs *stripe.CheckoutSession, typ string, at time.Time) effect {
	uid := cs.ClientReferenceID
	if uid == "" {
		uid = cs.Metadata[metaUID]
	}
	cus := ""
	if cs.Customer != nil {
		cus = cs.Customer.ID
	}
	if cs.Mode != stripe.CheckoutSessionModePayment {
		return effect{apply: func(ctx context.Context, tx *firestore.Transaction) (Result, error) {
			if cus == "" {
				return ignored("session without customer"), nil
			}
			mapped, found, err := s.customerUser(tx, cus)
			if err != nil {
				return Result{}, err
			}
			if !found && uid == "" || found && mapped == "" {
				return ignored("unknown customer"), nil
			}
			if !found {
				done, err := s.erasureDone(tx, uid)
				if err != nil {
					return Result{}, err
				}
				if done {
					return ignored(reasonErased), nil
				}
				if err := tx.Set(s.Firestore.Collection(model.ColStripeCustomers).Doc(cus),
					model.StripeCustomer{CustomerID: cus, UserID: uid, CreatedAt: s.now()}); err != nil {
					return Result{}, err
				}
			}
			return processed, nil
		}}
	}
	f := paymentFacts{
		docID: cs.ID, at: at, amount: cs.AmountTotal, currency: string(cs.Currency), customerID: cus,
		uid: uid, programID: cs.Metadata[metaProgramID], programCreated: programCreatedOf(cs.Metadata),
	}
	if cs.PaymentIntent != nil && cs.PaymentIntent.ID != "" {
		f.docID, f.piID = cs.PaymentIntent.ID, cs.PaymentIntent.ID
	}
	switch {
	case typ == "checkout.session.async_payment_failed":
		f.base = model.PaymentFailed
	case cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid || cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusNoPaymentRequired:
		f.base, f.paidAt = model.PaymentSucceeded, at
	default:
		f.base = model.PaymentPending
	}
	return s.paymentEffect(f)
}

// paymentIntentEffect handles payment_intent.*.
func (s *Service) paymentIntentEffect(pi *stripe.PaymentIntent, at time.Time) effect {
	f := paymentFacts{
		docID: pi.ID, piID: pi.ID, at: at, amount: pi.Amount, currency: string(pi.Currency),
		uid: pi.Metadata[metaUID], programID: pi.Metadata[metaProgramID], programCreated: programCreatedOf(pi.Metadata),
	}
	if pi.Customer != nil {
		f.customerID = pi.Customer.ID
	}
	if pi.LatestCharge != nil {
		f.chargeID = pi.LatestCharge.ID
	}
	if pi.Invoice != nil && pi.Invoice.ID != "" {
		f.description = descSubscription
	}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		f.base = model.PaymentSucceeded
	case stripe.PaymentIntentStatusCanceled:
		f.base = model.PaymentFailed
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		if pi.LastPaymentError != nil {
			f.base = model.PaymentFailed
		} else {
			f.base = model.PaymentPending
		}
	default:
		f.base = model.PaymentPending
	}
	return s.paymentEffect(f)
}

// chargeEffect handles charge.succeeded and charge.refunded.
func (s *Service) chargeEffect(ch *stripe.Charge, at time.Time) effect {
	if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
		return ignoreEffect("charge without a payment intent")
	}
	f := paymentFacts{
		docID: ch.PaymentIntent.ID, piID: ch.PaymentIntent.ID, at: at, paidAt: unix(ch.Created),
		amount: ch.Amount, currency: string(ch.Currency), chargeID: ch.ID,
		uid: ch.Metadata[metaUID], programID: ch.Metadata[metaProgramID], programCreated: programCreatedOf(ch.Metadata),
		reportedRefund: ch.AmountRefunded,
	}
	if ch.Customer != nil {
		f.customerID = ch.Customer.ID
	}
	switch {
	case ch.Paid && ch.Status == stripe.ChargeStatusSucceeded:
		f.base = model.PaymentSucceeded
	case ch.Status == stripe.ChargeStatusFailed:
		f.base = model.PaymentFailed
	default:
		f.base = model.PaymentPending
	}
	if ch.Refunds != nil {
		for _, r := range ch.Refunds.Data {
			if r != nil && r.ID != "" {
				f.refunds = append(f.refunds, refundOf(r))
			}
		}
	}
	return s.paymentEffect(f)
}

func refundOf(r *stripe.Refund) model.Refund {
	return model.Refund{RefundID: r.ID, Amount: r.Amount, Reason: string(r.Reason), Status: string(r.Status), CreatedAt: unix(r.Created)}
}

// refundEffect handles refund.created, refund.updated and
// charge.refund.updated: one refund's details.
func (s *Service) refundEffect(rf *stripe.Refund, at time.Time) effect {
	if rf.PaymentIntent == nil || rf.PaymentIntent.ID == "" {
		return ignoreEffect("refund without a payment intent")
	}
	f := paymentFacts{
		docID: rf.PaymentIntent.ID, piID: rf.PaymentIntent.ID, at: at, base: model.PaymentSucceeded,
		currency: string(rf.Currency), refunds: []model.Refund{refundOf(rf)}, stub: true,
	}
	if rf.Charge != nil {
		f.chargeID = rf.Charge.ID
	}
	return s.paymentEffect(f)
}

// disputeEffect handles charge.dispute.*: the payment is flagged while the
// dispute is open and resolved (won or lost) when it closes.
func (s *Service) disputeEffect(d *stripe.Dispute, at time.Time) effect {
	if d.PaymentIntent == nil || d.PaymentIntent.ID == "" {
		return ignoreEffect("dispute without a payment intent")
	}
	md := &model.Dispute{
		DisputeID: d.ID, Amount: d.Amount, Reason: string(d.Reason), Status: string(d.Status),
		CreatedAt: unix(d.Created),
	}
	md.Open = disputeRank(md.Status) < 3
	md.Lost = md.Status == "lost"
	if !md.Open {
		md.ClosedAt = ptr(at)
	}
	f := paymentFacts{
		docID: d.PaymentIntent.ID, piID: d.PaymentIntent.ID, at: at, base: model.PaymentSucceeded,
		currency: string(d.Currency), dispute: md, stub: true,
	}
	if d.Charge != nil {
		f.chargeID = d.Charge.ID
	}
	return s.paymentEffect(f)
}

// reasonErased is the inbox reason of an event about a user whose GDPR
// erasure has finished: nothing about the user is written, and a payment
// is kept pseudonymised for the books (heldResult).
const reasonErased = "user erased"

var heldResult = Result{Status: StatusProcessed, Reason: reasonErased + ": payment kept pseudonymised"}

func ignoreEffect(reason string) effect {
	return effect{apply: func(context.Context, *firestore.Transaction) (Result, error) { return ignored(reason), nil }}
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
