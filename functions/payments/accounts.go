package payments

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// The reconciliation's Connect accounts pass.
//
// account.updated events of the coaches' Express accounts happen on the
// connected accounts: they reach the Connect webhook endpoint but are not
// in the platform's event list that Replay reads. So the pass does not
// replay events; it compares states: for every coach with a recorded
// account it retrieves the account (GET /v1/accounts/{id}) and applies it
// with the account.updated effect (connectEffectOf), stamped with the
// second the request was sent. A fetched state is at least as new as every
// event created before that second, so such an event delivered late loses
// to it; an event created later wins over it; one of the same second is
// ordered as two events of one second are (payouts enabled wins).
const (
	// ReasonAccountNotFound is the payoutsReason recorded, with
	// payoutsEnabled false, for a coach whose recorded Connect account
	// Stripe says does not exist (deleted, or no longer reachable with the
	// platform's key).
	ReasonAccountNotFound = "account_not_found"
	// accountsWorkers is how many accounts are checked at once.
	accountsWorkers = 4
	// accountCheckTimeout bounds one account's check (Stripe's retries
	// included), so that the checks in flight when the budget runs out
	// end well within stripeReconcile's timeout.
	accountCheckTimeout = 30 * time.Second
	// accountsRetryMax bounds the coaches whose check failed transiently
	// and that the next run checks first; a transient failure beyond it
	// stops the pass before that coach, so that the next run resumes there.
	accountsRetryMax = 100
)

// accountsState is the accounts pass's part of the reconciliation
// checkpoint (jobs/stripeReconcile.checkpoint).
type accountsState struct {
	// cursor (accountsCursor) is the coachId up to which the current pass
	// has handled every Connect document; "" starts a new pass.
	cursor string
	// retry (accountsRetry) lists the coaches whose check failed
	// transiently; the next run checks them first.
	retry []string
}

// accountsStateOf reads the accounts pass's state from a checkpoint map
// (a missing or malformed field reads as a new pass with nothing to
// retry).
func accountsStateOf(cp map[string]any) accountsState {
	var st accountsState
	st.cursor, _ = cp["accountsCursor"].(string)
	list, _ := cp["accountsRetry"].([]any)
	for _, v := range list {
		if uid, ok := v.(string); ok && model.ValidDocID(uid) && len(st.retry) < accountsRetryMax {
			st.retry = append(st.retry, uid)
		}
	}
	return st
}

// accountJob is one coach's recorded Connect account to check.
type accountJob struct {
	coach   string
	account string
}

// accountCheck is the outcome of one account's check.
type accountCheck struct {
	checked   bool // the account was retrieved (or found missing) and its state applied
	updated   bool // the stored state was corrected
	missing   bool // Stripe says the account does not exist
	failed    bool
	transient bool // the failure may pass: the next run checks the coach first
}

// accountsRun is one run's accounts pass.
type accountsRun struct {
	s *Service
	// spent reports whether the run's budget is spent.
	spent func() bool
	// progressed is set once an account was started: a run always checks
	// at least one, whatever its budget.
	progressed bool
	rep        *ReplayReport
}

func (r *accountsRun) over() bool { return r.progressed && r.spent() }

// reconcileAccounts is the accounts pass of one run: it checks the coaches
// of st.retry, then the coaches' Connect documents in coachId order after
// st.cursor (indexes.QConnectAccounts), until it has seen them all
// (rep.AccountsDone; the next run starts a new pass) or spent() says the
// budget is spent. It counts into rep and returns the state to store.
//
// A failure on one account is counted and logged and does not stop the
// pass. Errors: a failed Firestore read of the coaches to check (wrapped,
// with the fault code); the returned state is then still the one to store.
func (s *Service) reconcileAccounts(ctx context.Context, st accountsState, spent func() bool, rep *ReplayReport) (accountsState, error) {
	run := &accountsRun{s: s, spent: spent, rep: rep}
	next := accountsState{cursor: st.cursor}
	handled := map[string]bool{}

	if len(st.retry) > 0 {
		refs := make([]*firestore.DocumentRef, len(st.retry))
		for i, uid := range st.retry {
			refs[i] = s.connectRef(uid)
		}
		snaps, err := s.Firestore.GetAll(ctx, refs)
		if err != nil {
			next.retry = st.retry
			return next, store.Classify("reconcile connect accounts: retries", err)
		}
		jobs := make([]*accountJob, len(snaps))
		for i, sn := range snaps {
			handled[st.retry[i]] = true
			if !sn.Exists() {
				continue // erased since: nothing to check
			}
			if acct := model.DecodeCoachConnect(sn.Data()).StripeAccountID; acct != "" {
				jobs[i] = &accountJob{coach: st.retry[i], account: acct}
			}
		}
		res, n := run.check(ctx, jobs)
		for i, j := range jobs {
			switch {
			case j == nil:
			case i >= n || res[i].transient:
				next.retry = append(next.retry, j.coach)
			}
		}
	}

	q := indexes.MustLookup(indexes.QConnectAccounts)
	for !run.over() {
		fq, err := q.Build(s.Firestore, next.cursor)
		if err != nil {
			return next, err
		}
		docs, err := fq.Documents(ctx).GetAll()
		if err != nil {
			return next, store.Classify("reconcile connect accounts", err)
		}
		full := len(docs) == q.Limit
		if full {
			// The last coachId may go on in the next page: leave it whole
			// to that page (unless the page holds nothing else).
			cut := len(docs)
			for cut > 0 && coachKey(docs[cut-1]) == coachKey(docs[len(docs)-1]) {
				cut--
			}
			if cut > 0 {
				docs = docs[:cut]
			}
		}
		jobs := make([]*accountJob, len(docs))
		for i, d := range docs {
			if j, ok := connectJob(d); ok && !handled[j.coach] {
				handled[j.coach] = true
				jobs[i] = &j
			}
		}
		res, n := run.check(ctx, jobs)
		// A transient failure that the retry list cannot take stops the
		// pass before its coach.
		for i := 0; i < n; i++ {
			if jobs[i] != nil && res[i].transient {
				if len(next.retry) >= accountsRetryMax {
					n = i
					break
				}
				next.retry = append(next.retry, jobs[i].coach)
			}
		}
		if n == len(docs) {
			if !full {
				next.cursor = ""
				rep.AccountsDone = true
				return next, nil
			}
			next.cursor = coachKey(docs[len(docs)-1])
			continue
		}
		// Stopped inside the page: the cursor only passes whole coachId
		// groups (a coach's documents sort together).
		k := coachKey(docs[n])
		for n > 0 && coachKey(docs[n-1]) == k {
			n--
		}
		if n > 0 {
			next.cursor = coachKey(docs[n-1])
		}
		return next, nil
	}
	return next, nil
}

// check checks jobs (nil entries are not Connect accounts to check), in
// order, accountsWorkers at a time, until the budget is spent. It returns
// the outcomes, counted into the report, and how many entries it got
// through: jobs[:n] are done, the rest was not started.
func (r *accountsRun) check(ctx context.Context, jobs []*accountJob) ([]accountCheck, int) {
	res := make([]accountCheck, len(jobs))
	sem := make(chan struct{}, accountsWorkers)
	var wg sync.WaitGroup
	n := 0
	for ; n < len(jobs); n++ {
		j := jobs[n]
		if j == nil {
			continue
		}
		if r.over() {
			break
		}
		r.progressed = true
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, j accountJob) {
			defer wg.Done()
			defer func() { <-sem }()
			res[i] = r.s.checkAccount(ctx, j)
		}(n, *j)
	}
	wg.Wait()
	for _, c := range res {
		if c.checked {
			r.rep.AccountsChecked++
		}
		if c.updated {
			r.rep.AccountsUpdated++
		}
		if c.missing {
			r.rep.AccountsMissing++
		}
		if c.failed {
			r.rep.AccountsFailed++
		}
	}
	return res, n
}

// checkAccount retrieves one coach's account and applies its state with
// the account.updated effect (writing only when it differs from the
// stored one and is not older). An account Stripe says does not exist is
// recorded as not payable (ReasonAccountNotFound). Failures are logged
// (account id and codes only) and returned as failed; never an error.
func (s *Service) checkAccount(ctx context.Context, j accountJob) accountCheck {
	ctx, cancel := context.WithTimeout(ctx, accountCheckTimeout)
	defer cancel()
	// The state is stamped with the second the request is sent: what Stripe
	// answers is at least that new.
	at := s.now().Truncate(time.Second)
	p := &stripe.AccountParams{}
	p.Context = ctx
	a, err := s.Stripe.Accounts.GetByID(j.account, p)
	var u connectUpdate
	var out accountCheck
	switch {
	case err == nil:
		if c := a.Metadata[metaCoachUID]; (c != "" && c != j.coach) || a.ID != j.account {
			slog.ErrorContext(ctx, "reconcile: Connect account does not belong to the coach recording it; left for a person to check",
				"alert", "connect_account_conflict", "account", j.account)
			return accountCheck{failed: true}
		}
		u = accountUpdate(a, j.coach, at)
	case accountNotFound(err):
		out.missing = true
		u = connectUpdate{coach: j.coach, account: j.account, reason: ReasonAccountNotFound, at: at}
	default:
		transient := transientStripe(err)
		var se *stripe.Error
		errors.As(err, &se)
		attrs := []any{"account", j.account, "code", string(fault.CodeOf(stripeFault("retrieve connect account", err))), "retryNextRun", transient}
		if se != nil {
			attrs = append(attrs, "stripeCode", string(se.Code), "httpStatus", se.HTTPStatusCode)
		}
		slog.WarnContext(ctx, "reconcile: Connect account check failed", attrs...)
		return accountCheck{failed: true, transient: transient}
	}
	u.fetched = true
	eff := s.connectEffectOf(u)
	var res Result
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		res, err = eff.apply(ctx, tx)
		return err
	})
	if err != nil {
		err = store.Classify("reconcile connect state", err)
		slog.WarnContext(ctx, "reconcile: Connect state not written", "account", j.account, "code", string(fault.CodeOf(err)))
		return accountCheck{failed: true, transient: fault.Retryable(err)}
	}
	out.checked = true
	out.updated = res == processed
	if out.updated {
		slog.InfoContext(ctx, "reconcile: Connect state corrected", "account", j.account,
			"payoutsEnabled", u.payoutsEnabled, "payoutsReason", u.reason)
	}
	return out
}

// connectJob returns the coach and account of a document of the
// QConnectAccounts query when it is a coach's Connect state
// (coach_profiles/{uid}/private/connect) recording an account; the query
// also returns the other private documents that carry a coachId
// (users/{uid}/private/payouts).
func connectJob(d *firestore.DocumentSnapshot) (accountJob, bool) {
	ref := d.Ref
	if ref.ID != model.DocConnect || ref.Parent == nil || ref.Parent.Parent == nil ||
		ref.Parent.Parent.Parent == nil || ref.Parent.Parent.Parent.ID != model.ColCoachProfiles {
		return accountJob{}, false
	}
	acct := model.DecodeCoachConnect(d.Data()).StripeAccountID
	if acct == "" {
		return accountJob{}, false
	}
	return accountJob{coach: ref.Parent.Parent.ID, account: acct}, true
}

// coachKey is a QConnectAccounts document's coachId, the pass's order.
func coachKey(d *firestore.DocumentSnapshot) string {
	k, _ := d.Data()["coachId"].(string)
	return k
}

// accountNotFound reports whether Stripe answered that the account does
// not exist (404 / resource_missing) or is no longer accessible to the
// platform (account_invalid). A "similar object exists in live/test mode"
// answer is a key of the wrong mode, not a deleted account.
func accountNotFound(err error) bool {
	var se *stripe.Error
	if !errors.As(err, &se) || se.Type != stripe.ErrorTypeInvalidRequest {
		return false
	}
	if strings.Contains(se.Msg, "similar object exists") {
		return false
	}
	return se.HTTPStatusCode == http.StatusNotFound || se.Code == stripe.ErrorCodeResourceMissing ||
		se.Code == stripe.ErrorCodeAccountInvalid
}

// transientStripe reports whether a failed Stripe call may succeed later:
// network errors, rate limits and Stripe's own errors (5xx).
func transientStripe(err error) bool {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return true
	}
	return se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500 || se.Type == stripe.ErrorTypeAPI
}
