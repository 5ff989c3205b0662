package testutil

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Build builds the package pkg (an import path) into out, statically
// (CGO_ENABLED=0): the binaries tests build run inside containers and
// pause root file systems that hold no C library.
func Build(ctx context.Context, out, pkg string) error {
	c := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %w: %s", pkg, err, b)
	}
	return nil
}

// GoBuild is Build for a test: a failure fails it.
func GoBuild(t testing.TB, out, pkg string) {
	t.Helper()
	if err := Build(context.Background(), out, pkg); err != nil {
		t.Fatal(err)
	}
}

// TestImage is the busybox image hack/testimages serves, as a path under
// the registry's address.
const TestImage = "e2e-test-images/busybox:1.29-2"

// PayloadImage is TestImage with a layer of its own on top, 8 MiB of
// data, so that pulling it downloads something even where TestImage was
// pulled before.
const PayloadImage = "wincri/pull-payload:1.0"

// TestImages is a running hack/testimages: the one loopback registry
// that every test suite pulls its images from.
type TestImages struct {
	// Addr is the registry's host:port.
	Addr   string
	cmd    *exec.Cmd
	exited chan error
}

// RunTestImages builds hack/testimages into dir and runs it on a free
// loopback port until Close; it returns once every image is served. The
// images it serves are built from the host's busybox.
func RunTestImages(ctx context.Context, dir string) (*TestImages, error) {
	bin := filepath.Join(dir, "testimages")
	if err := Build(ctx, bin, "github.com/wincri/wincri/hack/testimages"); err != nil {
		return nil, err
	}
	addrFile := filepath.Join(dir, "registry.addr")
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--addr-file", addrFile)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the test image registry: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	r := &TestImages{cmd: cmd, exited: exited}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(addrFile)
		if addr := strings.TrimSpace(string(b)); err == nil && addr != "" {
			r.Addr = addr
			return r, nil
		}
		select {
		case err := <-r.exited:
			return nil, fmt.Errorf("the test image registry exited before serving: %v: %s", err, stderr.String())
		case <-ctx.Done():
			r.Close()
			return nil, fmt.Errorf("the test image registry did not start: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops the registry.
func (r *TestImages) Close() {
	_ = r.cmd.Process.Kill()
	<-r.exited
}

// StartTestImages is RunTestImages for a test: the registry runs until the
// test ends, and its address is returned.
func StartTestImages(t testing.TB, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := RunTestImages(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r.Addr
}
