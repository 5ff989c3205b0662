package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/Microsoft/go-winio"
	"github.com/containerd/errdefs"
	"golang.org/x/sys/windows"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog/logger"
	"github.com/wincri/wincri/pkg/logkeys"
)

// taskStdio gives runhcs named pipes for the container's stdio, as
// containerd does (pkg/cio/io_windows.go): runhcs gives stdin and a
// terminal only to named pipe IO, never to a binary:// logger
// (hcsshim v0.15.0, internal/cmd/io_binary.go). The pipes must outlive
// wincri, so wincri does not serve them: it starts wincri-logger, which
// creates them, writes the log, serves attach clients and relays their
// input to the container's stdin, and exits when the container's output
// ends. A container with neither a log nor stdin gets no IO.
func (m *Manager) taskStdio(ctx context.Context, c *container, logDir string) (taskIO, error) {
	rec := c.snapshot()
	if rec.LogPath == "" && !c.cfg.GetStdin() {
		return taskIO{}, nil
	}
	o, err := m.loggerOptions(rec.ID, logDir, rec.LogPath)
	if err != nil {
		return taskIO{}, err
	}
	o.Stdin, o.Terminal = c.cfg.GetStdin(), c.cfg.GetTty()
	set, err := logger.Pipes(o.StateDir, o.ID, o.Stdin, o.Terminal)
	if err != nil {
		return taskIO{}, err
	}
	proc, err := startPipeLogger(ctx, m.loggerPath, o)
	if err != nil {
		return taskIO{}, err
	}
	return taskIO{stdin: set.Stdin, stdout: set.Stdout, stderr: set.Stderr, abandon: func() {
		if err := proc.Kill(); err != nil {
			klog.FromContext(ctx).V(2).Info("Stopping the logging process of a task that was not created", logkeys.ContainerID, rec.ID, "err", err)
		}
		_ = proc.Release()
	}}, nil
}

// startPipeLogger starts wincri-logger for o, detached so that it
// outlives wincri, and waits until it serves its pipes: it writes a byte
// to its stdout then.
func startPipeLogger(ctx context.Context, loggerPath string, o logger.Options) (*os.Process, error) {
	args, err := logger.Args(o)
	if err != nil {
		return nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	cmd := exec.Command(loggerPath, args...)
	cmd.Stdout = readyW
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.DETACHED_PROCESS | windows.CREATE_NEW_PROCESS_GROUP}
	err = cmd.Start()
	_ = readyW.Close()
	if err != nil {
		return nil, fmt.Errorf("starting the logging process: %w", err)
	}
	if err := awaitLoggerReady(cmd.Process, readyR); err != nil {
		return nil, err
	}
	// Reap it when it ends while wincri runs.
	go func() { _ = cmd.Wait() }()
	klog.FromContext(ctx).V(2).Info("Started the logging process", logkeys.ContainerID, o.ID, "pid", cmd.Process.Pid)
	return cmd.Process, nil
}

// dialStdin opens the attach side of container id's stdin, which its
// logging process relays to the container.
func (m *Manager) dialStdin(ctx context.Context, id string) (io.WriteCloser, error) {
	set, err := logger.Pipes(m.dirs.loggerState(), id, true, false)
	if err != nil {
		return nil, err
	}
	conn, err := winio.DialPipeContext(ctx, set.Relay)
	if err != nil {
		return nil, fmt.Errorf("the container's stdin is closed: %v: %w", err, errdefs.ErrFailedPrecondition)
	}
	return conn, nil
}
