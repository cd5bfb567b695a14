// Package insights delivers the daily insight: at each opted-in user's
// local morning one document users/{uid}/daily_insights/{YYYY-MM-DD} with a
// headline, content, the day's transits against the natal chart, the
// personal day number, an intention, an affirmation and a journal prompt,
// plus a notification record for the app's messaging.
//
// Pipeline: Cloud Scheduler publishes an hourly tick to TopicTick →
// OnTick (insightsFanout) pages through the users due at the tick
// (indexes.QInsightsDue: insightsOptIn == true && insightDueAt <= tick,
// cursor pagination) and publishes shards of uids to TopicShards →
// OnShard (insightsWorker) generates and writes each shard with one
// BulkWriter and advances insightDueAt to the next local morning.
//
// Idempotence: insights and notifications are created with Create and
// deterministic ids, so a replayed tick, a duplicated shard or a rerun
// changes nothing (AlreadyExists counts as done); a user whose insightDueAt
// has moved past the tick is skipped. Hours missed by failed ticks are
// caught up by the next tick because the query is "due at or before".
// A user erased or opted out after the fan-out read them is found by the
// failed precondition of the insightDueAt advance, and what the worker
// wrote for them is deleted again (see Service.write).
//
// Content comes from the versioned template library (templates/*.json):
// see Library.Generate. Optionally (Service.Rewriter, wired with
// INSIGHTS_REWRITE=gemini) an LLM rewrites the wording of the users who
// grant the ai_analysis consent, keeping the templates' on any failure:
// see Rewriter and Service.generate.
package insights

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/numerology"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/store"
)

// Topics of the pipeline.
const (
	TopicTick   = "insights-tick"
	TopicShards = "insights-shards"
)

// DefaultShardSize is the number of uids per shard message.
const DefaultShardSize = 250

// DefaultPageSize is the number of users the fan-out reads per query page
// (a page is streamed and published shard by shard; the page is the unit
// of resumption). Larger than the catalogue query's nominal limit (500):
// each query restarts the index scan (and, on the emulator, scans the
// whole collection), so fewer pages shorten the fan-out.
const DefaultPageSize = 10000

// MaxShardSize bounds a shard accepted by the worker.
const MaxShardSize = 1000

// StateDoc is the id of the per-user state document
// users/{uid}/private/{StateDoc}.
const StateDoc = "insights"

// NotificationKind is Notification.Kind of an insight's notification.
const NotificationKind = "daily_insight"

// NotificationID returns the id of the notification of the insight of date
// (YYYY-MM-DD): "insight-YYYY-MM-DD".
func NotificationID(date string) string { return "insight-" + date }

// Service is the insights area's handlers and their dependencies.
type Service struct {
	Firestore *firestore.Client
	// Publisher publishes the shards (the fan-out only).
	Publisher queue.Publisher
	Now       func() time.Time
	// Library is the template library; nil: the embedded one.
	Library *Library
	// Rewriter optionally rewrites the texts (nil or NoRewriter: none) of
	// the users who grant the ai_analysis consent (see generate).
	Rewriter Rewriter
	// RewriteBudget is how long a shard may spend rewriting
	// (DefaultRewriteBudget when 0; see rewriteAll).
	RewriteBudget time.Duration
	// ShardSize is the number of uids per shard (DefaultShardSize when 0).
	ShardSize int
	// PageSize is the number of users read per fan-out query page
	// (DefaultPageSize when 0).
	PageSize int

	daysMu sync.Mutex
	days   map[string]*Day
}

var defaultLibrary = sync.OnceValues(LoadLibrary)

// DefaultLibrary returns the embedded library, compiled once.
func DefaultLibrary() (*Library, error) { return defaultLibrary() }

func (s *Service) lib() (*Library, error) {
	if s.Library != nil {
		return s.Library, nil
	}
	l, err := defaultLibrary()
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "insights: template library")
	}
	return l, nil
}

// day returns the cached Day of a date (the sky is computed once per date
// per instance).
func (s *Service) day(d numerology.Date) *Day {
	key := d.String()
	s.daysMu.Lock()
	defer s.daysMu.Unlock()
	if day, ok := s.days[key]; ok {
		return day
	}
	if s.days == nil || len(s.days) > 64 {
		s.days = map[string]*Day{}
	}
	day := NewDay(d)
	s.days[key] = day
	return day
}

// TickMessage is the body of a tick. Cloud Scheduler sends "{}": the tick
// time is then the message's publish time. Tick overrides it (ops, tests).
type TickMessage struct {
	Tick *time.Time `json:"tick,omitempty"`
}

// ShardMessage is the body of a shard.
type ShardMessage struct {
	// Tick is the tick the shard belongs to: users due at or before it
	// are delivered, for the local date of their latest delivery time.
	Tick time.Time `json:"tick"`
	// UIDs are the users of the shard.
	UIDs []string `json:"uids"`
	// Users, when present, are the fields of the users generation needs,
	// as the fan-out read them at ReadAt: a worker receiving the message
	// within MaxSnapshotAge uses them instead of reading the users again.
	// Users missing here are read.
	Users  []ShardUser `json:"users,omitempty"`
	ReadAt time.Time   `json:"readAt,omitzero"`
}

// ShardUser is a user's snapshot in a shard.
type ShardUser struct {
	UID string `json:"uid"`
	// UpdateTime is the user document's update time when read: the
	// precondition of the insightDueAt advance.
	UpdateTime time.Time `json:"updateTime"`
	userDoc
}

// MaxSnapshotAge is how old a shard's user snapshots may be to be used; a
// shard redelivered later reads its users again.
const MaxSnapshotAge = 10 * time.Minute

// userFieldPaths are the fields of users/{uid} the fan-out reads and
// forwards (userDoc).
// They are leaves, not the chart's placement maps: the emulator's cost of
// a query grows with what it returns, and the fan-out's decoding and the
// shard messages with it.
var userFieldPaths = []string{"insightDueAt", "insightsOptIn", "insightHour", "timeZone", "birthDate", "focusArea",
	"timeCommitment", "profile.focusArea", "profile.timeCommitment", "chart.calculationVersion", "chart.birthTimeKnown", "chart.bodies.sun.longitude",
	"chart.bodies.sun.sign", "chart.bodies.moon.longitude", "chart.ascendant.longitude"}

// ShardKey is a shard's deterministic id: the same tick and uids give the
// same key (message attribute "shard").
func ShardKey(tick time.Time, uids []string) string {
	h := sha256.New()
	h.Write([]byte(tick.UTC().Format(time.RFC3339Nano)))
	for _, u := range uids {
		h.Write([]byte{0})
		h.Write([]byte(u))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// MaxTickAge is how late a Scheduler tick (timed by its publish time) may
// be handled: an older one is dropped, because a newer hourly tick covers
// its users (due at or before) with their latest date. Handled, a backlog
// of ticks redelivered after a long failure would each fan out again and
// deliver their own dates, the older ones over by then.
const MaxTickAge = time.Hour

// OnTick handles a tick (function insightsFanout): it fans the due users
// out in shards. A malformed body is dropped, and so is a tick older than
// MaxTickAge (unless its body names the tick); a failure to read or
// publish is returned (retryable), and the redelivered tick republishes
// the users still due, which the worker handles idempotently.
func (s *Service) OnTick(ctx context.Context, msg *events.PubSubMessage) error {
	tick, named := msg.PublishTime, false
	if len(strings.TrimSpace(string(msg.Data))) > 0 {
		var m TickMessage
		if err := msg.JSON(&m); err != nil {
			return err
		}
		if m.Tick != nil {
			tick, named = *m.Tick, true
		}
	}
	if tick.IsZero() {
		tick = s.Now()
	}
	if age := s.Now().Sub(tick); !named && age > MaxTickAge {
		slog.WarnContext(ctx, "insights fan-out: tick too old, dropped", "tick", tick.UTC().Format(time.RFC3339),
			"ageSeconds", int(age.Seconds()))
		return nil
	}
	st, err := s.Fanout(ctx, tick)
	slog.InfoContext(ctx, "insights fan-out", "tick", tick.UTC().Format(time.RFC3339), "users", st.Users, "shards", st.Shards)
	return err
}

// FanoutStats counts a fan-out.
type FanoutStats struct {
	Users  int `json:"users"`
	Shards int `json:"shards"`
}

// Fanout publishes the users due at tick in shards of ShardSize to
// TopicShards. It reads them page by page (cursor pagination on the
// catalogue query, PageSize a page, with one document of look-ahead so a
// full last page costs no empty query) and streams each page, publishing a
// shard as soon as it is full, so workers start while the fan-out still
// reads. Errors: Firestore and publish errors, wrapped (the caller
// retries; duplicates are harmless).
func (s *Service) Fanout(ctx context.Context, tick time.Time) (FanoutStats, error) {
	var st FanoutStats
	tick = tick.UTC()
	q, err := indexes.MustLookup(indexes.QInsightsDue).Build(s.Firestore, true, tick)
	if err != nil {
		return st, err
	}
	limit := DefaultPageSize
	if s.PageSize > 0 {
		limit = s.PageSize
	}
	// One document more than a page: a page that comes back full but
	// without it is the last, so no query is spent on an empty page.
	q = q.Select(userFieldPaths...).Limit(limit + 1)
	size := s.ShardSize
	if size <= 0 {
		size = DefaultShardSize
	}
	pub := &shardPublisher{s: s, tick: tick, sem: make(chan struct{}, 16)}
	var (
		shard   []ShardUser
		shardAt time.Time
		last    *firestore.DocumentSnapshot
	)
	for {
		page := q
		if last != nil {
			page = q.StartAfter(last)
		}
		readAt := s.Now().UTC()
		it := page.Documents(ctx)
		n, more := 0, false
		for {
			d, err := it.Next()
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				it.Stop()
				pub.wait()
				return pub.st, store.Classify("insights fan-out query", err)
			}
			if n == limit {
				more = true // the look-ahead document: the next page starts with it
				break
			}
			n, last = n+1, d
			u := ShardUser{UID: d.Ref.ID, UpdateTime: d.UpdateTime}
			if !decodeUser(ctx, d, &u.userDoc) {
				u = ShardUser{UID: d.Ref.ID} // the worker reads and judges it
			}
			if len(shard) == 0 {
				shardAt = readAt // a shard's snapshots are as old as its first
			}
			if shard = append(shard, u); len(shard) == size {
				pub.publish(ctx, shard, shardAt)
				shard = nil
			}
		}
		it.Stop()
		if !more {
			if len(shard) > 0 {
				pub.publish(ctx, shard, shardAt)
			}
			return pub.st, pub.wait()
		}
	}
}

// shardPublisher publishes shards concurrently (at most cap(sem) at once)
// and keeps the first error.
type shardPublisher struct {
	s    *Service
	tick time.Time
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	st   FanoutStats
}

func (p *shardPublisher) publish(ctx context.Context, users []ShardUser, readAt time.Time) {
	m := ShardMessage{Tick: p.tick, ReadAt: readAt}
	for _, u := range users {
		m.UIDs = append(m.UIDs, u.UID)
		if !u.UpdateTime.IsZero() {
			m.Users = append(m.Users, u)
		}
	}
	p.st.Shards++
	p.st.Users += len(m.UIDs)
	p.sem <- struct{}{}
	p.wg.Add(1)
	go func() {
		defer func() { <-p.sem; p.wg.Done() }()
		attrs := map[string]string{"shard": ShardKey(p.tick, m.UIDs), "tick": p.tick.Format(time.RFC3339Nano)}
		if _, err := queue.PublishJSON(ctx, p.s.Publisher, TopicShards, m, attrs); err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = fault.Wrap(err, fault.Unavailable, "insights fan-out publish")
			}
			p.mu.Unlock()
		}
	}()
}

// wait waits for every publish and returns the first error.
func (p *shardPublisher) wait() error {
	p.wg.Wait()
	return p.err
}

// OnShard handles a shard (function insightsWorker). A malformed shard is
// dropped. When some users failed with a transient error it returns a
// retryable error so that the shard is redelivered; the users already
// delivered are then skipped.
func (s *Service) OnShard(ctx context.Context, msg *events.PubSubMessage) error {
	st, err := s.DeliverShard(ctx, msg)
	if fault.CodeOf(err) != fault.InvalidArgument {
		slog.InfoContext(ctx, "insights shard", "shard", msg.Attributes["shard"], "users", st.Users,
			"created", st.Created, "existing", st.Existing, "skipped", st.Skipped, "retracted", st.Retracted, "failed", st.Failed,
			"rewritten", st.Rewritten)
	}
	return err
}

// DeliverShard is OnShard without its log line: it decodes and checks the
// shard message and delivers its users, using the fan-out's snapshots when
// they are fresh (old ones only to clean up after users erased since,
// see run), and returns what it did. Errors: fault.Invalid for a malformed
// message, which must be dropped; otherwise as RunShard.
func (s *Service) DeliverShard(ctx context.Context, msg *events.PubSubMessage) (Stats, error) {
	var m ShardMessage
	if err := msg.JSON(&m); err != nil {
		return Stats{}, err
	}
	if m.Tick.IsZero() || len(m.UIDs) == 0 || len(m.UIDs) > MaxShardSize {
		return Stats{}, fault.Invalid("insights shard: needs a tick and 1–%d uids", MaxShardSize)
	}
	for _, u := range m.UIDs {
		if !model.ValidDocID(u) {
			return Stats{}, fault.Invalid("insights shard: bad uid")
		}
	}
	var snaps map[string]*ShardUser
	fresh := !m.ReadAt.IsZero() && s.Now().Sub(m.ReadAt) <= MaxSnapshotAge
	if len(m.Users) > 0 {
		in := make(map[string]bool, len(m.UIDs))
		for _, u := range m.UIDs {
			in[u] = true
		}
		snaps = make(map[string]*ShardUser, len(m.Users))
		for i := range m.Users {
			u := &m.Users[i]
			if !in[u.UID] || u.UpdateTime.IsZero() {
				if fresh {
					return Stats{}, fault.Invalid("insights shard: a user snapshot is not of the shard")
				}
				continue // an old snapshot only serves the clean-up of erased users
			}
			snaps[u.UID] = u
		}
	}
	if !fresh {
		return s.run(ctx, m.UIDs, nil, snaps, s.due(m.Tick, s.Now()))
	}
	return s.run(ctx, m.UIDs, snaps, nil, s.due(m.Tick, s.Now()))
}

// Stats counts the users of a run.
type Stats struct {
	// Users is the number of uids asked for.
	Users int `json:"users"`
	// Created insights; Existing: the insight was already there (a replay).
	Created  int `json:"created"`
	Existing int `json:"existing"`
	// Skipped: not found, not opted in, not due, or changed meanwhile;
	// also due users of a late shard or tick whose tick's date is over (due).
	Skipped int `json:"skipped"`
	// Retracted: erased or opted out between the fan-out's read and the
	// worker's writes, so what the worker wrote for them was deleted
	// again; also an erased user whose deletes a redelivered shard
	// repeats (their first clean-up may have failed).
	Retracted int `json:"retracted"`
	// Failed: a write failed (retried by the next delivery).
	Failed int `json:"failed"`
	// Rewritten: insights created by this run with texts the Rewriter
	// rewrote (0 without a Rewriter); a rewrite whose insight was not
	// stored (the write failed, or another delivery's insight was there)
	// is not counted.
	Rewritten int `json:"rewritten,omitempty"`
}

// Add adds o to st.
func (st *Stats) Add(o Stats) {
	st.Users += o.Users
	st.Created += o.Created
	st.Existing += o.Existing
	st.Skipped += o.Skipped
	st.Retracted += o.Retracted
	st.Failed += o.Failed
	st.Rewritten += o.Rewritten
}

// userFields are the fields of users/{uid} generation reads, but the chart.
type userFields struct {
	BirthDate      string          `firestore:"birthDate" json:"birthDate,omitempty"`
	TimeZone       string          `firestore:"timeZone" json:"timeZone,omitempty"`
	FocusArea      model.FocusArea `firestore:"focusArea" json:"focusArea,omitempty"`
	TimeCommitment int             `firestore:"timeCommitment" json:"timeCommitment,omitempty"`
	InsightsOptIn  bool            `firestore:"insightsOptIn" json:"insightsOptIn,omitempty"`
	InsightHour    *int            `firestore:"insightHour" json:"insightHour,omitempty"`
	InsightDueAt   *time.Time      `firestore:"insightDueAt" json:"insightDueAt,omitempty"`
	// Profile holds the effective focus area and time commitment the
	// profile function computed (profile-6: the questionnaire's answers
	// when the user's own fields are empty).
	Profile *profileDoc `firestore:"profile" json:"profile,omitempty"`
}

// profileDoc is the part of users/{uid}.profile generation reads.
type profileDoc struct {
	FocusArea      model.FocusArea `firestore:"focusArea" json:"focusArea,omitempty"`
	TimeCommitment int             `firestore:"timeCommitment" json:"timeCommitment,omitempty"`
}

// userDoc is the part of users/{uid} generation reads (userFieldPaths).
type userDoc struct {
	userFields
	Chart *chartDoc `firestore:"chart" json:"chart,omitempty"`
}

// decodeUser decodes a user document into u. A chart that does not
// decode is dropped (logged by uid); it reports false when even the other
// fields do not decode.
func decodeUser(ctx context.Context, d *firestore.DocumentSnapshot, u *userDoc) bool {
	if err := d.DataTo(u); err == nil {
		return true
	}
	*u = userDoc{}
	if err := d.DataTo(&u.userFields); err != nil {
		slog.WarnContext(ctx, "insights: user document does not decode", "uid", d.Ref.ID, "error", err.Error())
		return false
	}
	slog.WarnContext(ctx, "insights: chart does not decode; generating without it", "uid", d.Ref.ID)
	return true
}

// chartDoc is the part of users/{uid}.chart (an astro.Chart) generation
// needs: the longitudes transits are measured to and the Sun's sign.
// Reading only these fields keeps decoding cheap and tolerant of how the
// rest (the instant, houses, aspects) was stored.
type chartDoc struct {
	CalculationVersion string      `firestore:"calculationVersion" json:"calculationVersion"`
	BirthTimeKnown     bool        `firestore:"birthTimeKnown" json:"birthTimeKnown"`
	Bodies             chartBodies `firestore:"bodies" json:"bodies"`
	Ascendant          *natalPoint `firestore:"ascendant" json:"ascendant,omitempty"`
}

// chartBodies are the natal bodies transits are measured to.
type chartBodies struct {
	Sun  natalPoint `firestore:"sun" json:"sun"`
	Moon natalPoint `firestore:"moon" json:"moon"`
}

// natalPoint is the part of a natal placement (astro.Placement,
// astro.Point) generation uses; the sign only for the Sun.
type natalPoint struct {
	Longitude float64 `firestore:"longitude" json:"longitude"`
	Sign      string  `firestore:"sign" json:"sign,omitempty"`
}

// State is users/{uid}/private/insights (server-only): the templates of
// the user's insights of the last RecentDays dates, newest first, one
// string a date (StateDay: "2026-11-20 day.4.2 moon.leo.1 practice.sleep.3").
// The worker reads and rewrites it for every user every day, so it is kept
// small: a list of {date, templateIds} maps has five times as many values
// and made the steady-state pipeline take 1.48 times as long (the package
// README's benchmarks). An entry that does not start with a date is
// ignored.
type State struct {
	Days      []string  `firestore:"days" json:"days"`
	UpdatedAt time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// StateDay is the State entry of date's insight made of the templates ids
// (template ids hold no white space; the library checks).
func StateDay(date string, ids []string) string {
	return date + " " + strings.Join(ids, " ")
}

// target is one user to deliver.
type target struct {
	uid    string
	user   userDoc
	state  State
	date   numerology.Date
	next   *time.Time // insightDueAt to set; nil: leave it
	update time.Time  // the user document's update time (precondition)
	doc    model.DailyInsight
	// stale: the tick's date is no longer the user's latest (the shard
	// or its tick came late, see due); run skips the user.
	stale bool

	// Read only when a Rewriter is set (see run): the user grants the
	// ai_analysis consent now; the insight of the date was read (checked)
	// and found delivered already (delivered, with its texts in prior
	// when they decode).
	aiConsent          bool
	checked, delivered bool
	prior              *model.DailyInsight

	// What write did, set by its per-user goroutine: the insight and the
	// notification were created by this run, or the insight already
	// existed (AlreadyExists).
	created, noted, existed bool
}

// RunShard delivers the users of a shard due at tick (see OnShard),
// reading them.
func (s *Service) RunShard(ctx context.Context, tick time.Time, uids []string) (Stats, error) {
	return s.run(ctx, uids, nil, nil, s.due(tick, s.Now()))
}

// due returns the choice of the users due at tick for a run at now: opted
// in and due at or before tick; it sets the date delivered and the next
// due time. A user whose next delivery (the hour of the date after the
// tick's) has passed by now is marked stale, so run skips them instead of
// delivering a date that is over; they stay due and the next tick
// delivers their latest date. Without it, a backlog of shards redelivered
// after a failure delivered one stale insight (and notification) per date
// it spanned, and so did a fresh shard of a tick handled half an hour late
// in a zone whose delivery hour falls on the half hour (Kolkata, Adelaide)
// or quarter (Kathmandu) (TestReview21HalfHourLateTickDeliversNoStaleDate).
// A zero now marks nobody stale.
func (s *Service) due(tick, now time.Time) func(*target) bool {
	tick = tick.UTC()
	return func(t *target) bool {
		u := &t.user
		if !u.InsightsOptIn || u.InsightDueAt == nil || u.InsightDueAt.After(tick) {
			return false
		}
		hour := DefaultHour
		if u.InsightHour != nil {
			hour = *u.InsightHour
		}
		date, next := Delivery(tick, Zone(u.TimeZone), hour)
		t.date, t.next = date, &next
		t.stale = !now.IsZero() && !next.After(now)
		return true
	}
}

// RunDate generates the insight of the local date for each uid (ops
// "insights run"), whether or not the user is due or opted in, without
// touching insightDueAt; an existing insight is left as it is. Errors:
// fault.Invalid for a bad date.
func (s *Service) RunDate(ctx context.Context, date string, uids []string) (Stats, error) {
	d, err := numerology.ParseDate(date)
	if err != nil {
		return Stats{}, err
	}
	return s.run(ctx, uids, nil, nil, func(t *target) bool { t.date = d; return true })
}

// reads are the positions in run's GetAll of a user's documents; -1: not
// read.
type reads struct {
	state, user, consents, insight int
}

// run reads the users (but those with a snapshot in known) and every
// user's state in one batch, keeps those accepted by choose (which sets
// date and next), generates, and writes. old are snapshots too old to
// deliver from: a user read who no longer exists but whom their old
// snapshot shows due was erased after the fan-out, and the documents an
// earlier delivery of the shard may have written for them are deleted
// (a rare path: the erasure's clean-up, repeated).
//
// With a Rewriter (only then), the same GetAll also reads every user's
// consents/{uid} (the ai_analysis consent gates the rewrite) and, for
// the users with a snapshot (the fan-out's, so the date is known before
// reading), the date's insight: one delivered already (a redelivered
// shard) is not rewritten again (see generate).
func (s *Service) run(ctx context.Context, uids []string, known, old map[string]*ShardUser, choose func(*target) bool) (Stats, error) {
	uids = dedupe(uids)
	st := Stats{Users: len(uids)}
	if len(uids) == 0 {
		return st, nil
	}
	lib, err := s.lib()
	if err != nil {
		return st, err
	}
	rw := s.rewriter()
	users := s.Firestore.Collection(model.ColUsers)
	refs := make([]*firestore.DocumentRef, 0, 2*len(uids))
	at := make([]reads, len(uids))
	for i, uid := range uids {
		u := users.Doc(uid)
		r := reads{state: len(refs), user: -1, consents: -1, insight: -1}
		refs = append(refs, u.Collection(model.SubColPrivate).Doc(StateDoc))
		if known[uid] == nil {
			r.user = len(refs)
			refs = append(refs, u)
		}
		if rw != nil {
			r.consents = len(refs)
			refs = append(refs, s.Firestore.Collection(model.ColConsents).Doc(uid))
			if k := known[uid]; k != nil {
				if p := (&target{uid: uid, user: k.userDoc}); choose(p) {
					r.insight = len(refs)
					refs = append(refs, u.Collection(model.SubColInsights).Doc(p.date.String()))
				}
			}
		}
		at[i] = r
	}
	snaps, err := s.Firestore.GetAll(ctx, refs)
	if err != nil {
		return st, store.Classify("insights read users", err)
	}
	targets := make([]*target, 0, len(uids))
	var gone []retraction
	for i, uid := range uids {
		r := at[i]
		ss := snaps[r.state]
		t := &target{uid: uid}
		if r.user >= 0 {
			us := snaps[r.user]
			if !us.Exists() && old[uid] != nil {
				if o := (&target{uid: uid, user: old[uid].userDoc}); choose(o) {
					gone = append(gone, erasedRetraction(uid, o.date.String()))
					continue
				}
			}
			if !us.Exists() || !decodeUser(ctx, us, &t.user) {
				st.Skipped++
				continue
			}
			t.update = us.UpdateTime
		} else {
			t.user, t.update = known[uid].userDoc, known[uid].UpdateTime
		}
		if ss.Exists() {
			if err := ss.DataTo(&t.state); err != nil {
				t.state = State{} // a corrupt state only weakens the no-repeat rule
			}
		}
		if !choose(t) || t.stale {
			st.Skipped++
			continue
		}
		if rw != nil {
			// A read without an error: ConsentsOf's error is nil (a
			// missing or undecodable document grants nothing).
			cs, _ := model.ConsentsOf(ctx, snaps[r.consents], nil)
			t.aiConsent = cs.Granted(model.ConsentAIAnalysis)
			// choose gave t the date it gave the user's snapshot above
			// (the same userDoc), the date of the insight read.
			if r.insight >= 0 {
				t.checked = true
				t.delivered, t.prior = deliveredInsight(snaps[r.insight])
			}
		}
		targets = append(targets, t)
	}
	var goneErr runError
	settle(gone, s.retract(ctx, gone), &st, &goneErr)
	if err = s.generate(ctx, lib, targets); err == nil {
		st, err = s.write(ctx, targets, st)
	}
	if goneErr.err != nil && !fault.Retryable(err) {
		err = fault.Wrap(goneErr.err, fault.Unavailable, "insights: erased users not cleaned up")
	}
	return st, err
}

// subject builds the generation input of t.
func subject(lib *Library, t *target, day *Day) Subject {
	u := &t.user
	sub := Subject{UID: t.uid, Focus: u.FocusArea, Minutes: u.TimeCommitment}
	// The user's own fields, else the questionnaire's answers as the
	// profile function computed them (what the coach's client profile
	// shows).
	if p := u.Profile; p != nil {
		if !sub.Focus.Valid() {
			sub.Focus = p.FocusArea
		}
		if sub.Minutes <= 0 {
			sub.Minutes = p.TimeCommitment
		}
	}
	if !sub.Focus.Valid() {
		sub.Focus = ""
	}
	if b, err := numerology.ParseDate(u.BirthDate); err == nil && u.BirthDate != "" {
		sub.Birth, sub.HasBirth = b, true
	}
	if c := u.Chart; c != nil && c.CalculationVersion != "" && sub.HasBirth {
		sub.Chart = &astro.Chart{CalculationVersion: c.CalculationVersion, BirthTimeKnown: c.BirthTimeKnown,
			Bodies: astro.Bodies{Sun: astro.Placement{Longitude: c.Bodies.Sun.Longitude, Sign: c.Bodies.Sun.Sign},
				Moon: astro.Placement{Longitude: c.Bodies.Moon.Longitude}}}
		if a := c.Ascendant; a != nil {
			sub.Chart.Ascendant = &astro.Point{Longitude: a.Longitude}
		}
	}
	sub.Recent = recentSet(lib, t.state.Days, day)
	return sub
}

// recentSet returns the templates of the entries less than RecentDays days
// from day's date, the date itself excluded (so that regenerating a date
// gives the same insight).
func recentSet(lib *Library, days []string, day *Day) Recent {
	r := lib.NewRecent()
	for _, e := range days {
		if ids, ok := recentIDs(e, day); ok {
			for id := range strings.FieldsSeq(ids) {
				if i, ok := lib.Lookup(id); ok {
					r.Add(i)
				}
			}
		}
	}
	return r
}

// recentIDs returns the ids (separated by spaces) of State entry e when it
// starts with a date less than RecentDays days before or after day's date
// that is not that date.
func recentIDs(e string, day *Day) (string, bool) {
	date, ids, _ := strings.Cut(e, " ")
	d, err := time.Parse(time.DateOnly, date)
	diff := d.Unix()/86400 - int64(day.ordinal)
	return ids, err == nil && diff != 0 && diff > -RecentDays && diff < RecentDays
}

// records reports whether the state holds exactly ids for date.
func (st *State) records(date string, ids []string) bool {
	want := StateDay(date, ids)
	for _, e := range st.Days {
		if d, _, _ := strings.Cut(e, " "); d == date {
			return e == want
		}
	}
	return false
}

// nextState returns the state after delivering date with ids: the entries
// less than RecentDays days before (or after) the date, plus the date,
// newest first.
func nextState(old State, day *Day, ids []string, now time.Time) State {
	out := State{UpdatedAt: now, Days: []string{StateDay(day.String(), ids)}}
	for _, e := range old.Days {
		if _, ok := recentIDs(e, day); ok {
			out.Days = append(out.Days, e)
		}
	}
	// Entries start with their ISO date: newest first is descending order.
	slices.SortFunc(out.Days, func(a, b string) int { return strings.Compare(b, a) })
	return out
}

// rewriter returns the Service's Rewriter, nil when there is none (nil or
// NoRewriter).
func (s *Service) rewriter() Rewriter {
	switch s.Rewriter.(type) {
	case nil, NoRewriter, *NoRewriter:
		return nil
	}
	return s.Rewriter
}

// generate fills t.doc for every target, then, with a Rewriter, lets it
// rewrite the texts of the targets that grant the ai_analysis consent now
// and whose insight of the date was not delivered yet (rewriteAll, within
// RewriteBudget). The date's insight of
// a consenting target that run could not read with the users (no
// snapshot: `ops insights run`, a shard redelivered after
// MaxSnapshotAge) is read here, in one GetAll. A target whose insight was
// delivered already is not rewritten again (a redelivered shard costs no
// second rewrite): it takes the delivered texts (checked targets only),
// so that a notification created now (its first attempt failed) says what
// the insight says; the insight itself is never overwritten (Create).
// Errors: that read's, classified (nothing was written).
func (s *Service) generate(ctx context.Context, lib *Library, targets []*target) error {
	var sc Scratch
	for _, t := range targets {
		day := s.day(t.date)
		sub := subject(lib, t, day)
		t.doc = lib.Generate(&sub, day, &sc)
	}
	rw := s.rewriter()
	if rw == nil {
		return nil
	}
	var unchecked []*target
	for _, t := range targets {
		if t.aiConsent && !t.checked {
			unchecked = append(unchecked, t)
		}
	}
	if err := s.readDelivered(ctx, unchecked); err != nil {
		return err
	}
	var ask []*target
	for _, t := range targets {
		switch {
		case t.delivered:
			if p := t.prior; p != nil && p.Headline != "" {
				t.doc.Headline, t.doc.Content, t.doc.Intention = p.Headline, p.Content, p.Intention
				t.doc.Affirmation, t.doc.JournalPrompt, t.doc.RewrittenBy = p.Affirmation, p.JournalPrompt, p.RewrittenBy
			}
		case t.aiConsent:
			ask = append(ask, t)
		}
	}
	budget := s.RewriteBudget
	if budget <= 0 {
		budget = DefaultRewriteBudget
	}
	tmpl := make([]model.DailyInsight, len(ask))
	for i, t := range ask {
		tmpl[i] = t.doc
	}
	rewriteAll(ctx, rw, ask, budget)
	s.dropRevoked(ctx, ask, tmpl)
	return nil
}

// dropRevoked reads again the ai_analysis consent of the targets whose
// insight the Rewriter reworded (their consent was read with the shard,
// before rewriting, which can take RewriteBudget) and gives those who no
// longer grant it the template wording back (tmpl[i] is ask[i]'s), so
// that a revocation made while the model answered keeps the model's
// wording out of the stored insight and its notification, as a
// reflection's analysis computed during a revocation is not stored. A
// consents document that does not decode grants nothing (model.ConsentsOf);
// a failed read keeps the template wording for all of them (fail closed:
// the shard completes, logged without ids).
func (s *Service) dropRevoked(ctx context.Context, ask []*target, tmpl []model.DailyInsight) {
	var idx []int
	var refs []*firestore.DocumentRef
	for i, t := range ask {
		if t.doc.RewrittenBy != "" {
			idx = append(idx, i)
			refs = append(refs, s.Firestore.Collection(model.ColConsents).Doc(t.uid))
		}
	}
	if len(refs) == 0 {
		return
	}
	snaps, err := s.Firestore.GetAll(ctx, refs)
	if err != nil {
		slog.WarnContext(ctx, "insights: consents not read again after rewriting; template wording kept",
			"users", len(refs), "code", string(fault.CodeOf(err)))
	}
	dropped := 0
	for k, i := range idx {
		if err == nil {
			if cs, _ := model.ConsentsOf(ctx, snaps[k], nil); cs.Granted(model.ConsentAIAnalysis) {
				continue
			}
		}
		ask[i].doc, ask[i].aiConsent = tmpl[i], false
		dropped++
	}
	if dropped > 0 {
		slog.InfoContext(ctx, "insights: rewrites dropped, ai_analysis no longer granted", "dropped", dropped)
	}
}

// readDelivered reads the insight of the date of each target in one
// GetAll and marks the targets checked, and delivered when it exists.
// Errors: the read's, classified.
func (s *Service) readDelivered(ctx context.Context, targets []*target) error {
	if len(targets) == 0 {
		return nil
	}
	users := s.Firestore.Collection(model.ColUsers)
	refs := make([]*firestore.DocumentRef, len(targets))
	for i, t := range targets {
		refs[i] = users.Doc(t.uid).Collection(model.SubColInsights).Doc(t.date.String())
	}
	snaps, err := s.Firestore.GetAll(ctx, refs)
	if err != nil {
		return store.Classify("insights read delivered insights", err)
	}
	for i, t := range targets {
		t.checked = true
		t.delivered, t.prior = deliveredInsight(snaps[i])
	}
	return nil
}

// deliveredInsight reports whether the insight read exists and returns it
// when it decodes (nil otherwise).
func deliveredInsight(snap *firestore.DocumentSnapshot) (bool, *model.DailyInsight) {
	if snap == nil || !snap.Exists() {
		return false, nil
	}
	var in model.DailyInsight
	if err := snap.DataTo(&in); err != nil {
		return true, nil
	}
	return true, &in
}

// write creates the insights and notifications and sets the states, and
// advances insightDueAt of each user as soon as that user's three writes
// are done (so the advances overlap the other users' writes), with the
// user document's update time as precondition: a user changed meanwhile
// stays due and the next tick finishes it. A user whose writes failed is
// not advanced, so the next tick (or the redelivered shard) retries it.
//
// With a Rewriter, whose wording can differ from one attempt (or one
// concurrent delivery) to the next, a user's notification is created only
// after their insight and state are written, with the wording of the
// insight stored (noteAfterInsight): a notification never stands beside
// an insight a later attempt worded differently. The writes are the same.
//
// A first delivery to a user unchanged since they were read costs those
// four writes and nothing else. The rare paths:
//   - the insight already existed (a replay): it is read, and when its
//     templates are not those the state was just set with (the user's
//     inputs changed between two attempts), the state is set again to
//     record the delivered ones (recordDelivered);
//   - the advance failed NotFound: the user was erased meanwhile (GDPR),
//     so the date's insight and notification and the state are deleted
//     again (retract);
//   - the advance failed its precondition (the user changed): the user is
//     read again; erased, as above; no longer opted in, the insight and the
//     notification this run created are deleted; still opted in, all
//     stays and the next tick finishes the advance.
//
// An erased user's clean-up that fails makes the run return a retryable
// error (whatever else failed), so the shard is redelivered and the
// clean-up repeated: a redelivery deletes the date's documents of an
// erased user whoever wrote them. An opted-out user's clean-up is
// best-effort: a redelivery cannot tell what an earlier attempt wrote and
// failed to delete from an insight delivered before the opt-out (which
// stays), so a failure is logged (ids only) and not retried.
func (s *Service) write(ctx context.Context, targets []*target, st Stats) (Stats, error) {
	if len(targets) == 0 {
		return st, nil
	}
	now := s.Now().UTC()
	bw := s.Firestore.BulkWriter(ctx)
	users := s.Firestore.Collection(model.ColUsers)
	var (
		mu    sync.Mutex
		errs  runError
		wg    sync.WaitGroup
		notes sync.WaitGroup // with a Rewriter: the users whose notification is not enqueued yet
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs.add(err)
	}
	// With a Rewriter, the wording of an insight can differ from one
	// attempt to the next, so a notification is created only once its
	// insight is stored, with the stored insight's wording (see
	// noteAfterInsight); without one, the notification goes with the
	// insight.
	rewriting := s.rewriter() != nil
	advance := make([]*firestore.BulkWriterJob, len(targets))
	for i, t := range targets {
		u := users.Doc(t.uid)
		t.doc.CreatedAt = now
		note := model.Notification{UserID: t.uid, Kind: NotificationKind, Title: t.doc.Headline, Body: t.doc.Intention,
			Ref: model.SubColInsights + "/" + t.doc.Date, CreatedAt: now}
		noteRef := u.Collection(model.SubColNotes).Doc(NotificationID(t.doc.Date))
		ji, err1 := bw.Create(u.Collection(model.SubColInsights).Doc(t.doc.Date), &t.doc)
		var jn *firestore.BulkWriterJob // nil with a Rewriter: created after the insight
		var err2 error
		if !rewriting {
			jn, err2 = bw.Create(noteRef, &note)
		}
		var js *firestore.BulkWriterJob // nil: the state already records this insight (a replay)
		var err3 error
		if !t.state.records(t.doc.Date, t.doc.TemplateIDs) {
			state := nextState(t.state, s.day(t.date), t.doc.TemplateIDs, now)
			js, err3 = bw.Set(u.Collection(model.SubColPrivate).Doc(StateDoc), &state)
		}
		if err := errors.Join(err1, err2, err3); err != nil {
			fail(err)
			mu.Lock()
			st.Failed++
			mu.Unlock()
			continue
		}
		wg.Add(1)
		queued := func() {} // with a Rewriter: the notification is enqueued, or will not be
		if rewriting {
			notes.Add(1)
			queued = sync.OnceFunc(notes.Done)
		}
		go func() {
			defer wg.Done()
			defer queued()
			_, errI := ji.Results()
			var errN, errS error
			if jn != nil {
				_, errN = jn.Results()
				t.noted = errN == nil
			}
			if js != nil {
				_, errS = js.Results()
			}
			t.created = errI == nil
			t.existed = store.IsAlreadyExists(errI)
			var stored *storedInsight
			if t.existed {
				errI = nil
				if errS == nil {
					stored, errI = s.recordDelivered(ctx, u, t, now)
				}
			}
			if rewriting && errI == nil && errS == nil {
				errN = noteAfterInsight(bw, noteRef, &note, t, stored, queued)
			}
			if !rewriting && errI == nil {
				errN = noteMatchesInsight(ctx, noteRef, &note, t, stored, errN)
			}
			if store.IsAlreadyExists(errN) {
				errN = nil
			}
			err := errors.Join(errI, errN, errS)
			mu.Lock()
			switch {
			case err != nil:
				st.Failed++
			case t.existed:
				st.Existing++
			default:
				st.Created++
				if t.doc.RewrittenBy != "" {
					st.Rewritten++ // stored: this run created the insight
				}
			}
			mu.Unlock()
			if err != nil {
				fail(err)
				return
			}
			if t.next != nil {
				j, err := bw.Update(u, []firestore.Update{{Path: "insightDueAt", Value: *t.next}}, firestore.LastUpdateTime(t.update))
				if err != nil {
					fail(err)
				}
				advance[i] = j
			}
		}()
	}
	bw.Flush() // sends the last partial batch of creates
	if rewriting {
		notes.Wait() // every notification is enqueued
		bw.Flush()   // and sent
	}
	wg.Wait() // every advance is enqueued
	bw.End()
	var erased, changed []*target
	for i, j := range advance {
		if j == nil {
			continue
		}
		if _, err := j.Results(); err != nil {
			switch fault.CodeOf(err) {
			case fault.NotFound:
				erased = append(erased, targets[i])
			case fault.FailedPrecondition:
				changed = append(changed, targets[i])
			default:
				fail(err)
			}
		}
	}
	// The rare paths: users erased or changed since they were read.
	var undo []retraction
	for _, t := range erased {
		undo = append(undo, erasedDelivery(t))
	}
	if len(changed) > 0 {
		rs, err := s.recheck(ctx, changed)
		if err != nil {
			fail(err)
		}
		undo = append(undo, rs...)
	}
	settle(undo, s.retract(ctx, undo), &st, &errs)
	if firstErr := errs.err; firstErr != nil {
		slog.WarnContext(ctx, "insights: some writes failed", "failed", st.Failed, "error", firstErr.Error())
		if fault.Retryable(firstErr) {
			return st, fault.Wrap(firstErr, fault.Unavailable, fmt.Sprintf("insights: %d users not delivered", st.Failed))
		}
	}
	return st, nil
}

// runError keeps the error a run returns: the first retryable one, else
// the first one. A retryable failure (a transient write error, an erased
// user's failed clean-up) must make the run return a retryable error even
// when a permanent error came first, or the shard is not redelivered.
type runError struct{ err error }

func (e *runError) add(err error) {
	if err != nil && (e.err == nil || !fault.Retryable(e.err) && fault.Retryable(err)) {
		e.err = err
	}
}

// settle counts the retractions rs (with retract's errors errs) in st and
// keeps their errors in re. A retracted user counts as Retracted, instead
// of Created or Existing when write counted them (r.delivered). An erased
// user's failed clean-up counts as Failed and is kept (retryable: the
// redelivery repeats it). An opted-out user's failed clean-up is
// best-effort: retract logged it (ids only); it is neither kept nor
// counted as Failed, and the user stays counted as delivered.
func settle(rs []retraction, errs []error, st *Stats, re *runError) {
	for i, err := range errs {
		r := rs[i]
		if err != nil && r.why != whyErased {
			continue // logged by retract
		}
		switch {
		case r.delivered == nil: // not counted as delivered
		case r.delivered.existed:
			st.Existing--
		default:
			st.Created--
		}
		if err != nil {
			st.Failed++
			re.add(err)
			continue
		}
		st.Retracted++
	}
}

// storedInsight is what write reads of an insight that already existed:
// its templates (recordDelivered) and the wording its notification repeats
// (noteAfterInsight).
type storedInsight struct {
	TemplateIDs []string `firestore:"templateIds"`
	Headline    string   `firestore:"headline"`
	Intention   string   `firestore:"intention"`
}

// recordDelivered is write's path for an insight that already existed (a
// replay): it reads the insight, and when its templates are not those the
// state of t's date was set with, it sets the state again recording them
// (the other days kept), so that what the user received is what the
// no-repeat rule avoids. An insight gone meanwhile (erased) or without
// template ids leaves the state as it is. It returns what it read: nil
// when the insight is gone, empty when it does not decode.
func (s *Service) recordDelivered(ctx context.Context, u *firestore.DocumentRef, t *target, now time.Time) (*storedInsight, error) {
	snap, err := u.Collection(model.SubColInsights).Doc(t.doc.Date).Get(ctx)
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, store.Classify("insights read delivered insight", err)
	}
	var in storedInsight
	if err := snap.DataTo(&in); err != nil {
		return &storedInsight{}, nil
	}
	if len(in.TemplateIDs) == 0 || slices.Equal(in.TemplateIDs, t.doc.TemplateIDs) {
		return &in, nil
	}
	state := nextState(t.state, s.day(t.date), in.TemplateIDs, now)
	if _, err := u.Collection(model.SubColPrivate).Doc(StateDoc).Set(ctx, &state); err != nil {
		return &in, store.Classify("insights record delivered templates", err)
	}
	return &in, nil
}

// noteAfterInsight is write's notification with a Rewriter, created once
// t's insight and state are written: with the wording of the insight this
// run created, or of the one that already existed (stored, read by
// recordDelivered: an earlier attempt's, or a concurrent delivery's
// rewrite), so that the notification always says what the stored insight
// says; none when that insight is gone meanwhile (erased: the advance
// fails and retracts). Created after its insight, a notification never
// outlives a failed insight write, whose redelivery may word the insight
// differently. queued is called once the create is enqueued (write then
// flushes the notifications at once). It sets t.noted and returns the
// create's error (AlreadyExists when an earlier attempt created it).
func noteAfterInsight(bw *firestore.BulkWriter, ref *firestore.DocumentRef, note *model.Notification, t *target,
	stored *storedInsight, queued func()) error {
	if t.existed {
		if stored == nil {
			return nil
		}
		if stored.Headline != "" {
			note.Title, note.Body = stored.Headline, stored.Intention
		}
	}
	j, err := bw.Create(ref, note)
	queued()
	if err == nil {
		_, err = j.Results()
	}
	t.noted = err == nil
	return err
}

// noteMatchesInsight is write's repair, without a Rewriter, of a
// notification created beside its insight by another attempt than the
// insight: generation gives the same texts only while the user's inputs
// stay the same, and they may change between a partly failed delivery
// and its retry (a birth date entered, a chart computed). When this run
// created the insight but the notification already existed (errN
// AlreadyExists), the notification takes this insight's wording; when the
// insight already existed (stored, read by recordDelivered) but this run
// created the notification with other texts, it takes the stored
// insight's. Either is one update on a rare path; the common path (both
// created, or neither) writes nothing more. It returns errN, or the
// update's error.
func noteMatchesInsight(ctx context.Context, ref *firestore.DocumentRef, note *model.Notification, t *target,
	stored *storedInsight, errN error) error {
	title, body := "", ""
	switch {
	case t.created && store.IsAlreadyExists(errN):
		title, body = t.doc.Headline, t.doc.Intention
	case t.existed && t.noted && stored != nil && stored.Headline != "" &&
		(stored.Headline != note.Title || stored.Intention != note.Body):
		title, body = stored.Headline, stored.Intention
	default:
		return errN
	}
	if _, err := ref.Update(ctx, []firestore.Update{{Path: "title", Value: title}, {Path: "body", Value: body}}); err != nil &&
		!store.IsNotFound(err) {
		return store.Classify("insights align notification", err)
	}
	return nil
}

// recheck is write's path for users whose advance failed its
// precondition (changed since they were read): it reads them again and
// returns the retractions of those erased (everything of the date) or no
// longer opted in (the insight and the notification this run created).
// Users still opted in keep their insight.
func (s *Service) recheck(ctx context.Context, changed []*target) ([]retraction, error) {
	users := s.Firestore.Collection(model.ColUsers)
	refs := make([]*firestore.DocumentRef, len(changed))
	for i, t := range changed {
		refs[i] = users.Doc(t.uid)
	}
	snaps, err := s.Firestore.GetAll(ctx, refs)
	if err != nil {
		return nil, store.Classify("insights read changed users", err)
	}
	var rs []retraction
	for i, t := range changed {
		us := snaps[i]
		if !us.Exists() {
			rs = append(rs, erasedDelivery(t))
			continue
		}
		if v, err := us.DataAt("insightsOptIn"); err == nil && v == true {
			continue
		}
		if t.created || t.noted {
			rs = append(rs, retraction{uid: t.uid, date: t.doc.Date, why: whyOptedOut, insight: t.created, note: t.noted, delivered: t})
		}
	}
	return rs, nil
}

// Reasons of a retraction (logged).
const (
	whyErased   = "erased"
	whyOptedOut = "opted out"
)

// retraction is the deletion of what a delivery of date wrote for a user
// who should not have it.
type retraction struct {
	uid, date string
	why       string
	// The documents to delete: the insight of date, its notification, the
	// state.
	insight, note, state bool
	// delivered is the target write delivered date to (counted as Created
	// or Existing); nil for an erased user run found before delivering.
	delivered *target
}

// erasedRetraction deletes everything the pipeline writes for the date
// under an erased user, whoever wrote it: the user document is gone, so
// nothing there belongs to anyone.
func erasedRetraction(uid, date string) retraction {
	return retraction{uid: uid, date: date, why: whyErased, insight: true, note: true, state: true}
}

// erasedDelivery is the erasedRetraction of what write delivered to t.
func erasedDelivery(t *target) retraction {
	r := erasedRetraction(t.uid, t.doc.Date)
	r.delivered = t
	return r
}

// retract deletes the documents of the retractions with one BulkWriter and
// returns each one's error, nil when all its deletes succeeded (deleting a
// missing document succeeds, so it can be repeated). The errors are
// retryable (fault.Unavailable): an erased user's orphaned personal data
// must not stay because one attempt failed (see settle for the opted-out
// users'). Only ids are logged.
func (s *Service) retract(ctx context.Context, rs []retraction) []error {
	if len(rs) == 0 {
		return nil
	}
	bw := s.Firestore.BulkWriter(ctx)
	users := s.Firestore.Collection(model.ColUsers)
	jobs := make([][]*firestore.BulkWriterJob, len(rs))
	errs := make([]error, len(rs))
	for i, r := range rs {
		u := users.Doc(r.uid)
		var refs []*firestore.DocumentRef
		if r.insight {
			refs = append(refs, u.Collection(model.SubColInsights).Doc(r.date))
		}
		if r.note {
			refs = append(refs, u.Collection(model.SubColNotes).Doc(NotificationID(r.date)))
		}
		if r.state {
			refs = append(refs, u.Collection(model.SubColPrivate).Doc(StateDoc))
		}
		for _, ref := range refs {
			j, err := bw.Delete(ref)
			if err != nil {
				errs[i] = errors.Join(errs[i], err)
				continue
			}
			jobs[i] = append(jobs[i], j)
		}
	}
	bw.End()
	for i, r := range rs {
		for _, j := range jobs[i] {
			if _, err := j.Results(); err != nil {
				errs[i] = errors.Join(errs[i], err)
			}
		}
		if errs[i] != nil {
			errs[i] = fault.Wrap(errs[i], fault.Unavailable, "insights retract delivery")
			slog.WarnContext(ctx, "insights: retracting a delivery failed", "uid", r.uid, "date", r.date, "reason", r.why,
				"repeated", r.why == whyErased, "error", errs[i].Error())
			continue
		}
		slog.InfoContext(ctx, "insights: delivery retracted", "uid", r.uid, "date", r.date, "reason", r.why)
	}
	return errs
}

// dedupe returns uids without repeats, in order.
func dedupe(uids []string) []string {
	seen := make(map[string]bool, len(uids))
	out := uids[:0:0]
	for _, u := range uids {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}
