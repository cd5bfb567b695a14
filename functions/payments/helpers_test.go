package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// Test secrets: the platform endpoint and the Connect endpoint.
const (
	secretPlatform = "whsec_test_platform_0123456789"
	secretConnect  = "whsec_test_connect_0123456789"
)

// testPseudonymKey is the GDPR pseudonym key of the tests.
const testPseudonymKey = "test-pseudonym-key"

// t0 is the base time of the fixtures' Stripe objects and events.
var t0 = time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC).Unix()

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// recorder records the requests sent to Stripe (stripe-mock answers them).
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path string
	Header       http.Header
	Form         url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var form url.Values
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ = url.ParseQuery(string(b))
	}
	if req.URL.RawQuery != "" {
		q, _ := url.ParseQuery(req.URL.RawQuery)
		if form == nil {
			form = url.Values{}
		}
		for k, v := range q {
			form[k] = v
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Form: form})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// find returns the recorded requests to path.
func (r *recorder) find(method, path string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, q := range r.reqs {
		if q.Method == method && q.Path == path {
			out = append(out, q)
		}
	}
	return out
}

// harness is one test's service on its own emulator project, with the
// webhook served on loopback.
type harness struct {
	t       testing.TB
	fs      *testenv.Firestore
	project string
	db      *firestore.Client
	svc     *Service
	url     string
	rec     *recorder
	claims  *memClaims
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	db := fs.Client(t, p)
	rec := &recorder{}
	mc := &memClaims{users: map[string]map[string]any{}}
	svc := &Service{
		Firestore:    db,
		Stripe:       NewStripe("sk_test_123", testenv.StripeMock(t), &http.Client{Transport: rec, Timeout: 20 * time.Second}),
		Auth:         mc,
		Now:          func() time.Time { return testNow },
		PseudonymKey: []byte(testPseudonymKey),
		Config: Settings{
			WebhookSecrets: []config.Secret{config.NewSecret(secretPlatform), config.NewSecret(secretConnect)},
			AppURL:         "https://demo-ij.web.app",
			ReturnOrigins:  []string{"https://app.example.test"},
			ConnectCountry: "SE",
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(svc.Webhook))
	t.Cleanup(srv.Close)
	return &harness{t: t, fs: fs, project: p, db: db, svc: svc, url: srv.URL, rec: rec, claims: mc}
}

// memClaims is an in-memory ClaimsClient for tests that do not exercise
// the Auth emulator; failNext makes the next SetCustomUserClaims fail.
type memClaims struct {
	mu       sync.Mutex
	users    map[string]map[string]any
	failNext bool
	sets     int
}

func (m *memClaims) GetUser(_ context.Context, uid string) (*auth.UserRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.users[uid]
	if !ok {
		return nil, fmt.Errorf("no user %s", uid)
	}
	cp := map[string]any{}
	for k, v := range c {
		cp[k] = v
	}
	return &auth.UserRecord{UserInfo: &auth.UserInfo{UID: uid}, CustomClaims: cp}, nil
}

func (m *memClaims) SetCustomUserClaims(_ context.Context, uid string, claims map[string]any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failNext {
		m.failNext = false
		return fmt.Errorf("injected auth failure")
	}
	m.sets++
	m.users[uid] = claims
	return nil
}

// event builds a Stripe event's JSON.
func event(id, typ string, created int64, obj map[string]any) []byte {
	return eventWith(id, typ, created, obj, nil)
}

func eventWith(id, typ string, created int64, obj map[string]any, extra map[string]any) []byte {
	ev := map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": created,
		"livemode": false, "type": typ, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"data":    map[string]any{"object": obj},
	}
	for k, v := range extra {
		ev[k] = v
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// sign returns the Stripe-Signature header of payload.
func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// post delivers a body with a signature header and returns the status and
// decoded reply.
func (h *harness) post(body []byte, sig string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		h.t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// deliver signs payload now with the platform secret and posts it.
func (h *harness) deliver(payload []byte) (int, map[string]any) {
	h.t.Helper()
	return h.post(payload, sign(payload, secretPlatform, time.Now()))
}

// mustDeliver delivers payload and fails the test unless it is answered
// 200.
func (h *harness) mustDeliver(payload []byte) {
	h.t.Helper()
	if code, body := h.deliver(payload); code != http.StatusOK {
		h.t.Fatalf("delivery: %d %v", code, body)
	}
}

func (h *harness) set(path string, v any) {
	h.t.Helper()
	if _, err := h.db.Doc(path).Set(context.Background(), v); err != nil {
		h.t.Fatalf("set %s: %v", path, err)
	}
}

// get decodes the document at path into v and reports whether it exists.
func (h *harness) get(path string, v any) bool {
	h.t.Helper()
	snap, err := h.db.Doc(path).Get(context.Background())
	if err != nil {
		if strings.Contains(err.Error(), "NotFound") {
			return false
		}
		h.t.Fatalf("get %s: %v", path, err)
	}
	if err := snap.DataTo(v); err != nil {
		h.t.Fatalf("decode %s: %v", path, err)
	}
	return true
}

// count returns the number of documents in a collection (path).
func (h *harness) count(path string) int {
	h.t.Helper()
	var col *firestore.CollectionRef
	if strings.Count(path, "/")%2 == 0 {
		col = h.db.Collection(path)
	} else {
		i := strings.LastIndex(path, "/")
		col = h.db.Doc(path[:i]).Collection(path[i+1:])
	}
	docs, err := col.Documents(context.Background()).GetAll()
	if err != nil {
		h.t.Fatalf("list %s: %v", path, err)
	}
	return len(docs)
}

// collections lists the project's top-level collections.
func (h *harness) collections() []string {
	h.t.Helper()
	var out []string
	it := h.db.Collections(context.Background())
	for {
		c, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			h.t.Fatalf("collections: %v", err)
		}
		out = append(out, c.ID)
	}
	return out
}

// seed writes the fixtures' shared documents: program prog-1 (499.00 SEK,
// coaches coach-1 and coach-2), the free program prog-free, customer
// cus_1 → u1, plan premium (price_premium → premium), coach-1's Connect
// account and two payouts awaiting their transfer events.
func (h *harness) seed() {
	h.t.Helper()
	price, cur := int64(49900), "SEK"
	h.set("programs/prog-1", model.Program{ProgramID: "prog-1", Title: "Calm Mind", CreatedBy: []string{"coach-1", "coach-2"},
		Price: &price, Currency: &cur, Difficulty: model.DifficultyBeginner})
	h.set("programs/prog-free", model.Program{ProgramID: "prog-free", Title: "Intro", CreatedBy: []string{"coach-1"}})
	h.set("stripe_customers/cus_1", model.StripeCustomer{CustomerID: "cus_1", UserID: "u1"})
	h.set("billing_plans/premium", model.BillingPlan{PlanID: "premium", Title: "Premium", StripePriceID: "price_premium",
		Entitlements: []string{"premium"}, Active: true})
	h.set("billing_plans/journal", model.BillingPlan{PlanID: "journal", Title: "Journal+", StripePriceID: "price_journal",
		Entitlements: []string{"journal_plus"}, Active: true})
	h.set("coach_profiles/coach-1", model.CoachProfile{CoachID: "coach-1", DisplayName: "C"})
	h.set("coach_profiles/coach-1/private/connect", model.CoachConnect{CoachID: "coach-1", StripeAccountID: "acct_1"})
	tr1, tr2 := "tr_1", "tr_2"
	h.set("payouts/po-1", model.Payout{PayoutID: "po-1", CoachID: "coach-1", Amount: 30000, Currency: "SEK",
		Status: model.PayoutPending, Processor: "stripe_connect", ProcessorPayoutID: &tr1})
	h.set("payouts/po-2", model.Payout{PayoutID: "po-2", CoachID: "coach-1", Amount: 20000, Currency: "SEK",
		Status: model.PayoutPending, Processor: "stripe_connect", ProcessorPayoutID: &tr2})
}

// Stripe object fixtures (only the fields the handlers read, plus ids).

func objCheckout(id, pi, cus, uid, program string, amount int64, payStatus string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "mode": "payment", "payment_intent": pi,
		"customer": cus, "client_reference_id": uid, "amount_total": amount, "currency": "sek",
		"payment_status": payStatus, "status": "complete", "created": t0,
		"metadata": map[string]any{"uid": uid, "programId": program, "kind": "program"}}
}

func objPI(id, cus, status string, amount int64, meta map[string]any, failed bool) map[string]any {
	o := map[string]any{"id": id, "object": "payment_intent", "amount": amount, "currency": "sek", "customer": cus,
		"status": status, "created": t0, "metadata": meta, "latest_charge": "ch_" + strings.TrimPrefix(id, "pi_")}
	if failed {
		o["last_payment_error"] = map[string]any{"code": "card_declined", "type": "card_error"}
	}
	return o
}

func objCharge(id, pi, cus string, amount, refunded int64) map[string]any {
	return map[string]any{"id": id, "object": "charge", "payment_intent": pi, "customer": cus, "amount": amount,
		"amount_refunded": refunded, "refunded": refunded >= amount, "currency": "sek", "paid": true,
		"status": "succeeded", "created": t0}
}

func objRefund(id, pi, ch string, amount int64, status string, created int64) map[string]any {
	return map[string]any{"id": id, "object": "refund", "payment_intent": pi, "charge": ch, "amount": amount,
		"currency": "sek", "status": status, "reason": "requested_by_customer", "created": created}
}

func objDispute(id, pi, ch string, amount int64, status string) map[string]any {
	return map[string]any{"id": id, "object": "dispute", "payment_intent": pi, "charge": ch, "amount": amount,
		"currency": "sek", "status": status, "reason": "fraudulent", "created": t0 + 1000}
}

func objSub(id, cus, status string, prices []string, periodEnd int64, meta map[string]any) map[string]any {
	var items []any
	for i, p := range prices {
		items = append(items, map[string]any{"id": fmt.Sprintf("si_%s_%d", id, i), "object": "subscription_item",
			"price": map[string]any{"id": p, "object": "price"}})
	}
	o := map[string]any{"id": id, "object": "subscription", "customer": cus, "status": status,
		"items": map[string]any{"object": "list", "data": items}, "current_period_end": periodEnd,
		"cancel_at_period_end": false, "created": t0, "metadata": meta}
	if status == "canceled" {
		o["canceled_at"] = periodEnd
	}
	return o
}

func objInvoice(id, sub, cus, pi string, amount, created int64, paid bool) map[string]any {
	o := map[string]any{"id": id, "object": "invoice", "subscription": sub, "customer": cus, "payment_intent": pi,
		"amount_due": amount, "currency": "sek", "created": created, "hosted_invoice_url": "https://invoice.test/" + id,
		"charge": "ch_" + strings.TrimPrefix(pi, "pi_")}
	if paid {
		o["amount_paid"] = amount
		o["status"] = "paid"
		o["status_transitions"] = map[string]any{"paid_at": created + 5}
	} else {
		o["amount_paid"] = 0
		o["status"] = "open"
	}
	return o
}

func objAccount(id, coach string, enabled, submitted bool, due []string, disabled string) map[string]any {
	req := map[string]any{"currently_due": due, "past_due": []string{}, "eventually_due": []string{}}
	if disabled != "" {
		req["disabled_reason"] = disabled
	}
	return map[string]any{"id": id, "object": "account", "payouts_enabled": enabled, "charges_enabled": enabled,
		"details_submitted": submitted, "requirements": req, "metadata": map[string]any{"coachUid": coach}, "type": "express"}
}

func objTransfer(id, payoutID string, amount, reversed int64) map[string]any {
	return map[string]any{"id": id, "object": "transfer", "amount": amount, "amount_reversed": reversed,
		"reversed": reversed >= amount, "currency": "sek", "destination": "acct_1", "created": t0,
		"metadata": map[string]any{"payoutId": payoutID}}
}

func objPayout(id, payoutID, status, failure string) map[string]any {
	o := map[string]any{"id": id, "object": "payout", "amount": 30000, "currency": "sek", "status": status,
		"created": t0, "arrival_date": t0 + 86400, "metadata": map[string]any{"payoutId": payoutID}}
	if failure != "" {
		o["failure_code"] = failure
	}
	return o
}
