package gdpr

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// RequestView is what the callables return about a request.
type RequestView struct {
	RequestID  string    `json:"requestId"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"receivedAt"`
	DueAt      time.Time `json:"dueAt"`
	// Created is false when an open request of the same kind was returned.
	Created bool `json:"created"`
}

func view(r *model.GDPRRequest, created bool) RequestView {
	return RequestView{RequestID: r.RequestID, Kind: r.Kind, Status: r.Status, ReceivedAt: r.ReceivedAt, DueAt: r.DueAt, Created: created}
}

// subjectInput is the data of requestDataExport and requestAccountDeletion:
// an admin names the subject; a user acts for themself.
type subjectInput struct {
	UID string `json:"uid"`
}

func subject(req *callable.Request) (uid, source string, err error) {
	var in subjectInput
	if err := req.Decode(&in); err != nil {
		return "", "", err
	}
	if in.UID != "" && !model.ValidDocID(in.UID) {
		return "", "", fault.Invalid("uid is not a valid user id")
	}
	uid, err = req.SubjectUID(in.UID)
	if err != nil {
		return "", "", err
	}
	source = SourceUser
	if uid != req.Auth.UID {
		source = SourceAdmin
	}
	return uid, source, nil
}

// RequestDataExport is the callable requestDataExport: {"uid"?} (an admin
// on a user's behalf) → the export request (an open one is returned rather
// than a second created).
func (s *Service) RequestDataExport(ctx context.Context, req *callable.Request) (any, error) {
	uid, source, err := subject(req)
	if err != nil {
		return nil, err
	}
	r, created, err := s.CreateExport(ctx, uid, req.Auth.UID, source)
	if err != nil {
		return nil, err
	}
	return view(r, created), nil
}

// RecentSignIn is how recently the caller of requestAccountDeletion must
// have signed in: the erasure is irreversible and starts at once, so a
// stolen session or an unlocked phone must not be enough (the bar of the
// client SDK's own user.delete()).
const RecentSignIn = 5 * time.Minute

// RequestAccountDeletion is the callable requestAccountDeletion: {"uid"?}
// → the subject's erasure request (one per subject: a repeated call returns
// the open request). The caller (the user, or an admin for another user)
// must have signed in within RecentSignIn: otherwise FAILED_PRECONDITION
// with details {"reason": "requires-recent-login"}
// (callable.RequireRecentSignIn), and nothing is written.
func (s *Service) RequestAccountDeletion(ctx context.Context, req *callable.Request) (any, error) {
	uid, source, err := subject(req)
	if err != nil {
		return nil, err
	}
	if err := req.RequireRecentSignIn(s.now(), RecentSignIn); err != nil {
		return nil, err
	}
	r, created, err := s.StartErasure(ctx, uid, req.Auth.UID, source, true)
	if err != nil {
		return nil, err
	}
	return view(r, created), nil
}

func open(status string) bool {
	return status == StatusPending || status == StatusRunning || status == StatusVerifying
}

// newRequest returns a pending request received now.
func (s *Service) newRequest(id, kind, uid, requestedBy, source string) *model.GDPRRequest {
	now := s.now()
	return &model.GDPRRequest{RequestID: id, UserID: uid, Kind: kind, Status: StatusPending, RequestedBy: requestedBy,
		ReceivedAt: now, DueAt: now.AddDate(0, ResponseMonths, 0), Progress: map[string]int64{}, Checkpoint: map[string]any{},
		UpdatedAt: now, SubjectHash: s.pseudonym(uid), Source: source, Runs: 1}
}

// CreateExport creates an export request for uid and queues it, unless an
// export of uid is open, or, when the user asks (source SourceUser), one
// finished less than ExportInterval ago whose archive has not expired:
// then that one is returned, created false.
func (s *Service) CreateExport(ctx context.Context, uid, requestedBy, source string) (*model.GDPRRequest, bool, error) {
	if !model.ValidDocID(uid) {
		return nil, false, fault.Invalid("invalid uid")
	}
	if err := s.refuseIfErased(ctx, uid); err != nil {
		return nil, false, err
	}
	q, err := indexes.MustLookup(indexes.QGDPRRequests).Build(s.Firestore, uid)
	if err != nil {
		return nil, false, fault.Wrap(err, fault.Internal, "gdpr: query")
	}
	ref := s.requests().NewDoc()
	r := s.newRequest("export_"+ref.ID, KindExport, uid, requestedBy, source)
	ref = s.requests().Doc(r.RequestID)
	// The look for an open export and the create are one transaction, so
	// that concurrent calls (a double tap, two devices) create one.
	var found *model.GDPRRequest
	now := s.now()
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		found = nil
		docs, err := tx.Documents(q).GetAll()
		if err != nil {
			return err
		}
		var recent *model.GDPRRequest
		for _, d := range docs {
			var o model.GDPRRequest
			if err := d.DataTo(&o); err != nil || o.Kind != KindExport {
				continue
			}
			if open(o.Status) {
				found = &o
				return nil
			}
			if source == SourceUser && o.Status == StatusDone && o.ReceivedAt.After(now.Add(-ExportInterval)) &&
				o.ExpiresAt != nil && o.ExpiresAt.After(now) && (recent == nil || o.ReceivedAt.After(recent.ReceivedAt)) {
				recent = &o
			}
		}
		if recent != nil {
			found = recent
			return nil
		}
		return tx.Create(ref, r)
	})
	if err != nil {
		return nil, false, store.Classify("gdpr: create request", err)
	}
	if found != nil {
		return found, false, nil
	}
	s.audit(ctx, "gdpr.export_requested", uid, requestedBy, map[string]any{"requestId": r.RequestID, "source": source})
	if err := s.publish(ctx, r.RequestID); err != nil {
		// The request exists; the sweeper queues it if this fails for good.
		slog.WarnContext(ctx, "gdpr: publish failed; the sweeper will queue the request", "requestId", r.RequestID)
		return nil, false, err
	}
	return r, true, nil
}

// refuseIfErased fails with FailedPrecondition when uid's erasure is open
// or done: an export must not recreate what the erasure removes.
func (s *Service) refuseIfErased(ctx context.Context, uid string) error {
	snap, err := s.requests().Doc(s.ErasureID(uid)).Get(ctx)
	if store.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return store.Classify("gdpr: read erasure", err)
	}
	if st, _ := snap.DataAt("status"); st != StatusFailed {
		return fault.New(fault.FailedPrecondition, "the account is being or has been erased")
	}
	return nil
}

// StartErasure opens the erasure of uid (gdpr_requests/erasure_<pseudonym>)
// and queues it. An open erasure is returned as it is. A finished one is
// reopened for another run when reopenFinished (a user or admin asks again,
// or the reconciler found data again); otherwise it is returned (the Auth
// backstop hears of the account deletion that an erasure itself made).
func (s *Service) StartErasure(ctx context.Context, uid, requestedBy, source string, reopenFinished bool) (*model.GDPRRequest, bool, error) {
	if !model.ValidDocID(uid) {
		return nil, false, fault.Invalid("invalid uid")
	}
	id := s.ErasureID(uid)
	ref := s.requests().Doc(id)
	var out *model.GDPRRequest
	var queued bool
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out, queued = nil, false
		snap, err := tx.Get(ref)
		if store.IsNotFound(err) {
			out, queued = s.newRequest(id, KindErasure, uid, requestedBy, source), true
			return tx.Create(ref, out)
		}
		if err != nil {
			return err
		}
		var cur model.GDPRRequest
		if err := snap.DataTo(&cur); err != nil {
			return fault.Wrap(err, fault.DataLoss, "decode request")
		}
		if open(cur.Status) || !reopenFinished {
			out = &cur
			return nil
		}
		next := s.newRequest(id, KindErasure, uid, requestedBy, source)
		next.Runs = cur.Runs + 1
		out, queued = next, true
		return tx.Set(ref, next)
	})
	if err != nil {
		return nil, false, store.Classify("gdpr: start erasure", err)
	}
	if queued {
		s.audit(ctx, "gdpr.erasure_requested", uid, requestedBy, map[string]any{"requestId": id, "source": source, "runs": int64(out.Runs)})
		if err := s.publish(ctx, id); err != nil {
			slog.WarnContext(ctx, "gdpr: publish failed; the sweeper will queue the request", "requestId", id)
			return nil, false, err
		}
	}
	return out, queued, nil
}

// audit writes an audit entry about uid, keyed by its pseudonym (best
// effort: a failure is logged, the action goes on).
func (s *Service) audit(ctx context.Context, action, uid, actor string, details map[string]any) {
	now := s.now()
	ps := s.pseudonym(uid)
	if actor == uid {
		actor = ps
	}
	e := model.AuditEntry{Action: action, SubjectHash: ps, Actor: actor, Details: details, CreatedAt: now,
		ExpiresAt: now.AddDate(AuditRetentionYears, 0, 0)}
	if _, _, err := s.Firestore.Collection(model.ColAuditLog).Add(ctx, e); err != nil {
		slog.WarnContext(ctx, "gdpr: audit entry not written", "action", action, "code", string(fault.CodeOf(err)))
	}
}

// downloadInput is the data of getExportDownload.
type downloadInput struct {
	RequestID string `json:"requestId"`
}

// Download is the result of getExportDownload.
type Download struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
}

// GetExportDownload is the callable getExportDownload: {"requestId"} →
// a short-lived URL of the archive (DownloadTTL, never beyond the
// archive's expiry). Only the subject or an admin may ask; the URL is
// minted per call and never stored.
func (s *Service) GetExportDownload(ctx context.Context, req *callable.Request) (any, error) {
	caller, err := req.RequireUID()
	if err != nil {
		return nil, err
	}
	var in downloadInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if !model.ValidDocID(in.RequestID) {
		return nil, fault.Invalid("requestId is required")
	}
	snap, err := s.requests().Doc(in.RequestID).Get(ctx)
	if store.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "no such request")
	}
	if err != nil {
		return nil, store.Classify("gdpr: read request", err)
	}
	var r model.GDPRRequest
	if err := snap.DataTo(&r); err != nil {
		return nil, fault.Wrap(err, fault.DataLoss, "decode request")
	}
	if r.UserID != caller && !req.Auth.Admin {
		return nil, fault.New(fault.NotFound, "no such request")
	}
	now := s.now()
	switch {
	case r.Kind != KindExport:
		return nil, fault.Invalid("not an export request")
	case r.Status != StatusDone:
		return nil, fault.New(fault.FailedPrecondition, "the export is not ready (status %s)", r.Status)
	case r.ExportPath == "" || r.ExpiresAt == nil || !r.ExpiresAt.After(now):
		return nil, fault.New(fault.FailedPrecondition, "the export has expired; request a new one")
	}
	exp := now.Add(DownloadTTL)
	if r.ExpiresAt.Before(exp) {
		exp = *r.ExpiresAt
	}
	if s.Signer == nil {
		return nil, fault.New(fault.Unavailable, "downloads are not configured")
	}
	u, err := s.Signer.SignedURL(ctx, s.Bucket, r.ExportPath, exp)
	if err != nil {
		return nil, fault.Wrap(err, fault.Unavailable, "sign download URL")
	}
	s.audit(ctx, "gdpr.export_download", r.UserID, caller, map[string]any{"requestId": r.RequestID})
	return Download{URL: u, ExpiresAt: exp, Bytes: r.ExportBytes, SHA256: r.ExportSHA256}, nil
}

// BucketSigner signs V4 URLs with the storage client's credentials: a
// service-account key, or on Cloud Functions the runtime service account
// through the IAM signBlob API (it needs roles/iam.serviceAccountTokenCreator
// on itself).
type BucketSigner struct {
	Client *storage.Client
}

// SignedURL implements URLSigner.
func (b BucketSigner) SignedURL(_ context.Context, bucket, object string, expires time.Time) (string, error) {
	return b.Client.Bucket(bucket).SignedURL(object, &storage.SignedURLOptions{
		Scheme: storage.SigningSchemeV4, Method: "GET", Expires: expires})
}

// EmulatorURLs is the URLSigner of the local stack: fake-gcs-server has no
// signatures, so it returns the emulator's plain media URL (which only
// works against the emulator, where there is nothing to protect).
type EmulatorURLs struct {
	// Host is STORAGE_EMULATOR_HOST (host:port or a URL).
	Host string
}

// SignedURL implements URLSigner.
func (e EmulatorURLs) SignedURL(_ context.Context, bucket, object string, _ time.Time) (string, error) {
	h := e.Host
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	return fmt.Sprintf("%s/storage/v1/b/%s/o/%s?alt=media", strings.TrimRight(h, "/"), url.PathEscape(bucket),
		url.PathEscape(object)), nil
}
