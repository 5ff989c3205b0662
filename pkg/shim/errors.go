package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
)

// errShimGone says the connection to a shim is lost: it exited, was
// killed, or its connection was closed.
var errShimGone = fmt.Errorf("shim connection lost: %w", errdefs.ErrUnavailable)

// fromShim converts an error of a task API call into one that wraps an
// errdefs sentinel. The shim reports failures as status errors (NotFound
// for an unknown task, FailedPrecondition for a task in the wrong state,
// ...); a broken connection means the shim is gone.
func fromShim(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller's own deadline: not the shim's fault, keep it.
		return err
	case isConnectionLost(err):
		return fmt.Errorf("%w: %w", errShimGone, err)
	}
	return errgrpc.ToNative(err)
}

func isConnectionLost(err error) bool {
	return errors.Is(err, ttrpc.ErrClosed) ||
		errors.Is(err, ttrpc.ErrServerClosed) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET)
}
