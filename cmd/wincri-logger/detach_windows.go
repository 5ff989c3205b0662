package main

import (
	"fmt"
	"os"
	"os/exec"
)

// detachedEnv marks the copy of the logger that does the work.
const detachedEnv = "WINCRI_LOGGER_DETACHED"

// detach starts a copy of the logger and reports that this process
// should exit. runhcs (hcsshim v0.15.0, internal/cmd/io_binary.go)
// starts the logger with exec.CommandContext on the CreateTask request's
// context, which ttrpc cancels when CreateTask returns: the process it
// started is killed then, a copy it did not start lives on. The copy
// dials the stdio pipes from the same environment and signals ready
// itself. Not yet verified on a Windows node.
func detach() (bool, error) {
	if os.Getenv(detachedEnv) != "" {
		return false, nil
	}
	self, err := os.Executable()
	if err != nil {
		return false, fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = append(os.Environ(), detachedEnv+"=1")
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("start detached logger: %w", err)
	}
	return true, cmd.Process.Release()
}
