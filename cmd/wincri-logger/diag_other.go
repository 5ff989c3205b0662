//go:build !windows

package main

import "os"

// openDiagnostics opens the logger's own diagnostics file for appending.
func openDiagnostics(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
}
