//go:build !windows

package sandbox

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// uvmWorkerPid: only Windows hosts run utility VMs.
func uvmWorkerPid(uvmID string) (uint32, error) {
	return 0, fmt.Errorf("utility VM %s: utility VMs run on Windows hosts only: %w", uvmID, errdefs.ErrNotImplemented)
}
