//go:build !linux && !windows

package network

import (
	"context"
	"fmt"
	"runtime"

	"github.com/containerd/errdefs"
)

const builtinDefaultNetwork = false

// unsupportedNamespaces lets the package build everywhere; pods other
// than host-network ones cannot get a network on this OS.
type unsupportedNamespaces struct {
	nsDir
}

func newNamespaces(dir string) namespaces { return unsupportedNamespaces{nsDir{dir: dir}} }

func (unsupportedNamespaces) Create(context.Context, string) (string, error) {
	return "", fmt.Errorf("pod network namespaces on %s: %w", runtime.GOOS, errdefs.ErrNotImplemented)
}

func (unsupportedNamespaces) Path(podID string) (string, error) {
	return "", fmt.Errorf("network namespace of pod %s: %w", podID, errdefs.ErrNotFound)
}

func (unsupportedNamespaces) Remove(context.Context, string) error { return nil }
