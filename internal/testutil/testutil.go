// Package testutil holds helpers shared by wincri's tests.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI, where integration
// prerequisites are installed and a missing one is a failure, not a skip.
func InCI() bool { return os.Getenv("CI") != "" }

// RequireBinary returns the path of an executable the test needs. Outside
// CI a missing binary skips the test; in CI it fails it.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, "needs "+name+" in PATH (hack/setup.sh installs it)")
	}
	return path
}

// RequireRoot skips (or, in CI, fails) a test that needs root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root")
	}
}

func missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("integration prerequisite missing in CI: %s", why)
	}
	t.Skip(why)
}
