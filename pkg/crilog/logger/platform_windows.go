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

// uriScheme is binary, the only URI runhcs knows; wincri gives runhcs
// named pipes instead (OpenStdio), the URI serves tests and tools.
const uriScheme = "binary"

// controlSDDL admits SYSTEM and Administrators only, like wincri's own
// endpoint.
const controlSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// binaryName is the logger executable's file name.
const binaryName = "wincri-logger.exe"

// ControlAddress is the named pipe the logger of container id listens
// on; its name is derived from stateDir and id.
func ControlAddress(stateDir, id string) (string, error) {
	if !validID(id) {
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

// acceptTimeout bounds how long the logger waits for runhcs to dial its
// pipes: a task that was never created (wincri died before CreateTask)
// must not leave the logger behind forever. A utility VM's boot comes
// before a container's CreateTask, so the wait covers only the create.
const acceptTimeout = 5 * time.Minute

// OpenStdio serves the named pipes runhcs dials for the container's
// stdio (Pipes) and says ready on the logger's own stdout, which wincri,
// the logger's parent, reads before it creates the task. wincri, not the
// shim, starts the logger on Windows: runhcs gives stdin and terminals
// only to named pipe IO, and a logger of wincri's outlives wincri while a
// shim's binary:// child dies with the CreateTask request.
func OpenStdio(_ context.Context, o Options) (Stdio, func() error, error) {
	set, err := Pipes(o.StateDir, o.ID, o.Stdin, o.Terminal)
	if err != nil {
		return Stdio{}, nil, err
	}
	listen := func(name string) (net.Listener, error) {
		return winio.ListenPipe(name, &winio.PipeConfig{SecurityDescriptor: controlSDDL})
	}
	return ServePipes(set, listen, acceptTimeout, func() error {
		_, err := os.Stdout.Write([]byte{0})
		return errors.Join(err, os.Stdout.Close())
	})
}
