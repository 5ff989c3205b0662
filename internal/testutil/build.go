package testutil

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// GoBuild builds the package pkg (an import path) into out, statically
// (CGO_ENABLED=0): the binaries tests build run inside containers and
// pause root file systems that hold no C library.
func GoBuild(t testing.TB, out, pkg string) {
	t.Helper()
	c := exec.Command("go", "build", "-o", out, pkg)
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v: %s", pkg, err, b)
	}
}

// TestImage is the busybox image hack/testimages serves, as a path under
// the registry's address.
const TestImage = "e2e-test-images/busybox:1.29-2"

// StartTestImages builds hack/testimages into dir, runs it on a free
// loopback port until the test ends, and returns its address
// (host:port). The images it serves are built from the host's busybox.
func StartTestImages(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "testimages")
	GoBuild(t, bin, "github.com/wincri/wincri/hack/testimages")
	addrFile := filepath.Join(dir, "registry.addr")
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--addr-file", addrFile)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the test image registry: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, err := os.ReadFile(addrFile)
		if addr := strings.TrimSpace(string(b)); err == nil && addr != "" {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("the test image registry did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
