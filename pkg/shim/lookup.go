package shim

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// lookShim finds a shim binary: a path as it is, a bare name in PATH,
// else beside wincri's own executable (selfDir), as containerd looks
// beside containerd (core/runtime/v2/shim_manager.go, resolveRuntimePath).
// On Windows this is what makes a shim installed next to wincri.exe work
// before a service sees a changed machine PATH, which needs a reboot.
func lookShim(binary, selfDir string) (string, error) {
	bin, err := exec.LookPath(binary)
	if err == nil {
		return bin, nil
	}
	if errors.Is(err, exec.ErrNotFound) && selfDir != "" && !strings.ContainsAny(binary, `/\`) {
		if beside, berr := exec.LookPath(filepath.Join(selfDir, binary)); berr == nil {
			return beside, nil
		}
		err = fmt.Errorf("%w (nor beside wincri in %s)", err, selfDir)
	}
	return "", fmt.Errorf("shim binary %q: %w: %w", binary, errdefs.ErrFailedPrecondition, err)
}

// selfDir is the directory of the running executable, "" when unknown.
func selfDir() string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Dir(self)
}
