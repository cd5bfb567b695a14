package fault_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/innerjourney/functions/shared/fault"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code fault.Code
		want bool
	}{
		{"nil", nil, fault.OK, false},
		{"context cancelled (instance shutting down)", fmt.Errorf("write: %w", context.Canceled), fault.Cancelled, true},
		{"context deadline", fmt.Errorf("write: %w", context.DeadlineExceeded), fault.DeadlineExceeded, true},
		{"gRPC CANCELLED", status.Error(codes.Canceled, "the operation was cancelled"), fault.Cancelled, true},
		{"gRPC UNAVAILABLE", status.Error(codes.Unavailable, "try again"), fault.Unavailable, true},
		{"gRPC ABORTED (transaction contention)", status.Error(codes.Aborted, "too much contention"), fault.Aborted, true},
		{"gRPC NOT_FOUND", status.Error(codes.NotFound, "no document"), fault.NotFound, false},
		{"gRPC PERMISSION_DENIED", status.Error(codes.PermissionDenied, "denied"), fault.PermissionDenied, false},
		{"domain invalid argument", fault.New(fault.InvalidArgument, "bad date"), fault.InvalidArgument, false},
		{"domain failed precondition", fault.New(fault.FailedPrecondition, "not yet"), fault.FailedPrecondition, false},
		{"plain error", errors.New("boom"), fault.Unknown, true},
		{"permanent wrapper of a cancellation", fault.Permanent(context.Canceled), fault.FailedPrecondition, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.CodeOf(tt.err); got != tt.code {
				t.Errorf("CodeOf = %s, want %s", got, tt.code)
			}
			if got := fault.Retryable(tt.err); got != tt.want {
				t.Errorf("Retryable = %v, want %v", got, tt.want)
			}
		})
	}
}
