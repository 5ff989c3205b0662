package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/wincri/wincri/pkg/version"
)

// runhcsShim is the name the shim is looked up by in PATH, as the
// Windows default handlers name it.
const runhcsShim = "containerd-shim-runhcs-v1.exe"

// shimVersionCommand checks that the runhcs shim at the path given (else
// the one in PATH) is the hcsshim release wincri is tested against; the
// installer runs it before registering the service.
func shimVersionCommand(args []string, stdout io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("usage: wincri shim-version [PATH]")
	}
	path := runhcsShim
	if len(args) == 1 {
		path = args[0]
	}
	bin, err := exec.LookPath(path)
	if err != nil {
		return fmt.Errorf("containerd-shim-runhcs-v1: %w (install hcsshim %s's shim next to wincri or in PATH)", err, version.ShimVersion())
	}
	msg, err := version.CheckShim(bin, runShimVersion)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, msg)
	return err
}

func runShimVersion(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	return string(out), err
}
