package main

import (
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// serveProgramRoundTrip: an admin removes coach-2 from a program a user is
// enrolled in; onProgramWritten (through the emulator's trigger and the
// adapter) removes the enrolled user from coach-2, who can then no longer
// read the user's client profile (rules enforced), while coach-1 still can.
func serveProgramRoundTrip(t *testing.T, s *served) {
	ctx, fs, project, admin := s.ctx, s.fs, s.project, s.admin
	now := time.Now().UTC()
	en := model.Enrollment{UserID: "pu1", ProgramID: "prog-rt", CoachIDs: []string{"coach-1", "coach-2"},
		Status: "active", CreatedAt: now, UpdatedAt: now}
	writes := map[string]any{
		"programs/prog-rt": map[string]any{"programId": "prog-rt", "title": "Calm", "createdBy": []any{"coach-1", "coach-2"},
			"createdAt": now, "updatedAt": now},
		"enrollments/pu1_prog-rt":   en,
		"client_profiles/pu1":       map[string]any{"userId": "pu1", "coachIds": []any{"coach-1", "coach-2"}},
		"users/pu1/coaches/coach-1": model.CoachAssignment{CoachID: "coach-1", UserID: "pu1", Source: model.AssignedByEnrollment, SourceID: "pu1_prog-rt", CreatedAt: now},
		"users/pu1/coaches/coach-2": model.CoachAssignment{CoachID: "coach-2", UserID: "pu1", Source: model.AssignedByEnrollment, SourceID: "pu1_prog-rt", CreatedAt: now},
	}
	for _, p := range []string{"programs/prog-rt", "enrollments/pu1_prog-rt", "client_profiles/pu1", "users/pu1/coaches/coach-1", "users/pu1/coaches/coach-2"} {
		if _, err := admin.Doc(p).Set(ctx, writes[p]); err != nil {
			t.Fatal(err)
		}
	}
	read := func(coach string) int {
		tok := testenv.UnsignedIDToken(project, coach, map[string]any{"coach": true})
		status, _ := fs.REST(project, "GET", "/client_profiles/pu1", tok, nil)
		return status
	}
	if read("coach-2") != 200 {
		t.Fatal("coach-2 cannot read the client profile before the change")
	}
	if _, err := admin.Doc("programs/prog-rt").Update(ctx, []firestore.Update{{Path: "createdBy", Value: []any{"coach-1"}}}); err != nil {
		t.Fatal(err)
	}
	err := waitFor(ctx, 20*time.Second, func() (bool, error) {
		var e model.Enrollment
		snap, err := admin.Doc("enrollments/pu1_prog-rt").Get(ctx)
		if err != nil {
			return false, err
		}
		if err := snap.DataTo(&e); err != nil {
			return false, err
		}
		return slices.Equal(e.CoachIDs, []string{"coach-1"}), nil
	})
	if err != nil {
		t.Fatalf("the enrolment never lost coach-2: %v", err)
	}
	if got := read("coach-2"); got != 403 {
		t.Errorf("coach-2 reads the client profile after leaving the program: %d, want 403", got)
	}
	if got := read("coach-1"); got != 200 {
		t.Errorf("coach-1 reads the client profile: %d, want 200", got)
	}
}
