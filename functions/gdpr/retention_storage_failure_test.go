package gdpr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// failingDeletes is an http.RoundTripper in front of fake-gcs-server that
// answers DELETE of the named objects with an HTTP status (the JSON API's
// error body), and passes every other request through.
type failingDeletes struct {
	base   http.RoundTripper
	mu     sync.Mutex
	status map[string]int // object name → HTTP status
	hits   map[string]int // object name → DELETE requests answered
}

func (f *failingDeletes) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodDelete {
		if _, rest, ok := strings.Cut(req.URL.EscapedPath(), "/o/"); ok {
			name, err := url.PathUnescape(rest)
			f.mu.Lock()
			code, fail := f.status[name]
			if fail {
				f.hits[name]++
			}
			f.mu.Unlock()
			if err == nil && fail {
				body := fmt.Sprintf(`{"error":{"code":%d,"message":"injected","errors":[{"reason":"injected","message":"injected"}]}}`, code)
				return &http.Response{StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
					Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
					ContentLength: int64(len(body)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
			}
		}
	}
	return f.base.RoundTrip(req)
}

// withFailingDeletes points e's Storage client at fake-gcs-server through
// failingDeletes and returns it.
func withFailingDeletes(t *testing.T, e *env, status map[string]int) *failingDeletes {
	t.Helper()
	f := &failingDeletes{base: e.gcs.HTTPClient().Transport, status: status, hits: map[string]int{}}
	c, err := storage.NewClient(context.Background(), option.WithHTTPClient(&http.Client{Transport: f}), option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("storage client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	e.s.Storage = c
	return f
}

// putExpiredExport stores an export request whose archive expired an hour
// ago, with (when withObject) its archive object, and returns the object name.
func putExpiredExport(e *env, id string, withObject bool) string {
	e.t.Helper()
	past := e.clock.Now().Add(-time.Hour)
	name := exportPath("u-"+id, id)
	e.set(model.ColGDPRRequests+"/"+id, model.GDPRRequest{RequestID: id, UserID: "u-" + id, Kind: KindExport,
		Status: StatusDone, ExportPath: name, ExpiresAt: &past})
	if withObject {
		e.put(name, "zip")
	}
	return name
}

// TestRetentionRunsEveryRuleWhenAStorageDeleteFails: the retention job once
// stopped at its first failing rule and labelled every Storage error
// retryable, so an export archive Storage refused to delete (403, 400) failed
// the job at the same place every day and the later rules (webhook_events,
// processed_events, audit_log, the legal-hold deletions) never ran.
func TestRetentionRunsEveryRuleWhenAStorageDeleteFails(t *testing.T) {
	tests := []struct {
		name          string
		status        int  // HTTP status of the DELETE of the stuck archive
		withObject    bool // whether the stuck archive exists
		wantCode      fault.Code
		wantRetryable bool
		wantExpired   bool // whether the stuck request is expired by the run
	}{
		{"forbidden (403) is permanent", http.StatusForbidden, true, fault.PermissionDenied, false, false},
		{"bad request (400) is permanent", http.StatusBadRequest, true, fault.InvalidArgument, false, false},
		{"unavailable (503) is retryable", http.StatusServiceUnavailable, true, fault.Unavailable, true, false},
		{"already gone (404) is success", http.StatusNotFound, false, fault.OK, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			now := e.clock.Now()
			old := now.AddDate(0, 0, -100)
			past := now.Add(-time.Hour)
			later := map[string]any{
				"webhook_events/old":      model.WebhookEvent{ReceivedAt: old},
				"processed_events/old":    model.ProcessedEvent{ProcessedAt: old},
				"audit_log/old":           model.AuditEntry{CreatedAt: now.AddDate(-4, 0, 0)},
				"payments/held-over":      model.Payment{Pseudonymised: true, LegalHoldUntil: &past},
				"payouts/held-over":       model.Payout{Pseudonymised: true, LegalHoldUntil: &past},
				"wellbeing_events/over":   model.WellbeingEvent{Pseudonymised: true, LegalHoldUntil: &past},
				"payout_allocations/over": map[string]any{"legalHoldUntil": past},
			}
			for p, v := range later {
				e.set(p, v)
			}
			stuck := putExpiredExport(e, "req-stuck", tt.withObject)
			fine := putExpiredExport(e, "req-fine", true)
			if tt.status != http.StatusNotFound {
				// The fake answers a missing object with 404 itself.
				withFailingDeletes(t, e, map[string]int{stuck: tt.status})
			}

			// Two daily runs: the failure repeats, the rest is done each time.
			for day := 1; day <= 2; day++ {
				counts, err := e.s.Retain(e.ctx)
				if got := fault.CodeOf(err); got != tt.wantCode {
					t.Fatalf("day %d: Retain error code %s (%v), want %s", day, got, err, tt.wantCode)
				}
				if fault.Retryable(err) != tt.wantRetryable {
					t.Errorf("day %d: Retryable = %v, want %v (%v)", day, fault.Retryable(err), tt.wantRetryable, err)
				}
				if err != nil && !strings.Contains(err.Error(), "exports") {
					t.Errorf("day %d: error does not name the failed rule: %v", day, err)
				}
				if day == 1 && counts["webhook_events"] != 1 {
					t.Errorf("day 1: counts %v", counts)
				}
				left := e.dump()
				for p := range later {
					if _, ok := left[p]; ok {
						t.Errorf("day %d: %s not deleted: a later rule did not run", day, p)
					}
				}
				if r := e.request("req-fine"); r.ExportPath != "" || r.ExportExpiredAt == nil {
					t.Errorf("day %d: the other export was not expired: %+v", day, r)
				}
				r := e.request("req-stuck")
				if expired := r.ExportPath == "" && r.ExportExpiredAt != nil; expired != tt.wantExpired {
					t.Errorf("day %d: stuck request expired = %v, want %v (%+v)", day, expired, tt.wantExpired, r)
				}
				job := left["jobs/retentionCleanup"]
				if tt.wantCode != fault.OK && !strings.Contains(job, string(tt.wantCode)) {
					t.Errorf("day %d: job record does not name the failure: %s", day, job)
				}
			}
			objs := strings.Join(e.objects(), " ")
			if strings.Contains(objs, fine) {
				t.Errorf("the deletable archive is still there: %s", objs)
			}
			if tt.withObject && !strings.Contains(objs, stuck) {
				t.Errorf("the stuck archive vanished: %s", objs)
			}
		})
	}
}

func TestClassifyStorage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want fault.Code
		gone bool
	}{
		{"nil", nil, fault.OK, false},
		{"object not exist", storage.ErrObjectNotExist, fault.NotFound, true},
		{"http 404", &googleapi.Error{Code: http.StatusNotFound}, fault.NotFound, true},
		{"http 400", &googleapi.Error{Code: http.StatusBadRequest}, fault.InvalidArgument, false},
		{"http 403", fmt.Errorf("wrapped: %w", &googleapi.Error{Code: http.StatusForbidden}), fault.PermissionDenied, false},
		{"http 412", &googleapi.Error{Code: http.StatusPreconditionFailed}, fault.FailedPrecondition, false},
		{"http 429", &googleapi.Error{Code: http.StatusTooManyRequests}, fault.ResourceExhausted, false},
		{"http 500", &googleapi.Error{Code: http.StatusInternalServerError}, fault.Unavailable, false},
		{"http 401", &googleapi.Error{Code: http.StatusUnauthorized}, fault.Unavailable, false},
		{"cancelled", context.Canceled, fault.Cancelled, false},
		{"other", errors.New("connection reset"), fault.Unavailable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classifyStorage("op", tt.err)
			if got := fault.CodeOf(err); got != tt.want {
				t.Errorf("code %s, want %s", got, tt.want)
			}
			if errors.Is(err, errObjectGone) != tt.gone {
				t.Errorf("gone = %v, want %v", !tt.gone, tt.gone)
			}
		})
	}
}
