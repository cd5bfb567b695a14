package gdpr

import (
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// TestHeldWellbeingKeepsNoUID: a wellbeing event is held pseudonymised
// after the subject's erasure, and the held record must not carry the raw
// uid anywhere: not in userId, not in episodeId (records written before
// episode ids stopped embedding the uid held "{uid}:{time}"), not in
// sourceKey (a reflection's key could embed the entry id), which is
// removed with the trigger.
func TestHeldWellbeingKeepsNoUID(t *testing.T) {
	tests := []struct {
		name   string
		legacy bool // written directly in the old shape, not by the protocol
	}{
		{"written by the protocol", false},
		{"legacy record with the uid in episodeId and sourceKey", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true)
			u := uid("wbsubj")
			now := e.clock.Now()
			e.set("users/"+u, model.User{UserID: u, CreatedAt: now})
			e.createAccount(u)
			eventID := "wb_0123456789abcdef0123456789abcdef"
			if tt.legacy {
				e.set("wellbeing_events/"+eventID, wellbeing.Event{
					WellbeingEvent: model.WellbeingEvent{EventID: eventID, UserID: u, Source: "reflection",
						Trigger: map[string]any{"rules": []any{"en.active.kill_myself"}}, RuleVersion: "crisis-rules-2026.11.9",
						EpisodeID: u + ":" + now.Format("20060102T150405Z"), CreatedAt: now},
					ProtocolVersion: wellbeing.ProtocolVersion, SourceKey: "journal-" + u + "-1:sha256:abc",
					ResourcesRef: "crisis_resources/sv-SE", NotificationID: eventID})
			} else {
				p := &wellbeing.Protocol{Now: e.clock.Now}
				out, err := p.Raise(e.ctx, e.fs, wellbeing.Signal{UserID: u, Source: wellbeing.SourceScreening, SourceKey: "hash-1",
					Trigger: map[string]any{"rules": []any{"phq9.item9"}}, RuleVersion: "screening-rules/1", Locale: "sv-SE"})
				if err != nil {
					t.Fatal(err)
				}
				eventID = out.EventID
			}
			if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
				t.Fatal(err)
			}
			e.deliver()
			if r := e.request(e.s.ErasureID(u)); r.Status != StatusDone {
				t.Fatalf("erasure %s: %s", r.Status, r.Error)
			}
			snap, err := e.fs.Collection(model.ColWellbeingEvents).Doc(eventID).Get(e.ctx)
			if err != nil {
				t.Fatalf("held event: %v", err)
			}
			held := snap.Data()
			for k, v := range held {
				if s, ok := v.(string); ok && strings.Contains(s, u) {
					t.Errorf("held wellbeing_events/%s.%s = %q still holds the uid", eventID, k, s)
				}
			}
			for _, k := range []string{"trigger", "sourceKey"} {
				if _, ok := held[k]; ok {
					t.Errorf("held record keeps %s", k)
				}
			}
			if ep, _ := held["episodeId"].(string); ep == "" || held["pseudonymised"] != true {
				t.Errorf("held record lost its episodeId or is not marked pseudonymised: %v", held)
			}
		})
	}
}
