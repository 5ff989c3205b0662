package cri

import (
	"context"
	"errors"
	"strings"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus maps a domain error to a gRPC status, once, at the edge. An
// error that maps to no code is a bug in wincri: it becomes Internal so
// that kubelet never sees Unknown.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codeOf(err), statusMessage(err.Error()))
}

// classWords are the texts of the sentinels domain errors wrap: the code
// carries them, so the message drops them. NotFound keeps its words as
// plain English: `container "x" not found`.
var classWords = []string{
	errdefs.ErrInvalidArgument.Error(), errdefs.ErrFailedPrecondition.Error(), errdefs.ErrAlreadyExists.Error(),
	errdefs.ErrUnavailable.Error(), errdefs.ErrNotImplemented.Error(), errdefs.ErrPermissionDenied.Error(),
	errdefs.ErrUnauthenticated.Error(), errdefs.ErrResourceExhausted.Error(), errdefs.ErrConflict.Error(),
	errdefs.ErrAborted.Error(), errdefs.ErrOutOfRange.Error(), errdefs.ErrDataLoss.Error(),
	context.DeadlineExceeded.Error(), context.Canceled.Error(),
}

// statusMessage removes the class words wrapped sentinels add to a
// message, as a leading "words: ", a trailing ": words" or an inner
// ": words:", and turns a trailing ": not found" into " not found".
func statusMessage(msg string) string {
	for _, w := range classWords {
		msg = strings.ReplaceAll(msg, ": "+w+": ", ": ")
		msg = strings.TrimPrefix(msg, w+": ")
		msg = strings.TrimSuffix(msg, ": "+w)
	}
	if m, ok := strings.CutSuffix(msg, ": "+errdefs.ErrNotFound.Error()); ok {
		msg = m + " not found"
	}
	return msg
}

func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errdefs.IsNotFound(err):
		return codes.NotFound
	case errdefs.IsAlreadyExists(err):
		return codes.AlreadyExists
	case errdefs.IsInvalidArgument(err):
		return codes.InvalidArgument
	case errdefs.IsFailedPrecondition(err), errdefs.IsConflict(err):
		return codes.FailedPrecondition
	case errdefs.IsUnavailable(err):
		return codes.Unavailable
	case errdefs.IsNotImplemented(err):
		return codes.Unimplemented
	case errdefs.IsPermissionDenied(err):
		return codes.PermissionDenied
	case errdefs.IsUnauthorized(err):
		return codes.Unauthenticated
	case errdefs.IsResourceExhausted(err):
		return codes.ResourceExhausted
	case errdefs.IsAborted(err):
		return codes.Aborted
	case errdefs.IsOutOfRange(err):
		return codes.OutOfRange
	case errdefs.IsDataLoss(err):
		return codes.DataLoss
	case errdefs.IsDeadlineExceeded(err):
		return codes.DeadlineExceeded
	case errdefs.IsCanceled(err):
		return codes.Canceled
	default:
		return codes.Internal
	}
}
