//go:build !windows

package sandbox

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wincri/wincri/pkg/crilog/logger"
	"github.com/wincri/wincri/pkg/logkeys"
	"k8s.io/klog/v2"
)

// taskStdio returns the stdio endpoints of a container's task. Output
// goes to wincri's logging process, which outlives wincri and also
// serves it live to attach clients. A container that asked for stdin
// gets an endpoint that wincri keeps open for its life (see openStdio),
// so that attach clients come and go without the container seeing end
// of input.
func (m *Manager) taskStdio(ctx context.Context, c *container, logDir string) (taskIO, error) {
	rec := c.snapshot()
	var uri string
	var err error
	// A container with stdin gets a logging process even without a log:
	// it serves the output live to attach clients.
	if rec.LogPath != "" || c.cfg.GetStdin() {
		if uri, err = m.logURI(rec.ID, logDir, rec.LogPath); err != nil {
			return taskIO{}, err
		}
	}
	if c.cfg.GetStdin() {
		paths, keeper, err := openStdio(ctx, stdioInput{
			dir: m.dirs.containerStdio(""), id: rec.ID, tty: c.cfg.GetTty(), logURI: uri, loggerPath: m.loggerPath,
		})
		if err != nil {
			return taskIO{}, fmt.Errorf("creating the stdio of a container with stdin: %w", err)
		}
		go m.keepStdin(klog.FromContext(ctx), rec.ID, keeper)
		return taskIO{stdin: paths.stdin, stdout: paths.stdout, stderr: paths.stderr}, nil
	}
	if uri == "" || c.cfg.GetTty() {
		return taskIO{stdout: uri}, nil
	}
	return taskIO{stdout: uri, stderr: uri}, nil
}

// How often the keeper of a container's stdin checks whether the task
// has started, and then whether the container has ended.
const (
	stdinStartPoll     = 50 * time.Millisecond
	stdinWatchInterval = 2 * time.Second
)

// stdioInput says what openStdio creates.
type stdioInput struct {
	// dir/id holds the endpoints.
	dir, id string
	tty     bool
	// logURI is the logging process's binary:// URI, "" without a log.
	logURI, loggerPath string
}

// stdioPaths are the endpoints handed to the shim.
type stdioPaths struct {
	stdin, stdout, stderr string
}

// stdinKeeper holds what a container's stdin needs for the container's
// life.
type stdinKeeper interface {
	// taskStarted is called once the task has been created (or failed
	// to), when the shim holds its ends.
	taskStarted()
	io.Closer
}

// keepStdin holds a container's stdin endpoint until the container has
// exited or is gone, then releases it.
func (m *Manager) keepStdin(logger klog.Logger, id string, keeper stdinKeeper) {
	started := false
	for {
		interval := stdinWatchInterval
		if !started {
			interval = stdinStartPoll
		}
		time.Sleep(interval)
		st := ContainerUnknown
		if c, err := m.getContainer(id); err == nil {
			st = c.snapshot().State
		}
		if !started && st != ContainerCreating && st != ContainerCreated {
			keeper.taskStarted()
			started = true
		}
		if st == ContainerCreating || st == ContainerCreated || st == ContainerRunning {
			continue
		}
		if err := keeper.Close(); err != nil {
			logger.V(4).Info("Releasing a container's stdin", logkeys.ContainerID, id, "err", err)
		}
		return
	}
}

// logURI is the stdio URI that makes the shim start wincri's logging
// process for a container.
func (m *Manager) logURI(id, logDir, logPath string) (string, error) {
	o, err := m.loggerOptions(id, logDir, logPath)
	if err != nil {
		return "", err
	}
	return logger.BinaryURI(m.loggerPath, o)
}
