package wellbeing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
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
	// duplicated or replayed source event maps to the same record
	// (required). Screening: the profile's inputHash. Reflection:
	// "{userActivationId}:{contentHash}".
	SourceKey string
	// Trigger says what fired: instrument, item values, rule ids, rule
	// version. Values are numbers, booleans, short id-like strings (at most
	// 64 characters of letters, digits, spaces and . _ : / - < > =), and
	// lists or maps of those; anything else is refused (no free text).
	Trigger map[string]any
	// RuleVersion is the version of the rules that fired (required).
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
	// Duplicate: the event of this exact signal exists already.
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

// EventID returns the deterministic id of the event of a signal.
func EventID(userID string, source Source, sourceKey string) string {
	sum := sha256.Sum256([]byte(userID + "\x00" + string(source) + "\x00" + sourceKey))
	return "wb_" + hex.EncodeToString(sum[:16])
}

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
// Errors: fault.InvalidArgument for an invalid Signal (see Validate);
// Firestore errors as returned by the transaction.
func (p *Protocol) RaiseIn(ctx context.Context, c *firestore.Client, tx *firestore.Transaction, sig Signal) (Outcome, error) {
	if err := sig.Validate(); err != nil {
		return Outcome{}, err
	}
	now := p.now()
	dir := p.dir()
	locale := dir.Resolve(sig.Locale)
	id := EventID(sig.UserID, sig.Source, sig.SourceKey)
	out := Outcome{EventID: id, ResourcesRef: model.ColCrisisResources + "/" + locale}

	eventRef := c.Collection(model.ColWellbeingEvents).Doc(id)
	stateRef := c.Collection(model.ColUsers).Doc(sig.UserID).Collection(model.SubColPrivate).Doc(StateDoc)
	resRef := c.Collection(model.ColCrisisResources).Doc(locale)

	// Reads.
	evSnap, err := tx.Get(eventRef)
	if err != nil && !store.IsNotFound(err) {
		return Outcome{}, err
	}
	if exists(evSnap) {
		var ev Event
		if err := evSnap.DataTo(&ev); err != nil {
			return Outcome{}, fmt.Errorf("decode wellbeing event: %w", err)
		}
		out.Status, out.EpisodeID, out.ResourcesRef = Duplicate, ev.EpisodeID, ev.ResourcesRef
		return out, nil
	}
	var state *episodeState
	stSnap, err := tx.Get(stateRef)
	if err != nil && !store.IsNotFound(err) {
		return Outcome{}, err
	}
	if exists(stSnap) {
		state = &episodeState{}
		if err := stSnap.DataTo(state); err != nil {
			return Outcome{}, fmt.Errorf("decode wellbeing state: %w", err)
		}
	}
	resSnap, err := tx.Get(resRef)
	if err != nil && !store.IsNotFound(err) {
		return Outcome{}, err
	}

	// Writes.
	if state.open(now) {
		out.Status, out.EventID, out.EpisodeID = Folded, state.EventID, state.EpisodeID
		for _, k := range state.SourceKeys {
			if k == sig.SourceKey {
				return out, nil // the same signal again: already counted
			}
		}
		keys := append(state.SourceKeys, sig.SourceKey)
		if len(keys) > maxSourceKeys {
			keys = keys[len(keys)-maxSourceKeys:]
		}
		return out, tx.Update(stateRef, []firestore.Update{
			{Path: "signals", Value: firestore.Increment(1)},
			{Path: "lastSignalAt", Value: now},
			{Path: "sourceKeys", Value: keys},
		})
	}

	episodes := 1
	if state != nil {
		episodes = state.Episodes + 1
	}
	out.Status = Opened
	out.EpisodeID = fmt.Sprintf("%s:%s", sig.UserID, now.Format("20060102T150405Z"))
	ev := Event{
		WellbeingEvent: model.WellbeingEvent{
			EventID: id, UserID: sig.UserID, Source: string(sig.Source), Trigger: sig.Trigger,
			RuleVersion: sig.RuleVersion, EpisodeID: out.EpisodeID, CreatedAt: now,
		},
		ProtocolVersion: ProtocolVersion, SourceKey: sig.SourceKey,
		ResourcesRef: out.ResourcesRef, NotificationID: id,
	}
	if err := tx.Create(eventRef, ev); err != nil {
		return Outcome{}, err
	}
	if err := tx.Set(stateRef, episodeState{
		EpisodeID: out.EpisodeID, EventID: id, OpenedAt: now, ClosesAt: now.Add(EpisodeWindow),
		LastSignalAt: now, Signals: 1, SourceKeys: []string{sig.SourceKey}, Episodes: episodes,
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

// Validate checks a Signal: user id, source, source key and rule version
// present, and a Trigger made only of numbers, booleans, short id-like
// strings and lists or maps of those (so no answer or journal text can be
// stored). It returns a fault.InvalidArgument error naming the problem
// (never the value).
func (s Signal) Validate() error {
	switch {
	case s.UserID == "" || len(s.UserID) > 128:
		return fault.Invalid("wellbeing: signal needs a user id")
	case !s.Source.Valid():
		return fault.Invalid("wellbeing: unknown source %q", s.Source)
	case s.SourceKey == "" || len(s.SourceKey) > 256:
		return fault.Invalid("wellbeing: signal needs a source key")
	case s.RuleVersion == "" || !idLike.MatchString(s.RuleVersion):
		return fault.Invalid("wellbeing: signal needs a rule version")
	case len(s.Trigger) == 0:
		return fault.Invalid("wellbeing: signal needs a trigger")
	}
	return checkTrigger(s.Trigger, "trigger", 0)
}

func checkTrigger(v any, path string, depth int) error {
	if depth > 4 {
		return fault.Invalid("wellbeing: %s is nested too deeply", path)
	}
	switch x := v.(type) {
	case nil, bool, int, int32, int64, float64:
		return nil
	case string:
		if !idLike.MatchString(x) {
			return fault.Invalid("wellbeing: %s must be an id-like string of at most 64 characters", path)
		}
		return nil
	case []string:
		for i, e := range x {
			if err := checkTrigger(e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if len(x) > 50 {
			return fault.Invalid("wellbeing: %s has too many elements", path)
		}
		for i, e := range x {
			if err := checkTrigger(e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if len(x) > 50 {
			return fault.Invalid("wellbeing: %s has too many keys", path)
		}
		for k, e := range x {
			if !idLike.MatchString(k) {
				return fault.Invalid("wellbeing: %s has a key that is not id-like", path)
			}
			if err := checkTrigger(e, path+"."+k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fault.Invalid("wellbeing: %s has an unsupported type %T", path, v)
}
