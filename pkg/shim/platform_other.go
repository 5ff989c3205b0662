//go:build !windows

package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// maxSocketPath is the longest unix socket path (sun_path holds 108
// bytes including the terminating NUL).
const maxSocketPath = 107

// shimSocketName is the length of runc-v2's socket file name: a hex
// sha256 of the -address value, the namespace and the group id.
const shimSocketName = 64

// deleteInBundle: the delete subcommand of runc-v2 finds the bundle
// from its working directory.
const deleteInBundle = true

func eventsAddress(stateDir, _ string) string {
	return filepath.Join(stateDir, "events.sock")
}

func checkSocketDir(dir string) error {
	if n := len(dir) + 1 + shimSocketName; n > maxSocketPath {
		return fmt.Errorf("state dir %q is too long: shim socket paths under it would be %d bytes, the limit is %d: %w",
			dir, n, maxSocketPath, errdefs.ErrInvalidArgument)
	}
	return nil
}

func listenEvents(addr string) (net.Listener, error) {
	if len(addr) > maxSocketPath {
		return nil, fmt.Errorf("events socket path %q exceeds %d bytes: %w", addr, maxSocketPath, errdefs.ErrInvalidArgument)
	}
	// A socket left by a previous wincri blocks the listen; nothing else
	// may own this path.
	if err := os.Remove(addr); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove stale events socket: %w", err)
	}
	l, err := net.Listen("unix", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for shim events on %s: %w", addr, err)
	}
	if err := os.Chmod(addr, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("restrict events socket: %w", err)
	}
	return l, nil
}

func shimAddressKey(addr string) string {
	return strings.TrimPrefix(addr, "unix://")
}

// dialShim connects to a shim's task socket. Unix sockets exist as soon
// as the shim listens, so a freshly started shim needs no retry.
func dialShim(ctx context.Context, addr string, _ bool) (net.Conn, error) {
	path := shimAddressKey(addr)
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("no shim listens on %s: %w: %w", addr, errdefs.ErrNotFound, err)
		}
		return nil, fmt.Errorf("dial shim %s: %w: %w", addr, errdefs.ErrUnavailable, err)
	}
	return c, nil
}

// openShimLog creates and opens the FIFO <bundle>/log that runc-v2
// writes its log to. It is opened read-write so that the open does not
// wait for the writer and a shim restart does not end the read with EOF.
func openShimLog(_, _, bundle string) (io.ReadCloser, error) {
	if bundle == "" {
		return nil, nil
	}
	path := filepath.Join(bundle, "log")
	if err := unix.Mkfifo(path, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create shim log fifo: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open shim log fifo: %w", err)
	}
	return f, nil
}

func sysProcAttr() *syscall.SysProcAttr {
	// Its own process group keeps a ^C or a signal to wincri's group
	// from reaching the start helper.
	return &syscall.SysProcAttr{Setpgid: true}
}

// setPriorityClass: priority classes are Windows'; ManagerOpts.PriorityClass
// is never set elsewhere (cmd/wincri refuses priority_class off Windows).
func setPriorityClass(pid int, _ uint32) error {
	return fmt.Errorf("process %d: priority classes exist on Windows only: %w", pid, errdefs.ErrNotImplemented)
}
