//go:build !linux && !windows

package stats

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// FilesystemCapacity is not implemented where wincri does not run
// containers; it builds so that the package does everywhere.
func FilesystemCapacity(dir string) (Capacity, error) {
	return Capacity{}, fmt.Errorf("filesystem capacity of %s: %w", dir, errdefs.ErrNotImplemented)
}
