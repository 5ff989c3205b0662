//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wincri/wincri/internal/testutil"
)

// suite is what TestMain prepares once for every test of the package.
var suite struct {
	// skip says why the environment cannot run the tests; "" when it can.
	skip string
	// bin holds the built wincri and wincri-logger.
	bin      string
	wincri   string
	registry images
}

// images names the images of the suite's registry (hack/testimages, as
// every suite of the repository uses).
type images struct{ addr string }

// imageRef is the busybox test image.
func (i images) imageRef() string { return i.addr + "/" + testutil.TestImage }

// extraImageRef is the test image with 8 MiB of its own on top, so that
// pulling it downloads something although the test image is present.
func (i images) extraImageRef() string { return i.addr + "/" + testutil.PayloadImage }

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if home, err := os.UserHomeDir(); err == nil {
		// hack/setup.sh installs the shim and crictl there.
		os.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Join(home, "go", "bin"))
	}
	suite.skip = missingPrerequisite()
	if suite.skip != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "wincri-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	suite.bin = dir
	if err := buildBinaries(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	suite.wincri = filepath.Join(dir, "wincri")
	reg, err := testutil.RunTestImages(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: registry:", err)
		return 1
	}
	defer reg.Close()
	suite.registry = images{addr: reg.Addr}
	return m.Run()
}

// missingPrerequisite names what this machine lacks to run wincri for
// real, "" when nothing is missing.
func missingPrerequisite() string {
	if os.Geteuid() != 0 {
		return "needs root"
	}
	for _, bin := range []string{"runc", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(bin); err != nil {
			return "needs " + bin + " in PATH (hack/setup.sh installs it)"
		}
	}
	for _, p := range []string{"/bin/busybox", "/opt/cni/bin/bridge", "/opt/cni/bin/host-local", "/opt/cni/bin/loopback"} {
		if _, err := os.Stat(p); err != nil {
			return "needs " + p + " (hack/setup.sh installs it)"
		}
	}
	return ""
}

// requireSuite skips (fails in CI) a test when the machine cannot run
// wincri.
func requireSuite(t *testing.T) {
	t.Helper()
	if suite.skip == "" {
		return
	}
	if testutil.InCI() {
		t.Fatalf("integration prerequisite missing in CI: %s", suite.skip)
	}
	t.Skip(suite.skip)
}

// buildBinaries builds static wincri (its pause process runs in an empty
// root file system) and wincri-logger next to it, where wincri looks.
func buildBinaries(ctx context.Context, dir string) error {
	for _, cmd := range []string{"wincri", "wincri-logger"} {
		if err := testutil.Build(ctx, filepath.Join(dir, cmd), "github.com/wincri/wincri/cmd/"+cmd); err != nil {
			return err
		}
	}
	return nil
}
