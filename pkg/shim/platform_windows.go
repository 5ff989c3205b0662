package shim

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/Microsoft/go-winio"
	"github.com/containerd/errdefs"
	"golang.org/x/sys/windows"
)

// deleteInBundle: Windows cannot remove a directory that is a running
// process's working directory, so delete runs elsewhere and gets
// -bundle (runhcs reads it from the flag).
const deleteInBundle = false

// pipeServeWait is how long a freshly started runhcs may take to create
// its pipe after start returned.
const pipeServeWait = 5 * time.Second

// pipeAccessSDDL lets only Administrators and SYSTEM (the accounts that
// run wincri and its shims) open wincri's pipes.
const pipeAccessSDDL = "D:P(A;;GA;;;BA)(A;;GA;;;SY)"

func eventsAddress(stateDir, namespace string) string {
	// Named pipes live in one global namespace: derive the name from the
	// state dir so two wincri instances never collide, and it stays the
	// same across restarts.
	sum := sha256.Sum256([]byte(strings.ToLower(stateDir)))
	return fmt.Sprintf(`\\.\pipe\wincri-%s-events-%x`, namespace, sum[:6])
}

// checkSocketDir: runhcs serves on named pipes; no path limit applies.
func checkSocketDir(string) error { return nil }

func listenEvents(addr string) (net.Listener, error) {
	l, err := winio.ListenPipe(addr, &winio.PipeConfig{SecurityDescriptor: pipeAccessSDDL})
	if err != nil {
		return nil, fmt.Errorf("listen for shim events on %s: %w", addr, err)
	}
	return l, nil
}

func shimAddressKey(addr string) string {
	return strings.ToLower(strings.TrimPrefix(addr, "npipe://"))
}

// dialShim connects to a shim's pipe. A freshly started shim may not
// have created it yet (wait); a recorded address must answer at once.
func dialShim(ctx context.Context, addr string, wait bool) (net.Conn, error) {
	path := strings.TrimPrefix(addr, "npipe://")
	deadline := time.Now().Add(pipeServeWait)
	for {
		c, err := winio.DialPipeContext(ctx, path)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("dial shim %s: %w: %w", addr, errdefs.ErrUnavailable, err)
		}
		if !wait || time.Now().After(deadline) {
			return nil, fmt.Errorf("no shim serves %s: %w: %w", addr, errdefs.ErrNotFound, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// openShimLog connects to the pipe runhcs serves its log on (see
// hcsshim cmd/containerd-shim-runhcs-v1/serve.go). runhcs listens only
// once start hands over to its serve process, so the pipe is dialled in
// the background until it answers or the shim's connection ends (which
// closes the reader); the first Read waits for it.
func openShimLog(namespace, shimID, _ string) (io.ReadCloser, error) {
	if shimID == "" {
		return nil, nil
	}
	name := fmt.Sprintf(`\\.\pipe\containerd-shim-%s-%s-log`, namespace, shimID)
	return newLazyConn(func(ctx context.Context) (net.Conn, error) {
		return dialShim(ctx, name, false)
	}, 100*time.Millisecond), nil
}

func sysProcAttr() *syscall.SysProcAttr { return nil }

// setPriorityClass gives process pid the Windows priority class.
func setPriorityClass(pid int, class uint32) error {
	h, err := windows.OpenProcess(windows.PROCESS_SET_INFORMATION, false, uint32(pid))
	if err != nil {
		return fmt.Errorf("opening process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.SetPriorityClass(h, class); err != nil {
		return fmt.Errorf("setting the priority class of process %d: %w", pid, err)
	}
	return nil
}
