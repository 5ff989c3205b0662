//go:build !windows

package logger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/containerd/errdefs"
)

// uriScheme is binary-v2: runc-v2 then fails the task's creation when the
// logger dies before it is ready, instead of taking its exit for
// readiness as it does for binary.
const uriScheme = "binary-v2"

// binaryName is the logger executable's file name.
const binaryName = "wincri-logger"

// ControlAddress is the unix socket the logger of container id listens
// on: <stateDir>/<id>.sock.
func ControlAddress(stateDir, id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("logger: container id %q: %w", id, errdefs.ErrInvalidArgument)
	}
	return unixSocketPath(stateDir, id)
}

func listenControl(addr string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(addr), 0o700); err != nil {
		return nil, fmt.Errorf("create control directory: %w", err)
	}
	// A logger killed without cleanup leaves its socket behind; the id
	// is the container's, so the socket is this logger's to take.
	if err := removeControl(addr); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket: %w", err)
	}
	if err := os.Chmod(addr, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("restrict control socket: %w", err)
	}
	return l, nil
}

func dialControl(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", addr)
}

func removeControl(addr string) error {
	if err := os.Remove(addr); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale control socket: %w", err)
	}
	return nil
}

// OpenStdio takes the container's output as runc-v2 hands it over: the
// read ends of the stdout and stderr pipes as fds 3 and 4, the write end
// of the readiness pipe as fd 5. Closing the files is Run's; the returned
// release has nothing more to do.
func OpenStdio(context.Context, Options) (Stdio, func() error, error) {
	stdio, err := openShimFds()
	return stdio, func() error { return nil }, err
}

func openShimFds() (Stdio, error) {
	var files [3]*os.File
	for i, name := range []string{"stdout", "stderr", "ready"} {
		fd := 3 + i
		// Non-blocking descriptors go into Go's poller, so that closing
		// them ends a pending read when draining times out.
		if err := syscall.SetNonblock(fd, true); err != nil {
			return Stdio{}, fmt.Errorf("fd %d (%s): %v; wincri-logger is started by a containerd shim through a binary:// stdio URI: %w", fd, name, err, errdefs.ErrInvalidArgument)
		}
		files[i] = os.NewFile(uintptr(fd), name)
	}
	ready := files[2]
	return Stdio{
		Stdout: files[0],
		Stderr: files[1],
		Ready: func() error {
			_, err := ready.Write([]byte{0})
			return errors.Join(err, ready.Close())
		},
	}, nil
}
