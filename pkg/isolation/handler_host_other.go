//go:build !windows

package isolation

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// serviceInstalled has no meaning off Windows; ProbeHost never calls it
// there.
func serviceInstalled(name string) (bool, error) {
	return false, fmt.Errorf("probing Windows service %s: %w", name, errdefs.ErrNotImplemented)
}

// windowsVersion has no meaning off Windows; ProbeHost never calls it
// there.
func windowsVersion() (build uint32, client bool) { return 0, false }
