package wellbeing

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)} }

func signal(uid, key string) Signal {
	return Signal{UserID: uid, Source: SourceScreening, SourceKey: key, RuleVersion: "screening-rules/1", Locale: "sv-SE",
		Trigger: map[string]any{"flag": "suicideRisk", "rules": []any{map[string]any{"rule": "phq9.item9>=1", "instrument": "phq9", "value": 2}}}}
}

func TestEmbeddedDirectory(t *testing.T) {
	d := DefaultDirectory()
	for _, id := range []string{"sv-SE", "en-US", "en-GB", "intl"} {
		if _, ok := d.Locales[id]; !ok {
			t.Errorf("locale %s missing", id)
		}
	}
	phones := map[string][]string{"sv-SE": {"112", "90101"}, "en-US": {"988"}, "en-GB": {"116 123"}}
	for id, want := range phones {
		have := map[string]bool{}
		for _, r := range d.Locales[id].Resources {
			have[r.Phone] = true
		}
		for _, p := range want {
			if !have[p] {
				t.Errorf("%s lacks %s", id, p)
			}
		}
	}
	tests := []struct{ locale, want string }{
		{"sv-SE", "sv-SE"}, {"sv", "sv-SE"}, {"en-SE", "sv-SE"}, {"en_US", "en-US"}, {"es-US", "en-US"},
		{"en-GB", "en-GB"}, {"en", "intl"}, {"de-DE", "intl"}, {"", "intl"}, {"zh-Hant-TW", "intl"},
		// A region without lines of its own never gets another country's
		// (Swedish numbers do not connect from Finland), nor does an area.
		{"sv-FI", "intl"}, {"sv-419", "intl"},
		// An extension's subtags are no region ("ca" here is the calendar).
		{"sv-u-ca-gregory", "sv-SE"},
	}
	for _, tt := range tests {
		if got := d.Resolve(tt.locale); got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.locale, got, tt.want)
		}
	}
	if d.Text("sv-SE").Title == d.Text("en-US").Title || d.Text("fr").Title != d.Text("en").Title || d.Text("").Title != d.Text("en").Title {
		t.Error("notification text by language")
	}
	for _, lang := range []string{"sv", "en"} {
		title := strings.ToLower(d.Notification[lang].Title + " " + d.Notification[lang].Body)
		for _, w := range []string{"suicid", "självmord", "crisis", "kris", "risk", "depress"} {
			if strings.Contains(title, w) {
				t.Errorf("%s notification contains sensitive word %q", lang, w)
			}
		}
	}
}

func TestParseDirectoryRejects(t *testing.T) {
	bad := []string{
		`{}`,
		`{"fallback":"x","locales":{"x":{"locale":"x","validFrom":"2026-13-01","resources":[{"name":"a","phone":"1"}]}},"notification":{"en":{"title":"t","body":"b"}}}`,
		`{"fallback":"x","locales":{"x":{"locale":"x","validFrom":"2026-11-01","resources":[{"name":"a"}]}},"notification":{"en":{"title":"t","body":"b"}}}`,
		`{"fallback":"x","locales":{"x":{"locale":"x","validFrom":"2026-11-01","resources":[{"name":"a","phone":"1"}]}},"regions":{"SE":"y"},"notification":{"en":{"title":"t","body":"b"}}}`,
		`{"fallback":"x","locales":{"x":{"locale":"x","validFrom":"2026-11-01","resources":[{"name":"a","phone":"1"}]}}}`,
	}
	for i, b := range bad {
		if _, err := ParseDirectory([]byte(b)); err == nil {
			t.Errorf("case %d: accepted", i)
		}
	}
}

func TestSignalValidate(t *testing.T) {
	ok := signal("u1", "k")
	tests := []struct {
		name string
		mod  func(*Signal)
		ok   bool
	}{
		{"valid", func(*Signal) {}, true},
		{"no user", func(s *Signal) { s.UserID = "" }, false},
		{"user id with a slash", func(s *Signal) { s.UserID = "a/b" }, false},
		{"bad source", func(s *Signal) { s.Source = "chat" }, false},
		{"no key", func(s *Signal) { s.SourceKey = "" }, false},
		{"key too long", func(s *Signal) { s.SourceKey = strings.Repeat("k", 257) }, false},
		// What is not essential is sanitized by Raise, never refused.
		{"no rule version", func(s *Signal) { s.RuleVersion = "" }, true},
		{"no trigger", func(s *Signal) { s.Trigger = nil }, true},
		{"free text", func(s *Signal) {
			s.Trigger = map[string]any{"text": "I cannot go on like this, nobody would notice, honestly."}
		}, true},
		{"non-ASCII rule id", func(s *Signal) { s.Trigger = map[string]any{"rules": []any{"sv.plan.påkörd"}} }, true},
		{"unsupported type", func(s *Signal) { s.Trigger = map[string]any{"x": struct{}{}} }, true},
	}
	for _, tt := range tests {
		s := ok
		tt.mod(&s)
		err := s.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if err != nil && fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("%s: code %s", tt.name, fault.CodeOf(err))
		}
	}
}

func TestSanitizeTrigger(t *testing.T) {
	deep := map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": map[string]any{"e": 1}}}}}
	many := make([]any, 60)
	for i := range many {
		many[i] = i
	}
	tests := []struct {
		name     string
		in       map[string]any
		want     string // JSON of the sanitized trigger
		redacted int
	}{
		{"nil", nil, `{}`, 0},
		{"clean kept as is", map[string]any{"rules": []string{"en.active.kill_myself", "sv.plan.pakord"}, "n": 3, "ok": true},
			`{"n":3,"ok":true,"rules":["en.active.kill_myself","sv.plan.pakord"]}`, 0},
		{"non-ASCII rule id", map[string]any{"rules": []any{"sv.plan.påkörd", "sv.plan.hoppa"}},
			`{"rules":["<redacted>","sv.plan.hoppa"]}`, 1},
		{"free text", map[string]any{"text": "I'm done!"}, `{"text":"<redacted>"}`, 1},
		{"key not id-like dropped", map[string]any{"nyckel med å": 1, "k": 2}, `{"k":2}`, 1},
		{"unsupported type", map[string]any{"x": struct{}{}}, `{"x":"<redacted>"}`, 1},
		{"too deep", deep, `{"a":{"b":{"c":{"d":"<redacted>"}}}}`, 1},
		{"too many elements", map[string]any{"xs": many}, "", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := SanitizeTrigger(tt.in)
			if n != tt.redacted {
				t.Errorf("redacted %d, want %d", n, tt.redacted)
			}
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && strings.TrimSpace(b.String()) != tt.want {
				t.Errorf("got %s, want %s", b.String(), tt.want)
			}
			if _, m := SanitizeTrigger(got); m != 0 {
				t.Errorf("the sanitized trigger still has %d bad values", m)
			}
		})
	}
}

func getEvent(t *testing.T, c *firestore.Client, id string) Event {
	t.Helper()
	snap, err := c.Collection(model.ColWellbeingEvents).Doc(id).Get(context.Background())
	if err != nil {
		t.Fatalf("get event %s: %v", id, err)
	}
	var ev Event
	if err := snap.DataTo(&ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func countDocs(t *testing.T, q firestore.Query) int {
	t.Helper()
	docs, err := q.Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

func TestRaiseEpisodes(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	clk := newClock()
	pr := &Protocol{Now: clk.Now}
	events := c.Collection(model.ColWellbeingEvents).Query

	// First signal: a new episode with its event, notification, resources.
	o1, err := pr.Raise(ctx, c, signal("u1", "hash-1"))
	if err != nil || o1.Status != Opened {
		t.Fatalf("first raise: %+v %v", o1, err)
	}
	if o1.EventID != EventID("u1", SourceScreening, "hash-1") || o1.ResourcesRef != "crisis_resources/sv-SE" {
		t.Errorf("outcome %+v", o1)
	}
	ev := getEvent(t, c, o1.EventID)
	if ev.UserID != "u1" || ev.Source != "screening" || ev.RuleVersion != "screening-rules/1" || ev.EpisodeID != o1.EpisodeID ||
		ev.ProtocolVersion != ProtocolVersion || ev.NotifiedAt != nil || ev.AckedAt != nil || ev.Acked || ev.Trigger["flag"] != "suicideRisk" {
		t.Errorf("event %+v", ev)
	}
	note, err := c.Doc("users/u1/notifications/" + o1.EventID).Get(ctx)
	if err != nil {
		t.Fatalf("notification: %v", err)
	}
	var n model.Notification
	_ = note.DataTo(&n)
	if n.Kind != NotificationKind || n.Ref != "crisis_resources/sv-SE" || n.Title != DefaultDirectory().Notification["sv"].Title || n.ReadAt != nil {
		t.Errorf("notification %+v", n)
	}
	res, err := c.Doc("crisis_resources/sv-SE").Get(ctx)
	if err != nil {
		t.Fatalf("resources: %v", err)
	}
	var cr model.CrisisResources
	_ = res.DataTo(&cr)
	if cr.ValidFrom == "" || len(cr.Resources) < 2 {
		t.Errorf("resources %+v", cr)
	}

	// The same signal again (a duplicated source event): nothing new.
	o, err := pr.Raise(ctx, c, signal("u1", "hash-1"))
	if err != nil || o.Status != Duplicate || o.EventID != o1.EventID {
		t.Errorf("duplicate: %+v %v", o, err)
	}
	// Another signal within the window: folded into the open episode.
	clk.Add(3 * time.Hour)
	sig := signal("u1", "ua1:content")
	sig.Source = SourceReflection
	sig.RuleVersion = "crisis-rules-2026.11.1"
	sig.Trigger = map[string]any{"rules": []string{"en.active.kill_myself"}}
	o, err = pr.Raise(ctx, c, sig)
	if err != nil || o.Status != Folded || o.EventID != o1.EventID {
		t.Errorf("folded: %+v %v", o, err)
	}
	if _, err = pr.Raise(ctx, c, sig); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Doc("users/u1/private/wellbeing").Get(ctx)
	if v, _ := st.DataAt("signals"); v != int64(2) {
		t.Errorf("signals = %v, want 2 (a repeated signal is counted once)", v)
	}
	if got := countDocs(t, events.Where("userId", "==", "u1")); got != 1 {
		t.Fatalf("%d events, want 1", got)
	}

	if got := countDocs(t, events.Where("acked", "==", false)); got != 1 {
		t.Errorf("%d open events, want 1", got)
	}
	// Acknowledged: the next signal opens a new episode.
	if _, err := Acknowledge(ctx, c, clk.Now(), o1.EventID, "admin-1"); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	o2, err := pr.Raise(ctx, c, signal("u1", "hash-2"))
	if err != nil || o2.Status != Opened || o2.EpisodeID == o1.EpisodeID {
		t.Fatalf("after ack: %+v %v", o2, err)
	}
	// Unacknowledged for longer than the window: a new episode again.
	clk.Add(EpisodeWindow - time.Minute)
	if o, _ := pr.Raise(ctx, c, signal("u1", "hash-3")); o.Status != Folded {
		t.Errorf("inside window: %s", o.Status)
	}
	clk.Add(2 * time.Minute)
	if o, _ := pr.Raise(ctx, c, signal("u1", "hash-4")); o.Status != Opened {
		t.Errorf("after window: %s", o.Status)
	}
	if got := countDocs(t, events.Where("userId", "==", "u1")); got != 3 {
		t.Errorf("%d events, want 3", got)
	}
	// Other users are independent; an unknown locale gets the fallback.
	s := signal("u2", "hash-1")
	s.Locale = "de-DE"
	if o, _ := pr.Raise(ctx, c, s); o.Status != Opened || o.ResourcesRef != "crisis_resources/intl" {
		t.Errorf("u2: %+v", o)
	}
}

func TestRaiseConcurrentDuplicates(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	pr := &Protocol{}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pr.Raise(context.Background(), c, signal("u1", "same")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := countDocs(t, c.Collection(model.ColWellbeingEvents).Query); got != 1 {
		t.Errorf("%d events, want 1", got)
	}
}

func TestPublishAlertOnce(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	o, err := (&Protocol{}).Raise(ctx, c, signal("u1", "k"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &queue.Recorder{Err: fault.New(fault.Unavailable, "down")}
	if _, err := PublishAlert(ctx, c, rec, time.Now, o.EventID); !fault.Retryable(err) {
		t.Errorf("publish failure: %v, want retryable", err)
	}
	rec.Err = nil
	for i := 0; i < 3; i++ {
		if _, err := PublishAlert(ctx, c, rec, time.Now, o.EventID); err != nil {
			t.Fatal(err)
		}
	}
	msgs := rec.On(Topic)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	var a map[string]any
	_ = json.Unmarshal(msgs[0].Data, &a)
	if len(a) != 3 || a["eventId"] != o.EventID || a["userId"] != "u1" || a["source"] != "screening" {
		t.Errorf("alert %v: want ids only", a)
	}
	if ok, err := PublishAlert(ctx, c, rec, time.Now, "wb_missing"); ok || err != nil {
		t.Errorf("missing event: %v %v", ok, err)
	}
}

// TestPublishAlertPubSubEmulator publishes through the real Pub/Sub client
// to the emulator and reads the message back.
func TestPublishAlertPubSubEmulator(t *testing.T) {
	testenv.PubSub(t)
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pc, err := pubsub.NewClient(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := queue.EnsureTopic(ctx, pc, Topic); err != nil {
		t.Fatal(err)
	}
	sub := "projects/" + p + "/subscriptions/alerts-test"
	if _, err := pc.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: queue.TopicName(p, Topic)}); err != nil {
		t.Fatal(err)
	}
	pub := &queue.PubSub{Client: pc}
	defer pub.Stop()
	o, err := (&Protocol{}).Raise(ctx, c, signal("u1", "k"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := PublishAlert(ctx, c, pub, time.Now, o.EventID); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []*pubsub.Message
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	_ = pc.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		mu.Lock()
		got = append(got, m)
		if len(got) == 1 {
			time.AfterFunc(500*time.Millisecond, rcancel) // a duplicate would arrive by then
		}
		mu.Unlock()
		m.Ack()
	})
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	var a Alert
	if err := json.Unmarshal(got[0].Data, &a); err != nil || a.EventID != o.EventID || got[0].Attributes["source"] != "screening" {
		t.Errorf("message %s %v: %v", got[0].Data, got[0].Attributes, err)
	}
	if ev := getEvent(t, c, o.EventID); ev.PublishedAt == nil {
		t.Error("publishedAt not set")
	}
}

func TestDeliver(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	var mu sync.Mutex
	var bodies []string
	status := http.StatusOK
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		code := status
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer hook.Close()
	setStatus := func(s int) { mu.Lock(); status = s; mu.Unlock() }

	raise := func(uid string) Alert {
		t.Helper()
		o, err := (&Protocol{}).Raise(ctx, c, signal(uid, "k"))
		if err != nil {
			t.Fatal(err)
		}
		return Alert{EventID: o.EventID, UserID: uid, Source: "screening"}
	}
	d := &Deliverer{Firestore: c, WebhookURL: config.NewSecret(hook.URL)}

	// Webhook down: retryable, lease released, nothing recorded.
	a := raise("u1")
	setStatus(http.StatusServiceUnavailable)
	if _, err := d.Deliver(ctx, a); !fault.Retryable(err) {
		t.Errorf("503: %v, want retryable", err)
	}
	if ev := getEvent(t, c, a.EventID); ev.NotifiedAt != nil || ev.DeliveryClaimedAt != nil || ev.DeliveryError != "http 503" {
		t.Errorf("after 503: %+v", ev)
	}
	// Webhook up: delivered once.
	setStatus(http.StatusOK)
	for i := 0; i < 2; i++ {
		r, err := d.Deliver(ctx, a)
		want := []string{"delivered", "already"}[i]
		if err != nil || r.Status != want || r.DeliveredTo != "webhook" {
			t.Errorf("deliver %d: %+v %v", i, r, err)
		}
	}
	mu.Lock()
	if len(bodies) != 2 {
		t.Errorf("%d posts, want 2 (one failed, one delivered)", len(bodies))
	}
	last := bodies[len(bodies)-1]
	mu.Unlock()
	if !strings.Contains(last, a.EventID) || strings.Contains(last, "u1") {
		t.Errorf("webhook body %s: want the event id and no user id", last)
	}
	ev := getEvent(t, c, a.EventID)
	if ev.NotifiedAt == nil || ev.DeliveredTo != "webhook" || ev.DeliveryAttempts != 2 {
		t.Errorf("after delivery: %+v", ev)
	}

	// A delivery holding the lease makes a concurrent one retry later.
	b := raise("u2")
	if _, err := c.Doc("wellbeing_events/"+b.EventID).Update(ctx, []firestore.Update{{Path: "deliveryClaimedAt", Value: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Deliver(ctx, b); fault.CodeOf(err) != fault.Aborted {
		t.Errorf("leased: %v, want ABORTED", err)
	}

	// A rejected webhook (misconfiguration) and no webhook: the log.
	setStatus(http.StatusNotFound)
	cAlert := raise("u3")
	if r, err := d.Deliver(ctx, cAlert); err != nil || r.DeliveredTo != "log" {
		t.Errorf("404: %+v %v", r, err)
	}
	if ev := getEvent(t, c, cAlert.EventID); ev.NotifiedAt == nil || ev.DeliveryError != "http 404" {
		t.Errorf("after 404: %+v", ev)
	}
	dAlert := raise("u4")
	if r, err := (&Deliverer{Firestore: c}).Deliver(ctx, dAlert); err != nil || r.DeliveredTo != "log" {
		t.Errorf("no webhook: %+v %v", r, err)
	}
	if r, err := d.Deliver(ctx, Alert{EventID: "wb_gone", UserID: "u9", Source: "screening"}); err != nil || r.Status != "missing" {
		t.Errorf("missing: %+v %v", r, err)
	}
	if _, err := d.Deliver(ctx, Alert{EventID: "x"}); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("invalid alert: %v", err)
	}
}

func TestAcknowledge(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	clk := newClock()
	o, err := (&Protocol{Now: clk.Now}).Raise(ctx, c, signal("u1", "k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acknowledge(ctx, c, clk.Now(), "wb_nope", "admin"); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("unknown: %v", err)
	}
	if _, err := Acknowledge(ctx, c, clk.Now(), "", "admin"); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("empty: %v", err)
	}
	ev, err := Acknowledge(ctx, c, clk.Now(), o.EventID, "admin-1")
	if err != nil || ev.AckedAt == nil || !ev.AckedAt.Equal(clk.Now()) || ev.AckedBy != "admin-1" {
		t.Fatalf("ack: %+v %v", ev, err)
	}
	clk.Add(time.Minute)
	ev, err = Acknowledge(ctx, c, clk.Now(), o.EventID, "admin-2")
	if err != nil || ev.AckedBy != "admin-1" {
		t.Errorf("second ack changed the first: %+v %v", ev, err)
	}
	stored := getEvent(t, c, o.EventID)
	if stored.AckedBy != "admin-1" || stored.AckedAt == nil || !stored.Acked {
		t.Errorf("stored %+v", stored)
	}
	st, _ := c.Doc("users/u1/private/wellbeing").Get(ctx)
	if v, _ := st.DataAt("ackedAt"); v == nil {
		t.Error("episode not closed")
	}
}

func TestEnsureResources(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	if err := DefaultDirectory().Ensure(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := countDocs(t, c.Collection(model.ColCrisisResources).Query); got != len(DefaultDirectory().Locales) {
		t.Errorf("%d resource docs", got)
	}
}
