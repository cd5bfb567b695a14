// Package cloud creates the Google Cloud and Firebase clients the functions
// use, on first use, safely under concurrency. A failed creation is not
// cached: the next request tries again (a cold start during a brief outage
// must not poison the instance).
package cloud

import (
	"context"
	"fmt"
	"sync"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/storage"
	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/appcheck"
	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/queue"
)

// Lazy holds a value created on first successful use.
type Lazy[T any] struct {
	mu  sync.Mutex
	v   T
	ok  bool
	New func(ctx context.Context) (T, error)
}

// Get returns the value, creating it with New if no creation has
// succeeded yet. Concurrent callers wait for one creation. An error is
// returned to the callers of that attempt only.
func (l *Lazy[T]) Get(ctx context.Context) (T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ok {
		return l.v, nil
	}
	v, err := l.New(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	l.v, l.ok = v, true
	return v, nil
}

// Clients are the process's lazily created clients.
type Clients struct {
	firestore Lazy[*firestore.Client]
	app       Lazy[*firebase.App]
	auth      Lazy[*auth.Client]
	appCheck  Lazy[*appcheck.Client]
	pubsub    Lazy[*pubsub.Client]
	storage   Lazy[*storage.Client]
	publisher Lazy[*queue.PubSub]
	Config    Lazy[*config.Config]
}

// New returns Clients that read their configuration with load
// (config.FromEnv in production).
func New(load func() (*config.Config, error)) *Clients {
	c := &Clients{}
	c.Config.New = func(context.Context) (*config.Config, error) { return load() }
	c.firestore.New = func(ctx context.Context) (*firestore.Client, error) {
		cfg, err := c.Config.Get(ctx)
		if err != nil {
			return nil, err
		}
		if err := cfg.Require("GOOGLE_CLOUD_PROJECT"); err != nil {
			return nil, err
		}
		// A background context: the client outlives the request.
		fc, err := firestore.NewClient(context.Background(), cfg.ProjectID)
		if err != nil {
			return nil, fmt.Errorf("firestore client: %w", err)
		}
		return fc, nil
	}
	c.app.New = func(ctx context.Context) (*firebase.App, error) {
		cfg, err := c.Config.Get(ctx)
		if err != nil {
			return nil, err
		}
		app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: cfg.ProjectID, StorageBucket: cfg.StorageBucket})
		if err != nil {
			return nil, fmt.Errorf("firebase app: %w", err)
		}
		return app, nil
	}
	c.auth.New = func(ctx context.Context) (*auth.Client, error) {
		app, err := c.app.Get(ctx)
		if err != nil {
			return nil, err
		}
		ac, err := app.Auth(context.Background())
		if err != nil {
			return nil, fmt.Errorf("auth client: %w", err)
		}
		return ac, nil
	}
	c.appCheck.New = func(ctx context.Context) (*appcheck.Client, error) {
		app, err := c.app.Get(ctx)
		if err != nil {
			return nil, err
		}
		ac, err := app.AppCheck(context.Background())
		if err != nil {
			return nil, fmt.Errorf("app check client: %w", err)
		}
		return ac, nil
	}
	c.pubsub.New = func(ctx context.Context) (*pubsub.Client, error) {
		cfg, err := c.Config.Get(ctx)
		if err != nil {
			return nil, err
		}
		pc, err := pubsub.NewClient(context.Background(), cfg.ProjectID)
		if err != nil {
			return nil, fmt.Errorf("pubsub client: %w", err)
		}
		return pc, nil
	}
	c.publisher.New = func(ctx context.Context) (*queue.PubSub, error) {
		pc, err := c.pubsub.Get(ctx)
		if err != nil {
			return nil, err
		}
		return &queue.PubSub{Client: pc}, nil
	}
	c.storage.New = func(ctx context.Context) (*storage.Client, error) {
		sc, err := storage.NewClient(context.Background())
		if err != nil {
			return nil, fmt.Errorf("storage client: %w", err)
		}
		return sc, nil
	}
	return c
}

// Default are the clients of this process, configured from the environment.
var Default = New(config.FromEnv)

// Firestore returns the Firestore client.
func (c *Clients) Firestore(ctx context.Context) (*firestore.Client, error) {
	return c.firestore.Get(ctx)
}

// App returns the Firebase app.
func (c *Clients) App(ctx context.Context) (*firebase.App, error) { return c.app.Get(ctx) }

// Auth returns the Firebase Auth admin client.
func (c *Clients) Auth(ctx context.Context) (*auth.Client, error) { return c.auth.Get(ctx) }

// AppCheck returns the App Check client.
func (c *Clients) AppCheck(ctx context.Context) (*appcheck.Client, error) { return c.appCheck.Get(ctx) }

// PubSub returns the Pub/Sub client.
func (c *Clients) PubSub(ctx context.Context) (*pubsub.Client, error) { return c.pubsub.Get(ctx) }

// Publisher returns the process's Pub/Sub publisher, shared by every
// area so that each topic has one batching publisher.
func (c *Clients) Publisher(ctx context.Context) (queue.Publisher, error) {
	return c.publisher.Get(ctx)
}

// Storage returns the Cloud Storage client.
func (c *Clients) Storage(ctx context.Context) (*storage.Client, error) { return c.storage.Get(ctx) }
