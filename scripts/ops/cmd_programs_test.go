package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestProgramsSync: `ops programs sync` brings an enrolment whose program
// lost a coach in step (the deployed code: payments.SyncProgramCoaches
// through functions.NewEnrollmentsService), reports it, and a second run
// changes nothing; against a real project it needs --project.
func TestProgramsSync(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	project := fe.NewProject(t)
	fs := fe.Client(t, project)
	t.Setenv("FIRESTORE_EMULATOR_HOST", fe.Host)
	t.Setenv("GOOGLE_CLOUD_PROJECT", project)
	ctx := context.Background()
	now := time.Now().UTC()
	for path, d := range map[string]any{
		"programs/prog-1":          map[string]any{"programId": "prog-1", "title": "Calm", "createdBy": []any{"coach-1"}},
		"enrollments/u1_prog-1":    model.Enrollment{UserID: "u1", ProgramID: "prog-1", CoachIDs: []string{"coach-1", "coach-2"}, Status: "active", CreatedAt: now, UpdatedAt: now},
		"users/u1/coaches/coach-2": model.CoachAssignment{CoachID: "coach-2", UserID: "u1", Source: model.AssignedByEnrollment, SourceID: "u1_prog-1", CreatedAt: now},
	} {
		if _, err := fs.Doc(path).Set(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for run, want := range []string{"prog-1\tenrolments 1\tchanged 1\tfailed 0", "prog-1\tenrolments 1\tchanged 0\tfailed 0"} {
		code, out, errOut := runOps(t, "programs", "sync")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("run %d: exit %d, out %q, err %q; want %q", run+1, code, out, errOut, want)
		}
	}
	if _, err := fs.Doc("users/u1/coaches/coach-2").Get(ctx); err == nil {
		t.Error("coach-2's assignment is still there")
	}
	if code, out, _ := runOps(t, "programs", "sync", "--program", "prog-1"); code != 0 || !strings.Contains(out, "changed 0") {
		t.Errorf("--program: exit %d, %q", code, out)
	}
	t.Setenv("FIRESTORE_EMULATOR_HOST", "")
	if code, _, errOut := runOps(t, "programs", "sync"); code == 0 || !strings.Contains(errOut, "--project") {
		t.Errorf("without --project against a real project: exit %d, %q", code, errOut)
	}
}
