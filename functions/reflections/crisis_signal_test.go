package reflections_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/testenv"
)

// wellbeingEvents returns the data of uid's wellbeing events.
func (f *fixture) wellbeingEvents(uid string) []map[string]any {
	f.t.Helper()
	docs, err := f.fs.Collection(model.ColWellbeingEvents).Where("userId", "==", uid).Documents(context.Background()).GetAll()
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = d.Data()
	}
	return out
}

// TestSwedishPlanRulesRaiseProtocol: Swedish crisis rules once had
// non-ASCII ids ("sv.plan.påkörd", "sv.plan.sätt_att_do") that the
// wellbeing trigger refused, which failed the transaction and dropped the
// entry: no analysis, no wellbeing event, no alert.
func TestSwedishPlanRulesRaiseProtocol(t *testing.T) {
	tests := []struct {
		name, text, rule string
	}{
		{"run over", "Jag hoppas att jag blir påkörd av en bil imorgon.", "sv.plan.pakord"},
		{"ways to die", "Jag har letat efter sätt att dö.", "sv.plan.satt_att_do"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			uid, id := "sv-user", "sv-entry"
			f.consent(uid, model.ConsentGranted)
			if _, err := f.fs.Doc("users/"+uid).Set(context.Background(), map[string]any{"userId": uid, "locale": "sv-SE"}); err != nil {
				t.Fatal(err)
			}
			if out := f.handle(f.event(id, nil, f.entry(id, uid, tt.text))); out != reflections.CrisisRaised {
				t.Errorf("outcome %s, want %s", out, reflections.CrisisRaised)
			}
			evs := f.wellbeingEvents(uid)
			if len(evs) != 1 {
				t.Fatalf("%d wellbeing events, want 1", len(evs))
			}
			trig, _ := evs[0]["trigger"].(map[string]any)
			rules, _ := trig["rules"].([]any)
			found := false
			for _, r := range rules {
				found = found || r == tt.rule
			}
			if !found || trig["redacted"] != nil {
				t.Errorf("trigger %v, want rule %s stored as is", trig, tt.rule)
			}
			if a := analysisOf(t, f.current(id)); a == nil || a["crisis"] != true {
				t.Errorf("log.aiAnalysis not written or not crisis: %v", a)
			}
		})
	}
}

// TestLongEntryIDCrisisRaisesProtocol: the rules do not bound the length of
// a user_activations id (Firestore allows 1,500 bytes); the source key was
// once "{id}:{contentHash}" and, past 256 bytes, refused, dropping the
// crisis entry.
func TestLongEntryIDCrisisRaisesProtocol(t *testing.T) {
	f := newFixture(t)
	emu := testenv.FirestoreEmulator(t)
	emu.LoadRepoRules(t, f.p)
	f.consent("u9", model.ConsentGranted)
	id := "journal-" + strings.Repeat("x", 192)
	fields := map[string]any{"userActivationId": id, "userId": "u9", "activationId": "a1", "status": "completed",
		"log": map[string]any{"text": "I can't do this anymore. I want to kill myself."}}
	rf := map[string]any{}
	for k, v := range fields {
		rf[k] = store.RESTValue(v)
	}
	body := map[string]any{"writes": []any{map[string]any{
		"update":           map[string]any{"name": testenv.DocName(f.p, "user_activations/"+id), "fields": rf},
		"currentDocument":  map[string]any{"exists": false},
		"updateTransforms": []any{map[string]any{"fieldPath": "createdAt", "setToServerValue": "REQUEST_TIME"}},
	}}}
	if st, b := emu.REST(f.p, "POST", ":commit", testenv.UnsignedIDToken(f.p, "u9", nil), body); st != http.StatusOK {
		t.Fatalf("the user's write of a %d-character id was refused (%d %v)", len(id), st, b)
	}
	if out := f.handle(f.event(id, nil, f.current(id))); out != reflections.CrisisRaised {
		t.Errorf("outcome %s, want %s", out, reflections.CrisisRaised)
	}
	if a := analysisOf(t, f.current(id)); a == nil || a["crisis"] != true {
		t.Errorf("crisis entry with a %d-character id not analysed: %v", len(id), a)
	}
	evs := f.wellbeingEvents("u9")
	if len(evs) != 1 {
		t.Fatalf("%d wellbeing events, want 1", len(evs))
	}
	if k, _ := evs[0]["sourceKey"].(string); strings.Contains(k, id) || len(k) > 128 {
		t.Errorf("sourceKey %q: holds the entry id or is unbounded", k)
	}
}

func TestSourceKey(t *testing.T) {
	const h = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	long := strings.Repeat("e", 1500)
	tests := []struct {
		name       string
		id1, hash1 string
		id2, hash2 string
		same       bool
	}{
		{"same entry, same content", "e1", h, "e1", h, true},
		{"same entry, edited content", "e1", h, "e1", h + "0", false},
		{"other entry, same content", "e1", h, "e2", h, false},
		{"long ids, same", long, h, long, h, true},
		{"long ids, differ at the end", long + "a", h, long + "b", h, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k1, k2 := reflections.SourceKey(tt.id1, tt.hash1), reflections.SourceKey(tt.id2, tt.hash2)
			if (k1 == k2) != tt.same {
				t.Errorf("keys %q and %q: same = %v, want %v", k1, k2, k1 == k2, tt.same)
			}
			for _, k := range []string{k1, k2} {
				if len(k) > 128 || strings.Contains(k, tt.id1) || !strings.HasSuffix(k, ":"+tt.hash1) && !strings.HasSuffix(k, ":"+tt.hash2) {
					t.Errorf("key %q: too long, holds the id, or lacks the content hash", k)
				}
			}
		})
	}
}
