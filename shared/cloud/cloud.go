// Package cloud creates the Google Cloud and Firebase clients the functions
// use, on first use, safely under concurrency. A failed creation is not
// cached: the next request tries again (a cold start during a brief outage
// must not poison the instance).
package cloud

import (
	"context"
	"fmt"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/storage"
	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/appcheck"
	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/queue"
)

// AppCheckKeyFetchTimeout bounds the download of the App Check key set
// (JWKS) that creating the App Check client performs. The Admin SDK
// fetches it in app.AppCheck with http.DefaultClient (no timeout of its
// own) and keyfunc's one-minute default, and callers of the client wait
// for that creation; a healthy fetch of this small document takes well
// under a second even on a cold instance, so three seconds is ample for
// it while a stalled endpoint delays a call by at most that much instead
// of a minute. A failed fetch is retried by the next caller.
const AppCheckKeyFetchTimeout = 3 * time.Second

// Lazy holds a value created on first successful use, safely under
// concurrency. A Lazy with New set is ready to use; it must not be
// copied after first use.
//
// The contract of Get:
//   - Once a creation has succeeded, Get returns its value at once.
//   - At most one New runs at a time. Callers that arrive while it runs
//     wait for it and share its outcome, so a burst of requests during an
//     outage costs one creation, not one each in turn.
//   - A caller waits only as long as its own ctx allows: when ctx ends
//     first, Get returns an error that wraps ctx.Err() (errors.Is with
//     context.DeadlineExceeded or context.Canceled) and the creation goes
//     on for the others.
//   - A failure is never cached: the callers of a failed attempt get its
//     error, and the next Get tries again. When an attempt failed only
//     because the context of the caller running it ended, the waiters
//     whose own contexts are live try again instead of inheriting an
//     error that was not theirs.
//
// New runs in the goroutine, and with the ctx, of the caller that starts
// the attempt. It must return promptly once ctx is done and bound any
// network step of its own (callers may have no deadline, see
// AppCheckKeyFetchTimeout), and must not let the value it returns depend
// on ctx staying live (a client that outlives the request is built with
// a context of its own). Its errors name what failed; Get returns them
// unchanged.
type Lazy[T any] struct {
	// New creates the value.
	New func(ctx context.Context) (T, error)
	// Name names the value in Get's own errors ("firestore client");
	// "lazily created value" when empty.
	Name string

	mu       sync.Mutex // guards the fields below; never held while New runs
	v        T
	ok       bool
	inflight *attempt[T] // the creation running now, if any
}

// attempt is one run of Lazy.New. Its fields are written before done is
// closed and read only after.
type attempt[T any] struct {
	done chan struct{}
	v    T
	err  error
	// runnerGone: New failed after the context of the caller running it
	// had ended, so its error need not apply to the waiters.
	runnerGone bool
}

// Get returns the value, creating it with New if no creation has
// succeeded yet; see Lazy for the error contract.
func (l *Lazy[T]) Get(ctx context.Context) (T, error) {
	var zero T
	for {
		l.mu.Lock()
		if l.ok {
			v := l.v
			l.mu.Unlock()
			return v, nil
		}
		if err := ctx.Err(); err != nil {
			l.mu.Unlock()
			return zero, fmt.Errorf("create %s: %w", l.name(), err)
		}
		a := l.inflight
		if a == nil {
			a = &attempt[T]{done: make(chan struct{})}
			l.inflight = a
			l.mu.Unlock()
			l.run(ctx, a)
			return a.v, a.err
		}
		l.mu.Unlock()
		select {
		case <-a.done:
		case <-ctx.Done():
			return zero, fmt.Errorf("wait for %s: %w", l.name(), ctx.Err())
		}
		if !a.runnerGone {
			return a.v, a.err
		}
		// The runner left before New could finish; try again with our ctx.
	}
}

// run runs New for attempt a, records the outcome, and releases the
// waiters even when New panics (the panic goes on to the caller running
// it; the waiters get an error and the next Get tries again).
func (l *Lazy[T]) run(ctx context.Context, a *attempt[T]) {
	a.err = fmt.Errorf("create %s: New panicked", l.name())
	defer func() {
		l.mu.Lock()
		if a.err == nil {
			l.v, l.ok = a.v, true
		}
		l.inflight = nil
		l.mu.Unlock()
		close(a.done)
	}()
	v, err := l.New(ctx)
	if err != nil {
		var zero T
		a.v, a.err, a.runnerGone = zero, err, ctx.Err() != nil
		return
	}
	a.v, a.err = v, nil
}

func (l *Lazy[T]) name() string {
	if l.Name == "" {
		return "lazily created value"
	}
	return l.Name
}

// Clients are the process's lazily created clients. Every accessor
// follows Lazy's contract: it returns once its ctx ends even while a
// creation is under way, its errors name the client that failed, and a
// failed creation is tried again by the next caller.
type Clients struct {
	firestore Lazy[*firestore.Client]
	app       Lazy[*firebase.App]
	auth      Lazy[*auth.Client]
	appCheck  Lazy[*appcheck.Client]
	pubsub    Lazy[*pubsub.Client]
	storage   Lazy[*storage.Client]
	publisher Lazy[*queue.PubSub]
	// Config is the configuration, loaded on first use.
	Config Lazy[*config.Config]

	// keyFetchTimeout bounds the App Check key-set fetch
	// (AppCheckKeyFetchTimeout; tests shorten it).
	keyFetchTimeout time.Duration
}

// New returns Clients that read their configuration with load
// (config.FromEnv in production).
//
// The SDK constructors below keep their context for the client's life
// (token sources, background refreshers), so they get one that is not the
// request's. Apart from the App Check client, their only network I/O
// while being built is looking for credentials (the metadata-server
// probe, which the Google libraries bound to a few seconds); connections
// are made on first use. The App Check client's key-set fetch is bounded
// by the caller's ctx and keyFetchTimeout (newAppCheck).
func New(load func() (*config.Config, error)) *Clients {
	c := &Clients{keyFetchTimeout: AppCheckKeyFetchTimeout}
	c.Config.Name = "configuration"
	c.Config.New = func(context.Context) (*config.Config, error) {
		cfg, err := load()
		if err != nil {
			return nil, fmt.Errorf("load configuration: %w", err)
		}
		return cfg, nil
	}
	c.firestore.Name = "firestore client"
	c.firestore.New = func(ctx context.Context) (*firestore.Client, error) {
		cfg, err := c.Config.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("firestore client: %w", err)
		}
		if err := cfg.Require("GOOGLE_CLOUD_PROJECT"); err != nil {
			return nil, fmt.Errorf("firestore client: %w", err)
		}
		// A background context: the client outlives the request.
		fc, err := firestore.NewClient(context.Background(), cfg.ProjectID)
		if err != nil {
			return nil, fmt.Errorf("firestore client: %w", err)
		}
		return fc, nil
	}
	c.app.Name = "firebase app"
	c.app.New = func(ctx context.Context) (*firebase.App, error) {
		cfg, err := c.Config.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("firebase app: %w", err)
		}
		app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: cfg.ProjectID, StorageBucket: cfg.StorageBucket})
		if err != nil {
			return nil, fmt.Errorf("firebase app: %w", err)
		}
		return app, nil
	}
	c.auth.Name = "auth client"
	c.auth.New = func(ctx context.Context) (*auth.Client, error) {
		app, err := c.app.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("auth client: %w", err)
		}
		ac, err := app.Auth(context.Background())
		if err != nil {
			return nil, fmt.Errorf("auth client: %w", err)
		}
		return ac, nil
	}
	c.appCheck.Name = "app check client"
	c.appCheck.New = func(ctx context.Context) (*appcheck.Client, error) {
		app, err := c.app.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("app check client: %w", err)
		}
		return newAppCheck(ctx, app, c.keyFetchTimeout)
	}
	c.pubsub.Name = "pubsub client"
	c.pubsub.New = func(ctx context.Context) (*pubsub.Client, error) {
		cfg, err := c.Config.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("pubsub client: %w", err)
		}
		pc, err := pubsub.NewClient(context.Background(), cfg.ProjectID)
		if err != nil {
			return nil, fmt.Errorf("pubsub client: %w", err)
		}
		return pc, nil
	}
	c.publisher.Name = "pubsub publisher"
	c.publisher.New = func(ctx context.Context) (*queue.PubSub, error) {
		pc, err := c.pubsub.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("pubsub publisher: %w", err)
		}
		return &queue.PubSub{Client: pc}, nil
	}
	c.storage.Name = "storage client"
	c.storage.New = func(context.Context) (*storage.Client, error) {
		sc, err := storage.NewClient(context.Background())
		if err != nil {
			return nil, fmt.Errorf("storage client: %w", err)
		}
		return sc, nil
	}
	return c
}

// newAppCheck creates the App Check client of app. The SDK downloads the
// key set while creating it (appcheck.NewClient calls keyfunc.Get, whose
// first fetch uses the context given), so that fetch is bounded here by
// ctx and by timeout. The context is also, as keyfunc documents
// Options.Ctx, the one its six-hourly background refresh runs under
// (keyfunc v1.9.0 in fact swaps in a background context after the first
// fetch), so it is cancelled only while the creation is under way, never
// once the client exists.
func newAppCheck(ctx context.Context, app *firebase.App, timeout time.Duration) (*appcheck.Client, error) {
	cctx, created := untilCreated(ctx, timeout)
	ac, err := app.AppCheck(cctx)
	kept := created()
	if err != nil {
		if cause := context.Cause(cctx); cause != nil {
			// Report why the fetch was cut short (the caller's context or
			// the key-fetch bound), not the transport's "context canceled".
			return nil, fmt.Errorf("app check client: fetch key set: %w (%v)", cause, err)
		}
		return nil, fmt.Errorf("app check client: fetch key set: %w", err)
	}
	if !kept {
		// The bound ran out just as the fetch succeeded, so the client's
		// refresher may be stopped: do not keep it, the next caller retries.
		return nil, fmt.Errorf("app check client: fetch key set: %w", context.Cause(cctx))
	}
	return ac, nil
}

// untilCreated returns a context for an SDK constructor that keeps its
// context for the life of what it builds. The context is cancelled when
// ctx ends or timeout passes before created is called, and never after;
// created reports whether it is still live (the creation was not cut
// short). context.Cause of a cut-short context says why. It carries none
// of ctx's values, so the client does not keep the request's alive.
func untilCreated(ctx context.Context, timeout time.Duration) (cctx context.Context, created func() bool) {
	cctx, cancel := context.WithCancelCause(context.Background())
	var mu sync.Mutex
	settled := false
	abort := func(cause error) {
		mu.Lock()
		defer mu.Unlock()
		if !settled {
			settled = true
			cancel(cause)
		}
	}
	timer := time.AfterFunc(timeout, func() {
		abort(fmt.Errorf("no answer within %s: %w", timeout, context.DeadlineExceeded))
	})
	stop := context.AfterFunc(ctx, func() { abort(ctx.Err()) })
	return cctx, func() bool {
		timer.Stop()
		stop()
		mu.Lock()
		defer mu.Unlock()
		if settled {
			return false
		}
		settled = true
		return true
	}
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
	p, err := c.publisher.Get(ctx)
	if err != nil {
		return nil, err // not a nil *queue.PubSub in a non-nil interface
	}
	return p, nil
}

// Storage returns the Cloud Storage client.
func (c *Clients) Storage(ctx context.Context) (*storage.Client, error) { return c.storage.Get(ctx) }
