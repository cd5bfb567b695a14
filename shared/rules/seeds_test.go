package rules

import "time"

// Fixed times of the seed data (whole seconds, so that documents read
// back and re-sent compare equal).
var (
	t0   = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	t1   = time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	past = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
)

// seedConsent is the one entry of consents/alice.
func seedConsent() doc {
	return doc{"type": "terms_of_service", "version": "v1", "agreedAt": t0, "status": "granted"}
}

// seedReflection is the one reflection of live_sessions/ls-carol-reflected.
func seedReflection() doc {
	return doc{"userId": "alice", "text": "Great energy today.", "submittedAt": t0}
}

// seedDocs is the world every case starts from, written with the Admin
// client (rules do not apply to it).
func seedDocs() map[string]doc {
	user := func(uid string) doc {
		return doc{"userId": uid, "createdAt": t0, "displayName": uid, "timeZone": "Europe/Stockholm"}
	}
	ua := func(id, uid string, kv ...any) doc {
		d := doc{"userActivationId": id, "userId": uid, "activationId": "act-carol", "programId": nil,
			"assignedBy": nil, "startedAt": t0, "completedAt": nil, "status": "in_progress",
			"log": doc{"text": "Private words about my day.", "audioUrl": nil, "videoUrl": nil, "moodBefore": "stressed",
				"moodAfter": nil, "rating": nil,
				"aiAnalysis": doc{"sentimentScore": 0.4, "label": "positive", "keyThemes": []any{"calm"}, "crisis": false}},
			"sessionId": nil, "shareWithCoach": false, "createdAt": t0}
		return with(d, kv...)
	}
	live := func(id, coachID string, participants []any, reflections []any) doc {
		return doc{"liveSessionId": id, "title": "Weekly check-in", "activationId": nil, "programId": "prog-carol",
			"coachId": coachID, "participants": participants, "startTime": t1, "endTime": t1.Add(time.Hour),
			"status": "scheduled", "meetingUrl": "https://meet.example/abc", "reflections": reflections}
	}
	payment := func(id, uid string) doc {
		return doc{"paymentId": id, "userId": uid, "amount": 49900, "currency": "SEK", "paymentDate": t0,
			"status": "succeeded", "processor": "stripe", "processorPaymentId": "pi_" + id, "description": "Program",
			"programId": "prog-carol", "subscriptionId": nil, "sourceUpdated": t0, "createdAt": t0, "updatedAt": t0}
	}
	payout := func(id, coachID string) doc {
		return doc{"payoutId": id, "coachId": coachID, "amount": 40000, "currency": "SEK", "payoutDate": t0,
			"status": "completed", "processor": "stripe_connect", "processorPayoutId": nil, "fortnoxReference": nil,
			"relatedPaymentIds": []any{"pay-alice"}, "createdAt": t0, "updatedAt": t0}
	}
	activation := func(id, by string) doc {
		return doc{"activationId": id, "title": "Morning awareness", "type": "audio", "description": "A guided meditation.",
			"duration": 10, "mediaUrl": nil, "category": "mindfulness", "createdBy": by, "createdAt": t0}
	}
	program := func(id, by string) doc {
		return doc{"programId": id, "title": "Unlock your potential", "description": "Four weeks.", "durationWeeks": 4,
			"createdBy": []any{by}, "modules": []any{}, "difficulty": "beginner", "category": "wellbeing",
			"tags": []any{"mindfulness"}, "price": 49900, "currency": "SEK", "createdAt": t0}
	}
	return map[string]doc{
		"users/alice": with(user("alice"),
			"birthDate", "1990-05-15", "birthTime", "14:30", "birthLocation", "Stockholm, Sweden",
			"phoneNumber", "+46701234567", "uiStyle", "calm", "focusArea", "stress_relief", "timeCommitment", 15,
			"answers", []any{doc{"questionId": "q1", "answer": "Draining"}}, "insightsOptIn", true, "insightHour", 7,
			"personalityType", doc{"traits": []any{"introvert"}, "astroSign": "Taurus", "lifePathNumber": 3},
			"neuroTendencies", doc{"adhdScore": 3, "autismScore": 2},
			"wellbeingFlags", doc{"depressionRisk": false, "suicideRisk": false},
			"progressLevel", 1, "insightDueAt", t1),
		"users/bob":   user("bob"),
		"users/carol": user("carol"),
		"users/dave":  user("dave"),
		"users/erin":  user("erin"),
		"users/frank": user("frank"),

		"users/alice/coaches/carol": {"coachId": "carol", "userId": "alice", "source": "enrollment",
			"sourceId": "prog-carol", "createdAt": t0},
		"users/frank/coaches/carol": {"coachId": "carol", "userId": "frank", "source": "admin", "createdAt": t0},
		"users/alice/daily_insights/2026-11-01": {"userId": "alice", "date": "2026-11-01", "headline": "A day to begin",
			"content": "…", "personalDayNumber": 1, "kind": "numerology", "createdAt": t0},
		"users/alice/notifications/n1": {"userId": "alice", "kind": "assignment", "title": "New activation",
			"body": "Your coach assigned an activation.", "createdAt": t0, "readAt": nil},
		"users/alice/private/state": {"verificationAttempts": 0},

		"client_profiles/alice": {"userId": "alice", "displayName": "alice", "focusArea": "stress_relief",
			"coachIds": []any{"carol"}, "updatedAt": t0},
		"client_profiles/bob":  {"userId": "bob", "displayName": "bob", "coachIds": []any{}, "updatedAt": t0},
		"coach_profiles/carol": {"coachId": "carol", "displayName": "Carol", "bio": "Coach."},
		"coach_profiles/dave":  {"coachId": "dave", "displayName": "Dave"},
		"coach_profiles/carol/private/connect": {"coachId": "carol", "stripeAccountId": "acct_carol", "payoutsEnabled": true,
			"payoutsReason": "", "accountUpdatedAt": t0},

		"activations/act-carol": activation("act-carol", "carol"),
		"activations/act-dave":  activation("act-dave", "dave"),
		"programs/prog-carol":   program("prog-carol", "carol"),
		"programs/prog-dave":    program("prog-dave", "dave"),

		"user_activations/ua-private": ua("ua-private", "alice"),
		"user_activations/ua-shared":  ua("ua-shared", "alice", "shareWithCoach", true, "status", "completed", "completedAt", t0),
		"user_activations/ua-assigned": ua("ua-assigned", "alice", "assignedBy", "carol", "status", "assigned",
			"startedAt", nil, "log", nil),
		"user_activations/ua-assigned-shared": ua("ua-assigned-shared", "alice", "assignedBy", "carol",
			"status", "completed", "shareWithCoach", true),
		"user_activations/ua-bob-shared":  ua("ua-bob-shared", "bob", "shareWithCoach", true),
		"user_activations/ua-dave-shared": ua("ua-dave-shared", "alice", "assignedBy", "dave", "shareWithCoach", true),

		// ls-carol has no reflectionUserIds, like a session written
		// before the field existed; ls-carol-reflected has alice's.
		"live_sessions/ls-carol": live("ls-carol", "carol", []any{"alice"}, []any{}),
		"live_sessions/ls-carol-reflected": with(live("ls-carol-reflected", "carol", []any{"alice"}, []any{seedReflection()}),
			"reflectionUserIds", []any{"alice"}),
		"live_sessions/ls-dave": live("ls-dave", "dave", []any{"bob"}, []any{}),

		"consents/alice": {"userId": "alice", "consentsGiven": []any{seedConsent()},
			"current": doc{"terms_of_service": seedConsent()}},
		"consents/bob": {"userId": "bob", "consentsGiven": []any{seedConsent()}},

		"sessions/s1": {"sessionId": "s1", "userId": "alice", "type": "phone_verification",
			"data": doc{"codeHash": "x"}, "createdAt": t0, "expiresAt": t1},

		"payments/pay-alice":           payment("pay-alice", "alice"),
		"payments/pay-bob":             payment("pay-bob", "bob"),
		"payouts/po-carol":             payout("po-carol", "carol"),
		"payouts/po-dave":              payout("po-dave", "dave"),
		"enrollments/alice_prog-carol": {"userId": "alice", "programId": "prog-carol", "coachIds": []any{"carol"}, "status": "active", "createdAt": t0, "updatedAt": t0},
		"subscriptions/sub_alice":      {"subscriptionId": "sub_alice", "userId": "alice", "customerId": "cus_alice", "status": "active", "currentPeriodEnd": t1, "updatedAt": t0},
		"payout_allocations/pay-alice": {"paymentId": "pay-alice", "programId": "prog-carol", "currency": "SEK", "net": 49900, "open": []any{"carol"}},
		"server_private/fortnox-token": {"refreshToken": "secret"},
		"billing_plans/premium":        {"planId": "premium", "title": "Premium", "stripePriceId": "price_1", "entitlements": []any{"premium"}, "active": true},
		"stripe_customers/cus_alice":   {"customerId": "cus_alice", "userId": "alice", "createdAt": t0},
		"webhook_events/evt_1":         {"eventId": "evt_1", "type": "payment_intent.succeeded", "created": t0, "status": "processed", "expiresAt": t1},
		"wellbeing_events/we1":         {"eventId": "we1", "userId": "alice", "source": "screening", "trigger": doc{"instrument": "phq2"}, "ruleVersion": "1", "episodeId": "ep1", "createdAt": t0},
		"gdpr_requests/gr-alice":       {"requestId": "gr-alice", "userId": "alice", "kind": "export", "status": "pending", "requestedBy": "alice", "receivedAt": t0, "dueAt": t1, "updatedAt": t0},
		"audit_log/a1":                 {"action": "export", "subjectHash": "h", "actor": "system", "createdAt": t0, "expiresAt": t1},
		"processed_events/profile:e1":  {"handler": "profile", "eventId": "e1", "processedAt": t0, "expiresAt": t1},
		"jobs/payouts":                 {"name": "payouts", "checkpoint": doc{}, "updatedAt": t0},
		"crisis_resources/sv-SE":       {"locale": "sv-SE", "resources": []any{doc{"name": "Mind Självmordslinjen", "phone": "90101"}}, "validFrom": "2026-11-01"},
	}
}

// ---------------------------------------------------------------------
// valid client documents, the starting point of the field-level cases
// ---------------------------------------------------------------------

// userDoc is a valid users/alice created by alice.
func userDoc() doc {
	return doc{"userId": "alice", "birthDate": "1990-05-15", "birthTime": "14:30", "birthLocation": "Stockholm, Sweden",
		"createdAt": reqTime, "uiStyle": "calm", "focusArea": "stress_relief", "timeCommitment": 15,
		"answers": []any{doc{"questionId": "q1", "answer": "Draining"}}, "displayName": "Alice",
		"preferredPronouns": "she/her", "locale": "sv-SE", "timeZone": "Europe/Stockholm",
		"insightsOptIn": true, "insightHour": 7}
}

// entryDoc is a valid journal entry alice creates for herself.
func entryDoc(id string) doc {
	return doc{"userActivationId": id, "userId": "alice", "activationId": "act-carol", "programId": nil,
		"assignedBy": nil, "startedAt": t0, "completedAt": nil, "status": "in_progress",
		"log": doc{"text": "Felt calm afterwards.", "audioUrl": nil, "videoUrl": nil, "moodBefore": "stressed",
			"moodAfter": "calm", "rating": 4, "aiAnalysis": nil},
		"sessionId": nil, "shareWithCoach": false, "createdAt": reqTime}
}

// assignmentDoc is a valid assignment carol makes for alice.
func assignmentDoc(id string) doc {
	return doc{"userActivationId": id, "userId": "alice", "activationId": "act-carol", "programId": "prog-carol",
		"assignedBy": "carol", "startedAt": nil, "completedAt": nil, "status": "assigned", "sessionId": nil,
		"createdAt": reqTime}
}

// activationDoc is a valid activation carol creates.
func activationDoc(id string) doc {
	return doc{"activationId": id, "title": "Box breathing", "type": "audio", "description": "Four by four.",
		"duration": 5, "mediaUrl": nil, "category": "stress_reduction", "createdBy": "carol",
		"difficultyLevel": "beginner", "tags": []any{"breath"}, "createdAt": reqTime}
}

// programDoc is a valid program carol creates.
func programDoc(id string) doc {
	return doc{"programId": id, "title": "Four calm weeks", "description": "A program.", "durationWeeks": 4,
		"createdBy": []any{"carol"},
		"modules": []any{doc{"moduleId": "week1", "title": "Foundation", "activations": []any{
			doc{"activationId": "act-carol", "day": 1, "isOptional": false}}}},
		"difficulty": "beginner", "category": "wellbeing", "tags": []any{"calm"}, "price": 49900, "currency": "SEK",
		"createdAt": reqTime}
}

// liveDoc is a valid live session carol creates.
func liveDoc(id string) doc {
	return doc{"liveSessionId": id, "title": "Group check-in", "activationId": nil, "programId": "prog-carol",
		"coachId": "carol", "participants": []any{}, "startTime": t1, "endTime": t1.Add(time.Hour),
		"status": "scheduled", "meetingUrl": "https://meet.example/xyz", "reflections": []any{}}
}

// consentEntry is a consent entry agreed now by the client's clock.
func consentEntry(typ, status string) doc {
	return doc{"type": typ, "version": "v1", "agreedAt": clientNow, "status": status}
}

// reflection is alice's reflection submitted now.
func reflection(uid, text string) doc {
	return doc{"userId": uid, "text": text, "submittedAt": clientNow}
}

// reflects is a participant's append to a live session as a client
// following the rules sends it: the whole reflections list and the
// author's uid added to reflectionUserIds (arrayUnion), here the resulting
// values.
func reflects(reflections []any, reflectionUserIDs ...any) doc {
	return patch("reflections", reflections, "reflectionUserIds", append([]any{}, reflectionUserIDs...))
}
