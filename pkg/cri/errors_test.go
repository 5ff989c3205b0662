package cri

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToStatus(t *testing.T) {
	wrap := func(e error) error { return fmt.Errorf("doing a thing: %w", e) }
	tests := []struct {
		err  error
		want codes.Code
	}{
		{wrap(errdefs.ErrNotFound), codes.NotFound},
		{wrap(errdefs.ErrAlreadyExists), codes.AlreadyExists},
		{wrap(errdefs.ErrInvalidArgument), codes.InvalidArgument},
		{wrap(errdefs.ErrFailedPrecondition), codes.FailedPrecondition},
		{wrap(errdefs.ErrConflict), codes.FailedPrecondition},
		{wrap(errdefs.ErrUnavailable), codes.Unavailable},
		{wrap(errdefs.ErrNotImplemented), codes.Unimplemented},
		{wrap(errdefs.ErrPermissionDenied), codes.PermissionDenied},
		{wrap(errdefs.ErrUnauthenticated), codes.Unauthenticated},
		{wrap(errdefs.ErrResourceExhausted), codes.ResourceExhausted},
		{wrap(context.DeadlineExceeded), codes.DeadlineExceeded},
		{wrap(context.Canceled), codes.Canceled},
		{status.Error(codes.OutOfRange, "already a status"), codes.OutOfRange},
		{errors.New("an unmapped error"), codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.want.String()+"/"+tt.err.Error(), func(t *testing.T) {
			st, ok := status.FromError(toStatus(tt.err))
			assert.True(t, ok)
			assert.Equal(t, tt.want, st.Code())
			assert.True(t, strings.HasPrefix(st.Message(), "doing a thing") || st.Message() == status.Convert(tt.err).Message(), "the message is kept: %q", st.Message())
		})
	}
	assert.NoError(t, toStatus(nil))
}

// The gRPC code carries the class of an error; its message says what was
// wrong, without the code's words again ("...: invalid argument",
// "invalid argument: ...").
func TestStatusMessageStyle(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("resources.cpu_period=999: must be between 1000 and 1000000: %w", errdefs.ErrInvalidArgument), "resources.cpu_period=999: must be between 1000 and 1000000"},
		{fmt.Errorf("%w: unknown runtime handler \"x\": configured handlers are process", errdefs.ErrInvalidArgument), "unknown runtime handler \"x\": configured handlers are process"},
		{fmt.Errorf("container %q: %w", "c9", errdefs.ErrNotFound), "container \"c9\" not found"},
		{fmt.Errorf("shim of pod p1 is unreachable: %w", errdefs.ErrUnavailable), "shim of pod p1 is unreachable"},
		{fmt.Errorf("container c2 is exited, not running: %w", errdefs.ErrFailedPrecondition), "container c2 is exited, not running"},
		{fmt.Errorf("command timed out after 1s and was killed: %w", context.DeadlineExceeded), "command timed out after 1s and was killed"},
		{fmt.Errorf("exec: %w: %w", errdefs.ErrNotImplemented, errors.New("no streaming")), "exec: no streaming"},
		{errors.New("an unmapped error"), "an unmapped error"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			st := status.Convert(toStatus(tt.err))
			assert.Equal(t, tt.want, st.Message())
		})
	}
}
