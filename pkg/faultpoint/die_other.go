//go:build !windows

package faultpoint

import "syscall"

// die sends SIGKILL to the process itself: no deferred function, no
// signal handler and no graceful shutdown runs.
func die() {
	_ = syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL is delivered asynchronously
}
