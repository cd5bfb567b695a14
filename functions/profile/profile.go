package profile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/screening"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// Service is the profile area's handlers and their dependencies.
type Service struct {
	Firestore *firestore.Client
	// Wellbeing raises the safety protocol (a zero Protocol is fine).
	Wellbeing *wellbeing.Protocol
	// Publisher publishes wellbeing alerts (the outbox trigger).
	Publisher queue.Publisher
	// Deliverer delivers wellbeing alerts to the on-call channel.
	Deliverer *wellbeing.Deliverer
	Now       func() time.Time
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) protocol() *wellbeing.Protocol {
	if s.Wellbeing != nil {
		return s.Wellbeing
	}
	return &wellbeing.Protocol{Now: s.Now}
}

// Profile is what recomputeProfile and `ops profile` return: the stored
// profile fields of users/{uid}.
type Profile struct {
	UserID string `json:"userId"`
	// Recomputed is true when this call wrote the profile; false when the
	// stored one was already up to date with the inputs.
	Recomputed bool `json:"recomputed"`
	Computed
	InsightDueAt *time.Time `json:"insightDueAt,omitempty"`
	// Wellbeing is what the safety protocol did in this call, if it ran.
	Wellbeing *wellbeing.Outcome `json:"wellbeing,omitempty"`
	// Disclaimer: screening results, not diagnoses.
	Disclaimer string `json:"disclaimer"`
}

// OnUserWritten handles a write of users/{uid}. The loop guard: it decodes
// the document as written, reads the user's consent (ReadConsent; not when
// the document is up to date under neither consent state), and
// does nothing when its profile.inputHash equals the hash of its inputs
// (InputsOf, the consent included) and its insightDueAt is what InsightDue
// wants — true of the function's own writes and of writes to fields the
// profile does not read. Otherwise it recomputes from the
// document as it is now, inside a transaction (see Recompute), so
// duplicated and reordered events converge on the latest state and an
// older event never writes an older input's result. A deleted user's
// client_profiles/{uid} is deleted.
func (s *Service) OnUserWritten(ctx context.Context, ev *events.FirestoreEvent) error {
	params, ok := ev.Params("users/{uid}")
	if !ok {
		return nil
	}
	uid := params["uid"]
	if ev.After == nil {
		if _, err := s.Firestore.Collection(model.ColClientProfiles).Doc(uid).Delete(ctx); err != nil && !store.IsNotFound(err) {
			return store.Classify("OnUserWritten: delete client profile", err)
		}
		return nil
	}
	if written, err := DecodeUser(ev.After.DataTo); err == nil {
		if granted, denied := upToDateUnder(written, s.now()); granted || denied {
			consent, err := ReadConsent(ctx, s.Firestore, uid)
			if err != nil {
				return err
			}
			if consent.SensitiveData && granted || !consent.SensitiveData && denied {
				return nil // our own write, or fields the profile does not read
			}
		}
	}
	p, err := s.Recompute(ctx, uid, false)
	if fault.CodeOf(err) == fault.NotFound {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "profile evaluated", "uid", uid, "recomputed", p.Recomputed, "eventId", ev.ID)
	return nil
}

// UpToDate reports whether the server-owned fields of u match its inputs
// under consent: profile.inputHash is the hash of InputsOf(u, consent) and
// insightDueAt is what InsightDue wants at now.
func UpToDate(u *model.User, consent Consent, now time.Time) bool {
	return u.Profile != nil && u.Profile.InputHash == InputsOf(u, consent).Hash() && sameTime(u.InsightDueAt, InsightDue(u, now))
}

// upToDateUnder reports whether u is UpToDate with the sensitive_data
// consent granted and with it not granted, computing insightDueAt once:
// when it is under neither, the profile is recomputed whatever the
// consent, so the loop guard does not read it (Recompute reads it in its
// transaction).
func upToDateUnder(u *model.User, now time.Time) (granted, denied bool) {
	if u.Profile == nil || !sameTime(u.InsightDueAt, InsightDue(u, now)) {
		return false, false
	}
	h := u.Profile.InputHash
	return h == InputsOf(u, Consent{SensitiveData: true}).Hash(), h == InputsOf(u, Consent{}).Hash()
}

// ReadConsent reads the consent state of uid from consents/{uid} with
// consents.Granted, as model.ConsentsOf reads it: a missing document is no
// consent, and so is a document that does not decode (fail closed; logged
// with the uid and alert model.AlertConsentsUndecodable). A read error is
// classified with store.Classify (retryable when transient).
func ReadConsent(ctx context.Context, c *firestore.Client, uid string) (Consent, error) {
	granted, err := consents.Granted(ctx, c, uid, model.ConsentSensitiveData)
	if err != nil {
		return Consent{}, err
	}
	return Consent{SensitiveData: granted}, nil
}

// consentOfSnapshot is the consent state of a read of consents/{uid}
// (model.ConsentsOf): a missing or undecodable document is no consent; a
// read error is returned as it is.
func consentOfSnapshot(ctx context.Context, snap *firestore.DocumentSnapshot, err error) (Consent, error) {
	cs, err := model.ConsentsOf(ctx, snap, err)
	if err != nil {
		return Consent{}, err
	}
	return ConsentOf(&cs), nil
}

// SensitiveDataChanged recomputes the profile of uid after their
// sensitive_data consent changed (functions/consents calls it), so that
// screening results appear on a grant and are removed on a revocation
// without the user editing their profile. It is idempotent: the consent
// state is part of the input hash, so a repeated call (a redelivered
// event) writes nothing. A user without a document (not onboarded yet, or
// erased) is not an error. Other errors are Recompute's: retryable when a
// retry can help.
func (s *Service) SensitiveDataChanged(ctx context.Context, uid string) error {
	p, err := s.Recompute(ctx, uid, false)
	if fault.CodeOf(err) == fault.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "profile evaluated after a sensitive_data consent change", "uid", uid, "recomputed", p.Recomputed,
		"sensitiveData", p.Meta.Screening.SensitiveDataConsent)
	return nil
}

// Recompute computes the profile of uid from users/{uid} and
// consents/{uid} as they are now and writes it in one update of a
// transaction that re-reads both: personalityType, neuroTendencies,
// wellbeingFlags, chart, numerology, birthPlace, profile, insightDueAt;
// plus client_profiles/{uid}. When profile.inputHash already matches the
// inputs (the consent state included) it writes nothing (unless force),
// except insightDueAt when the schedule changed. When suicideRisk turns
// true (it was not true in the stored profile) it raises the wellbeing
// protocol in the same transaction.
//
// Without a current sensitive_data grant, neuroTendencies and
// profile.screening.scores are removed and wellbeingFlags holds only
// suicideRisk (see Compute).
//
// Errors: fault.NotFound when the user document does not exist;
// fault.InvalidArgument when it does not decode as a user; Firestore
// errors classified with store.Classify (retryable when transient).
func (s *Service) Recompute(ctx context.Context, uid string, force bool) (*Profile, error) {
	if err := validUID(uid); err != nil {
		return nil, err
	}
	userRef := s.Firestore.Collection(model.ColUsers).Doc(uid)
	consentRef := s.Firestore.Collection(model.ColConsents).Doc(uid)
	cpRef := s.Firestore.Collection(model.ColClientProfiles).Doc(uid)
	var (
		out *Profile
		sig *wellbeing.Signal
	)
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out, sig = nil, nil
		snap, err := tx.Get(userRef)
		if store.IsNotFound(err) {
			return fault.New(fault.NotFound, "no such user")
		}
		if err != nil {
			return err
		}
		u, err := DecodeUser(snap.DataTo)
		if err != nil {
			return fault.Wrap(err, fault.InvalidArgument, "user document does not decode")
		}
		consentSnap, err := tx.Get(consentRef)
		consent, err := consentOfSnapshot(ctx, consentSnap, err)
		if err != nil {
			return err
		}
		coachSnaps, err := tx.Documents(userRef.Collection(model.SubColCoaches)).GetAll()
		if err != nil {
			return err
		}
		now := s.now()
		c := Compute(u, consent, now)
		due := InsightDue(u, now)
		out = &Profile{UserID: uid, Computed: c, InsightDueAt: due, Disclaimer: screening.Disclaimer}
		upToDate := u.Profile != nil && u.Profile.InputHash == c.Meta.InputHash
		dueChanged := !sameTime(u.InsightDueAt, due)
		if upToDate && !force {
			out.Meta.ComputedAt = u.Profile.ComputedAt
			if !dueChanged {
				return nil
			}
			return tx.Update(userRef, []firestore.Update{{Path: "insightDueAt", Value: timeOrDelete(due)}})
		}

		// Reads of the protocol come before any write.
		wasAtRisk := u.WellbeingFlags != nil && u.WellbeingFlags.SuicideRisk
		if c.WellbeingFlags.SuicideRisk && !wasAtRisk {
			sig = &wellbeing.Signal{UserID: uid, Source: wellbeing.SourceScreening, SourceKey: c.Meta.InputHash,
				Trigger: screeningTrigger(c.Screening), RuleVersion: screening.RulesVersion, Locale: u.Locale}
			o, err := s.protocol().RaiseIn(ctx, s.Firestore, tx, *sig)
			if err != nil {
				return err
			}
			out.Wellbeing = &o
		}

		out.Recomputed = true
		ups := []firestore.Update{
			{Path: "personalityType", Value: c.PersonalityType},
			{Path: "neuroTendencies", Value: orDelete(c.NeuroTendencies)},
			{Path: "wellbeingFlags", Value: storedFlags(c)},
			{Path: "chart", Value: orDelete(c.Chart)},
			{Path: "numerology", Value: orDelete(c.Numerology)},
			{Path: "birthPlace", Value: orDelete(c.BirthPlace)},
			{Path: "profile", Value: c.Meta},
			{Path: "insightDueAt", Value: timeOrDelete(due)},
		}
		if err := tx.Update(userRef, ups); err != nil {
			return err
		}
		coachIDs := make([]string, 0, len(coachSnaps))
		for _, cs := range coachSnaps {
			coachIDs = append(coachIDs, cs.Ref.ID)
		}
		sort.Strings(coachIDs)
		return tx.Set(cpRef, model.ClientProfile{UserID: uid, DisplayName: u.DisplayName, FocusArea: c.FocusArea,
			TimeCommitment: c.TimeCommitment, Traits: c.PersonalityType.Traits, AstroSign: c.PersonalityType.AstroSign,
			CoachIDs: coachIDs, UpdatedAt: now})
	})
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) && (fe.Code == fault.NotFound || fe.Code == fault.InvalidArgument) {
			return nil, fe
		}
		return nil, store.Classify("profile.Recompute", err)
	}
	if sig != nil && out.Wellbeing != nil {
		wellbeing.LogOutcome(ctx, *sig, *out.Wellbeing)
	}
	if n := out.Screening.UnknownQuestions + out.Screening.InvalidAnswers; n > 0 && out.Recomputed {
		slog.WarnContext(ctx, "profile answers with problems", "uid", uid,
			"unknownQuestions", out.Screening.UnknownQuestions, "invalidAnswers", out.Screening.InvalidAnswers,
			"questionIds", issueIDs(out.Screening.Issues))
	}
	if out.Recomputed {
		slog.InfoContext(ctx, "profile computed", "uid", uid, "inputHash", out.Meta.InputHash[:12],
			"chart", out.Meta.BirthData.Chart, "place", out.Meta.BirthData.Place, "completeness", out.Meta.Completeness)
	}
	return out, nil
}

// storedFlags is users/{uid}.wellbeingFlags as written: both flags with
// the sensitive_data consent; without it only suicideRisk, the flag of the
// safety protocol (depressionRisk was not evaluated and is removed).
func storedFlags(c Computed) any {
	if c.Meta.Screening.SensitiveDataConsent {
		return c.WellbeingFlags
	}
	return map[string]any{"suicideRisk": c.WellbeingFlags.SuicideRisk}
}

// screeningTrigger is the wellbeing trigger of a screening result: the
// rules that set suicideRisk with their instrument and value.
func screeningTrigger(r screening.Result) map[string]any {
	var rules []any
	for _, t := range r.Triggers {
		if t.Flag == "suicideRisk" {
			rules = append(rules, map[string]any{"rule": t.Rule, "instrument": t.Instrument, "value": t.Value})
		}
	}
	return map[string]any{"flag": "suicideRisk", "rules": rules, "bankVersion": r.BankVersion, "rulesVersion": r.RulesVersion}
}

// issueIDs lists the question ids of screening issues for the log: ids
// of the bank's questions as they are, anything else (a client-chosen
// string) only by its position — never answers, never unknown text.
func issueIDs(is []screening.Issue) []string {
	seen := map[string]bool{}
	var ids []string
	bank := screening.DefaultBank()
	for _, i := range is {
		id := i.QuestionID
		if id == "" || bank.Question(id) == nil {
			id = fmt.Sprintf("unknown#%d", i.Index)
		}
		if !seen[id] && len(ids) < 20 {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

func orDelete[T any](v *T) any {
	if v == nil {
		return firestore.Delete
	}
	return *v
}

func timeOrDelete(t *time.Time) any {
	if t == nil {
		return firestore.Delete
	}
	return t.UTC()
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func validUID(uid string) error {
	if !model.ValidDocID(uid) {
		return fault.Invalid("uid must be a user id")
	}
	return nil
}

// recomputeRequest is the data of recomputeProfile.
type recomputeRequest struct {
	// UID is the user to recompute; empty for the caller. Only an admin
	// may name another user.
	UID string `json:"uid"`
	// Force rewrites the profile even when its inputs did not change.
	Force bool `json:"force"`
}

// RecomputeProfile is the callable recomputeProfile: {"uid"?: string,
// "force"?: bool}. A signed-in user recomputes their own profile; an admin
// any user's. It returns the Profile.
//
// Errors: UNAUTHENTICATED without a token; PERMISSION_DENIED for another
// user's uid without the admin claim; INVALID_ARGUMENT for bad data;
// NOT_FOUND when users/{uid} does not exist.
func (s *Service) RecomputeProfile(ctx context.Context, req *callable.Request) (any, error) {
	var in recomputeRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.UID != "" {
		if err := validUID(in.UID); err != nil {
			return nil, err
		}
	}
	uid, err := req.SubjectUID(in.UID)
	if err != nil {
		return nil, err
	}
	return s.Recompute(ctx, uid, in.Force)
}
