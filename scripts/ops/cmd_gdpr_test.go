package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/innerjourney/functions/shared/testenv"
)

func TestGDPRCommand(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	project := fe.NewProject(t)
	fs := fe.Client(t, project)
	testenv.AuthEmulator(t)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "ops-bucket"})
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())
	ctx := context.Background()
	for _, p := range []string{"users/ops-u1", "user_activations/j1", "user_activations/j2", "users/ops-u2"} {
		uid := "ops-u1"
		if strings.HasSuffix(p, "u2") {
			uid = "ops-u2"
		}
		if _, err := fs.Doc(p).Set(ctx, map[string]any{"userId": uid, "text": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--project", project, "--bucket", "ops-bucket"}

	if code, _, _ := runOps(t, "gdpr"); code == 0 {
		t.Error("gdpr without a subcommand succeeded")
	}
	if code, _, errOut := runOps(t, append([]string{"gdpr", "delete", "--uid", "ops-u1"}, common...)...); code == 0 || !strings.Contains(errOut, "--yes") {
		t.Errorf("delete without --yes: %d %s", code, errOut)
	}

	code, out, errOut := runOps(t, append([]string{"gdpr", "delete", "--uid", "ops-u1", "--dry-run"}, common...)...)
	var plan struct{ Counts map[string]int64 }
	if code != 0 || json.Unmarshal([]byte(out), &plan) != nil || plan.Counts["user_activations.userId"] != 2 || plan.Counts["users"] != 1 {
		t.Fatalf("dry run %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "user_activations.userId") {
		t.Errorf("dry run table:\n%s", errOut)
	}

	code, out, errOut = runOps(t, append([]string{"gdpr", "delete", "--uid", "ops-u1", "--yes"}, common...)...)
	var del struct {
		Status string
		Proof  map[string]int64
	}
	if code != 0 || json.Unmarshal([]byte(out), &del) != nil || del.Status != "done" || del.Proof["users"] != 0 {
		t.Fatalf("delete %d: %s %s", code, out, errOut)
	}
	if _, err := fs.Doc("user_activations/j1").Get(ctx); err == nil {
		t.Error("journal entry survived")
	}

	file := filepath.Join(t.TempDir(), "export.zip")
	code, out, errOut = runOps(t, append([]string{"gdpr", "export", "--uid", "ops-u2", "--out", file}, common...)...)
	if code != 0 || !strings.Contains(out, `"status": "done"`) {
		t.Fatalf("export %d: %s %s", code, out, errOut)
	}
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	zr.Close()
	if !names["manifest.json"] || !names["data/users.json"] {
		t.Errorf("archive files %v", names)
	}

	code, out, errOut = runOps(t, append([]string{"gdpr", "status", "--uid", "ops-u2"}, common...)...)
	if code != 0 || !strings.Contains(errOut, "export") {
		t.Errorf("status %d: %s %s", code, out, errOut)
	}
	// A live session written before reflectionUserIds existed, its author
	// since gone: the backfill lists them (once; a rerun changes nothing).
	if _, err := fs.Doc("live_sessions/ls-old").Set(ctx, map[string]any{"coachId": "coach-1", "participants": []any{},
		"reflections": []any{map[string]any{"userId": "ops-u2", "text": "x", "submittedAt": time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"live sessions updated: 1", "live sessions updated: 0"} {
		code, out, errOut = runOps(t, append([]string{"gdpr", "backfill-reflectors"}, common...)...)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("backfill-reflectors %d: %q %s, want %q", code, out, errOut, want)
		}
	}
	if snap, err := fs.Doc("live_sessions/ls-old").Get(ctx); err != nil {
		t.Fatal(err)
	} else if ids, _ := snap.DataAt("reflectionUserIds"); fmt.Sprint(ids) != "[ops-u2]" {
		t.Errorf("reflectionUserIds after the backfill: %v", ids)
	}
}
