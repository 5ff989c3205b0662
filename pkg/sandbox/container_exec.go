package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/stdio"
)

// MaxExecOutput caps what ExecSync keeps of each stream; kubelet itself
// keeps far less for probes.
const MaxExecOutput = 16 << 20

// ioDrainTimeout bounds the wait for an exec's output after it exited:
// a child it left behind may hold the pipes open.
const ioDrainTimeout = 2 * time.Second

// ExecResult is the outcome of ExecSync.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
}

// ExecSync runs cmd in a running container and returns its output and
// exit code. With a positive timeout the process is killed at the
// deadline and the error wraps context.DeadlineExceeded.
func (m *Manager) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error) {
	c, err := m.getContainer(id)
	if err != nil {
		return ExecResult{}, err
	}
	rec := c.snapshot()
	if rec.State != ContainerRunning {
		return ExecResult{}, fmt.Errorf("container %s is %s, not running: %w", rec.ID, rec.State, errdefs.ErrFailedPrecondition)
	}
	p, err := m.getPod(rec.PodID)
	if err != nil {
		return ExecResult{}, err
	}
	s, done, err := p.useShim()
	if err != nil {
		return ExecResult{}, err
	}
	defer done()
	proc, err := execProcess(rec.Spec, cmd, false)
	if err != nil {
		return ExecResult{}, err
	}
	execID := newID()[:32]
	pipes, err := stdio.New(ctx, m.dirs.execState(), execID, stdio.Config{Stdout: true, Stderr: true})
	if err != nil {
		return ExecResult{}, fmt.Errorf("creating exec stdio: %w", err)
	}
	defer pipes.Close()
	spec, err := shim.ProcessSpec(proc)
	if err != nil {
		return ExecResult{}, err
	}
	if err := s.Exec(ctx, shim.ExecOpts{ID: rec.ID, ExecID: execID, Spec: spec, Stdout: pipes.StdoutPath, Stderr: pipes.StderrPath}); err != nil {
		return ExecResult{}, m.execStartError(ctx, s, rec.ID, err)
	}
	cleanup := func() {
		cctx, cancel := m.cleanupContext(ctx)
		defer cancel()
		if _, err := s.Delete(cctx, rec.ID, execID); err != nil && !gone(err) {
			klog.FromContext(ctx).Error(err, "Deleting an exec process", logkeys.ContainerID, rec.ID, logkeys.ExecID, execID)
		}
	}
	defer cleanup()

	var stdout, stderr cappedBuffer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(&stdout, pipes.Stdout) }()
	go func() { defer wg.Done(); _, _ = io.Copy(&stderr, pipes.Stderr) }()

	if _, err := m.startProcess(ctx, s, rec.ID, execID); err != nil {
		return ExecResult{}, m.execStartError(ctx, s, rec.ID, err)
	}
	wctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	st, err := m.waitExec(wctx, s, rec.ID, execID)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			if errors.Is(err, errKillFailed) {
				return ExecResult{}, fmt.Errorf("command %q timed out after %s: %w", cmd, timeout, err)
			}
			return ExecResult{}, fmt.Errorf("command %q timed out after %s and was killed: %w", cmd, timeout, context.DeadlineExceeded)
		}
		return ExecResult{}, fmt.Errorf("waiting for exec in container %s: %w", rec.ID, err)
	}
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(ioDrainTimeout):
		_ = pipes.Stdout.Close()
		_ = pipes.Stderr.Close()
		<-drained
	}
	if stdout.overflow || stderr.overflow {
		return ExecResult{}, fmt.Errorf("command %q wrote more than %d bytes to a stream, the exec output limit: %w", cmd, MaxExecOutput, errdefs.ErrResourceExhausted)
	}
	return ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: int32(st.ExitStatus)}, nil
}

// startProcess starts a task's process without letting ctx cut the
// call short: a ttrpc call whose context ends returns the context's error
// however far the shim got, so a process might run on that wincri
// believes never started, with nobody to stop it. The call is bounded by
// the cleanup timeout instead, and its answer is the truth: an exec whose
// ctx has ended meanwhile is killed by waitExec at once, and a started
// task is recorded as running.
func (m *Manager) startProcess(ctx context.Context, s shim.Shim, id, execID string) (uint32, error) {
	sctx, cancel := m.cleanupContext(ctx)
	defer cancel()
	return s.Start(sctx, id, execID)
}

// execStartError explains a failed exec create or start. When the container
// stopped meanwhile (kubelet probes race with its termination, and runc
// then fails with "read init-p: connection reset by peer", or the runc
// shim answers that the init process is not running) the request came
// too late: FailedPrecondition, not a runtime fault.
func (m *Manager) execStartError(ctx context.Context, s shim.Shim, id string, err error) error {
	// The shim itself may say the container's init is not running
	// before the task's state shows its exit.
	if errdefs.IsFailedPrecondition(err) {
		return fmt.Errorf("container %s stopped while the exec was starting (%v): %w", id, err, errdefs.ErrFailedPrecondition)
	}
	cctx, cancel := m.cleanupContext(ctx)
	defer cancel()
	if st, serr := s.State(cctx, id, ""); serr == nil && st.Status != shim.StatusRunning {
		return fmt.Errorf("container %s stopped while the exec was starting (%v): %w", id, err, errdefs.ErrFailedPrecondition)
	} else if gone(serr) {
		return fmt.Errorf("container %s is gone: %w", id, errdefs.ErrFailedPrecondition)
	}
	if cerr := ctx.Err(); cerr != nil {
		// The caller gave up (kubelet's probe deadline) while runc was
		// still starting the process, whose stdio then went: runc fails
		// with "broken pipe". The deadline is the cause, not the runtime.
		return fmt.Errorf("starting exec in container %s: the request ended while the process started (%v): %w", id, err, cerr)
	}
	return fmt.Errorf("starting exec in container %s: %w", id, err)
}

// errKillFailed marks an abandoned exec process that could not be killed
// and may still run.
var errKillFailed = errors.New("killing the process failed; it may still run")

// waitExec waits for an exec process to exit. When stop ends first (a
// timeout, or the client gone) the process is killed and awaited, bounded
// by the cleanup timeout: a shim kills asynchronously and refuses to
// delete a running process ("cannot delete a running process"), which
// would leave the exec behind. containerd waits the same way
// (internal/cri/server/container_execsync.go, execInternal). The one Wait
// call is never abandoned, so the shim's answer always finds its caller.
// Kill's all flag stays false: it applies to a task's init process only,
// and runhcs rejects it with an exec id.
func (m *Manager) waitExec(stop context.Context, s shim.Shim, id, execID string) (shim.ExitStatus, error) {
	type result struct {
		st  shim.ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := s.Wait(context.WithoutCancel(stop), id, execID)
		done <- result{st, err}
	}()
	select {
	case r := <-done:
		return r.st, r.err
	case <-stop.Done():
	}
	kctx, cancel := m.cleanupContext(stop)
	defer cancel()
	logger := klog.FromContext(stop).WithValues(logkeys.ContainerID, id, logkeys.ExecID, execID)
	if err := s.Kill(kctx, id, execID, sigkill, false); err != nil && !gone(err) {
		// The process may run on: say so, to the log and the caller.
		logger.Error(err, "Killing an abandoned exec process")
		return shim.ExitStatus{}, fmt.Errorf("%w: %w: %w", stop.Err(), errKillFailed, err)
	}
	select {
	case <-done:
	case <-kctx.Done():
		logger.Error(kctx.Err(), "An abandoned exec process did not end after SIGKILL")
	}
	return shim.ExitStatus{}, stop.Err()
}

// execProcess is the container's own process spec running cmd instead.
func execProcess(specJSON []byte, cmd []string, tty bool) (*specs.Process, error) {
	var spec specs.Spec
	if err := json.Unmarshal(specJSON, &spec); err != nil || spec.Process == nil {
		return nil, fmt.Errorf("decoding the container's spec: %v: %w", err, errdefs.ErrFailedPrecondition)
	}
	proc := *spec.Process
	proc.Args = append([]string(nil), cmd...)
	proc.CommandLine = ""
	proc.Terminal = tty
	proc.ConsoleSize = nil
	return &proc, nil
}

// cappedBuffer keeps the first MaxExecOutput bytes and notes overflow,
// but keeps consuming so that the process never blocks on a full pipe.
// The buffer is a field, not embedded: an embedded bytes.Buffer's
// ReadFrom would let io.Copy bypass the cap.
type cappedBuffer struct {
	buf      bytes.Buffer
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := MaxExecOutput - b.buf.Len(); len(p) > room {
		b.overflow = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

// Bytes is what was kept.
func (b *cappedBuffer) Bytes() []byte { return b.buf.Bytes() }
