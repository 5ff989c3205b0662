package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/stdio"
)

// Exec runs cmd in a running container with its streams connected to
// the caller's, as kubectl exec does, and returns its exit code. With
// tty the process gets a terminal (its output arrives on stdout only)
// and resize carries the client's window size. When ctx ends first the
// process is killed.
func (m *Manager) Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan TerminalSize) (int32, error) {
	_, rec, s, release, err := m.runningTask(id)
	if err != nil {
		return 0, err
	}
	defer release()
	proc, err := execProcess(rec.Spec, cmd, tty)
	if err != nil {
		return 0, err
	}
	spec, err := shim.ProcessSpec(proc)
	if err != nil {
		return 0, err
	}
	execID := newID()[:32]
	// runc-v2 opens stdout and stderr together: both, or stdout alone
	// with a terminal.
	pipes, err := stdio.New(ctx, m.dirs.execState(), execID, stdio.Config{Stdin: stdin != nil, Stdout: true, Stderr: !tty})
	if err != nil {
		return 0, fmt.Errorf("creating exec stdio: %w", err)
	}
	defer pipes.Close()
	logger := klog.FromContext(ctx).WithValues(logkeys.ContainerID, rec.ID, logkeys.ExecID, execID)
	opts := shim.ExecOpts{ID: rec.ID, ExecID: execID, Spec: spec, Stdin: pipes.StdinPath, Stdout: pipes.StdoutPath, Stderr: pipes.StderrPath, Terminal: tty}
	if err := s.Exec(ctx, opts); err != nil {
		return 0, m.execStartError(ctx, s, rec.ID, err)
	}
	defer func() {
		cctx, cancel := m.cleanupContext(ctx)
		defer cancel()
		if _, err := s.Delete(cctx, rec.ID, execID); err != nil && !gone(err) {
			logger.Error(err, "Deleting an exec process")
		}
	}()

	// A client that went away cannot take output any more; the process
	// would block on a full pipe, so it is killed (through Wait's
	// context) as when ctx ends.
	ctx, clientGone := context.WithCancel(ctx)
	defer clientGone()
	var output sync.WaitGroup
	copyOut := func(dst io.Writer, src io.Reader) {
		if src == nil {
			return
		}
		if dst == nil {
			dst = io.Discard
		}
		output.Go(func() { copyToClient(logger, dst, src, clientGone) })
	}
	copyOut(stdout, pipes.Stdout)
	copyOut(stderr, pipes.Stderr)

	if _, err := m.startProcess(ctx, s, rec.ID, execID); err != nil {
		return 0, m.execStartError(ctx, s, rec.ID, err)
	}
	done := make(chan struct{})
	defer close(done)
	go forwardResizes(ctx, s, rec.ID, execID, resize, done)
	if stdin != nil {
		go func() {
			_, _ = io.Copy(pipes.Stdin, stdin)
			// End of the client's input is end of the process's input.
			_ = pipes.Stdin.Close()
			cctx, cancel := m.cleanupContext(ctx)
			defer cancel()
			if err := s.CloseIO(cctx, rec.ID, execID); err != nil && !gone(err) {
				logger.V(4).Info("Closing an exec's stdin", "err", err)
			}
		}()
	}

	st, err := m.waitExec(ctx, s, rec.ID, execID)
	if err != nil {
		if errors.Is(err, errKillFailed) {
			return 0, fmt.Errorf("exec in container %s: the client went away: %w", rec.ID, err)
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("exec in container %s: the client went away, the process was killed: %w", rec.ID, err)
		}
		return 0, fmt.Errorf("waiting for exec in container %s: %w", rec.ID, err)
	}
	drainOutput(&output, pipes)
	return int32(st.ExitStatus), nil
}

// copyToClient copies an exec's output to the client until the shim
// closes it. When a write to the client fails, clientGone is called and
// the rest is read and dropped: a shim deleting the exec first drains its
// output, and would wait for a reader that is gone ("failed to drain exec
// process io", containerd-shim-runc-v2's process/exec.go,
// execProcess.delete).
func copyToClient(logger klog.Logger, dst io.Writer, src io.Reader, clientGone func()) {
	if _, err := io.Copy(failWriter{w: dst, fail: clientGone}, src); errors.Is(err, errClientWrite) {
		logger.V(2).Info("Exec client stopped taking output")
		_, _ = io.Copy(io.Discard, src)
	}
}

// drainOutput waits for the output copies, at most ioDrainTimeout: a
// child the process left behind may hold the pipes open.
func drainOutput(wg *sync.WaitGroup, pipes *stdio.Pipes) {
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(ioDrainTimeout):
		for _, c := range []io.Closer{pipes.Stdout, pipes.Stderr} {
			if c != nil {
				_ = c.Close()
			}
		}
		<-drained
	}
}

// errClientWrite marks a failed write to a streaming client.
var errClientWrite = errors.New("writing to the client failed")

// failWriter calls fail when a write to w fails.
type failWriter struct {
	w    io.Writer
	fail func()
}

func (f failWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		f.fail()
		return n, fmt.Errorf("%w: %w", errClientWrite, err)
	}
	return n, nil
}
