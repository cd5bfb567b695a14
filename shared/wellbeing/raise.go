package wellbeing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// ProtocolVersion identifies the protocol rules (episode window, what is
// written); stored on every event.
const ProtocolVersion = "wellbeing-protocol/1"

// EpisodeWindow is how long an unacknowledged episode stays open.
const EpisodeWindow = 24 * time.Hour

// Topic is the Pub/Sub topic of on-call alerts.
const Topic = "wellbeing-alerts"

// NotificationKind is the kind of the user's support notification.
const NotificationKind = "wellbeing_support"

// StateDoc is the id of the per-user episode state document,
// users/{uid}/private/{StateDoc}.
const StateDoc = "wellbeing"

// maxSourceKeys bounds the source keys remembered per episode.
const maxSourceKeys = 20

// maxReflectionKeys bounds the reflection source keys remembered across
// episodes (the newest are kept; about 100 bytes each).
const maxReflectionKeys = 200

// Source says what raised a signal.
type Source string

// Sources.
const (
	SourceScreening  Source = "screening"
	SourceReflection Source = "reflection"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return s == SourceScreening || s == SourceReflection }

// Signal is one detection that may start the protocol.
type Signal struct {
	// UserID is the user concerned (required).
	UserID string
	// Source is screening or reflection (required).
	Source Source
	// SourceKey identifies the input that raised the signal, so that a
	// duplicated or replayed source event is recognised (required, at most
	// 256 bytes, no uid). Screening: the profile's inputHash; the same key
	// is a duplicate while its episode is open, and opens a new episode
	// once that one is acknowledged or expired (the same answers given
	// again). Reflection: the hash of the user_activations id and the
	// content hash (reflections.SourceKey); the same key is always the same
	// entry text again, so it is a duplicate for good, whichever episode
	// it opened or was folded into.
	SourceKey string
	// Trigger says what fired: instrument, item values, rule ids, rule
	// version. Values are numbers, booleans, short id-like strings (see
	// IDLike), and lists or maps of those. Anything else is never stored
	// (no free text) but never stops the protocol either: Raise replaces
	// such a value by Redacted, drops a key that is not id-like, and counts
	// what it removed in the stored trigger's "redacted" entry (see
	// SanitizeTrigger).
	Trigger map[string]any
	// RuleVersion is the version of the rules that fired; "" or a value
	// that is not id-like is stored as "unknown".
	RuleVersion string
	// Locale is the user's BCP 47 locale, for the crisis lines and the
	// notification language ("" → the fallback, English).
	Locale string
}

// Status says what Raise did.
type Status string

// Raise outcomes.
const (
	// Opened: a new episode, its event, notification and resources were
	// written; the alert follows through the outbox trigger.
	Opened Status = "opened"
	// Folded: an episode was open; the signal was counted in it.
	Folded Status = "folded"
	// Duplicate: this exact signal was raised already: it opened the
	// episode that is still open (a redelivered source event), or, for a
	// reflection signal, it opened or was folded into any earlier episode
	// (the same entry text again: a replay never raises twice).
	Duplicate Status = "duplicate"
)

// Outcome is the result of Raise.
type Outcome struct {
	Status    Status `json:"status"`
	EventID   string `json:"eventId"`
	EpisodeID string `json:"episodeId"`
	// ResourcesRef is the crisis resources document the user is pointed at,
	// e.g. "crisis_resources/sv-SE".
	ResourcesRef string `json:"resourcesRef"`
}

// Event is the stored wellbeing_events document: model.WellbeingEvent and
// the protocol's bookkeeping.
type Event struct {
	model.WellbeingEvent
	ProtocolVersion string `firestore:"protocolVersion" json:"protocolVersion"`
	SourceKey       string `firestore:"sourceKey" json:"sourceKey"`
	ResourcesRef    string `firestore:"resourcesRef" json:"resourcesRef"`
	NotificationID  string `firestore:"notificationId" json:"notificationId"`
	// Acked mirrors AckedAt != nil, so admins can query open events
	// (acked == false; Firestore cannot match a missing field).
	Acked bool `firestore:"acked" json:"acked"`
	// Notified mirrors NotifiedAt != nil and is set in the same write, so
	// the delivery backstop (Sweeper) can query events not yet delivered
	// (notified == false). Raise stores it as false; events written before
	// the field existed get it from the sweeper's one-off backfill.
	Notified bool `firestore:"notified" json:"notified"`
	// PublishedAt: the alert was published to Topic (outbox done).
	PublishedAt *time.Time `firestore:"publishedAt,omitempty" json:"publishedAt,omitempty"`
	// DeliveryClaimedAt: a worker is delivering the alert (a lease).
	DeliveryClaimedAt *time.Time `firestore:"deliveryClaimedAt,omitempty" json:"deliveryClaimedAt,omitempty"`
	DeliveryAttempts  int        `firestore:"deliveryAttempts,omitempty" json:"deliveryAttempts,omitempty"`
	// DeliveredTo is "webhook" or "log" once NotifiedAt is set.
	DeliveredTo string `firestore:"deliveredTo,omitempty" json:"deliveredTo,omitempty"`
	// DeliveryError is the last failure ("http 503", "network"), no text
	// from the remote side.
	DeliveryError string `firestore:"deliveryError,omitempty" json:"deliveryError,omitempty"`
}

// episodeState is users/{uid}/private/wellbeing.
type episodeState struct {
	EpisodeID    string     `firestore:"episodeId"`
	EventID      string     `firestore:"eventId"`
	OpenedAt     time.Time  `firestore:"openedAt"`
	ClosesAt     time.Time  `firestore:"closesAt"`
	AckedAt      *time.Time `firestore:"ackedAt"`
	LastSignalAt time.Time  `firestore:"lastSignalAt"`
	Signals      int        `firestore:"signals"`
	SourceKeys   []string   `firestore:"sourceKeys"`
	Episodes     int        `firestore:"episodes"`
	// ReflectionKeys are the reflection source keys raised in any episode
	// (opened or folded; the newest maxReflectionKeys), carried from one
	// episode to the next: such a key seen again is a Duplicate.
	ReflectionKeys []string `firestore:"reflectionKeys"`
}

func (s *episodeState) open(now time.Time) bool {
	return s != nil && s.EventID != "" && s.AckedAt == nil && now.Before(s.ClosesAt)
}

// Protocol raises the wellbeing protocol. The zero value is usable.
type Protocol struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Directory of crisis lines (DefaultDirectory when nil).
	Directory *Directory
}

func (p *Protocol) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Protocol) dir() *Directory {
	if p.Directory != nil {
		return p.Directory
	}
	return DefaultDirectory()
}

// EventID returns the deterministic id of the event of a signal that
// opens a user's first episode. See EpisodeEventID.
func EventID(userID string, source Source, sourceKey string) string {
	return EpisodeEventID(userID, source, sourceKey, 1)
}

// EpisodeEventID returns the deterministic id of the event of a signal
// that opens the user's episode number episode (1 for the first): the
// same signal raised again after its episode was acknowledged or expired
// opens a new episode under a new id, and a redelivery of the signal that
// opened an episode maps to the same id. Episode 1 (and below) keeps the
// id of EventID's original scheme.
func EpisodeEventID(userID string, source Source, sourceKey string, episode int) string {
	in := userID + "\x00" + string(source) + "\x00" + sourceKey
	if episode > 1 {
		in += "\x00" + strconv.Itoa(episode)
	}
	sum := sha256.Sum256([]byte(in))
	return "wb_" + hex.EncodeToString(sum[:16])
}

// EpisodeID returns the id of the episode opened by event eventID at at:
// "ep_", the UTC time and the first 12 hex digits of the event id ("wb_" and
// 32 hex, see EventID), or of its SHA-256 for an id of another shape. It
// holds no uid (events are held pseudonymised after an erasure), and is
// unique per user episode. The GDPR repair of held records written before
// episode ids had this form uses it too.
func EpisodeID(eventID string, at time.Time) string {
	h := strings.TrimPrefix(eventID, "wb_")
	if !hex12.MatchString(h) {
		sum := sha256.Sum256([]byte(eventID))
		h = hex.EncodeToString(sum[:])
	}
	return "ep_" + at.UTC().Format("20060102T150405Z") + "_" + h[:12]
}

// IsEpisodeID reports whether s has the form EpisodeID gives (so holds no
// uid): "ep_", a UTC time to the second and 12 hex digits.
func IsEpisodeID(s string) bool { return episodeIDFormat.MatchString(s) }

// episodeIDFormat is the form of EpisodeID's ids.
var episodeIDFormat = regexp.MustCompile(`^ep_\d{8}T\d{6}Z_[0-9a-f]{12}$`)

// hex12 matches an event id's hash part: at least 12 hex digits.
var hex12 = regexp.MustCompile(`^[0-9a-f]{12}`)

// maxEpisodeProbe bounds how many episode numbers RaiseIn tries past the
// state's count when their event ids are taken already (a lost or reset
// state document).
const maxEpisodeProbe = 8

// Raise runs the protocol for sig in a transaction of its own. See RaiseIn.
func (p *Protocol) Raise(ctx context.Context, c *firestore.Client, sig Signal) (Outcome, error) {
	if err := sig.Validate(); err != nil {
		return Outcome{}, err
	}
	var out Outcome
	err := c.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		out, err = p.RaiseIn(ctx, c, tx, sig)
		return err
	})
	if err != nil {
		return Outcome{}, store.Classify("wellbeing.Raise", err)
	}
	logOutcome(ctx, sig, out)
	return out, nil
}

// RaiseIn runs the protocol for sig inside the caller's transaction tx on
// client c, so the record commits together with the caller's effect (the
// profile, the analysis). It reads before it writes: call it after the
// transaction's own reads and before its own writes. tx may be retried, so
// RaiseIn may run more than once per commit; the caller logs the Outcome
// after the commit (LogOutcome).
//
// While the user's episode is open (not acknowledged, inside
// EpisodeWindow), the signal that opened it is a Duplicate and any other
// signal is Folded into it. Otherwise the signal opens a new episode, with
// an event id of its own (EpisodeEventID). A screening signal does so even
// when the same signal opened an earlier one (the same answers given
// again weeks later). A reflection signal never does: its key is the entry
// id and the exact content hash, so the same key again is a replay of the
// same text (a late redelivered event, say after the analysis that guarded
// the handler was removed), and a reflection key raised in any earlier
// episode, as its opener or folded into it, is a Duplicate. The
// Duplicate's EventID and EpisodeID are those of the matched record when
// it is known (the key opened it), empty otherwise.
//
// A Trigger or RuleVersion that is not made of id-like values never stops
// the protocol: it is sanitized (see SanitizeTrigger).
//
// Errors: fault.InvalidArgument for a Signal without a user id, a known
// source or a source key (see Validate); Firestore errors as returned by
// the transaction.
func (p *Protocol) RaiseIn(ctx context.Context, c *firestore.Client, tx *firestore.Transaction, sig Signal) (Outcome, error) {
	if err := sig.Validate(); err != nil {
		return Outcome{}, err
	}
	sig, redacted := sig.sanitized()
	if redacted > 0 {
		slog.WarnContext(ctx, "wellbeing trigger sanitized", "uid", sig.UserID, "source", string(sig.Source), "redacted", redacted)
	}
	now := p.now()
	dir := p.dir()
	locale := dir.Resolve(sig.Locale)
	out := Outcome{ResourcesRef: model.ColCrisisResources + "/" + locale}

	events := c.Collection(model.ColWellbeingEvents)
	stateRef := c.Collection(model.ColUsers).Doc(sig.UserID).Collection(model.SubColPrivate).Doc(StateDoc)
	resRef := c.Collection(model.ColCrisisResources).Doc(locale)

	// Reads.
	var state *episodeState
	stSnap, err := tx.Get(stateRef)
	if err != nil && !store.IsNotFound(err) {
		return Outcome{}, err
	}
	if exists(stSnap) {
		state = &episodeState{}
		if err := stSnap.DataTo(state); err != nil {
			// Only the server writes the state, but one that no longer
			// decodes must not stop the protocol: failing would have the
			// signal retried until its event expired, never raised. It
			// is taken as no state (a new episode; its write replaces the
			// document), at the cost of a possible second alert.
			slog.ErrorContext(ctx, "wellbeing: episode state undecodable; a new episode is opened", "uid", sig.UserID)
			state = nil
		}
	}
	if state.open(now) {
		out.EventID, out.EpisodeID = state.EventID, state.EpisodeID
		if state.EventID == EpisodeEventID(sig.UserID, sig.Source, sig.SourceKey, state.Episodes) ||
			state.EventID == EventID(sig.UserID, sig.Source, sig.SourceKey) {
			var ev Event
			evSnap, err := tx.Get(events.Doc(state.EventID))
			if err != nil && !store.IsNotFound(err) {
				return Outcome{}, err
			}
			if exists(evSnap) {
				if err := evSnap.DataTo(&ev); err != nil {
					return Outcome{}, fmt.Errorf("decode wellbeing event: %w", err)
				}
				out.ResourcesRef = ev.ResourcesRef
			}
			out.Status = Duplicate
			return out, nil
		}
		out.Status = Folded
		if slices.Contains(state.SourceKeys, sig.SourceKey) {
			return out, nil // the same signal again: already counted
		}
	}
	if sig.Source == SourceReflection {
		seen, evID, epID, err := seenReflection(tx, events, state, sig)
		if err != nil {
			return Outcome{}, err
		}
		if seen {
			out.Status, out.EventID, out.EpisodeID = Duplicate, evID, epID
			return out, nil
		}
	}
	var reflectionKeys []string
	if state != nil {
		reflectionKeys = state.ReflectionKeys
	}
	if sig.Source == SourceReflection {
		reflectionKeys = appendBounded(reflectionKeys, sig.SourceKey, maxReflectionKeys)
	}
	if state.open(now) {
		ups := []firestore.Update{
			{Path: "signals", Value: firestore.Increment(1)},
			{Path: "lastSignalAt", Value: now},
			{Path: "sourceKeys", Value: appendBounded(state.SourceKeys, sig.SourceKey, maxSourceKeys)},
		}
		if sig.Source == SourceReflection {
			ups = append(ups, firestore.Update{Path: "reflectionKeys", Value: reflectionKeys})
		}
		return out, tx.Update(stateRef, ups)
	}

	// No open episode: open the next one, under an event id not taken yet.
	episodes := 1
	if state != nil {
		episodes = state.Episodes + 1
	}
	var id string
	for probe := 0; ; probe++ {
		cand := EpisodeEventID(sig.UserID, sig.Source, sig.SourceKey, episodes)
		evSnap, err := tx.Get(events.Doc(cand))
		if err != nil && !store.IsNotFound(err) {
			return Outcome{}, err
		}
		if !exists(evSnap) {
			id = cand
			break
		}
		// Taken: the state lags behind the events (lost or reset). An
		// event of this signal that is itself still open is a duplicate.
		var ev Event
		if err := evSnap.DataTo(&ev); err != nil {
			return Outcome{}, fmt.Errorf("decode wellbeing event: %w", err)
		}
		if (ev.AckedAt == nil && now.Before(ev.CreatedAt.Add(EpisodeWindow))) || probe >= maxEpisodeProbe ||
			sig.Source == SourceReflection {
			out.Status, out.EventID, out.EpisodeID, out.ResourcesRef = Duplicate, cand, ev.EpisodeID, ev.ResourcesRef
			return out, nil
		}
		episodes++
	}
	resSnap, err := tx.Get(resRef)
	if err != nil && !store.IsNotFound(err) {
		return Outcome{}, err
	}

	// Writes.
	out.Status, out.EventID = Opened, id
	out.EpisodeID = EpisodeID(id, now)
	ev := Event{
		WellbeingEvent: model.WellbeingEvent{
			EventID: id, UserID: sig.UserID, Source: string(sig.Source), Trigger: sig.Trigger,
			RuleVersion: sig.RuleVersion, EpisodeID: out.EpisodeID, CreatedAt: now,
		},
		ProtocolVersion: ProtocolVersion, SourceKey: sig.SourceKey,
		ResourcesRef: out.ResourcesRef, NotificationID: id,
	}
	if err := tx.Create(events.Doc(id), ev); err != nil {
		return Outcome{}, err
	}
	if err := tx.Set(stateRef, episodeState{
		EpisodeID: out.EpisodeID, EventID: id, OpenedAt: now, ClosesAt: now.Add(EpisodeWindow),
		LastSignalAt: now, Signals: 1, SourceKeys: []string{sig.SourceKey}, Episodes: episodes,
		ReflectionKeys: reflectionKeys,
	}); err != nil {
		return Outcome{}, err
	}
	text := dir.Text(sig.Locale)
	note := model.Notification{UserID: sig.UserID, Kind: NotificationKind, Title: text.Title, Body: text.Body,
		Ref: out.ResourcesRef, CreatedAt: now}
	noteRef := c.Collection(model.ColUsers).Doc(sig.UserID).Collection(model.SubColNotes).Doc(id)
	if err := tx.Set(noteRef, note); err != nil {
		return Outcome{}, err
	}
	want := dir.Locales[locale]
	if !exists(resSnap) || !sameResources(resSnap, want) {
		if err := tx.Set(resRef, want); err != nil {
			return Outcome{}, err
		}
	}
	return out, nil
}

// seenReflection reports whether the reflection signal sig was raised in
// an earlier episode: its key is among the state's reflection keys, or
// among the source keys of the state's last episode (a state written
// before reflectionKeys existed), or it opened the user's first episode
// (EventID: an event written before episodes were numbered, or a lost
// state document). It returns the ids of the event and episode the key
// opened when it knows them, "" otherwise (a folded key).
func seenReflection(tx *firestore.Transaction, events *firestore.CollectionRef, state *episodeState, sig Signal) (seen bool, eventID, episodeID string, err error) {
	if state != nil && (slices.Contains(state.ReflectionKeys, sig.SourceKey) || slices.Contains(state.SourceKeys, sig.SourceKey)) {
		if state.EventID == EpisodeEventID(sig.UserID, sig.Source, sig.SourceKey, state.Episodes) {
			return true, state.EventID, state.EpisodeID, nil // it opened the last episode
		}
		return true, "", "", nil
	}
	snap, err := tx.Get(events.Doc(EventID(sig.UserID, sig.Source, sig.SourceKey)))
	if err != nil && !store.IsNotFound(err) {
		return false, "", "", err
	}
	if !exists(snap) {
		return false, "", "", nil
	}
	var ev Event
	if err := snap.DataTo(&ev); err != nil {
		return false, "", "", fmt.Errorf("decode wellbeing event: %w", err)
	}
	return true, ev.EventID, ev.EpisodeID, nil
}

// appendBounded returns a new slice of xs and x, without x's earlier
// occurrence, holding the newest limit elements.
func appendBounded(xs []string, x string, limit int) []string {
	out := make([]string, 0, len(xs)+1)
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	out = append(out, x)
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

// exists reports whether a snapshot (possibly nil after NotFound) holds a
// document.
func exists(s *firestore.DocumentSnapshot) bool { return s != nil && s.Exists() }

func sameResources(snap *firestore.DocumentSnapshot, want model.CrisisResources) bool {
	var have model.CrisisResources
	if err := snap.DataTo(&have); err != nil {
		return false
	}
	return reflect.DeepEqual(have, want)
}

// LogOutcome logs what Raise did, with ids only.
func LogOutcome(ctx context.Context, sig Signal, out Outcome) { logOutcome(ctx, sig, out) }

func logOutcome(ctx context.Context, sig Signal, out Outcome) {
	level := slog.LevelInfo
	if out.Status == Opened {
		level = slog.LevelWarn
	}
	slog.Log(ctx, level, "wellbeing protocol", "uid", sig.UserID, "source", string(sig.Source),
		"status", string(out.Status), "wellbeingEventId", out.EventID, "episodeId", out.EpisodeID)
}

var idLike = regexp.MustCompile(`^[A-Za-z0-9 ._:/<>=-]{0,64}$`)

// IDLike reports whether s may be stored in a Trigger as it is: at most 64
// characters of ASCII letters, digits, spaces and . _ : / - < > =. Rule
// ids and instrument names that feed triggers (shared/crisis,
// shared/screening) must satisfy it.
func IDLike(s string) bool { return idLike.MatchString(s) }

// Redacted replaces a trigger value that is not id-like.
const Redacted = "<redacted>"

// unknownRuleVersion is stored for a missing or non-id-like RuleVersion.
const unknownRuleVersion = "unknown"

// Trigger limits: a list or map nested deeper than maxTriggerDepth levels
// is redacted, elements or keys past maxTriggerItems are dropped; both are
// counted as redacted.
const (
	maxTriggerDepth = 4
	maxTriggerItems = 50
)

// Validate checks what the protocol cannot run without: a user id (a
// document id: model.ValidDocID), a known source and a source key (at most 256
// bytes). It returns a fault.InvalidArgument error naming the problem
// (never the value). The Trigger and the RuleVersion are not checked
// here: whatever they hold, Raise sanitizes them (see SanitizeTrigger)
// rather than refuse a safety signal.
func (s Signal) Validate() error {
	switch {
	case !model.ValidDocID(s.UserID):
		return fault.Invalid("wellbeing: signal needs a user id")
	case !s.Source.Valid():
		return fault.Invalid("wellbeing: unknown source %q", s.Source)
	case s.SourceKey == "" || len(s.SourceKey) > 256:
		return fault.Invalid("wellbeing: signal needs a source key")
	}
	return nil
}

// sanitized returns s with its trigger sanitized and a usable rule
// version, and the number of values redacted.
func (s Signal) sanitized() (Signal, int) {
	t, n := SanitizeTrigger(s.Trigger)
	s.Trigger = t
	if s.RuleVersion == "" || !idLike.MatchString(s.RuleVersion) {
		if s.RuleVersion != "" {
			n++
		}
		s.RuleVersion = unknownRuleVersion
	}
	if n > 0 {
		s.Trigger["redacted"] = n
	}
	return s, n
}

// SanitizeTrigger returns a copy of t that holds only what a stored trigger
// may hold (numbers, booleans, nil, IDLike strings, and lists and maps of
// those, nested at most 4 levels deep, 50 elements or keys each) and the number
// of values it took out: a string that is not id-like or a value of
// another type becomes Redacted; a key that is not id-like, and elements
// or keys past the limits, are dropped. It never fails, so no trigger
// stops the protocol, and no free text is stored. A nil t gives an empty
// map.
func SanitizeTrigger(t map[string]any) (map[string]any, int) {
	n := 0
	out, _ := sanitizeValue(t, 0, &n).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out, n
}

func sanitizeValue(v any, depth int, n *int) any {
	switch v.(type) {
	case []string, []any, map[string]any:
		if depth >= maxTriggerDepth {
			*n++
			return Redacted
		}
	}
	switch x := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint8, uint16, uint32, float32, float64:
		return x
	case string:
		if !idLike.MatchString(x) {
			*n++
			return Redacted
		}
		return x
	case []string:
		return sanitizeList(x, depth, n)
	case []any:
		return sanitizeList(x, depth, n)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // which keys survive the limit is deterministic
		out := make(map[string]any, min(len(x), maxTriggerItems))
		for _, k := range keys {
			if !storableKey(k) || len(out) >= maxTriggerItems {
				*n++
				continue
			}
			out[k] = sanitizeValue(x[k], depth+1, n)
		}
		return out
	}
	*n++
	return Redacted
}

// sanitizeList sanitizes the elements of a list at depth, keeping the
// first maxTriggerItems and counting the rest as redacted.
func sanitizeList[T any](x []T, depth int, n *int) []any {
	out := make([]any, 0, min(len(x), maxTriggerItems))
	for i, e := range x {
		if i >= maxTriggerItems {
			*n += len(x) - i
			break
		}
		v := sanitizeValue(e, depth+1, n)
		if _, nested := v.([]any); nested {
			// Firestore stores no array directly inside an array.
			*n++
			v = Redacted
		}
		out = append(out, v)
	}
	return out
}

// storableKey reports whether k may be a key of a stored trigger map:
// id-like, not empty and not a name Firestore reserves (__.*__).
func storableKey(k string) bool {
	return k != "" && idLike.MatchString(k) && !model.Reserved(k)
}
