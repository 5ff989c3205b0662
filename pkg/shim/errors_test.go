package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
	"github.com/stretchr/testify/assert"
)

func TestFromShim(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "not found", err: errgrpc.ToGRPC(fmt.Errorf("container pod1: %w", errdefs.ErrNotFound)), want: errdefs.ErrNotFound},
		{name: "already exists", err: errgrpc.ToGRPC(errdefs.ErrAlreadyExists), want: errdefs.ErrAlreadyExists},
		{name: "wrong state", err: errgrpc.ToGRPC(errdefs.ErrFailedPrecondition), want: errdefs.ErrFailedPrecondition},
		{name: "unimplemented", err: errgrpc.ToGRPC(errdefs.ErrNotImplemented), want: errdefs.ErrNotImplemented},
		{name: "invalid", err: errgrpc.ToGRPC(errdefs.ErrInvalidArgument), want: errdefs.ErrInvalidArgument},
		{name: "connection closed", err: ttrpc.ErrClosed, want: errdefs.ErrUnavailable},
		{name: "server closed", err: ttrpc.ErrServerClosed, want: errdefs.ErrUnavailable},
		{name: "eof", err: fmt.Errorf("read: %w", io.EOF), want: errdefs.ErrUnavailable},
		{name: "caller deadline", err: context.DeadlineExceeded, want: context.DeadlineExceeded},
		{name: "caller cancel", err: context.Canceled, want: context.Canceled},
		{name: "anything else", err: errors.New("boom"), want: errdefs.ErrUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, fromShim(tt.err), tt.want)
		})
	}
	assert.NoError(t, fromShim(nil))
}

func TestFromShimKeepsMessage(t *testing.T) {
	err := fromShim(errgrpc.ToGRPC(fmt.Errorf("container ctr1 not created: %w", errdefs.ErrNotFound)))
	assert.ErrorIs(t, err, errdefs.ErrNotFound)
	assert.Contains(t, err.Error(), "container ctr1 not created")
}
