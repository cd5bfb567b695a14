package gdpr

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/store"
)

// storageObjects returns the names of the subject's objects in the bucket:
// everything under StoragePrefixes + "{uid}/" (exports/ only when
// withExports) and, with withMedia, the audio/video objects of the
// subject's journal entries (mediaObjects).
func (s *Service) storageObjects(ctx context.Context, uid string, withExports, withMedia bool) (objs []string, err error) {
	if s.Storage == nil || s.Bucket == "" {
		return nil, nil
	}
	set := map[string]bool{}
	bucket := s.Storage.Bucket(s.Bucket)
	for _, p := range StoragePrefixes {
		if p == exportPrefix && !withExports {
			continue
		}
		it := bucket.Objects(ctx, &storage.Query{Prefix: p + uid + "/"})
		for {
			a, err := it.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				return nil, fault.Wrap(err, fault.Unavailable, "gdpr: list objects")
			}
			set[a.Name] = true
		}
	}
	if withMedia {
		rule, _ := ruleByID("user_activations.userId")
		q, err := rule.Query.Build(s.Firestore, uid)
		if err != nil {
			return nil, fault.Wrap(err, fault.Internal, "gdpr: media query")
		}
		docs, err := q.Select(mediaFields...).Documents(ctx).GetAll()
		if err != nil {
			return nil, store.Classify("gdpr: media query", err)
		}
		for _, n := range s.mediaObjects(ctx, uid, docs) {
			if withExports || !strings.HasPrefix(n, exportPrefix) {
				set[n] = true
			}
		}
	}
	for n := range set {
		objs = append(objs, n)
	}
	sort.Strings(objs)
	return objs, nil
}

// mediaFields are the journal's media references.
var mediaFields = []string{"log.audioUrl", "log.videoUrl"}

// mediaObjects returns the objects the journal entries docs refer to in
// the bucket, where the object's path has a "{uid}" segment. A reference
// outside the subject's paths is never followed (a client could point its
// journal at someone else's file); it is counted in a warning.
func (s *Service) mediaObjects(ctx context.Context, uid string, docs []*firestore.DocumentSnapshot) []string {
	var out []string
	foreign := 0
	for _, snap := range docs {
		for _, f := range mediaFields {
			v, _ := snap.DataAt(f)
			u, _ := v.(string)
			if u == "" {
				continue
			}
			b, name, ok := objectOf(u)
			if !ok || (b != "" && b != s.Bucket) || !hasSegment(name, uid) {
				foreign++
				continue
			}
			out = append(out, name)
		}
	}
	if foreign > 0 {
		slog.WarnContext(ctx, "gdpr: journal media outside the user's paths ignored", "count", foreign)
	}
	return out
}

// deleteObjects deletes objects (8 at a time) and returns how many it
// deleted. A missing object (404) is already gone and counts as done.
//
// Errors: every object is attempted; when some fail, the error (see
// classifyStorage) is retryable if any failure is (a 5xx, a network error),
// and otherwise permanent (400 → INVALID_ARGUMENT, 403 → PERMISSION_DENIED,
// …), so that a broken object or a missing permission is reported, not
// retried forever.
func (s *Service) deleteObjects(ctx context.Context, names []string) (int64, error) {
	var (
		mu                   sync.Mutex
		n                    int64
		failed               int
		retryable, permanent error
		wg                   sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	for _, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func(name string) {
			defer func() { <-sem; wg.Done() }()
			err := classifyStorage("gdpr: delete object", s.Storage.Bucket(s.Bucket).Object(name).Delete(ctx))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				n++
			case errors.Is(err, errObjectGone):
			case fault.Retryable(err):
				failed++
				if retryable == nil {
					retryable = err
				}
			default:
				failed++
				if permanent == nil {
					permanent = err
				}
			}
		}(name)
	}
	wg.Wait()
	if failed == 0 {
		return n, nil
	}
	first := permanent
	if retryable != nil {
		first = retryable
	}
	slog.WarnContext(ctx, "gdpr: objects not deleted", "failed", failed, "of", len(names),
		"code", string(fault.CodeOf(first)), "retryable", retryable != nil)
	return n, first
}

// errObjectGone marks a Storage 404: the object does not exist, which for a
// deletion is success.
var errObjectGone = errors.New("gdpr: object already gone")

// classifyStorage turns a Cloud Storage error into a fault error prefixed
// with op: nil stays nil; 404 (storage.ErrObjectNotExist, or an HTTP 404)
// wraps errObjectGone with code
// NOT_FOUND; 400 is INVALID_ARGUMENT, 403 PERMISSION_DENIED and 412
// FAILED_PRECONDITION (permanent: repeating the request cannot succeed);
// 429 is RESOURCE_EXHAUSTED; everything else (5xx, 401 while credentials
// refresh, network errors) is UNAVAILABLE, which is retryable. A cancelled
// or expired context keeps its own code.
func classifyStorage(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, storage.ErrObjectNotExist) {
		return fault.Wrap(errors.Join(errObjectGone, err), fault.NotFound, op)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fault.Wrap(err, fault.CodeOf(err), op)
	}
	code := fault.Unavailable
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch ge.Code {
		case http.StatusNotFound:
			return fault.Wrap(errors.Join(errObjectGone, err), fault.NotFound, op)
		case http.StatusBadRequest:
			code = fault.InvalidArgument
		case http.StatusForbidden:
			code = fault.PermissionDenied
		case http.StatusPreconditionFailed:
			code = fault.FailedPrecondition
		case http.StatusTooManyRequests:
			code = fault.ResourceExhausted
		}
	}
	return fault.Wrap(err, code, op)
}

// hasSegment reports whether uid is a whole segment of an object path.
func hasSegment(name, uid string) bool {
	for _, seg := range strings.Split(name, "/") {
		if seg == uid {
			return true
		}
	}
	return false
}

// objectOf parses a media reference into bucket and object name: gs://,
// Firebase download URLs (…/v0/b/BUCKET/o/ENCODED), the JSON API
// (…/storage/v1/b/BUCKET/o/ENCODED), the XML API's path style
// (storage.googleapis.com/BUCKET/NAME, and the console's authenticated
// storage.cloud.google.com/BUCKET/NAME) and virtual-hosted style
// (BUCKET.storage.googleapis.com/NAME), or a plain object path (bucket "").
// Host names compare case-insensitively.
func objectOf(ref string) (bucket, name string, ok bool) {
	if strings.HasPrefix(ref, "gs://") {
		rest := strings.TrimPrefix(ref, "gs://")
		i := strings.IndexByte(rest, '/')
		if i <= 0 || i == len(rest)-1 {
			return "", "", false
		}
		return rest[:i], rest[i+1:], true
	}
	if !strings.Contains(ref, "://") {
		name = strings.TrimPrefix(ref, "/")
		if name == "" || strings.Contains(name, "..") {
			return "", "", false
		}
		return "", name, true
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "", "", false
	}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i := 0; i+3 < len(segs); i++ {
		// …/b/BUCKET/o/ENCODED
		if segs[i] == "b" && segs[i+2] == "o" {
			b, err1 := url.PathUnescape(segs[i+1])
			n, err2 := url.PathUnescape(strings.Join(segs[i+3:], "/"))
			if err1 != nil || err2 != nil || n == "" {
				return "", "", false
			}
			return b, n, true
		}
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case (host == xmlAPIHost || host == "storage.cloud.google.com") && len(segs) >= 2:
		n, err := url.PathUnescape(strings.Join(segs[1:], "/"))
		if err != nil || n == "" || segs[0] == "" {
			return "", "", false
		}
		return segs[0], n, true
	case strings.HasSuffix(host, "."+xmlAPIHost):
		n, err := url.PathUnescape(strings.Join(segs, "/"))
		if err != nil || n == "" {
			return "", "", false
		}
		return strings.TrimSuffix(host, "."+xmlAPIHost), n, true
	}
	return "", "", false
}

// xmlAPIHost is Cloud Storage's XML API host: path style
// (xmlAPIHost/BUCKET/NAME) and virtual-hosted style (BUCKET.xmlAPIHost/NAME).
const xmlAPIHost = "storage.googleapis.com"
