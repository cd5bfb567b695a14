// Package fault is the one domain error type of Inner Journey.
//
// Every layer returns plain Go errors; when an error means something to a
// caller (bad input, not found, a dependency that may recover), it is, or
// wraps, a *fault.Error carrying a Code. The code is translated to a
// transport status only at the edge: the callable protocol maps it to a
// Firebase status name and HTTP code, event handlers use Retryable to decide
// whether returning the error (and so a redelivery) can help.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Code is a canonical error code, named as in google.rpc.Code and the
// Firebase callable protocol.
type Code string

// The codes, spelled as the callable protocol spells its status names.
const (
	OK                 Code = "OK"
	Cancelled          Code = "CANCELLED"
	Unknown            Code = "UNKNOWN"
	InvalidArgument    Code = "INVALID_ARGUMENT"
	DeadlineExceeded   Code = "DEADLINE_EXCEEDED"
	NotFound           Code = "NOT_FOUND"
	AlreadyExists      Code = "ALREADY_EXISTS"
	PermissionDenied   Code = "PERMISSION_DENIED"
	ResourceExhausted  Code = "RESOURCE_EXHAUSTED"
	FailedPrecondition Code = "FAILED_PRECONDITION"
	Aborted            Code = "ABORTED"
	OutOfRange         Code = "OUT_OF_RANGE"
	Unimplemented      Code = "UNIMPLEMENTED"
	Internal           Code = "INTERNAL"
	Unavailable        Code = "UNAVAILABLE"
	DataLoss           Code = "DATA_LOSS"
	Unauthenticated    Code = "UNAUTHENTICATED"
)

// Error is a domain error: a code, a message safe to show to the caller
// (never personal data), optional structured details, and the wrapped cause
// (kept for logs, never sent to clients).
type Error struct {
	Code    Code
	Message string
	Details any
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		if e.Message == "" {
			return fmt.Sprintf("%s: %v", e.Code, e.Err)
		}
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with the code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the code and message that wraps err.
// Wrap(nil, …) returns nil.
func Wrap(err error, code Code, message string) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: message, Err: err}
}

// Invalid is shorthand for an InvalidArgument error.
func Invalid(format string, args ...any) *Error {
	return New(InvalidArgument, format, args...)
}

// WithDetails returns a copy of e carrying details.
func (e *Error) WithDetails(details any) *Error {
	c := *e
	c.Details = details
	return &c
}

// CodeOf returns the code of err: the code of the first *Error in its chain,
// the code of a gRPC status (as Firestore and Pub/Sub return), Cancelled or
// DeadlineExceeded for the context errors, Unavailable for network errors,
// OK for nil and Unknown otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	if errors.Is(err, context.Canceled) {
		return Cancelled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return DeadlineExceeded
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return grpcCodes[s.Code()]
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return Unavailable
	}
	return Unknown
}

// MessageOf returns the caller-safe message of err's *Error, or "" when err
// carries none.
func MessageOf(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return ""
}

// Retryable reports whether repeating the operation that failed with err can
// succeed: transient codes (Unavailable, DeadlineExceeded, Aborted,
// ResourceExhausted, Internal, Unknown) are retryable, and so is Cancelled:
// an operation cut short (the function's context ended as its instance
// shut down, or a server cancelled the RPC) did not fail on its input, so
// an event handler asks for redelivery instead of dropping the event. Bad
// input, missing data, permissions and preconditions are permanent.
func Retryable(err error) bool {
	switch CodeOf(err) {
	case Unavailable, DeadlineExceeded, Aborted, ResourceExhausted, Internal, Unknown, Cancelled:
		return true
	}
	return false
}

// Permanent marks err as not worth retrying (FailedPrecondition unless err
// already carries a permanent code).
func Permanent(err error) error {
	if err == nil || !Retryable(err) {
		return err
	}
	return &Error{Code: FailedPrecondition, Message: "permanent failure", Err: err}
}

var grpcCodes = map[codes.Code]Code{
	codes.OK:                 OK,
	codes.Canceled:           Cancelled,
	codes.Unknown:            Unknown,
	codes.InvalidArgument:    InvalidArgument,
	codes.DeadlineExceeded:   DeadlineExceeded,
	codes.NotFound:           NotFound,
	codes.AlreadyExists:      AlreadyExists,
	codes.PermissionDenied:   PermissionDenied,
	codes.ResourceExhausted:  ResourceExhausted,
	codes.FailedPrecondition: FailedPrecondition,
	codes.Aborted:            Aborted,
	codes.OutOfRange:         OutOfRange,
	codes.Unimplemented:      Unimplemented,
	codes.Internal:           Internal,
	codes.Unavailable:        Unavailable,
	codes.DataLoss:           DataLoss,
	codes.Unauthenticated:    Unauthenticated,
}
