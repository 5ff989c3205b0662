package cri

import (
	"context"
	"errors"
	"fmt"
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
			assert.Equal(t, status.Convert(tt.err).Message(), st.Message(), "the message is kept")
		})
	}
	assert.NoError(t, toStatus(nil))
}
