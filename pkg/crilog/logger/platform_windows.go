package logger

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/Microsoft/go-winio"
	"github.com/containerd/errdefs"
)

// uriScheme is binary: runhcs knows no other.
const uriScheme = "binary"

// controlSDDL admits SYSTEM and Administrators only, like wincri's own
// endpoint.
const controlSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// dialStdioTimeout matches how long runhcs waits for the logger.
const dialStdioTimeout = 10 * time.Second

// binaryName is the logger executable's file name.
const binaryName = "wincri-logger.exe"

// ControlAddress is the named pipe the logger of container id listens
// on; its name is derived from stateDir and id.
func ControlAddress(stateDir, id string) (string, error) {
	if !idPattern.MatchString(id) {
		return "", fmt.Errorf("logger: container id %q: %w", id, errdefs.ErrInvalidArgument)
	}
	return windowsPipeName(stateDir, id), nil
}

func listenControl(addr string) (net.Listener, error) {
	l, err := winio.ListenPipe(addr, &winio.PipeConfig{SecurityDescriptor: controlSDDL})
	if err != nil {
		return nil, fmt.Errorf("listen on control pipe: %w", err)
	}
	return l, nil
}

func dialControl(ctx context.Context, addr string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, addr)
}

// removeControl has nothing to do: a named pipe goes with its process.
func removeControl(string) error { return nil }

// OpenStdio dials the named pipes runhcs listens on for the container's
// output and for the logger's readiness.
func OpenStdio(ctx context.Context) (Stdio, error) {
	ctx, cancel := context.WithTimeout(ctx, dialStdioTimeout)
	defer cancel()
	var conns [3]net.Conn
	for i, env := range []string{"CONTAINER_STDOUT", "CONTAINER_STDERR", "CONTAINER_WAIT"} {
		path := os.Getenv(env)
		if path == "" {
			return Stdio{}, fmt.Errorf("%s is not set; wincri-logger is started by a containerd shim through a binary:// stdio URI: %w", env, errdefs.ErrInvalidArgument)
		}
		c, err := winio.DialPipeContext(ctx, path)
		if err != nil {
			for _, open := range conns[:i] {
				_ = open.Close()
			}
			return Stdio{}, fmt.Errorf("dial %s %s: %v: %w", env, path, err, errdefs.ErrUnavailable)
		}
		conns[i] = c
	}
	ready := conns[2]
	return Stdio{
		Stdout: conns[0],
		Stderr: conns[1],
		Ready: func() error {
			_, err := ready.Write([]byte{0})
			return errors.Join(err, ready.Close())
		},
	}, nil
}
