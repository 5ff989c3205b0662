//go:build !linux && !windows

package logger

import (
	"fmt"
	"net"

	"github.com/containerd/errdefs"
)

// errAttachUnsupported: live output travels over an abstract unix socket
// that admits peers by SO_PEERCRED (Linux) or over a named pipe
// (Windows); this OS has neither. The logger then serves the log alone
// (startAttach logs why) and OpenAttach fails with this error.
var errAttachUnsupported = fmt.Errorf("live output for attach is supported on Linux and Windows only: %w", errdefs.ErrNotImplemented)

func attachAddress(_, id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("logger: container id %q: %w", id, errdefs.ErrInvalidArgument)
	}
	return "", fmt.Errorf("logger: container %s: %w", id, errAttachUnsupported)
}

func listenAttach(string) (net.Listener, error) {
	return nil, fmt.Errorf("logger: %w", errAttachUnsupported)
}
