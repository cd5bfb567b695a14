package model_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// secretMarker is written into the undecodable documents; it must never
// reach a log line.
const secretMarker = "private-consent-text-7f3a"

// TestConsentsOf reads consents documents of every shape through
// model.ConsentsOf, outside and inside a transaction: missing and
// undecodable documents grant nothing without an error, an undecodable one
// is logged once with the uid and the alert attribute only.
func TestConsentsOf(t *testing.T) {
	emu := testenv.FirestoreEmulator(t)
	c := emu.Client(t, emu.NewProject(t))
	ctx := context.Background()
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	granted := map[string]any{"userId": "u", "consentsGiven": []any{map[string]any{
		"type": "ai_analysis", "version": "v1", "agreedAt": t0, "status": "granted"}}}

	tests := []struct {
		name        string
		doc         map[string]any // nil: no document
		wantGranted bool
		wantEntries int
		wantAlert   bool
	}{
		{"no document", nil, false, 0, false},
		{"granted", granted, true, 1, false},
		{"empty document", map[string]any{}, false, 0, false},
		{"consentsGiven a string", map[string]any{"userId": "u", "consentsGiven": secretMarker}, false, 0, true},
		{"consentsGiven entries strings", map[string]any{"consentsGiven": []any{secretMarker}}, false, 0, true},
		{"current a string", map[string]any{"consentsGiven": granted["consentsGiven"], "current": secretMarker}, false, 0, true},
		{"userId a number", map[string]any{"userId": 42, "consentsGiven": granted["consentsGiven"], "note": secretMarker}, false, 0, true},
		{"agreedAt a string", map[string]any{"consentsGiven": []any{map[string]any{
			"type": "ai_analysis", "version": "v1", "agreedAt": secretMarker, "status": "granted"}}}, false, 0, true},
	}
	for i, tt := range tests {
		for _, inTx := range []bool{false, true} {
			name := tt.name
			if inTx {
				name += " (transaction)"
			}
			t.Run(name, func(t *testing.T) {
				uid := "uid-" + string(rune('a'+i))
				ref := c.Collection(model.ColConsents).Doc(uid)
				if tt.doc != nil {
					if _, err := ref.Set(ctx, tt.doc); err != nil {
						t.Fatal(err)
					}
				}
				logs := testenv.CaptureLogs(t)
				var (
					got model.Consents
					err error
				)
				if inTx {
					err = c.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
						snap, err := tx.Get(ref)
						got, err = model.ConsentsOf(ctx, snap, err)
						return err
					}, firestore.ReadOnly)
				} else {
					snap, gerr := ref.Get(ctx)
					got, err = model.ConsentsOf(ctx, snap, gerr)
				}
				if err != nil {
					t.Fatalf("ConsentsOf: %v, want nil", err)
				}
				if g := got.Granted(model.ConsentAIAnalysis); g != tt.wantGranted || len(got.ConsentsGiven) != tt.wantEntries {
					t.Errorf("granted %v with %d entries, want %v with %d", g, len(got.ConsentsGiven), tt.wantGranted, tt.wantEntries)
				}
				alerts := logs.Records("alert", model.AlertConsentsUndecodable)
				if !tt.wantAlert {
					if len(alerts) != 0 {
						t.Errorf("alert logged for a readable document: %v", alerts)
					}
					return
				}
				if len(alerts) != 1 {
					t.Fatalf("%d alert lines, want 1; logs:\n%s", len(alerts), logs)
				}
				a := alerts[0]
				if a["uid"] != uid || a["level"] != "ERROR" {
					t.Errorf("alert line %v, want uid %s at ERROR", a, uid)
				}
				for k := range a {
					switch k {
					case "time", "level", "msg", "alert", "uid":
					default:
						t.Errorf("alert line carries %q: %v (the uid only)", k, a)
					}
				}
				if strings.Contains(logs.String(), secretMarker) {
					t.Errorf("document contents logged:\n%s", logs)
				}
			})
		}
	}
}

// TestConsentsOfReadErrors: a read error other than NotFound is returned
// unchanged, so its code (and whether a retry can help) is the caller's
// to classify; NotFound, and a snapshot of a missing document, are no
// consents.
func TestConsentsOfReadErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantErr   bool
		retryable bool
	}{
		{"unavailable", status.Error(codes.Unavailable, "emulator down"), true, true},
		{"deadline", context.DeadlineExceeded, true, true},
		{"permission denied", status.Error(codes.PermissionDenied, "no"), true, false},
		{"not found", status.Error(codes.NotFound, "no document"), false, false},
		{"no snapshot, no error", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := testenv.CaptureLogs(t)
			got, err := model.ConsentsOf(context.Background(), nil, tt.err)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error: %v", err, tt.wantErr)
			}
			if tt.wantErr && (!errors.Is(err, tt.err) || fault.Retryable(err) != tt.retryable) {
				t.Errorf("error %v (retryable %v), want %v unchanged (retryable %v)", err, fault.Retryable(err), tt.err, tt.retryable)
			}
			if got.Granted(model.ConsentAIAnalysis) || len(got.ConsentsGiven) != 0 {
				t.Errorf("consents %+v, want none", got)
			}
			if a := logs.Records("alert", model.AlertConsentsUndecodable); len(a) != 0 {
				t.Errorf("a read error logged as undecodable: %v", a)
			}
		})
	}
}
