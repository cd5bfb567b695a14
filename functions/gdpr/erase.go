package gdpr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// erasureSteps are the steps of an erasure, in the policy table's order:
// Auth tokens revoked and the account disabled first, external systems and
// Storage while the documents that lead to them still exist, every rule of
// every collection, the users/{uid} subtree, the Auth account deleted
// last; then verification, the audit record, and the end.
func erasureSteps() []step {
	steps := []step{{"plan", planStep}}
	for _, p := range Policies {
		if p.System {
			switch p.Collection {
			case "auth":
				steps = append(steps, step{"auth.disable", authDisable})
			case "stripe":
				steps = append(steps, step{"stripe", stripeStep})
			case "storage":
				steps = append(steps, step{"storage", storageStep})
			}
			continue
		}
		for _, rule := range p.Rules {
			if !erasable(rule) {
				continue
			}
			p, rule := p, rule
			steps = append(steps, step{rule.ID, func(ctx context.Context, r *run) error { return r.eraseRule(ctx, p, rule) }})
		}
	}
	return append(steps, step{"auth.delete", authDelete}, step{"verify", verifyStep},
		step{"audit", auditStep}, step{"finish", finishStep})
}

// erasable reports whether erasure does something with a rule's documents.
func erasable(r Rule) bool {
	return r.Kind != KindKeep && (r.Match == MatchDocID || r.Match == MatchQuery || r.Match == MatchVia)
}

// value is what a rule's query compares with.
func (r Rule) value(uid, ps string) string {
	if r.ByPseudonym {
		return ps
	}
	return uid
}

// isSelf reports whether snap is the request being run (which an erasure
// of gdpr_requests must leave for its own end).
func (r *run) isSelf(ref *firestore.DocumentRef) bool {
	return ref.Parent != nil && ref.Parent.ID == model.ColGDPRRequests && ref.ID == r.req.RequestID
}

// wrote counts one queued write (and tells the test hook).
func (r *run) wrote() {
	r.mu.Lock()
	r.writes++
	n := r.writes
	r.mu.Unlock()
	if r.s.afterWrite != nil {
		r.s.afterWrite(n)
	}
}

// eraseRule applies one rule to every document it finds.
func (r *run) eraseRule(ctx context.Context, p Policy, rule Rule) error {
	fs := r.s.Firestore
	if rule.Match == MatchDocID {
		ref := fs.Collection(p.Collection).Doc(r.uid)
		if rule.Kind == KindDeleteSubtree {
			n, err := r.deleteTree(ctx, ref)
			r.count(rule.ID, n)
			return err
		}
		if rule.ID == "consents" {
			if err := r.summariseConsents(ctx, ref); err != nil {
				return err
			}
		}
		snap, err := ref.Get(ctx)
		if store.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return store.Classify("gdpr: read "+rule.ID, err)
		}
		if _, err := ref.Delete(ctx, firestore.LastUpdateTime(snap.UpdateTime)); err != nil && !benign(err) {
			return store.Classify("gdpr: delete "+rule.ID, err)
		}
		r.wrote()
		r.count(rule.ID, 1)
		return nil
	}
	if rule.Match == MatchVia {
		for range MaxPasses {
			docs, err := r.s.viaDocs(ctx, rule, r.uid)
			if err != nil {
				return err
			}
			i := 0
			_, acted, again, err := r.applyDocs(ctx, rule, func() (*firestore.DocumentSnapshot, error) {
				if i == len(docs) {
					return nil, iterator.Done
				}
				i++
				return docs[i-1], nil
			})
			r.count(rule.ID, acted)
			if err != nil || !again {
				return err
			}
		}
		return nil
	}
	base, err := rule.Query.Build(fs, rule.value(r.uid, r.ps))
	if err != nil {
		return fault.Wrap(err, fault.Internal, "gdpr: query "+rule.ID)
	}
	page := base.Limit(queryPage)
	switch {
	case rule.Select != nil:
		page = page.Select(rule.Select...)
	case !rule.NeedsData:
		page = page.Select()
	}
	for {
		seen, acted, again, err := r.erasePage(ctx, page, rule)
		r.count(rule.ID, acted)
		if err != nil {
			return err
		}
		// Done when nothing lost a race and the page wrote nothing or was
		// the last; a lost race reads again (within the run's budget),
		// also when every write of the page lost one.
		if !again && (acted == 0 || seen < queryPage) {
			return nil
		}
		if err := r.beat(ctx, false); err != nil {
			return err
		}
		if time.Since(r.started) > r.s.budget() {
			return errYield
		}
	}
}

// erasePage applies rule to one page of a query's documents.
func (r *run) erasePage(ctx context.Context, q firestore.Query, rule Rule) (seen, acted int64, again bool, err error) {
	it := q.Documents(ctx)
	defer it.Stop()
	next := it.Next
	if rule.MediaFirst {
		next = r.mediaFirst(ctx, it)
	}
	return r.applyDocs(ctx, rule, next)
}

// mediaFirst yields a page's journal entries for deletion: those without
// media as they stream in; those with media after their Storage objects
// are deleted (a crash in between leaves the entries to lead a rerun to
// the objects, never orphaned objects).
func (r *run) mediaFirst(ctx context.Context, it *firestore.DocumentIterator) func() (*firestore.DocumentSnapshot, error) {
	var held []*firestore.DocumentSnapshot
	var objs []string
	streaming := true
	return func() (*firestore.DocumentSnapshot, error) {
		for streaming {
			snap, err := it.Next()
			if err == iterator.Done {
				streaming = false
				if len(objs) > 0 {
					n, err := r.s.deleteObjects(ctx, objs)
					r.count("storage.media", n)
					if err != nil {
						return nil, err
					}
				}
				break
			}
			if err != nil {
				return nil, err
			}
			if o := r.s.mediaObjects(ctx, r.uid, []*firestore.DocumentSnapshot{snap}); len(o) > 0 {
				held = append(held, snap)
				objs = append(objs, o...)
				continue
			}
			return snap, nil
		}
		if len(held) == 0 {
			return nil, iterator.Done
		}
		snap := held[0]
		held = held[1:]
		return snap, nil
	}
}

// applyDocs applies rule to the documents next yields, through a
// BulkWriter. again reports writes that lost a race (the document changed
// or went away); the caller reads again.
func (r *run) applyDocs(ctx context.Context, rule Rule, next func() (*firestore.DocumentSnapshot, error)) (seen, acted int64, again bool, err error) {
	bw := r.s.Firestore.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	for {
		snap, err := next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			bw.End()
			return seen, 0, false, store.Classify("gdpr: query "+rule.ID, err)
		}
		seen++
		if r.isSelf(snap.Ref) {
			continue
		}
		var job *firestore.BulkWriterJob
		if rule.update == nil {
			job, err = bw.Delete(snap.Ref)
		} else {
			ups, uerr := rule.update(r, snap)
			if uerr != nil {
				bw.End()
				return seen, 0, false, uerr
			}
			if len(ups) == 0 {
				continue
			}
			var pre []firestore.Precondition
			if rule.Guard {
				pre = append(pre, firestore.LastUpdateTime(snap.UpdateTime))
			}
			job, err = bw.Update(snap.Ref, ups, pre...)
		}
		if err != nil {
			bw.End()
			return seen, 0, false, store.Classify("gdpr: write "+rule.ID, err)
		}
		jobs = append(jobs, job)
		r.wrote()
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			if benign(err) {
				again = true
				continue
			}
			return seen, acted, again, store.Classify("gdpr: write "+rule.ID, err)
		}
		acted++
	}
	return seen, acted, again, nil
}

// viaDocs reads the existing documents a MatchVia rule resolves.
func (s *Service) viaDocs(ctx context.Context, rule Rule, uid string) ([]*firestore.DocumentSnapshot, error) {
	refs, err := rule.via(ctx, s, uid)
	if err != nil {
		return nil, err
	}
	var out []*firestore.DocumentSnapshot
	for i := 0; i < len(refs); i += 300 {
		snaps, err := s.Firestore.GetAll(ctx, refs[i:min(i+300, len(refs))])
		if err != nil {
			return nil, store.Classify("gdpr: read "+rule.ID, err)
		}
		for _, sn := range snaps {
			if sn.Exists() {
				out = append(out, sn)
			}
		}
	}
	return out, nil
}

// benign reports a write that lost a race with another writer: the
// document is gone (NotFound) or changed (FailedPrecondition).
func benign(err error) bool {
	c := status.Code(err)
	return c == codes.NotFound || c == codes.FailedPrecondition
}

// deleteTree deletes doc and everything below it and returns the number
// of documents deleted: first each direct subcollection, concurrently,
// with plain paged queries; then, if ListCollectionIds still finds
// something below doc (documents nested deeper, or written meanwhile),
// the descendant queries of every known collection id; last a walk of
// whatever is left (a collection nobody modelled) and doc itself.
func (r *run) deleteTree(ctx context.Context, doc *firestore.DocumentRef) (int64, error) {
	cols, err := doc.Collections(ctx).GetAll()
	if err != nil {
		return 0, store.Classify("gdpr: list collections", err)
	}
	var (
		mu    sync.Mutex
		n     int64
		first error
		wg    sync.WaitGroup
	)
	for _, col := range cols {
		wg.Add(1)
		go func(q firestore.Query) {
			defer wg.Done()
			k, err := r.drain(ctx, q)
			mu.Lock()
			defer mu.Unlock()
			n += k
			if err != nil && first == nil {
				first = err
			}
		}(col.Query)
	}
	wg.Wait()
	if first != nil {
		return n, first
	}
	left, err := doc.Collections(ctx).GetAll()
	if err != nil {
		return n, store.Classify("gdpr: list collections", err)
	}
	if len(left) > 0 {
		ids, err := subtreeIDs(ctx, doc)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			q, err := descendants(doc, id)
			if err != nil {
				return n, err
			}
			k, err := r.drain(ctx, q)
			n += k
			if err != nil {
				return n, err
			}
		}
	}
	k, err := r.walkDelete(ctx, doc)
	return n + k, err
}

// drain deletes every document q finds, a page at a time.
func (r *run) drain(ctx context.Context, q firestore.Query) (int64, error) {
	var n int64
	page := q.Select().Limit(queryPage)
	for {
		seen, acted, again, err := r.erasePage(ctx, page, Rule{ID: "users"})
		n += acted
		if err != nil || acted == 0 || (seen < queryPage && !again) {
			return n, err
		}
		if err := r.beat(ctx, false); err != nil {
			return n, err
		}
	}
}

// walkDelete deletes doc and whatever is left below it by listing
// collections and documents (missing parents included) level by level.
func (r *run) walkDelete(ctx context.Context, doc *firestore.DocumentRef) (int64, error) {
	bw := r.s.Firestore.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	var walk func(d *firestore.DocumentRef) error
	walk = func(d *firestore.DocumentRef) error {
		cols, err := d.Collections(ctx).GetAll()
		if err != nil {
			return store.Classify("gdpr: list collections", err)
		}
		for _, col := range cols {
			refs, err := col.DocumentRefs(ctx).GetAll()
			if err != nil {
				return store.Classify("gdpr: list documents", err)
			}
			for _, child := range refs {
				if err := walk(child); err != nil {
					return err
				}
			}
		}
		j, err := bw.Delete(d)
		if err != nil {
			return store.Classify("gdpr: delete tree", err)
		}
		jobs = append(jobs, j)
		r.wrote()
		return nil
	}
	err := walk(doc)
	bw.End()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return n, store.Classify("gdpr: delete tree", err)
		}
		n++
	}
	// Deletes of documents that did not exist count too; report only
	// the documents that existed is not worth a read each: the walk is the
	// rare path, and the number feeds progress only.
	return n, nil
}

// summariseConsents keeps the final consent state (types, versions,
// statuses, dates; no identifiers) for the audit record before consents
// are deleted.
func (r *run) summariseConsents(ctx context.Context, ref *firestore.DocumentRef) error {
	if r.consent != nil {
		return nil
	}
	snap, err := ref.Get(ctx)
	if store.IsNotFound(err) {
		r.consent = map[string]any{}
		return r.beat(ctx, true)
	}
	if err != nil {
		return store.Classify("gdpr: read consents", err)
	}
	var c model.Consents
	if err := snap.DataTo(&c); err != nil {
		return fault.Wrap(err, fault.DataLoss, "decode consents")
	}
	// The last entry of a type in list order is the current one, as for
	// model.Consents.Granted (the history is append-only).
	sum := map[string]any{}
	for _, e := range c.ConsentsGiven {
		if !e.Type.Valid() {
			continue
		}
		sum[string(e.Type)] = map[string]any{"version": e.Version, "status": string(e.Status), "agreedAt": e.AgreedAt}
	}
	sum["entries"] = int64(len(c.ConsentsGiven))
	r.consent = sum
	return r.beat(ctx, true)
}

// authDisable writes the subject's erasure marker (model.ErasingMarkerID), then
// revokes their refresh tokens and disables the account, so that no new ID
// token is issued while the erasure runs. An account that no longer exists
// is fine (the Auth backstop).
//
// ID tokens minted before stay valid for up to an hour, and security rules
// cannot check revocation: firestore.rules refuses every client create and
// update by a uid whose marker exists. The marker is written before the
// revocation, and once the account is disabled (no sign-in mints a token
// after that; revoking alone does not stop a new sign-in) its
// legalHoldUntil is set IDTokenWindow after that moment (the Auth calls
// can take minutes: the Admin SDK retries them), and the retention job
// deletes it after. So no token of the subject can write after this step:
// nothing can be written after the erasure is done that no pass would find.
// Every pass rewrites it (a later legalHoldUntil).
func authDisable(ctx context.Context, r *run) error {
	if r.s.Auth == nil {
		return fault.New(fault.FailedPrecondition, "auth not configured")
	}
	ref := r.s.requests().Doc(model.ErasingMarkerID(r.uid))
	now := r.s.now()
	marker := map[string]any{"kind": markerKind, "createdAt": now, "updatedAt": now,
		"legalHoldUntil": now.Add(IDTokenWindow)}
	if _, err := ref.Set(ctx, marker); err != nil {
		return store.Classify("gdpr: erasure marker", err)
	}
	if err := r.s.Auth.RevokeRefreshTokens(ctx, r.uid); err != nil && !auth.IsUserNotFound(err) {
		return fault.Wrap(err, fault.Unavailable, "revoke refresh tokens")
	}
	if _, err := r.s.Auth.UpdateUser(ctx, r.uid, (&auth.UserToUpdate{}).Disabled(true)); err != nil && !auth.IsUserNotFound(err) {
		return fault.Wrap(err, fault.Unavailable, "disable account")
	}
	disabled := r.s.now()
	if _, err := ref.Set(ctx, map[string]any{"kind": markerKind, "updatedAt": disabled,
		"legalHoldUntil": disabled.Add(IDTokenWindow)}, firestore.MergeAll); err != nil {
		return store.Classify("gdpr: erasure marker", err)
	}
	return nil
}

// markerKind is the kind of an erasure marker in gdpr_requests (it has
// no status, userId or requestedBy: no query for requests finds it). It
// lives IDTokenWindow (to the next retention run).
const markerKind = "erasing"

// authDelete deletes the Auth account, the last erasure step; it counts
// the account only when it deleted it (not one already gone).
func authDelete(ctx context.Context, r *run) error {
	if r.s.Auth == nil {
		return fault.New(fault.FailedPrecondition, "auth not configured")
	}
	err := r.s.Auth.DeleteUser(ctx, r.uid)
	switch {
	case err == nil:
		r.count("auth", 1)
	case !auth.IsUserNotFound(err):
		return fault.Wrap(err, fault.Unavailable, "delete account")
	}
	return nil
}

// stripeCustomerIDs returns the subject's Stripe customers: the
// stripe_customers mapping and users/{uid}/private/billing.
func (s *Service) stripeCustomerIDs(ctx context.Context, uid string) ([]string, error) {
	set := map[string]bool{}
	rule, _ := ruleByID("stripe_customers.userId")
	q, err := rule.Query.Build(s.Firestore, uid)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "gdpr: stripe query")
	}
	docs, err := q.Documents(ctx).GetAll()
	if err != nil {
		return nil, store.Classify("gdpr: stripe customers", err)
	}
	for _, d := range docs {
		id, _ := d.DataAt("customerId")
		if s, ok := id.(string); ok && s != "" {
			set[s] = true
		} else {
			set[d.Ref.ID] = true
		}
	}
	snap, err := s.Firestore.Collection(model.ColUsers).Doc(uid).Collection(model.SubColPrivate).Doc(model.DocBilling).Get(ctx)
	if err != nil && !store.IsNotFound(err) {
		return nil, store.Classify("gdpr: billing", err)
	}
	if err == nil {
		if id, _ := snap.DataAt("stripeCustomerId"); id != nil {
			if s, ok := id.(string); ok && s != "" {
				set[s] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

// connectAccountID returns the subject's Stripe Connect account as a coach
// (coach_profiles/{uid}/private/connect), or "".
func (s *Service) connectAccountID(ctx context.Context, uid string) (string, error) {
	snap, err := s.Firestore.Doc(model.CoachConnectPath(uid)).Get(ctx)
	if store.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", store.Classify("gdpr: connect account", err)
	}
	return model.DecodeCoachConnect(snap.Data()).StripeAccountID, nil
}

// stripeStep deletes the subject's Stripe customers and, for a coach, the
// Connect account, while the documents that name them still exist. It
// counts the objects it deleted, not those already gone (as the Storage
// step): a rerun reads the same ids, from documents later rules delete,
// and finds gone what an earlier run deleted, which is no progress.
func stripeStep(ctx context.Context, r *run) error {
	ids, err := r.s.stripeCustomerIDs(ctx, r.uid)
	if err != nil {
		return err
	}
	if len(ids) > 0 && r.s.Stripe == nil {
		return fault.New(fault.FailedPrecondition, "stripe not configured")
	}
	for _, id := range ids {
		gone, err := r.s.Stripe.Delete(ctx, id)
		if err != nil {
			return err
		}
		if !gone {
			r.count("stripe", 1)
		}
	}
	acct, err := r.s.connectAccountID(ctx, r.uid)
	if err != nil || acct == "" {
		return err
	}
	if r.s.StripeAccounts == nil {
		return fault.New(fault.FailedPrecondition, "stripe not configured")
	}
	gone, err := r.s.StripeAccounts.DeleteAccount(ctx, acct)
	if err != nil {
		return err
	}
	if !gone {
		r.count("stripe.connect", 1)
	}
	return nil
}

// storageStep deletes the subject's objects under the Storage prefixes
// (the journal's media go with their entries: mediaFirst).
func storageStep(ctx context.Context, r *run) error {
	objs, err := r.s.storageObjects(ctx, r.uid, true, false)
	if err != nil {
		return err
	}
	n, err := r.s.deleteObjects(ctx, objs)
	r.count("storage", n)
	return err
}

// Tally is what a set of finders found: per rule id the documents linked
// to the uid ("storage": objects, "auth": 1 when the account exists,
// "stripe": customers), and per legal-hold rule the records held under the
// pseudonym.
type Tally struct {
	Counts map[string]int64 `json:"counts"`
	Held   map[string]int64 `json:"held"`
}

// Leftovers is the number of documents, objects and accounts an erasure
// should have removed: every count of a rule that is not "keep".
func (t Tally) Leftovers() int64 {
	var n int64
	for k, v := range t.Counts {
		if r, ok := ruleByID(k); ok && r.Kind == KindKeep {
			continue
		}
		n += v
	}
	return n
}

// Proof is the tally as stored in gdpr_requests.proof: counts, and held
// records under "held:<rule>".
func (t Tally) Proof() map[string]int64 {
	out := map[string]int64{}
	for k, v := range t.Counts {
		out[k] = v
	}
	for k, v := range t.Held {
		out["held:"+k] = v
	}
	return out
}

// Plan counts what an erasure (or export) of uid would touch: the dry run.
func (s *Service) Plan(ctx context.Context, uid string) (Tally, error) {
	return s.counts(ctx, uid, "")
}

// counts runs every finder for uid and counts what it finds. selfID is a
// request to leave out of the gdpr_requests counts.
func (s *Service) counts(ctx context.Context, uid, selfID string) (Tally, error) {
	t := Tally{Counts: map[string]int64{}, Held: map[string]int64{}}
	ps := s.pseudonym(uid)
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	sem := make(chan struct{}, 8)
	// task runs fn concurrently (8 at a time); fn records through put.
	task := func(fn func() error) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	put := func(m map[string]int64, k string, n int64) {
		mu.Lock()
		m[k] = n
		mu.Unlock()
	}
	for _, p := range Policies {
		for _, rule := range p.Rules {
			p, rule := p, rule
			switch rule.Match {
			case MatchVia:
				task(func() error {
					docs, err := s.viaDocs(ctx, rule, uid)
					if err != nil {
						return err
					}
					var n int64
					for _, d := range docs {
						if mentionsCoach(d, uid) {
							n++
						}
					}
					put(t.Counts, rule.ID, n)
					return nil
				})
			case MatchDocID:
				task(func() error {
					ref := s.Firestore.Collection(p.Collection).Doc(uid)
					var n int64
					var err error
					if rule.Kind == KindDeleteSubtree {
						n, err = s.countTree(ctx, ref)
					} else {
						n, err = exists(ctx, ref)
					}
					put(t.Counts, rule.ID, n)
					return err
				})
			case MatchQuery:
				task(func() error {
					n, err := s.countQuery(ctx, rule, rule.value(uid, ps))
					if err != nil {
						return err
					}
					if selfID != "" && rule.Query.Collection == model.ColGDPRRequests && n > 0 {
						self, err := s.requests().Doc(selfID).Get(ctx)
						if err != nil && !store.IsNotFound(err) {
							return store.Classify("gdpr: read request", err)
						}
						if err == nil {
							f := strings.TrimPrefix(rule.ID, "gdpr_requests.")
							if v, _ := self.DataAt(f); v == uid {
								n--
							}
						}
					}
					if rule.Kind == KindKeep {
						put(t.Held, rule.ID, n)
						return nil
					}
					put(t.Counts, rule.ID, n)
					if rule.Kind == KindLegalHold {
						h, err := s.countQuery(ctx, rule, ps)
						put(t.Held, rule.ID, h)
						return err
					}
					return nil
				})
			}
		}
	}
	task(func() error {
		objs, err := s.storageObjects(ctx, uid, true, false)
		put(t.Counts, "storage", int64(len(objs)))
		return err
	})
	if s.Auth != nil {
		task(func() error {
			_, err := s.Auth.GetUser(ctx, uid)
			switch {
			case err == nil:
				put(t.Counts, "auth", 1)
			case auth.IsUserNotFound(err):
				put(t.Counts, "auth", 0)
			default:
				return fault.Wrap(err, fault.Unavailable, "gdpr: auth lookup")
			}
			return nil
		})
	}
	task(func() error {
		ids, err := s.stripeCustomerIDs(ctx, uid)
		put(t.Counts, "stripe", int64(len(ids)))
		return err
	})
	task(func() error {
		acct, err := s.connectAccountID(ctx, uid)
		if acct != "" {
			put(t.Counts, "stripe.connect", 1)
		}
		return err
	})
	wg.Wait()
	return t, first
}

// countQuery counts a rule's matches with an aggregation query.
func (s *Service) countQuery(ctx context.Context, rule Rule, v string) (int64, error) {
	q, err := rule.Query.Build(s.Firestore, v)
	if err != nil {
		return 0, fault.Wrap(err, fault.Internal, "gdpr: query "+rule.ID)
	}
	res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return 0, store.Classify("gdpr: count "+rule.ID, err)
	}
	pv, ok := res["n"].(*firestorepb.Value)
	if !ok {
		return 0, fault.New(fault.Internal, "gdpr: count %s: no result", rule.ID)
	}
	return pv.GetIntegerValue(), nil
}

func exists(ctx context.Context, ref *firestore.DocumentRef) (int64, error) {
	_, err := ref.Get(ctx)
	if store.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, store.Classify("gdpr: read "+ref.Path, err)
	}
	return 1, nil
}

// countTree counts doc and the documents below it with one aggregation
// per collection id; when ListCollectionIds still lists a collection
// below doc that none of those counts reached, it counts one more (the
// verification must not pass).
func (s *Service) countTree(ctx context.Context, doc *firestore.DocumentRef) (int64, error) {
	n, err := exists(ctx, doc)
	if err != nil {
		return 0, err
	}
	ids, err := subtreeIDs(ctx, doc)
	if err != nil {
		return n, err
	}
	direct, err := doc.Collections(ctx).GetAll()
	if err != nil {
		return n, store.Classify("gdpr: list collections", err)
	}
	var below int64
	for _, id := range ids {
		q, err := descendants(doc, id)
		if err != nil {
			return n, err
		}
		res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
		if err != nil {
			return n, store.Classify("gdpr: count "+id, err)
		}
		if pv, ok := res["n"].(*firestorepb.Value); ok {
			below += pv.GetIntegerValue()
		}
	}
	if below == 0 && len(direct) > 0 {
		below = 1
	}
	return n + below, nil
}

// verifyStep runs every finder again. Leftovers (data written while the
// erasure ran) send the run through the steps once more, up to MaxPasses;
// then the request fails.
func verifyStep(ctx context.Context, r *run) error {
	if err := r.setStatus(ctx, StatusVerifying); err != nil {
		return err
	}
	t, err := r.s.counts(ctx, r.uid, r.req.RequestID)
	if err != nil {
		return err
	}
	if left := t.Leftovers(); left > 0 {
		return r.leftovers(ctx, "verify", left)
	}
	r.proof = t.Proof()
	return r.guarded(ctx, []firestore.Update{{Path: "proof", Value: r.proof}})
}

// leftovers sends the run through every step once more (errAgain), or,
// after MaxPasses, fails the request: left records were found by the
// verification at step when.
func (r *run) leftovers(ctx context.Context, when string, left int64) error {
	slog.WarnContext(ctx, "gdpr erasure leftovers", "requestId", r.req.RequestID, "pass", r.pass, "at", when, "leftovers", left)
	if r.pass+1 < MaxPasses {
		if err := r.setStatus(ctx, StatusRunning); err != nil {
			return err
		}
		return errAgain
	}
	return fault.New(fault.FailedPrecondition, "%d records left after %d passes", left, r.pass+1)
}

// errLeftAtDone: the final check inside the transaction that marks an
// erasure done found a document still linked to the subject.
var errLeftAtDone = errors.New("gdpr: records left at the final check")

// finalCheck runs inside the transaction that marks an erasure done: every
// finder a transactional writer can match (the exact-match queries on the
// uid and the documents named by it) reads at most one document (the
// request itself, still named by its own userId and requestedBy, does not
// count). The payments webhook reads the request's status in the
// transaction of its write and stands back only once it is done; so a
// write it commits before done is read here (or conflicts with this
// transaction, which then runs again), and a write it attempts after done
// sees done. errLeftAtDone when something is found.
func (r *run) finalCheck(tx *firestore.Transaction) error {
	fs := r.s.Firestore
	for _, p := range Policies {
		for _, rule := range p.Rules {
			if rule.Kind == KindKeep || rule.ByPseudonym {
				continue
			}
			switch rule.Match {
			case MatchDocID:
				_, err := tx.Get(fs.Collection(p.Collection).Doc(r.uid))
				if err == nil {
					return errLeftAtDone
				}
				if !store.IsNotFound(err) {
					return err
				}
			case MatchQuery:
				q, err := rule.Query.Build(fs, r.uid)
				if err != nil {
					return fault.Wrap(err, fault.Internal, "gdpr: query "+rule.ID)
				}
				docs, err := tx.Documents(q.Select().Limit(2)).GetAll()
				if err != nil {
					return err
				}
				for _, d := range docs {
					if !r.isSelf(d.Ref) {
						return errLeftAtDone
					}
				}
			}
		}
	}
	return nil
}

func (r *run) setStatus(ctx context.Context, st string) error {
	if r.req.Status == st {
		return nil
	}
	if err := r.guarded(ctx, []firestore.Update{{Path: "status", Value: st}}); err != nil {
		return err
	}
	r.req.Status = st
	return nil
}

// auditStep writes the erasure's audit record, keyed by the subject's
// pseudonym, with the proof and the final consent state.
func auditStep(ctx context.Context, r *run) error {
	if r.proof == nil {
		var p map[string]int64
		snap, err := r.ref.Get(ctx)
		if err != nil {
			return store.Classify("gdpr: read request", err)
		}
		if v, err := snap.DataAt("proof"); err == nil {
			if m, ok := v.(map[string]any); ok {
				p = map[string]int64{}
				for k, x := range m {
					if n, ok := x.(int64); ok {
						p[k] = n
					}
				}
			}
		}
		r.proof = p
	}
	now := r.s.now()
	actor := r.req.RequestedBy
	if actor == r.uid {
		actor = r.ps
	}
	details := map[string]any{"requestId": r.req.RequestID, "source": r.req.Source, "proof": r.proof,
		"consents": r.consent, "runs": int64(r.req.Runs), "passes": int64(r.pass + 1)}
	e := model.AuditEntry{Action: "gdpr.erasure", SubjectHash: r.ps, Actor: actor, Details: details,
		CreatedAt: now, ExpiresAt: now.AddDate(AuditRetentionYears, 0, 0)}
	id := fmt.Sprintf("gdpr_%s_%d", r.req.RequestID, r.req.Runs)
	if _, err := r.s.Firestore.Collection(model.ColAuditLog).Doc(id).Set(ctx, e); err != nil {
		return store.Classify("gdpr: audit", err)
	}
	return nil
}

// finishStep ends the request: done, with the proof; an erasure request
// is pseudonymised and kept under its own hold.
//
// An erasure is done only after a verification that leaves no write
// window: every finder runs again here (whatever was written after
// verifyStep's counts, during audit, or while the run was parked at a
// checkpoint past verify), and the transaction that writes done reads
// every exact-match finder once more (finalCheck). Anything found sends
// the run through all steps again (MaxPasses, then failed + alert); the
// next pass's verifyStep and auditStep rewrite the proof and the audit
// record.
func finishStep(ctx context.Context, r *run) error {
	var check func(*firestore.Transaction) error
	if r.req.Kind == KindErasure {
		t, err := r.s.counts(ctx, r.uid, r.req.RequestID)
		if err != nil {
			return err
		}
		if left := t.Leftovers(); left > 0 {
			return r.leftovers(ctx, "finish", left)
		}
		if r.s.beforeDone != nil {
			r.s.beforeDone(r.req.RequestID)
		}
		check = r.finalCheck
	} else {
		check = r.notifyReady
	}
	now := r.s.now()
	ups := []firestore.Update{{Path: "status", Value: StatusDone}, {Path: "doneAt", Value: now},
		{Path: "checkpoint", Value: map[string]any{"step": "done", "pass": r.pass}}, {Path: "progress", Value: r.progress},
		{Path: "leaseOwner", Value: firestore.Delete}, {Path: "leaseUntil", Value: firestore.Delete},
		{Path: "error", Value: firestore.Delete}}
	switch r.req.Kind {
	case KindErasure:
		ups = append(ups, firestore.Update{Path: "userId", Value: r.ps},
			firestore.Update{Path: "legalHoldUntil", Value: now.AddDate(ErasureRecordYears, 0, 0)})
		if r.req.RequestedBy == r.uid {
			ups = append(ups, firestore.Update{Path: "requestedBy", Value: r.ps})
		}
	case KindExport:
		if r.export == nil {
			return fault.New(fault.Internal, "export result missing")
		}
		exp := now.Add(ExportTTL)
		ups = append(ups, firestore.Update{Path: "exportPath", Value: r.export.Path},
			firestore.Update{Path: "exportBytes", Value: r.export.Bytes},
			firestore.Update{Path: "exportSha256", Value: r.export.SHA256},
			firestore.Update{Path: "expiresAt", Value: exp})
	}
	if err := r.guardedIf(ctx, ups, check); err != nil {
		if errors.Is(err, errLeftAtDone) {
			return r.leftovers(ctx, "done", 1)
		}
		if errors.Is(err, errLeaseLost) && r.export != nil {
			// The request went away (an erasure deleted it): so does the archive.
			_, _ = r.s.deleteObjects(ctx, []string{r.export.Path})
		}
		return err
	}
	r.req.Status = StatusDone
	if r.s.OnProgress != nil {
		cp := r.req
		cp.Progress = r.progress
		r.s.OnProgress(&cp)
	}
	slog.InfoContext(ctx, "gdpr request done", "requestId", r.req.RequestID, "kind", r.req.Kind, "writes", r.writes)
	return nil
}
