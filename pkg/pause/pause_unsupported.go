//go:build !linux && !windows

package pause

import (
	"fmt"
	"os"
	"runtime"

	"github.com/containerd/errdefs"
)

// Run fails at once: the pause process holds a Linux pod's namespaces,
// and this OS runs no pods. It returns the process exit code.
func Run() int {
	err := fmt.Errorf("the pause process runs in Linux and Windows pods only, not on %s: %w", runtime.GOOS, errdefs.ErrNotImplemented)
	fmt.Fprintln(os.Stderr, "wincri pause:", err)
	return 1
}
