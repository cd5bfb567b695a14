package wellbeing

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/testenv"
)

// review12CaptureDefault routes the default slog logger (the one Deliver
// writes to) into a capture for the rest of the test.
func review12CaptureDefault(t *testing.T) *logCapture {
	t.Helper()
	logs := &logCapture{}
	prev := slog.Default()
	slog.SetDefault(slog.New(logs))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return logs
}

// TestReview12RedirectedWebhookIsNotDelivered: an on-call webhook URL
// that answers with a redirect (an SSO proxy sending the POST to a login
// page, a moved endpoint) did not take the alert. The HTTP client followed
// the redirect (a POST turned into a GET of the login page), took the
// page's 200 for the webhook's, and recorded the alert as delivered to the
// webhook: notified, so the sweep never looks at it again, and no CRITICAL
// line: the alert was lost silently. A redirect is a misconfiguration like
// any other non-2xx answer: the alert goes to the log at CRITICAL.
func TestReview12RedirectedWebhookIsNotDelivered(t *testing.T) {
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			e := newSweepEnv(t)
			logs := review12CaptureDefault(t)
			var mu sync.Mutex
			followed := 0
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/login" {
					mu.Lock()
					followed++
					mu.Unlock()
					_, _ = w.Write([]byte("<html>sign in</html>"))
					return
				}
				http.Redirect(w, r, "/login", code)
			}))
			t.Cleanup(hook.Close)
			a := e.raise("u1")
			d := &Deliverer{Firestore: e.c, WebhookURL: config.NewSecret(hook.URL + "/hook"), Now: e.clk.Now}
			r, err := d.Deliver(e.ctx, a)
			if err != nil || r.DeliveredTo != "log" {
				t.Errorf("Deliver = %+v, %v; want delivered to the log (the webhook never took the alert)", r, err)
			}
			if ev := getEvent(t, e.c, a.EventID); ev.DeliveredTo != "log" || ev.DeliveryError != "http "+strconv.Itoa(code) {
				t.Errorf("event: deliveredTo %q, deliveryError %q", ev.DeliveredTo, ev.DeliveryError)
			}
			mu.Lock()
			if followed != 0 {
				t.Errorf("the redirect was followed %d times", followed)
			}
			mu.Unlock()
			if crit := logs.critical(); len(crit) != 1 {
				t.Errorf("%d CRITICAL lines, want 1", len(crit))
			}
		})
	}
}

// TestReview12LoggedAlertCarriesAlertAttribute: when Deliver records an
// alert as delivered to the log (no webhook configured, or the webhook
// rejected it), the event is notified, so the sweep never escalates it;
// the CRITICAL line is the only page. It must carry the stable alert
// attribute that the project's log-based alerting policy matches
// (jsonPayload.alert="wellbeing_undelivered", README "Log-based alerts"),
// or, with that policy, nobody is paged for a suicide-risk alert.
func TestReview12LoggedAlertCarriesAlertAttribute(t *testing.T) {
	e := newSweepEnv(t)
	logs := review12CaptureDefault(t)
	e.hook.set(http.StatusNotFound)
	for _, tc := range []struct {
		name, uid string
		d         *Deliverer
	}{
		{"webhook rejects", "u1", e.deliverer()},
		{"no webhook", "u2", &Deliverer{Firestore: e.c, Now: e.clk.Now}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.raise(tc.uid)
			if r, err := tc.d.Deliver(e.ctx, a); err != nil || r.DeliveredTo != "log" {
				t.Fatalf("Deliver = %+v, %v", r, err)
			}
			crit := logs.critical()
			if len(crit) != 1 {
				t.Fatalf("%d CRITICAL lines, want 1", len(crit))
			}
			if got := crit[0].Attrs["alert"]; got != AlertUndelivered {
				t.Errorf("CRITICAL line alert = %v, want %q (attrs %v)", got, AlertUndelivered, crit[0].Attrs)
			}
			if crit[0].Attrs["wellbeingEventId"] != a.EventID {
				t.Errorf("CRITICAL line lacks the event id: %v", crit[0].Attrs)
			}
		})
	}
}

// TestRaiseWithUndecodableStateStillRaises: a users/{uid}/private/wellbeing
// state that no longer decodes (only the server writes it; a manual edit,
// a model change) failed every raise with a retryable error, so the
// safety signal was retried until its event expired and never raised. It
// is now taken as no state: a new episode, whose write replaces it.
func TestRaiseWithUndecodableStateStillRaises(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	if _, err := c.Doc("users/u1/private/"+StateDoc).Set(ctx, map[string]any{"episodes": "three", "closesAt": "tomorrow"}); err != nil {
		t.Fatal(err)
	}
	pr := &Protocol{Now: newClock().Now}
	o, err := pr.Raise(ctx, c, signal("u1", "hash-1"))
	if err != nil || o.Status != Opened {
		t.Fatalf("raise over an undecodable state: %+v %v", o, err)
	}
	if ev := getEvent(t, c, o.EventID); ev.UserID != "u1" {
		t.Errorf("event %+v", ev)
	}
	// The state was replaced: the same signal again is a duplicate.
	if o2, err := pr.Raise(ctx, c, signal("u1", "hash-1")); err != nil || o2.Status != Duplicate {
		t.Errorf("again: %+v %v", o2, err)
	}
}
