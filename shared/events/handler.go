package events

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/logging"
)

// FirestoreHandler adapts fn to the CloudEvent signature functions-framework-go
// registers (functions.CloudEvent). The returned function
//
//   - decodes the event with DecodeFirestore; a malformed event is logged at
//     WARNING (function name, event id and type, the decoder's reason; never
//     field values) and dropped: it returns nil;
//   - calls fn; an error for which fault.Retryable is true is logged and
//     returned (prefixed with name), so the platform redelivers the event;
//     any other error is logged (code and caller-safe message only) and the
//     event dropped;
//   - attaches the trace of the event's traceparent extension to the context
//     (logging.WithTrace) unless the context already carries one;
//   - recovers a panic in fn, logs it at ERROR (without the panic value, which
//     may hold personal data) and drops the event, so a deterministic bug does
//     not make the platform redeliver forever.
func FirestoreHandler(name string, fn func(ctx context.Context, ev *FirestoreEvent) error) func(context.Context, event.Event) error {
	return func(ctx context.Context, e event.Event) error {
		ctx = withTrace(ctx, e)
		ev, err := DecodeFirestore(e)
		if err != nil {
			dropMalformed(ctx, name, e, err)
			return nil
		}
		return run(ctx, name, ev.LogAttrs(), func() error { return fn(ctx, ev) })
	}
}

// PubSubHandler adapts fn like FirestoreHandler, decoding the event with
// DecodePubSub. Malformed messages are logged and dropped (return nil);
// retryable errors of fn are returned, other errors and panics logged and
// dropped.
func PubSubHandler(name string, fn func(ctx context.Context, msg *PubSubMessage) error) func(context.Context, event.Event) error {
	return func(ctx context.Context, e event.Event) error {
		ctx = withTrace(ctx, e)
		msg, err := DecodePubSub(e)
		if err != nil {
			dropMalformed(ctx, name, e, err)
			return nil
		}
		return run(ctx, name, msg.LogAttrs(), func() error { return fn(ctx, msg) })
	}
}

// withTrace attaches the trace of the event's traceparent extension (set by
// Eventarc) to ctx, so log lines of the handler carry it.
func withTrace(ctx context.Context, e event.Event) context.Context {
	if _, ok := logging.TraceFrom(ctx); ok {
		return ctx
	}
	tp := extString(e.Extensions(), "traceparent")
	if tp == "" {
		return ctx
	}
	if t, ok := logging.ParseTrace(http.Header{"Traceparent": []string{tp}}); ok {
		return logging.WithTrace(ctx, t)
	}
	return ctx
}

func dropMalformed(ctx context.Context, name string, e event.Event, err error) {
	slog.WarnContext(ctx, "malformed event dropped",
		slog.String("function", name),
		slog.String("eventId", e.ID()),
		slog.String("eventType", e.Type()),
		slog.String("reason", fault.MessageOf(err)))
}

// run calls fn and applies the retry policy of the adapters.
func run(ctx context.Context, name string, attrs []slog.Attr, fn func() error) (err error) {
	args := make([]any, 0, len(attrs)+3)
	args = append(args, slog.String("function", name))
	for _, a := range attrs {
		args = append(args, a)
	}
	defer func() {
		if r := recover(); r != nil {
			slog.ErrorContext(ctx, "event handler panicked; event dropped", args...)
			err = nil
		}
	}()
	err = fn()
	if err == nil {
		return nil
	}
	args = append(args,
		slog.String("code", string(fault.CodeOf(err))),
		slog.String("reason", fault.MessageOf(err)))
	if fault.Retryable(err) {
		slog.ErrorContext(ctx, "event handler failed; asking for redelivery", args...)
		return fmt.Errorf("%s: %w", name, err)
	}
	slog.WarnContext(ctx, "event handler failed permanently; event dropped", args...)
	return nil
}
