//go:build !windows

package main

// detach has nothing to do: runc-v2 starts the logger with a plain
// exec.Command and stops it with SIGTERM.
func detach() (bool, error) { return false, nil }
