package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/innerjourney/functions/shared/testenv"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		body    string
		list    bool
		wantErr bool
	}{
		{[]string{"job"}, []string{"job"}, "", false, false},
		{[]string{"--body", "{}", "job"}, []string{"job"}, "{}", false, false},
		{[]string{"job", "--body", "{}"}, []string{"job"}, "{}", false, false},
		{[]string{"a", "--list", "b"}, []string{"a", "b"}, "", true, false},
		{[]string{"job", "--", "--body"}, []string{"job", "--body"}, "", false, false},
		{[]string{"job", "--nosuch"}, nil, "", false, true},
		{nil, nil, "", false, false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		body := fs.String("body", "", "")
		list := fs.Bool("list", false, "")
		pos, err := parseInterspersed(fs, tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: error %v", tt.args, err)
			continue
		}
		if err == nil && (!reflect.DeepEqual(pos, tt.pos) || *body != tt.body || *list != tt.list) {
			t.Errorf("%q: positional %q body %q list %v; want %q %q %v", tt.args, pos, *body, *list, tt.pos, tt.body, tt.list)
		}
	}
}

// TestTickFlagsAfterTheJob: `ops tick JOB --project P --body B` publishes
// B to the job's topic in project P (the flags after the job were
// ignored: the message went to $GOOGLE_CLOUD_PROJECT with the job's own
// body).
func TestTickFlagsAfterTheJob(t *testing.T) {
	host := testenv.PubSub(t)
	t.Setenv("PUBSUB_EMULATOR_HOST", host)
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-tick-wrong")
	project := fmt.Sprintf("demo-tick-%d", time.Now().UnixNano()) // a project of its own: the emulator outlives the run
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pc, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	topic := "projects/" + project + "/topics/insights-tick"
	sub := "projects/" + project + "/subscriptions/tick-test"
	if _, err := pc.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		t.Fatal(err)
	}
	if _, err := pc.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic}); err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		t.Fatal(err)
	}
	body := `{"tick":"2026-11-22T07:00:00Z"}`
	if code, out, errOut := runOps(t, "tick", "insightsFanout", "--project", project, "--body", body); code != 0 {
		t.Fatalf("tick: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	got := make(chan string, 1)
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go func() {
		_ = pc.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
			m.Ack()
			select {
			case got <- string(m.Data):
			default:
			}
			rcancel()
		})
	}()
	select {
	case data := <-got:
		if data != body {
			t.Errorf("published %q, want the --body %q", data, body)
		}
	case <-ctx.Done():
		t.Fatal("nothing published to the project named after the job")
	}
}

// TestStripeReplayNeedsProject: like every ops command that writes user
// data, stripe replay takes its project from --project outside the
// emulators (it had no such flag and used $GOOGLE_CLOUD_PROJECT).
func TestStripeReplayNeedsProject(t *testing.T) {
	t.Setenv("FIRESTORE_EMULATOR_HOST", "")
	t.Setenv("GOOGLE_CLOUD_PROJECT", "ij-prod")
	t.Setenv("STRIPE_SECRET_KEY", "sk_test_123")
	code, out, errOut := runOps(t, "stripe", "replay", "--since", "48h")
	if code == 0 || !strings.Contains(errOut, "--project is required") {
		t.Errorf("stripe replay without --project against a real project: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}
