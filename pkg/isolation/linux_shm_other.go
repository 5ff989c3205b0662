//go:build !linux

package isolation

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// MountSandboxShm exists on Linux only: other hosts run no Linux pods.
func MountSandboxShm(path string) error {
	return fmt.Errorf("mounting a Linux pod's shm at %s: %w", path, errdefs.ErrNotImplemented)
}

// UnmountSandboxShm has nothing to undo off Linux.
func UnmountSandboxShm(string) error { return nil }
