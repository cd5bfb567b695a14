package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/shared/config"
)

func init() {
	register(&command{
		name:    "stripe",
		summary: "Stripe tools: sign (a signed webhook fixture, optionally posted), replay (reconcile events since a time)",
		run:     runStripe,
	})
}

func runStripe(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(env.stderr, "usage: ops stripe sign|replay [flags]   (ops stripe <sub> --help)")
		if len(args) == 0 {
			return fmt.Errorf("name a subcommand")
		}
		return nil
	}
	switch args[0] {
	case "sign":
		return runStripeSign(ctx, env, args[1:])
	case "replay":
		return runStripeReplay(ctx, env, args[1:])
	}
	return fmt.Errorf("unknown stripe subcommand %q (sign, replay)", args[0])
}

// runStripeSign reads a Stripe object (or a whole event) on stdin, wraps an
// object into an event of --type with API version 2023-10-16, signs it as
// Stripe would, and prints {"stripeSignature", "payload"}; with --post it
// sends it to the webhook and prints the reply:
//
//	echo '{"id":"pi_1","object":"payment_intent","status":"succeeded","amount":49900,"currency":"sek","customer":"cus_1"}' |
//	  ops stripe sign --type payment_intent.succeeded --post http://127.0.0.1:8081/stripeWebhook
func runStripeSign(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "stripe sign", "stripe sign [--type EVENT_TYPE] [--id evt_…] [--secret whsec_…] [--account acct_…] [--livemode] [--post URL] < object-or-event.json")
	typ := fs.String("type", "", "event type to wrap a bare object in (e.g. payment_intent.succeeded)")
	id := fs.String("id", "", "event id (default: a random evt_local_…)")
	secret := fs.String("secret", "", "signing secret (default: the first of STRIPE_WEBHOOK_SECRETS)")
	account := fs.String("account", "", "Connect account id of the event")
	live := fs.Bool("livemode", false, "mark the event live")
	post := fs.String("post", "", "POST the signed event to this webhook URL and print the reply")
	age := fs.Duration("age", 0, "sign as if this long ago (to test the 300 s tolerance)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		if cfg, err := config.FromEnv(); err == nil && len(cfg.StripeWebhookSecrets) > 0 {
			*secret = cfg.StripeWebhookSecrets[0].Reveal()
		}
	}
	if !strings.HasPrefix(*secret, "whsec_") {
		return fmt.Errorf("--secret (or STRIPE_WEBHOOK_SECRETS) must be a whsec_… secret")
	}
	in, err := io.ReadAll(io.LimitReader(env.stdin, 4<<20))
	if err != nil {
		return err
	}
	var obj map[string]any
	if err := json.Unmarshal(in, &obj); err != nil {
		return fmt.Errorf("stdin is not a JSON object: %w", err)
	}
	payload := in
	if obj["object"] != "event" {
		if *typ == "" {
			return fmt.Errorf("stdin is a bare object: give --type")
		}
		if *id == "" {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			*id = "evt_local_" + hex.EncodeToString(b)
		}
		ev := map[string]any{
			"id": *id, "object": "event", "api_version": stripe.APIVersion, "created": time.Now().Unix(),
			"livemode": *live, "type": *typ, "pending_webhooks": 1, "data": map[string]any{"object": obj},
			"request": map[string]any{"id": nil, "idempotency_key": nil},
		}
		if *account != "" {
			ev["account"] = *account
		}
		if payload, err = json.Marshal(ev); err != nil {
			return err
		}
	}
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: *secret, Timestamp: time.Now().Add(-*age)})
	if *post == "" {
		return json.NewEncoder(env.stdout).Encode(map[string]any{"stripeSignature": sp.Header, "payload": string(payload)})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *post, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sp.Header)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply any
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&reply)
	return json.NewEncoder(env.stdout).Encode(map[string]any{"status": resp.StatusCode, "reply": reply})
}

// runStripeReplay runs the reconciliation now (the stripeReconcile job)
// against the configured Stripe API (stripe-mock when STRIPE_API_URL is
// set) and Firestore, and prints its report:
//
//	ops stripe replay --since 48h
//	ops stripe replay --since 2026-11-01T00:00:00Z
func runStripeReplay(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "stripe replay", "stripe replay [--since DURATION|RFC3339] [--project P]   (default: the job's checkpoint; at most 30 days back)")
	since := fs.String("since", "", "replay events created since this time or this long ago")
	project := fs.String("project", "", "project id (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney on the emulators)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("stripe replay: unexpected argument %q (a start is given with --since)", fs.Arg(0))
	}
	var from time.Time
	if *since != "" {
		if d, err := time.ParseDuration(*since); err == nil {
			from = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, *since); err == nil {
			from = t
		} else {
			return fmt.Errorf("--since must be a duration (48h) or an RFC 3339 time")
		}
	}
	proj, err := opsProject(*project)
	if err != nil {
		return err
	}
	c, cfg, err := projectClients(ctx, proj)
	if err != nil {
		return err
	}
	if err := cfg.Require("STRIPE_SECRET_KEY"); err != nil {
		return err
	}
	db, err := c.Firestore(ctx)
	if err != nil {
		return err
	}
	ac, err := c.Auth(ctx)
	if err != nil {
		return err
	}
	key, err := opsPseudonymKey(cfg)
	if err != nil {
		return err
	}
	svc := &payments.Service{
		Firestore: db, Auth: ac, Config: payments.SettingsFrom(cfg), PseudonymKey: key,
		Stripe: payments.NewStripe(cfg.StripeSecretKey.Reveal(), cfg.StripeAPIURL, nil),
		Now:    func() time.Time { return time.Now().UTC() },
	}
	rep, err := svc.Replay(ctx, from)
	if err != nil {
		return err
	}
	return json.NewEncoder(env.stdout).Encode(rep)
}
