package logger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"
)

// The control protocol: one JSON request per connection, one JSON
// response, then the logger closes the connection.
type request struct {
	Op string `json:"op"`
}

type response struct {
	// Code is "" on success, else one of the code* values.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

const (
	opReopen = "reopen"

	codeFailedPrecondition = "failed-precondition"
	codeInvalidArgument    = "invalid-argument"
	codeUnavailable        = "unavailable"

	// maxMessageSize bounds what either side reads from the other.
	maxMessageSize = 4096
	// controlTimeout bounds a request when the caller's context has no
	// deadline, and every connection on the logger's side.
	controlTimeout = 30 * time.Second
)

// Reopen asks the logger of container id to reopen its log file, as
// kubelet's ReopenContainerLog requires after it renamed the file. It
// is errdefs.ErrFailedPrecondition when no logger runs for the container
// or its output has ended (the container is not running), and
// ErrUnavailable when the logger cannot be reached or cannot open the
// file; then the old file stays in use.
func Reopen(ctx context.Context, stateDir, id string) error {
	addr, err := ControlAddress(stateDir, id)
	if err != nil {
		return err
	}
	conn, err := dialControl(ctx, addr)
	if err != nil {
		// No endpoint, or one no process serves: the logger is gone.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("reopen log of container %s: no logger runs for it, the container is not running: %w", id, errdefs.ErrFailedPrecondition)
		}
		return fmt.Errorf("reopen log of container %s: reach its logger: %v: %w", id, err, errdefs.ErrUnavailable)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(controlTimeout)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("reopen log of container %s: %v: %w", id, err, errdefs.ErrUnavailable)
	}
	// Closing the connection when ctx ends interrupts a pending read.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	if err := json.NewEncoder(conn).Encode(request{Op: opReopen}); err != nil {
		return fmt.Errorf("reopen log of container %s: send: %v: %w", id, err, errdefs.ErrUnavailable)
	}
	var resp response
	if err := json.NewDecoder(io.LimitReader(conn, maxMessageSize)).Decode(&resp); err != nil {
		return fmt.Errorf("reopen log of container %s: read reply: %v: %w", id, err, errdefs.ErrUnavailable)
	}
	switch resp.Code {
	case "":
		return nil
	case codeFailedPrecondition:
		return fmt.Errorf("reopen log of container %s: %s: %w", id, resp.Message, errdefs.ErrFailedPrecondition)
	case codeInvalidArgument:
		return fmt.Errorf("reopen log of container %s: %s: %w", id, resp.Message, errdefs.ErrInvalidArgument)
	default:
		return fmt.Errorf("reopen log of container %s: %s: %w", id, resp.Message, errdefs.ErrUnavailable)
	}
}

// DiagnosticsFile is where the logger of container id writes about its
// own trouble, since the shims discard its output.
func DiagnosticsFile(stateDir, id string) string {
	return filepath.Join(stateDir, id+".diag.log")
}

// Cleanup removes what the logger of container id left in stateDir: its
// diagnostics file and, if it was killed, its control endpoint. Call it
// when the container is removed; what is missing is not an error.
func Cleanup(stateDir, id string) error {
	addr, err := ControlAddress(stateDir, id)
	if err != nil {
		return err
	}
	if err := os.Remove(DiagnosticsFile(stateDir, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove logger diagnostics: %w", err)
	}
	return removeControl(addr)
}

// reopener is what the control server acts on; Run's state implements it.
type reopener interface {
	reopen() error
}

// serveControl answers requests on l until l is closed.
func serveControl(ctx context.Context, l net.Listener, r reopener) {
	logger := klog.FromContext(ctx)
	for {
		conn, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				logger.Error(err, "Accepting control connection failed; no more reopen requests will be served")
			}
			return
		}
		// One request at a time: reopen takes the file's lock anyway,
		// and serial handling bounds what a flood of clients costs.
		handleControl(ctx, conn, r)
	}
}

func handleControl(ctx context.Context, conn net.Conn, r reopener) {
	logger := klog.FromContext(ctx)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(controlTimeout))
	var req request
	var resp response
	if err := json.NewDecoder(io.LimitReader(conn, maxMessageSize)).Decode(&req); err != nil {
		resp = response{Code: codeInvalidArgument, Message: "malformed request: " + err.Error()}
	} else if req.Op != opReopen {
		resp = response{Code: codeInvalidArgument, Message: fmt.Sprintf("unknown operation %q", req.Op)}
	} else if err := r.reopen(); err != nil {
		resp = response{Code: codeUnavailable, Message: err.Error()}
		if errors.Is(err, errdefs.ErrFailedPrecondition) {
			resp.Code = codeFailedPrecondition
		}
		logger.Error(err, "Reopening container log failed")
	} else {
		logger.V(2).Info("Reopened container log")
	}
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		logger.V(2).Info("Answering control request failed", "err", err)
	}
}

// windowsPipeName names the control pipe of container id. Named pipes
// share one namespace per machine, so the state directory is hashed in
// to keep two wincri instances (or test runs) apart.
func windowsPipeName(stateDir, id string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(stateDir))))
	return `\\.\pipe\wincri-logger-` + hex.EncodeToString(sum[:8]) + "-" + id
}

// maxUnixSocketPath is sun_path's 108 bytes less the terminating NUL.
const maxUnixSocketPath = 107

// unixSocketPath names the control socket of container id.
func unixSocketPath(stateDir, id string) (string, error) {
	p := filepath.Join(stateDir, id+".sock")
	if len(p) > maxUnixSocketPath {
		return "", fmt.Errorf("logger: control socket path %q is longer than %d bytes; use a shorter state directory: %w", p, maxUnixSocketPath, errdefs.ErrInvalidArgument)
	}
	return p, nil
}
