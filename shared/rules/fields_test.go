package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

const (
	allow = true
	deny  = false
)

// f is one field-level case.
func f(name string, as actor, req request, allowed bool) rcase {
	return rcase{name: name, as: as, req: req, allow: allowed}
}

// withClaims is f with a token carrying exactly the given claims.
func withClaims(name string, as actor, claims map[string]any, req request, allowed bool) rcase {
	return rcase{name: name, as: as, claims: claims, req: req, allow: allowed}
}

// serverSamples holds a plausible value of each server-owned user field;
// TestServerSamplesCoverModel keeps it in step with model.UserServerFields.
var serverSamples = map[string]any{
	"personalityType": doc{"traits": []any{"leader"}, "astroSign": "Leo", "lifePathNumber": 8},
	"neuroTendencies": doc{"adhdScore": 0, "autismScore": 0},
	"wellbeingFlags":  doc{"depressionRisk": true, "suicideRisk": false},
	"progressLevel":   99,
	"birthPlace":      doc{"name": "Stockholm", "country": "SE", "latitude": 59.33, "longitude": 18.07, "timeZone": "Europe/Stockholm"},
	"chart":           doc{"sun": "Leo"},
	"numerology":      doc{"lifePath": 8},
	"profile":         doc{"calculationVersion": "forged"},
	"insightDueAt":    past,
}

// fieldCases are the field-level cases: every server-owned field, every
// enum value, wrong types, oversized strings, spoofed owners and
// timestamps that are not request.time.
func fieldCases() []rcase {
	var cs []rcase
	add := func(c ...rcase) { cs = append(cs, c...) }

	// ---------------- users/{uid} ----------------
	u := "users/alice"
	add(f("users create: valid", owner, create(u, userDoc()), allow))
	names := make([]string, 0, len(serverSamples))
	for k := range serverSamples {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		add(f("users create: server field "+k, owner, create(u, with(userDoc(), k, serverSamples[k])), deny))
		add(f("users update: server field "+k, owner, update(u, patch(k, serverSamples[k])), deny))
	}
	add(f("users update: delete server field wellbeingFlags", owner, update(u, patch("wellbeingFlags", deleteField)), deny))
	add(f("users update: delete server field neuroTendencies.adhdScore", owner, update(u, patch("neuroTendencies.adhdScore", deleteField)), deny))
	for _, s := range []string{"clean", "professional", "calm"} {
		add(f("users create: uiStyle "+s, owner, create(u, with(userDoc(), "uiStyle", s)), allow))
	}
	for _, fa := range model.FocusAreas {
		add(f("users create: focusArea "+string(fa), owner, create(u, with(userDoc(), "focusArea", string(fa))), allow))
	}
	for _, c := range []struct {
		name  string
		field string
		value any
		ok    bool
	}{
		{"uiStyle unknown", "uiStyle", "neon", deny},
		{"uiStyle number", "uiStyle", 1, deny},
		{"focusArea unknown", "focusArea", "money", deny},
		{"timeCommitment 0", "timeCommitment", 0, allow},
		{"timeCommitment 600", "timeCommitment", 600, allow},
		{"timeCommitment 601", "timeCommitment", 601, deny},
		{"timeCommitment negative", "timeCommitment", -1, deny},
		{"timeCommitment string", "timeCommitment", "15", deny},
		{"timeCommitment float", "timeCommitment", 15.5, deny},
		{"insightHour 0", "insightHour", 0, allow},
		{"insightHour 23", "insightHour", 23, allow},
		{"insightHour 24", "insightHour", 24, deny},
		{"insightHour negative", "insightHour", -1, deny},
		{"insightHour float", "insightHour", 7.5, deny},
		{"birthDate day-first", "birthDate", "15/05/1990", deny},
		{"birthDate month 13", "birthDate", "1990-13-01", deny},
		{"birthDate number", "birthDate", 19900515, deny},
		{"birthDate null", "birthDate", nil, allow},
		{"birthTime 24:00", "birthTime", "24:00", deny},
		{"birthTime one digit hour", "birthTime", "7:30", deny},
		{"birthTime 23:59", "birthTime", "23:59", allow},
		{"birthLocation 200 chars", "birthLocation", strN(200), allow},
		{"birthLocation 201 chars", "birthLocation", strN(201), deny},
		{"displayName 101 chars", "displayName", strN(101), deny},
		{"preferredPronouns 41 chars", "preferredPronouns", strN(41), deny},
		{"locale 36 chars", "locale", "sv-" + strN(33), deny},
		{"locale malformed", "locale", "not a locale!", deny},
		{"timeZone deep", "timeZone", "America/Argentina/Buenos_Aires", allow},
		{"timeZone Etc offset", "timeZone", "Etc/GMT+1", allow},
		{"timeZone 65 chars", "timeZone", "Europe/" + strN(58), deny},
		{"timeZone injection", "timeZone", "Europe/Stockholm; x", deny},
		{"answers 200", "answers", listN(200), allow},
		{"answers 201", "answers", listN(201), deny},
		{"answers string", "answers", "Draining", deny},
		{"insightsOptIn string", "insightsOptIn", "yes", deny},
		{"unknown field role", "role", "admin", deny},
		{"unknown field coach", "coach", true, deny},
		{"userId spoofed", "userId", "bob", deny},
		{"userId missing", "userId", deleteField, deny},
		{"createdAt in the past", "createdAt", past, deny},
		{"createdAt by client clock", "createdAt", clientNow, deny},
		{"createdAt missing", "createdAt", deleteField, deny},
		{"updatedAt request time", "updatedAt", reqTime, allow},
		{"updatedAt in the past", "updatedAt", past, deny},
		{"phoneNumber without verified token", "phoneNumber", "+46701234567", deny},
	} {
		add(f("users create: "+c.name, owner, create(u, with(userDoc(), c.field, c.value)), c.ok))
	}
	phone := map[string]any{"phone_number": "+46701234567"}
	add(withClaims("users create: phoneNumber verified by Auth", owner, phone,
		create(u, with(userDoc(), "phoneNumber", "+46701234567")), allow))
	add(withClaims("users create: phoneNumber other than verified", owner, phone,
		create(u, with(userDoc(), "phoneNumber", "+46700000000")), deny))
	add(withClaims("users create: phoneNumber not E.164", owner, map[string]any{"phone_number": "0701234567"},
		create(u, with(userDoc(), "phoneNumber", "0701234567")), deny))
	add(f("users create: for another uid", owner, create("users/bob", with(userDoc(), "userId", "bob")), deny))

	for _, c := range []struct {
		name string
		p    doc
		ok   bool
	}{
		{"birthDate", patch("birthDate", "1991-01-31"), allow},
		{"birthTime", patch("birthTime", "06:05"), allow},
		{"birthLocation", patch("birthLocation", "Malmö, Sweden"), allow},
		{"uiStyle", patch("uiStyle", "professional"), allow},
		{"focusArea", patch("focusArea", "sleep"), allow},
		{"timeCommitment", patch("timeCommitment", 30), allow},
		{"answers", patch("answers", []any{doc{"questionId": "q2", "answer": 3}}), allow},
		{"preferredPronouns", patch("preferredPronouns", "they/them"), allow},
		{"locale", patch("locale", "en-GB"), allow},
		{"timeZone", patch("timeZone", "Europe/London"), allow},
		{"insightsOptIn", patch("insightsOptIn", false), allow},
		{"insightHour", patch("insightHour", 6), allow},
		{"remove displayName", patch("displayName", deleteField), allow},
		{"updatedAt request time", patch("updatedAt", reqTime), allow},
		{"updatedAt in the past", patch("updatedAt", past), deny},
		{"focusArea unknown", patch("focusArea", "money"), deny},
		{"timeCommitment 601", patch("timeCommitment", 601), deny},
		{"insightHour string", patch("insightHour", "7"), deny},
		{"userId", patch("userId", "bob"), deny},
		{"createdAt to request time", patch("createdAt", reqTime), deny},
		{"createdAt to the past", patch("createdAt", past), deny},
		{"unknown field", patch("isAdmin", true), deny},
		{"phoneNumber unverified", patch("phoneNumber", "+46709999999"), deny},
	} {
		add(f("users update: "+c.name, owner, update(u, c.p), c.ok))
	}
	add(f("users update: another user's profile", other, update(u, patch("displayName", "Hacked")), deny))
	add(f("users update: the assigned coach", coach, update(u, patch("focusArea", "sleep")), deny))

	// ---------------- user_activations: owner create ----------------
	ua := "user_activations/ua-new"
	e := entryDoc("ua-new")
	add(f("journal create: valid", owner, create(ua, e), allow))
	for _, c := range []struct {
		name  string
		field string
		value any
		ok    bool
	}{
		{"status in_progress", "status", "in_progress", allow},
		{"status completed", "status", "completed", allow},
		{"status skipped", "status", "skipped", allow},
		{"status assigned (only coaches assign)", "status", "assigned", deny},
		{"status unknown", "status", "done", deny},
		{"log.aiAnalysis forged", "log.aiAnalysis", doc{"sentimentScore": 1.0, "crisis": false}, deny},
		{"log.aiAnalysis null", "log.aiAnalysis", nil, allow},
		{"no log", "log", deleteField, allow},
		{"assignedBy a coach", "assignedBy", "carol", deny},
		{"userId spoofed", "userId", "bob", deny},
		{"userActivationId not the document id", "userActivationId", "other", deny},
		{"activationId empty", "activationId", "", deny},
		{"log.text 10000 chars", "log.text", strN(10000), allow},
		{"log.text 10001 chars", "log.text", strN(10001), deny},
		{"log.text number", "log.text", 42, deny},
		{"log.rating 5", "log.rating", 5, allow},
		{"log.rating 6", "log.rating", 6, deny},
		{"log.rating 0", "log.rating", 0, deny},
		{"log.rating string", "log.rating", "5", deny},
		{"log.moodBefore 41 chars", "log.moodBefore", strN(41), deny},
		{"log.audioUrl", "log.audioUrl", "gs://bucket/a.m4a", allow},
		{"log.videoUrl 2049 chars", "log.videoUrl", strN(2049), deny},
		{"log unknown key", "log.mood", "calm", deny},
		{"unknown field", "score", 3, deny},
		{"feedbackForCoach", "feedbackForCoach", "Loved it.", allow},
		{"feedbackForCoach 2001 chars", "feedbackForCoach", strN(2001), deny},
		{"shareWithCoach string", "shareWithCoach", "yes", deny},
		{"shareWithCoach true", "shareWithCoach", true, allow},
		{"privateNote unshared", "log.privateNote", "only for me", allow},
		{"startedAt string", "startedAt", "yesterday", deny},
		{"completedAt timestamp", "completedAt", t0, allow},
		{"programId number", "programId", 7, deny},
		{"sessionId", "sessionId", "ls-carol", allow},
		{"createdAt in the past", "createdAt", past, deny},
		{"createdAt missing", "createdAt", deleteField, deny},
		{"updatedAt in the past", "updatedAt", past, deny},
	} {
		add(f("journal create: "+c.name, owner, create(ua, with(e, c.field, c.value)), c.ok))
	}
	add(f("journal create: shared with a private note", owner,
		create(ua, with(e, "shareWithCoach", true, "log.privateNote", "secret")), deny))
	add(f("journal create: for bob by alice", owner, create(ua, with(e, "userId", "bob")), deny))
	add(f("journal create: bob for himself", other, create(ua, with(e, "userId", "bob")), allow))

	// ---------------- user_activations: coach assignments ----------------
	as := "user_activations/ua-assign"
	a := assignmentDoc("ua-assign")
	add(f("assignment: carol assigns alice", coach, create(as, a), allow))
	add(f("assignment: carol assigns frank", coach, create(as, with(a, "userId", "frank")), allow))
	add(f("assignment: carol assigns bob (not her client)", coach, create(as, with(a, "userId", "bob")), deny))
	add(f("assignment: dave assigns alice (not his client)", stranger, create(as, with(a, "assignedBy", "dave")), deny))
	add(f("assignment: carol signs as dave", coach, create(as, with(a, "assignedBy", "dave")), deny))
	add(f("assignment: status in_progress", coach, create(as, with(a, "status", "in_progress")), deny))
	add(f("assignment: with journal text", coach, create(as, with(a, "log", doc{"text": "You felt calm."})), deny))
	add(f("assignment: pre-shared", coach, create(as, with(a, "shareWithCoach", true)), deny))
	add(f("assignment: pre-completed", coach, create(as, with(a, "completedAt", t0)), deny))
	add(f("assignment: feedbackForCoach", coach, create(as, with(a, "feedbackForCoach", "great")), deny))
	add(f("assignment: createdAt in the past", coach, create(as, with(a, "createdAt", past)), deny))
	add(withClaims("assignment: coach claim as a string", coach, map[string]any{"coach": "true"}, create(as, a), deny))
	add(f("assignment: user without claim, assigned doc", owner, create(as, with(a, "assignedBy", "alice", "userId", "frank")), deny))

	// ---------------- user_activations: updates ----------------
	p := "user_activations/ua-private"
	for _, c := range []struct {
		name string
		p    doc
		ok   bool
	}{
		{"complete", patch("status", "completed", "completedAt", reqTime, "updatedAt", reqTime), allow},
		{"rate", patch("log.rating", 4), allow},
		{"add private note", patch("log.privateNote", "for me"), allow},
		{"mood after", patch("log.moodAfter", "calm"), allow},
		{"forge log.aiAnalysis", patch("log.aiAnalysis", doc{"sentimentScore": -1.0, "crisis": true}), deny},
		{"change log.aiAnalysis.label", patch("log.aiAnalysis.label", "negative"), deny},
		{"delete log.aiAnalysis", patch("log.aiAnalysis", deleteField), deny},
		{"replace log without aiAnalysis", patch("log", doc{"text": "new"}), deny},
		{"set assignedBy", patch("assignedBy", "carol"), deny},
		{"give the entry to bob", patch("userId", "bob"), deny},
		{"change createdAt", patch("createdAt", reqTime), deny},
		{"change userActivationId", patch("userActivationId", "x"), deny},
		{"status to assigned", patch("status", "assigned"), deny},
		{"status unknown", patch("status", "paused"), deny},
		{"log.text 10001 chars", patch("log.text", strN(10001)), deny},
		{"updatedAt in the past", patch("updatedAt", past), deny},
		{"unknown field", patch("pinned", true), deny},
		{"share with a private note", patch("shareWithCoach", true, "log.privateNote", "secret"), deny},
	} {
		add(f("journal update: "+c.name, owner, update(p, c.p), c.ok))
	}
	add(f("journal update: private note on a shared entry", owner,
		update("user_activations/ua-shared", patch("log.privateNote", "secret")), deny))
	add(f("journal update: unshare", owner, update("user_activations/ua-shared", patch("shareWithCoach", false)), allow))
	add(f("journal update: start an assignment", owner,
		update("user_activations/ua-assigned", patch("status", "in_progress", "startedAt", reqTime)), allow))
	add(f("journal update: coach edits her assignment", coach,
		update("user_activations/ua-assigned", patch("activationId", "act-dave")), deny))
	add(f("journal update: coach edits a shared entry", coach,
		update("user_activations/ua-shared", patch("log.text", "rewritten")), deny))

	// ---------------- activations ----------------
	act := "activations/act-new"
	ad := activationDoc("act-new")
	for _, typ := range []string{"audio", "video", "text_prompt", "live_interaction", "physical_exercise"} {
		add(f("activations create: type "+typ, coach, create(act, with(ad, "type", typ)), allow))
	}
	for _, d := range []string{"beginner", "intermediate", "advanced"} {
		add(f("activations create: difficultyLevel "+d, coach, create(act, with(ad, "difficultyLevel", d)), allow))
	}
	for _, c := range []struct {
		name  string
		field string
		value any
		ok    bool
	}{
		{"type unknown", "type", "podcast", deny},
		{"difficultyLevel unknown", "difficultyLevel", "expert", deny},
		{"duration 0", "duration", 0, allow},
		{"duration negative", "duration", -1, deny},
		{"duration fractional", "duration", 1.5, deny},
		{"duration string", "duration", "10", deny},
		{"duration over a day", "duration", 1441, deny},
		{"title empty", "title", "", deny},
		{"title 200 chars", "title", strN(200), allow},
		{"title 201 chars", "title", strN(201), deny},
		{"description 5001 chars", "description", strN(5001), deny},
		{"tags 20", "tags", listN(20), allow},
		{"tags 21", "tags", listN(21), deny},
		{"requiredEquipment 21", "requiredEquipment", listN(21), deny},
		{"mediaUrl", "mediaUrl", "https://storage.example/a.mp3", allow},
		{"mediaUrl number", "mediaUrl", 5, deny},
		{"category empty", "category", "", deny},
		{"createdBy spoofed", "createdBy", "dave", deny},
		{"activationId not the document id", "activationId", "act-other", deny},
		{"unknown field", "featured", true, deny},
		{"createdAt in the past", "createdAt", past, deny},
		{"createdAt missing", "createdAt", deleteField, deny},
	} {
		add(f("activations create: "+c.name, coach, create(act, with(ad, c.field, c.value)), c.ok))
	}
	add(f("activations create: a user without the coach claim", owner, create(act, with(ad, "createdBy", "alice")), deny))
	add(withClaims("activations create: admin claim not true", owner, map[string]any{"admin": 1},
		create(act, with(ad, "createdBy", "alice")), deny))
	add(f("activations create: admin as herself", admin, create(act, with(ad, "createdBy", "erin")), allow))
	add(f("activations update: hand over to dave", coach, update("activations/act-carol", patch("createdBy", "dave")), deny))
	add(f("activations update: admin hands over to dave", admin, update("activations/act-carol", patch("createdBy", "dave")), allow))
	add(f("activations update: change id", coach, update("activations/act-carol", patch("activationId", "x")), deny))
	add(f("activations update: negative duration", coach, update("activations/act-carol", patch("duration", -5)), deny))
	add(f("activations update: change createdAt", coach, update("activations/act-carol", patch("createdAt", reqTime)), deny))

	// ---------------- programs ----------------
	pr := "programs/prog-new"
	pd := programDoc("prog-new")
	for _, cur := range []string{"SEK", "EUR", "USD", "NOK", "DKK", "GBP"} {
		add(f("programs create: currency "+cur, coach, create(pr, with(pd, "currency", cur)), allow))
	}
	for _, d := range []string{"beginner", "intermediate", "advanced"} {
		add(f("programs create: difficulty "+d, coach, create(pr, with(pd, "difficulty", d)), allow))
	}
	for _, c := range []struct {
		name string
		kv   []any
		ok   bool
	}{
		{"free (no price, no currency)", []any{"price", nil, "currency", nil}, allow},
		{"free (fields absent)", []any{"price", deleteField, "currency", deleteField}, allow},
		{"price 0", []any{"price", 0}, allow},
		{"price 0.0 (a float is never free)", []any{"price", 0.0}, deny},
		{"price 1 öre (below Stripe's 3 kr)", []any{"price", 1}, deny},
		{"price 2.99 kr", []any{"price", 299}, deny},
		{"price 3.00 kr", []any{"price", 300}, allow},
		{"price 0.49 EUR", []any{"price", 49, "currency", "EUR"}, deny},
		{"price 0.50 EUR", []any{"price", 50, "currency", "EUR"}, allow},
		{"price 0.30 GBP", []any{"price", 30, "currency", "GBP"}, allow},
		{"price 999 999.99 kr (Stripe's maximum)", []any{"price", 99999999}, allow},
		{"price 1 000 000.00 kr", []any{"price", 100000000}, deny},
		{"currency lower case", []any{"currency", "sek"}, deny},
		{"currency unknown", []any{"currency", "XXX"}, deny},
		{"price negative", []any{"price", -1}, deny},
		{"price fractional", []any{"price", 4.99}, deny},
		{"price string", []any{"price", "499"}, deny},
		{"price without currency", []any{"currency", nil}, deny},
		{"currency without price", []any{"price", nil}, deny},
		{"commissionBps", []any{"commissionBps", 1000}, deny},
		{"coachSplits", []any{"coachSplits", doc{"carol": 10000}}, deny},
		{"co-owned with dave", []any{"createdBy", []any{"carol", "dave"}}, deny},
		{"owned by dave", []any{"createdBy", []any{"dave"}}, deny},
		{"createdBy a string", []any{"createdBy", "carol"}, deny},
		{"createdBy empty", []any{"createdBy", []any{}}, deny},
		{"difficulty unknown", []any{"difficulty", "expert"}, deny},
		{"durationWeeks negative", []any{"durationWeeks", -1}, deny},
		{"durationWeeks 105", []any{"durationWeeks", 105}, deny},
		{"tags 21", []any{"tags", listN(21)}, deny},
		{"title 201 chars", []any{"title", strN(201)}, deny},
		{"modules not a list", []any{"modules", "week1"}, deny},
		{"programId not the document id", []any{"programId", "x"}, deny},
		{"unknown field", []any{"enrollmentCount", 1000}, deny},
		{"createdAt in the past", []any{"createdAt", past}, deny},
	} {
		add(f("programs create: "+c.name, coach, create(pr, with(pd, c.kv...)), c.ok))
	}
	add(f("programs create: admin sets commission", admin, create(pr, with(pd, "commissionBps", 1500)), allow))
	add(f("programs create: admin commission over 100 %", admin, create(pr, with(pd, "commissionBps", 10001)), deny))
	pc := "programs/prog-carol"
	for _, c := range []struct {
		name string
		as   actor
		p    doc
		ok   bool
	}{
		{"owner sets commissionBps", coach, patch("commissionBps", 0), deny},
		{"owner sets coachSplits", coach, patch("coachSplits", doc{"carol": 10000}), deny},
		{"owner adds a co-owner", coach, patch("createdBy", []any{"carol", "dave"}), deny},
		{"owner sets currency XXX", coach, patch("currency", "XXX"), deny},
		{"owner makes it free", coach, patch("price", nil, "currency", nil), allow},
		{"owner changes difficulty", coach, patch("difficulty", "advanced"), allow},
		{"admin sets commissionBps", admin, patch("commissionBps", 2000), allow},
		{"admin sets coachSplits", admin, patch("coachSplits", doc{"carol": 6000, "dave": 4000}, "createdBy", []any{"carol", "dave"}), allow},
		// Splits name only coaches of createdBy: the payouts reject a
		// program whose splits name anyone else (its sales go unpaid), and
		// a coach's erasure finds programs by createdBy alone.
		{"admin splits to a non-coach", admin, patch("coachSplits", doc{"carol": 6000, "dave": 4000}), deny},
		{"admin replaces the coach the splits name", admin, patch("createdBy", []any{"dave"}, "coachSplits", doc{"carol": 10000}), deny},
		{"admin replaces the coach and the splits", admin, patch("createdBy", []any{"dave"}, "coachSplits", doc{"dave": 10000}), allow},
		{"admin changes createdAt", admin, patch("createdAt", past), deny},
	} {
		add(f("programs update: "+c.name, c.as, update(pc, c.p), c.ok))
	}

	// ---------------- live_sessions ----------------
	ls := "live_sessions/ls-new"
	ld := liveDoc("ls-new")
	for _, st := range []string{"scheduled", "live", "completed", "cancelled"} {
		add(f("live create: status "+st, coach, create(ls, with(ld, "status", st)), allow))
	}
	for _, c := range []struct {
		name string
		kv   []any
		ok   bool
	}{
		{"status unknown", []any{"status", "paused"}, deny},
		{"ends before it starts", []any{"endTime", t1.Add(-time.Hour)}, deny},
		{"startTime string", []any{"startTime", "tomorrow"}, deny},
		{"hosted as dave", []any{"coachId", "dave"}, deny},
		{"with a reflection", []any{"reflections", []any{doc{"userId": "alice", "text": "x", "submittedAt": t0}}}, deny},
		{"with reflectionUserIds empty", []any{"reflectionUserIds", []any{}}, allow},
		{"with reflectionUserIds [alice]", []any{"reflectionUserIds", []any{"alice"}}, deny},
		{"with reflectionUserIds null", []any{"reflectionUserIds", nil}, deny},
		{"with reflectionUserIds a map", []any{"reflectionUserIds", doc{}}, deny},
		{"with her client alice", []any{"participants", []any{"alice"}}, allow},
		{"with bob (not her client)", []any{"participants", []any{"bob"}}, deny},
		{"with two participants", []any{"participants", []any{"alice", "frank"}}, deny},
		{"meetingUrl over http", []any{"meetingUrl", "http://meet.example/x"}, deny},
		{"meetingUrl null", []any{"meetingUrl", nil}, allow},
		{"maxParticipants 10", []any{"maxParticipants", 10}, allow},
		{"maxParticipants 0", []any{"maxParticipants", 0}, deny},
		{"maxParticipants 501", []any{"maxParticipants", 501}, deny},
		{"title empty", []any{"title", ""}, deny},
		{"liveSessionId not the document id", []any{"liveSessionId", "x"}, deny},
		{"unknown field", []any{"price", 100}, deny},
	} {
		add(f("live create: "+c.name, coach, create(ls, with(ld, c.kv...)), c.ok))
	}
	add(f("live create: a user without the coach claim", owner, create(ls, with(ld, "coachId", "alice")), deny))
	lc := "live_sessions/ls-carol"
	for _, c := range []struct {
		name string
		as   actor
		p    doc
		ok   bool
	}{
		{"host adds frank (her client)", coach, patch("participants", []any{"alice", "frank"}), allow},
		{"host adds bob (not her client)", coach, patch("participants", []any{"alice", "bob"}), deny},
		{"host adds frank twice", coach, patch("participants", []any{"alice", "frank", "frank"}), deny},
		{"host removes alice", coach, patch("participants", []any{}), allow},
		{"host goes live", coach, patch("status", "live"), allow},
		{"host sets status unknown", coach, patch("status", "paused"), deny},
		{"host hands over to dave", coach, patch("coachId", "dave"), deny},
		{"host writes a reflection", coach, reflects([]any{reflection("carol", "Good.")}, "carol"), deny},
		{"host sets reflectionUserIds empty", coach, patch("reflectionUserIds", []any{}), deny},
		{"host sets reflectionUserIds [alice]", coach, patch("reflectionUserIds", []any{"alice"}), deny},
		{"host sets meetingUrl http", coach, patch("meetingUrl", "http://x"), deny},
		{"alice reflects as bob", owner, reflects([]any{reflection("bob", "Hi")}, "alice"), deny},
		{"alice reflects as bob, listing bob", owner, reflects([]any{reflection("bob", "Hi")}, "bob"), deny},
		{"alice reflects with a past time", owner, reflects([]any{doc{"userId": "alice", "text": "Hi", "submittedAt": past}}, "alice"), deny},
		{"alice reflects an hour ahead", owner, reflects([]any{doc{"userId": "alice", "text": "Hi", "submittedAt": time.Now().Add(time.Hour)}}, "alice"), deny},
		{"alice reflects empty text", owner, reflects([]any{reflection("alice", "")}, "alice"), deny},
		{"alice reflects 300 chars", owner, reflects([]any{reflection("alice", strN(300))}, "alice"), allow},
		{"alice reflects 301 chars", owner, reflects([]any{reflection("alice", strN(301))}, "alice"), deny},
		{"alice reflects with an extra key", owner, reflects([]any{with(reflection("alice", "Hi"), "mood", "calm")}, "alice"), deny},
		{"alice reflects twice at once", owner, reflects([]any{reflection("alice", "a"), reflection("alice", "b")}, "alice"), deny},
		{"alice reflects and renames", owner, with(reflects([]any{reflection("alice", "a")}, "alice"), "title", "Mine"), deny},
		// reflectionUserIds: the append must add the author's own uid and
		// nothing else (the field is absent here: read as []).
		{"alice reflects without adding her uid", owner, patch("reflections", []any{reflection("alice", "Hi")}), deny},
		{"alice reflects with reflectionUserIds empty", owner, reflects([]any{reflection("alice", "Hi")}), deny},
		{"alice reflects adding bob's uid", owner, reflects([]any{reflection("alice", "Hi")}, "bob"), deny},
		{"alice reflects adding her uid and bob's", owner, reflects([]any{reflection("alice", "Hi")}, "alice", "bob"), deny},
		{"alice reflects adding her uid twice", owner, reflects([]any{reflection("alice", "Hi")}, "alice", "alice"), deny},
		{"alice reflects, reflectionUserIds a string", owner, patch("reflections", []any{reflection("alice", "Hi")}, "reflectionUserIds", "alice"), deny},
		{"alice adds her uid without reflecting", owner, patch("reflectionUserIds", []any{"alice"}), deny},
		{"alice leaves", owner, patch("participants", []any{}), allow},
		{"alice leaves adding her uid", owner, patch("participants", []any{}, "reflectionUserIds", []any{"alice"}), deny},
		{"alice brings bob", owner, patch("participants", []any{"alice", "bob"}), deny},
		{"bob reflects (not a participant)", other, reflects([]any{reflection("bob", "Hi")}, "bob"), deny},
		{"dave renames carol's session", stranger, patch("title", "Mine"), deny},
	} {
		add(f("live update: "+c.name, c.as, update(lc, c.p), c.ok))
	}
	lr := "live_sessions/ls-carol-reflected"
	add(f("live update: alice appends a second reflection", owner,
		update(lr, patch("reflections", []any{seedReflection(), reflection("alice", "More.")})), allow))
	// reflectionUserIds already holds alice: it may stay as it is (or be
	// sent again unchanged), never lose her or gain anyone else.
	for _, c := range []struct {
		name string
		as   actor
		p    doc
		ok   bool
	}{
		{"alice appends, resending her uid", owner, reflects([]any{seedReflection(), reflection("alice", "More.")}, "alice"), allow},
		{"alice appends and drops her uid", owner, reflects([]any{seedReflection(), reflection("alice", "More.")}), deny},
		{"alice appends and adds bob's uid", owner, reflects([]any{seedReflection(), reflection("alice", "More.")}, "alice", "bob"), deny},
		{"alice appends, reflectionUserIds deleted", owner,
			patch("reflections", []any{seedReflection(), reflection("alice", "More.")}, "reflectionUserIds", deleteField), deny},
		{"alice removes her uid", owner, patch("reflectionUserIds", []any{}), deny},
		{"alice leaves", owner, patch("participants", []any{}), allow},
		{"alice leaves and removes her uid", owner, patch("participants", []any{}, "reflectionUserIds", []any{}), deny},
		{"host removes alice", coach, patch("participants", []any{}), allow},
		{"host removes alice and her uid", coach, patch("participants", []any{}, "reflectionUserIds", []any{}), deny},
		{"host clears reflectionUserIds", coach, patch("reflectionUserIds", []any{}), deny},
		{"host adds frank to reflectionUserIds", coach, patch("reflectionUserIds", []any{"alice", "frank"}), deny},
		{"host deletes reflectionUserIds", coach, patch("reflectionUserIds", deleteField), deny},
	} {
		add(f("live update (reflected): "+c.name, c.as, update(lr, c.p), c.ok))
	}
	add(f("live update: alice rewrites her reflection", owner,
		update(lr, patch("reflections", []any{with(seedReflection(), "text", "Edited.")})), deny))
	add(f("live update: alice deletes her reflection", owner, update(lr, patch("reflections", []any{})), deny))
	add(f("live update: alice replaces history", owner,
		update(lr, patch("reflections", []any{reflection("alice", "x"), seedReflection()})), deny))

	// ---------------- consents ----------------
	cn := "consents/alice"
	for _, typ := range model.ConsentTypes {
		add(f("consents create: type "+string(typ), owner,
			create(cn, doc{"userId": "alice", "consentsGiven": []any{consentEntry(string(typ), "granted")}}), allow))
	}
	all6 := []any{}
	for _, typ := range model.ConsentTypes {
		all6 = append(all6, consentEntry(string(typ), "granted"))
	}
	sameTime := time.Now().UTC()
	for _, c := range []struct {
		name    string
		entries []any
		extra   []any
		ok      bool
	}{
		{"revoked entry", []any{consentEntry("marketing_emails", "revoked")}, nil, allow},
		{"six entries", all6, nil, allow},
		{"seven entries", append(append([]any{}, all6...), consentEntry("ai_analysis", "revoked")), nil, deny},
		{"no entries", []any{}, nil, deny},
		{"type unknown", []any{consentEntry("spam", "granted")}, nil, deny},
		{"status unknown", []any{consentEntry("privacy_policy", "maybe")}, nil, deny},
		{"agreedAt in the past", []any{with(consentEntry("privacy_policy", "granted"), "agreedAt", past)}, nil, deny},
		{"agreedAt an hour ahead", []any{with(consentEntry("privacy_policy", "granted"), "agreedAt", time.Now().Add(time.Hour))}, nil, deny},
		{"version empty", []any{with(consentEntry("privacy_policy", "granted"), "version", "")}, nil, deny},
		{"version 33 chars", []any{with(consentEntry("privacy_policy", "granted"), "version", strN(33))}, nil, deny},
		{"entry with ip", []any{with(consentEntry("privacy_policy", "granted"), "ip", "1.2.3.4")}, nil, deny},
		{"entry without status", []any{with(consentEntry("privacy_policy", "granted"), "status", deleteField)}, nil, deny},
		{"second entry bad", []any{consentEntry("privacy_policy", "granted"), consentEntry("spam", "granted")}, nil, deny},
		// list order decides, not agreedAt (TestConsentCreateAcrossTypesInTickOrder)
		{"second entry dated before the first", []any{consentEntry("ai_analysis", "granted"),
			with(consentEntry("ai_analysis", "revoked"), "agreedAt", time.Now().Add(-2*time.Minute))}, nil, allow},
		{"second type dated before the first", []any{consentEntry("terms_of_service", "granted"),
			with(consentEntry("privacy_policy", "granted"), "agreedAt", time.Now().Add(-20*time.Second))}, nil, allow},
		{"second entry dated after the first", []any{with(consentEntry("ai_analysis", "granted"), "agreedAt", time.Now().Add(-2*time.Minute)),
			consentEntry("ai_analysis", "revoked")}, nil, allow},
		{"two entries dated alike", []any{with(consentEntry("ai_analysis", "granted"), "agreedAt", sameTime),
			with(consentEntry("ai_analysis", "revoked"), "agreedAt", sameTime)}, nil, allow},
		{"current set by the client", []any{consentEntry("privacy_policy", "granted")}, []any{"current", doc{}}, deny},
		{"userId spoofed", []any{consentEntry("privacy_policy", "granted")}, []any{"userId", "bob"}, deny},
	} {
		d := with(doc{"userId": "alice", "consentsGiven": c.entries}, c.extra...)
		add(f("consents create: "+c.name, owner, create(cn, d), c.ok))
	}
	add(f("consents create: for bob", owner, create("consents/bob",
		doc{"userId": "bob", "consentsGiven": []any{consentEntry("privacy_policy", "granted")}}), deny))
	old := seedConsent()
	for _, c := range []struct {
		name string
		p    doc
		ok   bool
	}{
		{"append a revocation", patch("consentsGiven", []any{old, consentEntry("terms_of_service", "revoked")}), allow},
		{"append dated 4 min ago", patch("consentsGiven", []any{old, with(consentEntry("terms_of_service", "revoked"), "agreedAt", time.Now().Add(-4*time.Minute))}), allow},
		{"append dated 6 min ago", patch("consentsGiven", []any{old, with(consentEntry("terms_of_service", "revoked"), "agreedAt", time.Now().Add(-6*time.Minute))}), deny},
		{"append ai_analysis", patch("consentsGiven", []any{old, consentEntry("ai_analysis", "granted")}), allow},
		{"append unknown type", patch("consentsGiven", []any{old, consentEntry("spam", "granted")}), deny},
		{"append with a past time", patch("consentsGiven", []any{old, with(consentEntry("ai_analysis", "granted"), "agreedAt", past)}), deny},
		{"append two", patch("consentsGiven", []any{old, consentEntry("ai_analysis", "granted"), consentEntry("sensitive_data", "granted")}), deny},
		{"rewrite history", patch("consentsGiven", []any{with(old, "status", "revoked"), consentEntry("ai_analysis", "granted")}), deny},
		{"backdate history", patch("consentsGiven", []any{with(old, "agreedAt", past), consentEntry("ai_analysis", "granted")}), deny},
		{"drop history", patch("consentsGiven", []any{consentEntry("ai_analysis", "granted")}), deny},
		{"prepend instead of append", patch("consentsGiven", []any{consentEntry("ai_analysis", "granted"), old}), deny},
		{"empty history", patch("consentsGiven", []any{}), deny},
		{"set current", patch("current", doc{"ai_analysis": old}), deny},
		{"change userId", patch("userId", "bob"), deny},
	} {
		add(f("consents update: "+c.name, owner, update(cn, c.p), c.ok))
	}
	add(f("consents update: bob appends to alice's", other,
		update(cn, patch("consentsGiven", []any{old, consentEntry("ai_analysis", "granted")})), deny))

	// ---------------- notifications ----------------
	n := "users/alice/notifications/n1"
	add(f("notifications update: readAt in the past", owner, update(n, patch("readAt", past)), deny))
	add(f("notifications update: readAt by client clock", owner, update(n, patch("readAt", clientNow)), deny))
	add(f("notifications update: retitle", owner, update(n, patch("title", "Changed")), deny))
	add(f("notifications update: read and retitle", owner, update(n, patch("readAt", reqTime, "title", "Changed")), deny))

	// ---------------- coach_profiles ----------------
	cp := "coach_profiles/carol"
	pdoc := doc{"coachId": "carol", "displayName": "Carol", "bio": "Hi"}
	for _, c := range []struct {
		name string
		kv   []any
		ok   bool
	}{
		{"without bio", []any{"bio", deleteField}, allow},
		{"stripeAccountId", []any{"stripeAccountId", "acct_x"}, deny},
		{"payoutsEnabled", []any{"payoutsEnabled", true}, deny},
		{"payoutsReason", []any{"payoutsReason", ""}, deny},
		{"accountUpdatedAt", []any{"accountUpdatedAt", reqTime}, deny},
		{"carryForward", []any{"carryForward", doc{"SEK": 0}}, deny},
		{"displayName empty", []any{"displayName", ""}, deny},
		{"displayName 101 chars", []any{"displayName", strN(101)}, deny},
		{"bio 2001 chars", []any{"bio", strN(2001)}, deny},
		{"coachId spoofed", []any{"coachId", "dave"}, deny},
	} {
		add(f("coach_profiles create: "+c.name, coach, create(cp, with(pdoc, c.kv...)), c.ok))
	}
	add(f("coach_profiles create: a user without the claim", owner,
		create("coach_profiles/alice", with(pdoc, "coachId", "alice")), deny))
	for _, c := range []struct {
		name string
		p    doc
		ok   bool
	}{
		{"displayName", patch("displayName", "Coach Carol"), allow},
		{"clear bio", patch("bio", nil), allow},
		{"disable payouts", patch("payoutsEnabled", false), deny},
		{"stripeAccountId", patch("stripeAccountId", "acct_evil"), deny},
		{"payoutsReason", patch("payoutsReason", "ok"), deny},
		{"accountUpdatedAt", patch("accountUpdatedAt", reqTime), deny},
		{"carryForward", patch("carryForward", doc{"SEK": 0}), deny},
		{"displayName 101 chars", patch("displayName", strN(101)), deny},
	} {
		add(f("coach_profiles update: "+c.name, coach, update(cp, c.p), c.ok))
	}
	return cs
}

// TestServerSamplesCoverModel keeps the server-field cases in step with
// the model: every server-owned user field has a denied create and update.
func TestServerSamplesCoverModel(t *testing.T) {
	for _, k := range model.UserServerFields {
		if _, ok := serverSamples[k]; !ok {
			t.Errorf("no sample for server-owned users.%s: add one to serverSamples", k)
		}
	}
	if len(serverSamples) != len(model.UserServerFields) {
		t.Errorf("serverSamples has %d fields, model.UserServerFields %d", len(serverSamples), len(model.UserServerFields))
	}
}

// TestRulesKeyListsMatchModel checks that the closed key lists of
// firestore.rules are the model's: users' client fields, and that no
// server-owned field appears in any client key list.
func TestRulesKeyListsMatchModel(t *testing.T) {
	b := rulesSource(t)
	lists := map[string][]string{}
	re := regexp.MustCompile(`(?s)function (\w+Keys)\(\) \{\s*return \[(.*?)\];`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		var keys []string
		for _, k := range strings.Split(m[2], ",") {
			keys = append(keys, strings.Trim(strings.TrimSpace(k), "'"))
		}
		lists[m[1]] = keys
	}
	want := map[string][]string{
		"userClientKeys":  model.UserClientFields,
		"uaKeys":          firestoreNames(model.UserActivation{}),
		"activationKeys":  firestoreNames(model.Activation{}),
		"programKeys":     firestoreNames(model.Program{}),
		"liveSessionKeys": firestoreNames(model.LiveSession{}),
		// The public coach profile holds no server-owned field: the
		// Connect state is model.CoachConnect under private/connect.
		"coachProfileKeys": firestoreNames(model.CoachProfile{}),
	}
	for name, w := range want {
		got := append([]string(nil), lists[name]...)
		w = append([]string(nil), w...)
		sort.Strings(got)
		sort.Strings(w)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("firestore.rules %s() = %v, model has %v", name, got, w)
		}
	}
	for _, s := range firestoreNames(model.CoachConnect{}) {
		if s != "coachId" && slices.Contains(lists["coachProfileKeys"], s) {
			t.Errorf("server-owned Connect field %s is in coachProfileKeys", s)
		}
	}
	for _, s := range model.UserServerFields {
		for _, c := range lists["userClientKeys"] {
			if c == s {
				t.Errorf("server-owned users.%s is in userClientKeys", s)
			}
		}
	}
}

// firestoreNames lists the firestore tag names of a model struct.
func firestoreNames(v any) []string {
	typ := reflect.TypeOf(v)
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		out = append(out, strings.Split(typ.Field(i).Tag.Get("firestore"), ",")[0])
	}
	return out
}

// TestEveryModelCollectionHasRules checks that each collection the model
// declares (Col… and SubCol… constants in shared/model) has a match block
// in firestore.rules, so a new collection cannot stay covered only by the
// default deny without a decision.
func TestEveryModelCollectionHasRules(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	rules := rulesSource(t)
	files, err := filepath.Glob(filepath.Join(root, "shared", "model", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s*(?:Sub)?Col\w+\s*=\s*"(\w+)"`)
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			n++
			if !strings.Contains(string(rules), "match /"+m[1]+"/") {
				t.Errorf("collection %s (%s) has no match block in firestore.rules", m[1], filepath.Base(file))
			}
		}
	}
	if n < 20 {
		t.Errorf("found only %d collection constants in shared/model", n)
	}
}

// TestRulesMinChargeMatchesModel: the rules' minCharge table (the smallest
// price a program may have) is model.MinCharge, and its maximum
// model.MaxCharge, which the checkout callable checks too.
func TestRulesMinChargeMatchesModel(t *testing.T) {
	b := rulesSource(t)
	m := regexp.MustCompile(`(?s)function minCharge\(c\) \{\s*return \{(.*?)\}\.get\(c, 0\);`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no minCharge function in firestore.rules")
	}
	got := map[string]int64{}
	for _, kv := range strings.Split(string(m[1]), ",") {
		k, v, _ := strings.Cut(kv, ":")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			t.Fatalf("minCharge entry %q: %v", kv, err)
		}
		got[strings.Trim(strings.TrimSpace(k), "'")] = n
	}
	if !reflect.DeepEqual(got, model.MinCharge) {
		t.Errorf("rules minCharge %v, model.MinCharge %v", got, model.MinCharge)
	}
	if !strings.Contains(string(b), fmt.Sprintf("minCharge(d.currency), %d)", model.MaxCharge)) {
		t.Errorf("chargeablePrice's maximum is not model.MaxCharge (%d)", model.MaxCharge)
	}
}

// rulesSource returns the text of the repository's firestore.rules.
func rulesSource(t *testing.T) []byte {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "firestore.rules"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
