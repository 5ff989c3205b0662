package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

	"github.com/Microsoft/go-winio"
	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/stdio"
)

// adminsOnly admits SYSTEM and Administrators, as wincri runs.
const adminsOnly = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// openStdio creates the named pipe runhcs dials for a container's stdin
// and a second pipe attach clients dial: a named pipe has one client,
// the shim, so the keeper relays each attach client into it in turn.
// runhcs (hcsshim v0.15.0) connects no stdin beside a binary:// logger,
// so a container with a log reads its stdin only once runhcs does.
func openStdio(ctx context.Context, in stdioInput) (stdioPaths, stdinKeeper, error) {
	pipes, err := stdio.New(ctx, in.dir, in.id, stdio.Config{Stdin: true})
	if err != nil {
		return stdioPaths{}, nil, err
	}
	l, err := winio.ListenPipe(relayPipe(in.dir, in.id), &winio.PipeConfig{SecurityDescriptor: adminsOnly})
	if err != nil {
		_ = pipes.Close()
		return stdioPaths{}, nil, err
	}
	k := &stdinRelay{pipes: pipes, l: l, done: make(chan struct{})}
	go k.serve()
	paths := stdioPaths{stdin: pipes.StdinPath, stdout: in.logURI}
	if !in.tty {
		paths.stderr = in.logURI
	}
	return paths, k, nil
}

type stdinRelay struct {
	pipes *stdio.Pipes
	l     net.Listener
	done  chan struct{}
}

// serve copies one attach client at a time into the shim's pipe.
func (r *stdinRelay) serve() {
	defer close(r.done)
	for {
		c, err := r.l.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(r.pipes.Stdin, c)
		_ = c.Close()
	}
}

func (r *stdinRelay) taskStarted() {}

func (r *stdinRelay) Close() error {
	err := r.l.Close()
	<-r.done
	return errors.Join(err, r.pipes.Close())
}

// relayPipe names the attach side of container id's stdin; the state
// directory is hashed in to keep two wincri instances apart.
func relayPipe(dir, id string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(dir))))
	return `\\.\pipe\wincri-stdin-` + hex.EncodeToString(sum[:8]) + "-" + id
}

func dialStdin(ctx context.Context, dir, id string) (io.WriteCloser, error) {
	c, err := winio.DialPipeContext(ctx, relayPipe(dir, id))
	if err != nil {
		return nil, fmt.Errorf("the container's stdin is closed: %v: %w", err, errdefs.ErrFailedPrecondition)
	}
	return c, nil
}
