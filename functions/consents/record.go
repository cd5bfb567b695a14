package consents

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// MaxHistory is the length of a consent history past which an append is
// refused, as firestore.rules refuses a client's: the one exception is
// RecordConsent's withdrawal of a consent that is granted, so that a user
// can always withdraw (at most one such entry per type past the limit).
const MaxHistory = 1000

// MaxVersionLength is the longest consent version (in characters) the
// rules and RecordConsent accept.
const MaxVersionLength = 32

// recordRequest is the data of recordConsent.
type recordRequest struct {
	Type    model.ConsentType   `json:"type"`
	Version string              `json:"version"`
	Status  model.ConsentStatus `json:"status"`
}

// RecordResult is what recordConsent returns: the entry that is now the
// caller's current choice for the type, and whether this call appended it
// (false: the current entry already had that status and version, and is
// returned as it was recorded).
type RecordResult struct {
	Entry    model.ConsentEntry `json:"entry"`
	Recorded bool               `json:"recorded"`
}

// validate checks the request as firestore.rules checks a client's entry.
func (r recordRequest) validate() error {
	switch {
	case !r.Type.Valid():
		return fault.Invalid("type must be one of the consent types")
	case !r.Status.Valid():
		return fault.Invalid(`status must be "granted" or "revoked"`)
	case !utf8.ValidString(r.Version) || r.Version == "" || utf8.RuneCountInString(r.Version) > MaxVersionLength:
		return fault.Invalid("version must be 1 to 32 characters")
	}
	return nil
}

// RecordConsent is the callable recordConsent: {"type", "version",
// "status"}. It appends one entry to the caller's consent history
// (consents/{uid}.consentsGiven, created with userId when missing), dated
// by the server's clock (agreedAt, to the microsecond Firestore keeps),
// and returns a RecordResult. It is the way to give or withdraw a consent
// from a device whose clock is off: the rules accept a client's own append
// only when its agreedAt is within 5 minutes of the server's time. The
// entry is the same as a client's, so onConsentsWritten handles it the same
// way (current, the profile, the AI analyses).
//
// Only the caller's own consent is recorded: a consent is the user's act,
// so there is no uid parameter, not even for an admin. A call that would
// not change the caller's choice (the current entry of the type already
// has the status and version) appends nothing and returns that entry with
// Recorded false, so a retried call records the act once.
//
// Errors: UNAUTHENTICATED without a token; INVALID_ARGUMENT for an unknown
// type or status or a version that is empty or longer than 32 characters;
// FAILED_PRECONDITION while the caller's account is being erased (the
// rules refuse the caller's own writes then too), or when the history
// already holds MaxHistory entries, except for the withdrawal of a consent
// that is granted, which is always recorded. A Firestore failure is
// UNAVAILABLE when a retry can help.
func (s *Service) RecordConsent(ctx context.Context, req *callable.Request) (any, error) {
	var in recordRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	uid, err := req.RequireUID()
	if err != nil {
		return nil, err
	}
	res, err := s.Record(ctx, uid, in.Type, in.Version, in.Status)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// errErasing is returned by Record while uid's erasure marker exists.
var errErasing = fault.New(fault.FailedPrecondition, "the account is being erased")

// errHistoryFull is returned by Record for an append past MaxHistory.
var errHistoryFull = fault.New(fault.FailedPrecondition, "the consent history is full")

// Record appends the entry {t, version, status, agreedAt: now} to uid's
// consent history in a transaction, unless the current entry of t already
// has that status and version (see RecordConsent for the rules and the
// errors). The arguments are not validated here: RecordConsent does.
func (s *Service) Record(ctx context.Context, uid string, t model.ConsentType, version string, st model.ConsentStatus) (RecordResult, error) {
	ref := s.Firestore.Collection(model.ColConsents).Doc(uid)
	marker := s.Firestore.Collection(model.ColGDPRRequests).Doc(model.ErasingMarkerID(uid))
	var res RecordResult
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		res = RecordResult{}
		if _, err := tx.Get(marker); err == nil {
			return errErasing
		} else if status.Code(err) != codes.NotFound {
			return err
		}
		snap, err := tx.Get(ref)
		exists := err == nil
		if err != nil && status.Code(err) != codes.NotFound {
			return err
		}
		var c model.Consents
		if exists {
			// An undecodable document (which the rules cannot let a
			// client write) is not appended to: the append would be
			// read as no consent at all (model.ConsentsOf).
			if err := snap.DataTo(&c); err != nil {
				return fault.Wrap(err, fault.Internal, "consents: stored history does not decode")
			}
		}
		if cur, ok := Current(c.ConsentsGiven)[string(t)]; ok && cur.Status == st && cur.Version == version {
			res = RecordResult{Entry: cur}
			return nil
		}
		if len(c.ConsentsGiven) >= MaxHistory && !(st == model.ConsentRevoked && c.Granted(t)) {
			return errHistoryFull
		}
		entry := model.ConsentEntry{Type: t, Version: version, Status: st, AgreedAt: s.now().UTC().Truncate(time.Microsecond)}
		res = RecordResult{Entry: entry, Recorded: true}
		if !exists {
			return tx.Create(ref, map[string]any{"userId": uid, "consentsGiven": []model.ConsentEntry{entry}})
		}
		// ArrayUnion appends without rewriting the stored entries; the
		// transaction's read of the document makes it the next entry.
		return tx.Update(ref, []firestore.Update{{Path: "consentsGiven", Value: firestore.ArrayUnion(entry)}})
	})
	var f *fault.Error
	if errors.As(err, &f) {
		return RecordResult{}, err
	}
	if err != nil {
		return RecordResult{}, store.Classify("consents: record", err)
	}
	return res, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
