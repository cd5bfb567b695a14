// Package store holds what every function needs around Firestore:
// document paths, "process once" markers written in the same transaction as
// an effect, change detection that keeps triggers from looping on their own
// writes, a cut-off for stale events, content hashes, and paging a query
// by document id (PageByID).
package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// MarkerTTL is how long a processed-event marker is kept. Cloud Functions
// retries an event for at most 7 days; markers outlive that with margin and
// are then deleted by the TTL policy on processed_events.expiresAt.
const MarkerTTL = 30 * 24 * time.Hour

// MarkerID returns the document id of the marker of (handler, eventID).
// Event ids may contain '/', which a document id cannot.
func MarkerID(handler, eventID string) string {
	return handler + ":" + strings.NewReplacer("/", "_", ".", "_").Replace(eventID)
}

// ErrAlreadyProcessed is returned by RunOnce's callers' logic when they
// want to tell a duplicate apart; RunOnce itself reports duplicates through
// its bool result.
var ErrAlreadyProcessed = errors.New("store: event already processed")

// RunOnce runs fn in a Firestore transaction together with the creation of
// the marker processed_events/{handler}:{eventID}. If the marker exists,
// fn does not run and RunOnce returns (false, nil): the event was handled
// before. fn must do its reads before its writes (a Firestore rule for
// transactions) and may be called more than once when the transaction is
// retried on contention. The effect and the marker commit together or not
// at all.
func RunOnce(ctx context.Context, c *firestore.Client, now func() time.Time, handler, eventID string,
	fn func(ctx context.Context, tx *firestore.Transaction) error) (ran bool, err error) {
	if eventID == "" {
		return false, fault.Invalid("RunOnce: empty event id")
	}
	ref := c.Collection(model.ColProcessedEvents).Doc(MarkerID(handler, eventID))
	err = c.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		ran = false
		snap, err := tx.Get(ref)
		if err != nil && status.Code(err) != codes.NotFound {
			return err
		}
		if snap != nil && snap.Exists() {
			return nil
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		t := now().UTC()
		ran = true
		return tx.Create(ref, model.ProcessedEvent{Handler: handler, EventID: eventID, ProcessedAt: t, ExpiresAt: t.Add(MarkerTTL)})
	})
	if err != nil {
		return false, fmt.Errorf("RunOnce %s: %w", handler, err)
	}
	return ran, nil
}

// Stale reports whether an event that happened at eventTime is older than
// maxAge at now. Handlers drop stale events whose effect is obsolete
// (a daily insight for last week); a zero eventTime is never stale.
func Stale(eventTime, now time.Time, maxAge time.Duration) bool {
	return !eventTime.IsZero() && now.Sub(eventTime) > maxAge
}

// Field returns the value at a dotted field path ("log.text") in a
// document's data, and whether it is present.
func Field(data map[string]any, path string) (any, bool) {
	var cur any = data
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Changed reports whether any of the dotted field paths differs between
// before and after (a nil map is an absent document). Triggers call it on
// the fields they read as input, so that their own writes to other fields
// never re-trigger work: the loop guard.
func Changed(before, after map[string]any, paths ...string) bool {
	if (before == nil) != (after == nil) {
		return true
	}
	for _, p := range paths {
		b, bok := Field(before, p)
		a, aok := Field(after, p)
		if bok != aok || !equalValues(a, b) {
			return true
		}
	}
	return false
}

func equalValues(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(normalizeNumber(a), normalizeNumber(b))
}

func normalizeNumber(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	}
	return v
}

// IsNotFound reports whether err is Firestore's NotFound.
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// IsAlreadyExists reports whether err is Firestore's AlreadyExists (a
// Create of an existing document).
func IsAlreadyExists(err error) bool { return status.Code(err) == codes.AlreadyExists }

// Classify turns a Firestore error into a fault error with the operation
// name, keeping its code so fault.Retryable decides about retries.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	return &fault.Error{Code: fault.CodeOf(err), Message: op, Err: err}
}
