package main

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/klog/v2"
)

// panicFileName is the file beside the log that receives a crash's stack:
// a service has no console, and a Go crash writes to the process's
// standard error (containerd's cmd/containerd/command/service_windows.go
// keeps a panic.log the same way).
const panicFileName = "panic.log"

// logToFile sends the log to path (appending) and the process's standard
// error, where a crash's stack goes, to panic.log beside it. The returned
// func closes the log.
func logToFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	panicPath := filepath.Join(filepath.Dir(path), panicFileName)
	p, err := os.OpenFile(panicPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := redirectStderr(p); err != nil {
		f.Close()
		p.Close()
		return nil, fmt.Errorf("sending standard error to %s: %w", panicPath, err)
	}
	klog.LogToStderr(false)
	klog.SetOutput(f)
	return func() {
		klog.Flush()
		_ = f.Close()
	}, nil
}
