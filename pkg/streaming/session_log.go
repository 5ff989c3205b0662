package streaming

import (
	"context"
	"errors"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"
)

// logSessionEnd logs a streaming session that ended with an error. The
// library already reports the error to the client (and logs it itself);
// wincri's log keeps it at error level only when wincri or its host is at
// fault. A client that went away, a container that is gone or stopped, a
// port nothing listens on: those are the session's outcome, kept at V(2),
// as the CRI interceptor keeps the errors it answers a caller with.
func logSessionEnd(logger klog.Logger, err error, session string) {
	if clientCaused(err) {
		logger.V(2).Info(session+" session ended", "err", err)
		return
	}
	logger.Error(err, session+" session failed")
}

// clientCaused tells whether a session error is an answer to the request
// rather than a fault of wincri.
func clientCaused(err error) bool {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errdefs.IsCanceled(err), errdefs.IsDeadlineExceeded(err),
		errdefs.IsNotFound(err), errdefs.IsFailedPrecondition(err),
		errdefs.IsInvalidArgument(err), errdefs.IsUnavailable(err):
		return true
	default:
		return false
	}
}
