//go:build !linux && !windows

package sandbox

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// inNetNS fails: only host-network pods, which dialPod reaches without
// it, can be port-forwarded on this OS.
func inNetNS(path string, _ func() error) error {
	return fmt.Errorf("entering network namespace %s: pod network namespaces are supported on Linux and Windows only: %w", path, errdefs.ErrNotImplemented)
}
