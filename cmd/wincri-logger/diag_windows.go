package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// openDiagnostics opens the logger's own diagnostics file for appending,
// shared for deletion: os.OpenFile shares reads and writes only, so
// RemoveContainer could not remove the container's state while the
// logger still runs.
func openDiagnostics(path string) (*os.File, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(name, windows.FILE_APPEND_DATA|windows.SYNCHRONIZE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_ALWAYS, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
