package gdpr

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// legacyHeldWellbeing writes wellbeing_events/{eventID} exactly as an
// erasure before episode ids stopped embedding the uid (d7fcb40) left it:
// userId → the pseudonym, trigger removed, pseudonymised, legalHoldUntil;
// episodeId "{uid}:{time}" and sourceKey (embedding the entry id, and so
// the uid) untouched.
func legacyHeldWellbeing(e *env, u, eventID string, at time.Time) {
	e.set("wellbeing_events/"+eventID, map[string]any{
		"eventId": eventID, "userId": e.s.pseudonym(u), "source": "reflection", "ruleVersion": "crisis-rules-2026.11.1",
		"episodeId": u + ":" + at.Format("20060102T150405Z"), "createdAt": at,
		"protocolVersion": wellbeing.ProtocolVersion, "sourceKey": "journal-" + u + "-1:sha256:abc",
		"resourcesRef": "crisis_resources/sv-SE", "notificationId": eventID, "acked": true, "notified": true,
		"pseudonymised": true, "legalHoldUntil": at.AddDate(WellbeingHoldYears, 0, 0),
	})
}

// TestRepairHeldWellbeingRemovesLegacyUID: a wellbeing event held by an
// erasure that ran before episode ids carried no uid still holds the raw
// uid in episodeId and sourceKey, and no finder reaches it again (userId
// is the pseudonym). RepairHeldWellbeing (ops migrate) rewrites it: no
// field holds the uid, episodeId is the uid-free id of the event and its
// time; its dry run writes nothing; a second run changes nothing; a record
// held in the new shape and a record not held are left alone.
func TestRepairHeldWellbeingRemovesLegacyUID(t *testing.T) {
	e := newEnv(t, false)
	u := uid("wblegacy")
	at := e.clock.Now().Add(-24 * time.Hour)
	legacy := "wb_00112233445566778899aabbccddeeff"
	legacyHeldWellbeing(e, u, legacy, at)
	current := "wb_ffeeddccbbaa99887766554433221100"
	currentEp := wellbeing.EpisodeID(current, at)
	e.set("wellbeing_events/"+current, map[string]any{"eventId": current, "userId": e.s.pseudonym(u),
		"episodeId": currentEp, "createdAt": at, "pseudonymised": true})
	open := "wb_0123456789abcdef0123456789abcdef"
	e.set("wellbeing_events/"+open, map[string]any{"eventId": open, "userId": u, "episodeId": u + ":" + at.Format("20060102T150405Z"),
		"sourceKey": "hash-1", "createdAt": at, "pseudonymised": false})
	data := func(id string) map[string]any {
		t.Helper()
		snap, err := e.fs.Collection(model.ColWellbeingEvents).Doc(id).Get(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return snap.Data()
	}
	before := map[string]map[string]any{legacy: data(legacy), current: data(current), open: data(open)}

	got, err := RepairHeldWellbeing(e.ctx, e.fs, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got != (HeldWellbeingRepair{Scanned: 2, Rewritten: 1}) {
		t.Errorf("dry run: %+v, want 2 scanned, 1 to rewrite", got)
	}
	if d := data(legacy); d["episodeId"] != before[legacy]["episodeId"] || d["sourceKey"] == nil {
		t.Errorf("the dry run wrote: %v", d)
	}

	if got, err = RepairHeldWellbeing(e.ctx, e.fs, false, 1); err != nil {
		t.Fatal(err)
	}
	if got != (HeldWellbeingRepair{Scanned: 2, Rewritten: 1}) {
		t.Errorf("run: %+v, want 2 scanned, 1 rewritten", got)
	}
	d := data(legacy)
	for k, v := range d {
		if s, ok := v.(string); ok && strings.Contains(s, u) {
			t.Errorf("held wellbeing_events/%s.%s = %q still holds the erased uid", legacy, k, s)
		}
	}
	if _, ok := d["sourceKey"]; ok {
		t.Error("the held record keeps its sourceKey")
	}
	if want := "ep_" + at.Format("20060102T150405Z") + "_001122334455"; d["episodeId"] != want {
		t.Errorf("episodeId %v, want %s", d["episodeId"], want)
	}
	if d["userId"] != e.s.pseudonym(u) || d["pseudonymised"] != true || d["acked"] != true || d["legalHoldUntil"] == nil {
		t.Errorf("the rest of the held record changed: %v", d)
	}
	for _, id := range []string{current, open} {
		if !sameData(data(id), before[id]) {
			t.Errorf("wellbeing_events/%s changed: %v → %v", id, before[id], data(id))
		}
	}

	after := data(legacy)
	if got, err = RepairHeldWellbeing(e.ctx, e.fs, false, 300); err != nil {
		t.Fatal(err)
	}
	if got != (HeldWellbeingRepair{Scanned: 2}) || !sameData(data(legacy), after) {
		t.Errorf("second run: %+v, record %v → %v; want nothing rewritten", got, after, data(legacy))
	}
}

// TestHeldEpisodeID: the uid-free episode id the repair gives a legacy
// record (wellbeing.EpisodeID) has the form the repair recognises
// (wellbeing.IsEpisodeID), from the event id and time.
func TestHeldEpisodeID(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	if got := wellbeing.EpisodeID("wb_00112233445566778899aabbccddeeff", at); got != "ep_20260304T040607Z_001122334455" {
		t.Errorf("EpisodeID = %q", got)
	}
	odd := wellbeing.EpisodeID("legacy-alice", at)
	if !wellbeing.IsEpisodeID(odd) || strings.Contains(odd, "alice") || odd != wellbeing.EpisodeID("legacy-alice", at) {
		t.Errorf("EpisodeID of an id of another shape = %q", odd)
	}
}

// sameData reports whether two documents' data print the same (fmt sorts
// map keys).
func sameData(a, b map[string]any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
