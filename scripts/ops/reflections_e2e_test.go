package main

import (
	"github.com/innerjourney/functions/shared/store"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// serveReflectionRoundTrip: a signed-in user writes a journal entry
// through the REST API (rules enforced) → the analysis appears; the user
// edits the text → it is analysed again; nothing loops.
func serveReflectionRoundTrip(t *testing.T, s *served) {
	ctx, fs, project, admin := s.ctx, s.fs, s.project, s.admin
	if _, err := admin.Doc("consents/writer").Set(ctx, model.Consents{UserID: "writer", ConsentsGiven: []model.ConsentEntry{
		{Type: model.ConsentAIAnalysis, Version: "v1", AgreedAt: time.Now().UTC(), Status: model.ConsentGranted}}}); err != nil {
		t.Fatal(err)
	}
	tok := testenv.UnsignedIDToken(project, "writer", nil)
	name := testenv.DocName(project, "user_activations/j1")
	create := map[string]any{"writes": []any{map[string]any{
		"update": map[string]any{"name": name, "fields": map[string]any{
			"userActivationId": store.RESTValue("j1"), "userId": store.RESTValue("writer"), "activationId": store.RESTValue("box_breathing_001"),
			"status": store.RESTValue("completed"), "startedAt": store.RESTValue(time.Now().UTC().Add(-10 * time.Minute)),
			"log": store.RESTValue(map[string]any{"text": "Felt calm and grateful after the breathing, my shoulders finally relaxed.",
				"moodBefore": "stressed", "moodAfter": "calm"}),
		}},
		"updateTransforms": []any{map[string]any{"fieldPath": "createdAt", "setToServerValue": "REQUEST_TIME"}},
		"currentDocument":  map[string]any{"exists": false},
	}}}
	if status, resp := fs.REST(project, "POST", ":commit", tok, create); status != 200 {
		t.Fatalf("create entry as the user: %d %v", status, resp)
	}
	waitAnalysis := func(notHash string) map[string]any {
		t.Helper()
		var got map[string]any
		err := waitFor(ctx, 20*time.Second, func() (bool, error) {
			s, err := admin.Doc("user_activations/j1").Get(ctx)
			if err != nil {
				return false, err
			}
			a, err := s.DataAt("log.aiAnalysis")
			if err != nil || a == nil {
				return false, nil
			}
			got = a.(map[string]any)
			return got["contentHash"] != notHash, nil
		})
		if err != nil {
			t.Fatalf("analysis never appeared: %v", err)
		}
		return got
	}
	first := waitAnalysis("")
	if first["label"] != "positive" {
		t.Errorf("first analysis = %v", first)
	}
	edit := map[string]any{"writes": []any{map[string]any{
		"update":     map[string]any{"name": name, "fields": map[string]any{"log": store.RESTValue(map[string]any{"text": "Actually the evening was miserable, I feel drained and tense."})}},
		"updateMask": map[string]any{"fieldPaths": []any{"log.text"}},
	}}}
	if status, resp := fs.REST(project, "POST", ":commit", tok, edit); status != 200 {
		t.Fatalf("edit as the user: %d %v", status, resp)
	}
	second := waitAnalysis(first["contentHash"].(string))
	if second["label"] != "negative" {
		t.Errorf("second analysis = %v", second)
	}
	// No loop: the document settles.
	s1, _ := admin.Doc("user_activations/j1").Get(ctx)
	time.Sleep(1500 * time.Millisecond)
	s2, _ := admin.Doc("user_activations/j1").Get(ctx)
	if !s1.UpdateTime.Equal(s2.UpdateTime) {
		t.Error("the document kept changing: a trigger loop")
	}
	// The user cannot write the analysis.
	forge := map[string]any{"writes": []any{map[string]any{
		"update":     map[string]any{"name": name, "fields": map[string]any{"log": store.RESTValue(map[string]any{"aiAnalysis": map[string]any{"crisis": false}})}},
		"updateMask": map[string]any{"fieldPaths": []any{"log.aiAnalysis"}},
	}}}
	if status, _ := fs.REST(project, "POST", ":commit", tok, forge); status != 403 {
		t.Errorf("forging log.aiAnalysis: %d, want 403", status)
	}
}
