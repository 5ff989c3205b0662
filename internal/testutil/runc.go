package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RuncShim is the runc shim the Linux integration tests drive.
const RuncShim = "containerd-shim-runc-v2"

// RuncShimEnv checks the prerequisites of a test that drives the real
// runc shim (root, runc, the shim, busybox) and returns the shim's path
// and a busybox to build root filesystems from.
func RuncShimEnv(t testing.TB) (shimBin, busybox string) {
	t.Helper()
	RequireRoot(t)
	RequireBinary(t, "runc")
	shimBin, err := exec.LookPath(RuncShim)
	if err != nil {
		// hack/setup.sh installs it with go install, and ~/go/bin is
		// often not in a test's PATH.
		home, _ := os.UserHomeDir()
		shimBin = filepath.Join(home, "go", "bin", RuncShim)
		if _, err := os.Stat(shimBin); err != nil {
			shimBin = RequireBinary(t, RuncShim)
		}
	}
	busybox = "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		busybox = RequireBinary(t, "busybox")
	}
	return shimBin, busybox
}
