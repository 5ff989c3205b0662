//go:build !windows

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// openStdin creates the FIFO a container reads its stdin from, under
// dir/id, and opens it read-write: that descriptor counts as a writer,
// so the container sees end of input only when the keeper is closed,
// however many attach clients open and close their own write ends.
func openStdin(_ context.Context, dir, id string) (path string, keeper io.Closer, err error) {
	d := filepath.Join(dir, id)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", nil, err
	}
	path = filepath.Join(d, "stdin")
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return "", nil, fmt.Errorf("mkfifo %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		_ = os.RemoveAll(d)
		return "", nil, err
	}
	return path, stdinKeeper{f: f, dir: d}, nil
}

type stdinKeeper struct {
	f   *os.File
	dir string
}

func (k stdinKeeper) Close() error { return errors.Join(k.f.Close(), os.RemoveAll(k.dir)) }

// dialStdin opens a write end of container id's stdin. Non-blocking,
// so that it fails at once (ENXIO) when nobody reads any more instead
// of waiting for a reader.
func dialStdin(_ context.Context, dir, id string) (io.WriteCloser, error) {
	f, err := os.OpenFile(filepath.Join(dir, id, "stdin"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENXIO) {
			return nil, fmt.Errorf("the container's stdin is closed: %w", errdefs.ErrFailedPrecondition)
		}
		return nil, err
	}
	return f, nil
}
