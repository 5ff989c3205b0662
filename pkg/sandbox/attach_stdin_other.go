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

// openStdio creates the stdio of a container that asked for stdin, under
// dir/id. Its stdin is a FIFO: runc-v2 itself holds a write end of it
// until CloseIO, so the container sees end of input only then, however
// many attach clients open and close their own write ends, and also
// while wincri restarts.
//
// runc-v2 reads a stdin FIFO beside a binary:// logger only with a
// terminal; without one it leaves stdin unconnected. So a container
// without a terminal gets FIFOs for its output too, and wincri starts
// the logging process on them itself (see startFIFOLogger), detached,
// so that it outlives wincri as it would under the shim.
func openStdio(ctx context.Context, in stdioInput) (stdioPaths, stdinKeeper, error) {
	d := filepath.Join(in.dir, in.id)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return stdioPaths{}, nil, err
	}
	k := &fifoKeeper{dir: d}
	fail := func(err error) (stdioPaths, stdinKeeper, error) {
		_ = k.Close()
		return stdioPaths{}, nil, err
	}
	stdin := filepath.Join(d, "stdin")
	if err := mkfifo(stdin); err != nil {
		return fail(err)
	}
	paths := stdioPaths{stdin: stdin}
	if in.logURI == "" {
		return fail(fmt.Errorf("a container with stdin needs its logging process: %w", errdefs.ErrInvalidArgument))
	}
	if in.tty {
		paths.stdout = in.logURI
		return paths, k, nil
	}
	var outputs [2]*os.File
	for i, name := range []string{"stdout", "stderr"} {
		path, r, err := makeFIFO(d, name, os.O_RDONLY|syscall.O_NONBLOCK)
		if err != nil {
			return fail(err)
		}
		outputs[i] = r
		// A FIFO reads as ended while it has no writer; hold one until
		// the shim has opened its own (see taskStarted).
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			_ = r.Close()
			return fail(err)
		}
		k.until = append(k.until, w)
		if i == 0 {
			paths.stdout = path
		} else {
			paths.stderr = path
		}
	}
	err := startFIFOLogger(ctx, in.loggerPath, in.logURI, outputs[0], outputs[1])
	_ = outputs[0].Close()
	_ = outputs[1].Close()
	if err != nil {
		return fail(err)
	}
	return paths, k, nil
}

// mkfifo creates the FIFO path afresh.
func mkfifo(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("mkfifo %s: %w", path, err)
	}
	return nil
}

// makeFIFO creates dir/name afresh and opens it with flag.
func makeFIFO(dir, name string, flag int) (string, *os.File, error) {
	path := filepath.Join(dir, name)
	if err := mkfifo(path); err != nil {
		return "", nil, err
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return "", nil, err
	}
	return path, f, nil
}

// fifoKeeper holds the output FIFOs' temporary writers until the task
// has started, and removes the FIFOs when the container has ended.
type fifoKeeper struct {
	dir   string
	until []*os.File
}

func (k *fifoKeeper) taskStarted() {
	for _, f := range k.until {
		_ = f.Close()
	}
	k.until = nil
}

func (k *fifoKeeper) Close() error {
	k.taskStarted()
	return os.RemoveAll(k.dir)
}

// dialStdin opens a write end of container id's stdin. Non-blocking,
// so that it fails at once (ENXIO) when nobody reads any more instead
// of waiting for a reader.
func (m *Manager) dialStdin(_ context.Context, id string) (io.WriteCloser, error) {
	f, err := os.OpenFile(filepath.Join(m.dirs.containerStdio(id), "stdin"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENXIO) {
			return nil, fmt.Errorf("the container's stdin is closed: %w", errdefs.ErrFailedPrecondition)
		}
		return nil, err
	}
	return f, nil
}
