package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// redirectStderr makes f the process's standard error handle, where the
// Go runtime writes a crash's stack.
func redirectStderr(f *os.File) error {
	if err := windows.SetStdHandle(windows.STD_ERROR_HANDLE, windows.Handle(f.Fd())); err != nil {
		return err
	}
	os.Stderr = f
	return nil
}
