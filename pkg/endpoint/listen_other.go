//go:build !windows

package endpoint

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Listen opens the endpoint: a unix socket, mode 0660, in a directory
// created 0700. A socket file left by a dead process is replaced; one
// that still answers means another server owns the endpoint.
func Listen(e Endpoint) (net.Listener, error) {
	if e.Scheme != Unix {
		return nil, fmt.Errorf("endpoint %s: only unix:// endpoints are supported on this OS", e)
	}
	if err := os.MkdirAll(filepath.Dir(e.Path), 0o700); err != nil {
		return nil, fmt.Errorf("endpoint %s: creating its directory: %w", e, err)
	}
	if err := removeStale(e.Path); err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", e, err)
	}
	l, err := net.Listen("unix", e.Path)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", e, err)
	}
	if err := os.Chmod(e.Path, 0o660); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("endpoint %s: %w", e, err)
	}
	return l, nil
}

func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket; refusing to replace it", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		_ = c.Close()
		return fmt.Errorf("another process is serving on %s", path)
	}
	return os.Remove(path)
}
