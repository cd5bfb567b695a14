package model

import (
	"reflect"
	"strings"
	"testing"
	"time"

	_ "time/tzdata"
)

// allTypes is every document type of the model.
var allTypes = []any{
	User{}, Answer{}, PersonalityType{}, NeuroTendencies{}, WellbeingFlags{}, BirthPlace{}, ProfileMeta{},
	ClientProfile{}, CoachAssignment{}, CoachProfile{}, CoachConnect{}, Activation{}, Program{}, Module{}, ModuleActivation{},
	UserActivation{}, JournalLog{}, AIAnalysis{}, MoodShift{}, CrisisDetails{}, LiveSession{}, SessionReflection{}, Session{},
	Consents{}, ConsentEntry{}, Payment{}, RefundDetails{}, Refund{}, Dispute{}, Payout{}, Period{},
	FortnoxVoucher{}, Enrollment{}, Subscription{}, StripeCustomer{}, WebhookEvent{}, WellbeingEvent{},
	CrisisResources{}, CrisisResource{}, DailyInsight{}, Transit{}, Notification{}, GDPRRequest{},
	AuditEntry{}, ProcessedEvent{}, Job{}, BillingPlan{}, BillingAccount{},
	FortnoxBooking{}, PayoutAllocation{}, AllocationEvent{}, AllocationEntry{}, CoachPayoutState{},
	ProgramTerms{},
}

// TestTagsAgree checks that every field has a firestore tag and that its
// json tag names the same field, so documents decode alike from the client
// and from event payloads.
func TestTagsAgree(t *testing.T) {
	for _, v := range allTypes {
		typ := reflect.TypeOf(v)
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			fs, js := f.Tag.Get("firestore"), f.Tag.Get("json")
			if fs == "" || js == "" {
				t.Errorf("%s.%s: missing firestore or json tag", typ.Name(), f.Name)
				continue
			}
			if strings.Split(fs, ",")[0] != strings.Split(js, ",")[0] {
				t.Errorf("%s.%s: firestore %q != json %q", typ.Name(), f.Name, fs, js)
			}
		}
	}
}

// TestSpecFieldNames pins the spec's field names (shared/spec/000).
func TestSpecFieldNames(t *testing.T) {
	spec := []struct {
		v     any
		names []string
	}{
		{User{}, []string{"userId", "birthDate", "birthTime", "birthLocation", "phoneNumber", "createdAt", "uiStyle",
			"focusArea", "timeCommitment", "personalityType", "neuroTendencies", "wellbeingFlags", "answers"}},
		{PersonalityType{}, []string{"traits", "astroSign", "lifePathNumber", "moonSign", "risingSign"}},
		{NeuroTendencies{}, []string{"adhdScore", "autismScore"}},
		{WellbeingFlags{}, []string{"depressionRisk", "suicideRisk"}},
		{Answer{}, []string{"questionId", "answer"}},
		{Activation{}, []string{"activationId", "title", "type", "description", "duration", "mediaUrl", "category", "createdBy"}},
		{UserActivation{}, []string{"userActivationId", "userId", "activationId", "programId", "assignedBy", "startedAt", "completedAt", "status", "log", "sessionId"}},
		{JournalLog{}, []string{"text", "audioUrl", "videoUrl", "moodBefore", "moodAfter", "rating", "aiAnalysis"}},
		{LiveSession{}, []string{"liveSessionId", "title", "activationId", "programId", "coachId", "participants", "startTime", "endTime", "status", "meetingUrl", "reflections"}},
		{SessionReflection{}, []string{"userId", "text", "submittedAt"}},
		{Consents{}, []string{"userId", "consentsGiven"}},
		{ConsentEntry{}, []string{"type", "version", "agreedAt", "status"}},
		{Session{}, []string{"sessionId", "userId", "type", "data", "createdAt"}},
		{Program{}, []string{"programId", "title", "description", "durationWeeks", "createdBy", "modules", "difficulty", "category", "tags", "price", "currency"}},
		{Module{}, []string{"moduleId", "title", "activations"}},
		{ModuleActivation{}, []string{"activationId", "day", "isOptional"}},
		{Payment{}, []string{"paymentId", "userId", "amount", "currency", "paymentDate", "status", "processor", "processorPaymentId", "description", "programId", "subscriptionId"}},
		{Payout{}, []string{"payoutId", "coachId", "amount", "currency", "payoutDate", "status", "processor", "processorPayoutId", "fortnoxReference", "relatedPaymentIds"}},
	}
	for _, e := range spec {
		v, names := e.v, e.names
		typ := reflect.TypeOf(v)
		have := map[string]reflect.Type{}
		for i := 0; i < typ.NumField(); i++ {
			have[strings.Split(typ.Field(i).Tag.Get("firestore"), ",")[0]] = typ.Field(i).Type
		}
		for _, n := range names {
			if _, ok := have[n]; !ok {
				t.Errorf("%s lacks spec field %q", typ.Name(), n)
			}
		}
	}
	// Money is integer minor units; timestamps are time.Time.
	for _, c := range []struct {
		v     any
		field string
		want  reflect.Type
	}{
		{Payment{}, "Amount", reflect.TypeOf(int64(0))},
		{Payout{}, "Amount", reflect.TypeOf(int64(0))},
		{Payment{}, "PaymentDate", reflect.TypeOf(time.Time{})},
		{User{}, "CreatedAt", reflect.TypeOf(time.Time{})},
	} {
		f, _ := reflect.TypeOf(c.v).FieldByName(c.field)
		if f.Type != c.want {
			t.Errorf("%T.%s is %v, want %v", c.v, c.field, f.Type, c.want)
		}
	}
}

func TestEnums(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
		got   bool
	}{
		{"activation audio", true, ActivationAudio.Valid()},
		{"activation bogus", false, ActivationType("podcast").Valid()},
		{"status completed", true, StatusCompleted.Valid()},
		{"status done", false, ActivationStatus("done").Valid()},
		{"live cancelled", true, LiveCancelled.Valid()},
		{"live paused", false, LiveSessionStatus("paused").Valid()},
		{"consent ai", true, ConsentAIAnalysis.Valid()},
		{"consent bogus", false, ConsentType("spam").Valid()},
		{"consent revoked", true, ConsentRevoked.Valid()},
		{"consent maybe", false, ConsentStatus("maybe").Valid()},
		{"payment refunded", true, PaymentRefunded.Valid()},
		{"payment lost", false, PaymentStatus("lost").Valid()},
		{"payout processing", true, PayoutProcessing.Valid()},
		{"payout sent", false, PayoutStatus("sent").Valid()},
		{"difficulty advanced", true, DifficultyAdvanced.Valid()},
		{"difficulty expert", false, Difficulty("expert").Valid()},
		{"focus career", true, FocusCareerGrowth.Valid()},
		{"focus money", false, FocusArea("money").Valid()},
		{"ui calm", true, UIStyleCalm.Valid()},
		{"ui dark", false, UIStyle("dark").Valid()},
		{"session phone", true, SessionPhoneVerification.Valid()},
		{"session other", false, SessionType("other").Valid()},
		{"assignment admin", true, AssignedByAdmin.Valid()},
		{"assignment self", false, AssignmentSource("self").Valid()},
		{"currency SEK", true, ValidCurrency("SEK")},
		{"currency sek", false, ValidCurrency("sek")},
		{"currency XXX", false, ValidCurrency("XXX")},
	}
	for _, tt := range tests {
		if tt.got != tt.valid {
			t.Errorf("%s: Valid = %v, want %v", tt.name, tt.got, tt.valid)
		}
	}
}

func TestUserValidate(t *testing.T) {
	hour := func(h int) *int { return &h }
	tests := []struct {
		name    string
		u       User
		wantErr string
	}{
		{"minimal", User{UserID: "u"}, ""},
		{"full", User{UserID: "u", BirthDate: "1990-05-15", BirthTime: "14:30", BirthLocation: "Stockholm, Sweden",
			UIStyle: UIStyleCalm, FocusArea: FocusStressRelief, TimeCommitment: 15, TimeZone: "Europe/Stockholm", InsightHour: hour(7)}, ""},
		{"no id", User{}, "userId"},
		{"bad date", User{UserID: "u", BirthDate: "1990-02-30"}, "birthDate"},
		{"bad date format", User{UserID: "u", BirthDate: "15/05/1990"}, "birthDate"},
		{"bad time", User{UserID: "u", BirthTime: "24:00"}, "birthTime"},
		{"bad style", User{UserID: "u", UIStyle: "neon"}, "uiStyle"},
		{"bad focus", User{UserID: "u", FocusArea: "money"}, "focusArea"},
		{"negative commitment", User{UserID: "u", TimeCommitment: -1}, "timeCommitment"},
		{"bad zone", User{UserID: "u", TimeZone: "Mars/Olympus"}, "timeZone"},
		{"bad hour", User{UserID: "u", InsightHour: hour(24)}, "insightHour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.u.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate = %v, want error about %q", err, tt.wantErr)
			}
		})
	}
}

func TestConsentGranted(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Consents{UserID: "u", ConsentsGiven: []ConsentEntry{
		{Type: ConsentAIAnalysis, Version: "v1", AgreedAt: t0, Status: ConsentGranted},
		{Type: ConsentMarketingEmails, Version: "v1", AgreedAt: t0, Status: ConsentGranted},
		{Type: ConsentMarketingEmails, Version: "v1", AgreedAt: t0.Add(time.Hour), Status: ConsentRevoked},
	}}
	if !c.Granted(ConsentAIAnalysis) || c.Granted(ConsentMarketingEmails) || c.Granted(ConsentSensitiveData) {
		t.Errorf("Granted wrong: %+v", c)
	}
	var nilC *Consents
	if nilC.Granted(ConsentAIAnalysis) {
		t.Error("nil consents granted")
	}
}

func TestDecodeCoachConnect(t *testing.T) {
	at := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		data map[string]any
		want CoachConnect
	}{
		{"nil", nil, CoachConnect{}},
		{"full", map[string]any{"coachId": "c", "stripeAccountId": "acct_1", "payoutsEnabled": true, "payoutsReason": "", "accountUpdatedAt": at},
			CoachConnect{CoachID: "c", StripeAccountID: "acct_1", PayoutsEnabled: true, AccountUpdated: &at}},
		{"wrong types read as zero, the account id survives",
			map[string]any{"stripeAccountId": "acct_2", "payoutsEnabled": "yes", "payoutsReason": 3, "accountUpdatedAt": "yesterday"},
			CoachConnect{StripeAccountID: "acct_2"}},
		{"account id not a string", map[string]any{"stripeAccountId": 42, "payoutsEnabled": true}, CoachConnect{PayoutsEnabled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeCoachConnect(tt.data); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeCoachConnect = %+v, want %+v", got, tt.want)
			}
		})
	}
}
