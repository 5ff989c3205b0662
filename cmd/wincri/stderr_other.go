//go:build !windows

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// redirectStderr makes f the process's standard error (fd 2), where the
// Go runtime writes a crash's stack.
func redirectStderr(f *os.File) error {
	if err := unix.Dup2(int(f.Fd()), 2); err != nil {
		return err
	}
	os.Stderr = f
	return nil
}
