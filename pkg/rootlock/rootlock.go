// Package rootlock keeps two wincri daemons off one root directory: the
// first holds an exclusive lock on <root>/wincri.lock for its lifetime.
package rootlock

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileName is the lock file inside the root directory.
const FileName = "wincri.lock"

// Lock is a held root lock.
type Lock struct {
	f *os.File
}

// Acquire takes the lock of root without waiting. When another process
// holds it, the error names that process's pid as it recorded it.
func Acquire(root string) (*Lock, error) {
	path := filepath.Join(root, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		pid := strings.TrimSpace(string(holder))
		if pid == "" {
			pid = "unknown"
		}
		return nil, fmt.Errorf("another wincri (pid %s) is already running with root %s", pid, root)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock.
func (l *Lock) Release() error {
	if err := unlockFile(l.f); err != nil {
		_ = l.f.Close()
		return err
	}
	return l.f.Close()
}
