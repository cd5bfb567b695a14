package functions

import (
	"context"
	"fmt"
	"time"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
)

// areas lists the function sets of each area (wire_*.go).
var areas = []func() []Function{
	consentFunctions,
	gdprFunctions,
	insightFunctions,
	paymentFunctions,
	payoutFunctions,
	profileFunctions,
	reflectionFunctions,
}

// clients are the process's lazily created clients.
var clients = cloud.Default

// service returns a lazily built dependency struct of an area. A failed
// build is reported as Unavailable, so the event is redelivered (after a
// configuration fix, say) rather than dropped, and is retried on the next
// call.
func service[T any](build func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (T, error)) *cloud.Lazy[T] {
	var name T
	return &cloud.Lazy[T]{Name: fmt.Sprintf("%T", name), New: func(ctx context.Context) (T, error) {
		var zero T
		cfg, err := clients.Config.Get(ctx)
		if err != nil {
			return zero, fault.Wrap(err, fault.Unavailable, "configuration")
		}
		v, err := build(ctx, clients, cfg)
		if err != nil {
			return zero, fault.Wrap(err, fault.Unavailable, "dependencies")
		}
		return v, nil
	}}
}

// onFirestore adapts a service method to a Firestore trigger.
func onFirestore[T any](name string, svc *cloud.Lazy[T], method func(T, context.Context, *events.FirestoreEvent) error) Function {
	return Function{Name: name, Trigger: Firestore, Retry: true,
		Event: events.FirestoreHandler(name, func(ctx context.Context, ev *events.FirestoreEvent) error {
			s, err := svc.Get(ctx)
			if err != nil {
				return err
			}
			return method(s, ctx, ev)
		})}
}

// onPubSub adapts a service method to a Pub/Sub trigger.
func onPubSub[T any](name, topic string, svc *cloud.Lazy[T], method func(T, context.Context, *events.PubSubMessage) error) Function {
	return Function{Name: name, Trigger: PubSub, Topic: topic, Retry: true,
		Event: events.PubSubHandler(name, func(ctx context.Context, msg *events.PubSubMessage) error {
			s, err := svc.Get(ctx)
			if err != nil {
				return err
			}
			return method(s, ctx, msg)
		})}
}

// onCall adapts a service method to a callable.
func onCall[T any](name string, opts callable.Options, svc *cloud.Lazy[T], method func(T, context.Context, *callable.Request) (any, error)) Function {
	opts.Name = name
	deps := callable.Deps{
		// FirebaseAuth rejects tokens of revoked, disabled and deleted
		// accounts and reads the roles from the account as it is now (one
		// Auth lookup a call).
		Verifier: func(ctx context.Context) (callable.IDTokenVerifier, error) {
			c, err := clients.Auth(ctx)
			if err != nil {
				return nil, err
			}
			return callable.FirebaseAuth{Client: c}, nil
		},
		AppCheck: func(ctx context.Context) (callable.AppCheckVerifier, error) {
			c, err := clients.AppCheck(ctx)
			if err != nil {
				return nil, err
			}
			return callable.FirebaseAppCheck{Client: c}, nil
		},
		Origins: func(ctx context.Context) ([]string, error) {
			cfg, err := clients.Config.Get(ctx)
			if err != nil {
				return nil, err
			}
			return cfg.CORSOrigins, nil
		},
		// IJ_APP_CHECK=enforce refuses calls without a valid App Check
		// token (every callable; monitor, the default, only verifies one
		// sent).
		EnforceAppCheck: func(ctx context.Context) (bool, error) {
			cfg, err := clients.Config.Get(ctx)
			if err != nil {
				return true, err
			}
			return cfg.AppCheckEnforced, nil
		},
	}
	h := func(ctx context.Context, req *callable.Request) (any, error) {
		s, err := svc.Get(ctx)
		if err != nil {
			return nil, err
		}
		return method(s, ctx, req)
	}
	return Function{Name: name, Trigger: Callable, HTTP: callable.New(h, opts, deps)}
}

// now is the production clock.
func now() time.Time { return time.Now().UTC() }
