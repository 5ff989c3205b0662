package sandbox

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog/logger"
	"github.com/wincri/wincri/pkg/logkeys"
)

// How often the keeper of a container's stdin checks whether the task
// has started, and then whether the container has ended.
const (
	stdinStartPoll     = 50 * time.Millisecond
	stdinWatchInterval = 2 * time.Second
)

// taskStdio returns the stdio endpoints of a container's task. Output
// goes to wincri's logging process, which outlives wincri and also
// serves it live to attach clients. A container that asked for stdin
// gets an endpoint that wincri keeps open for its life (see openStdio),
// so that attach clients come and go without the container seeing end
// of input.
func (m *Manager) taskStdio(ctx context.Context, c *container, logDir string) (stdin, stdout, stderr string, err error) {
	rec := c.snapshot()
	var uri string
	// A container with stdin gets a logging process even without a log:
	// it serves the output live to attach clients.
	if rec.LogPath != "" || c.cfg.GetStdin() {
		if uri, err = m.logURI(rec.ID, logDir, rec.LogPath); err != nil {
			return "", "", "", err
		}
	}
	if c.cfg.GetStdin() {
		paths, keeper, err := openStdio(ctx, stdioInput{
			dir: m.dirs.containerStdio(""), id: rec.ID, tty: c.cfg.GetTty(), logURI: uri, loggerPath: m.loggerPath,
		})
		if err != nil {
			return "", "", "", fmt.Errorf("creating the stdio of a container with stdin: %w", err)
		}
		go m.keepStdin(klog.FromContext(ctx), rec.ID, keeper)
		return paths.stdin, paths.stdout, paths.stderr, nil
	}
	if uri == "" {
		return "", "", "", nil
	}
	if c.cfg.GetTty() {
		return "", uri, "", nil
	}
	return "", uri, uri, nil
}

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

// containerStdio holds the stdin endpoints of containers (Linux).
func (d dirs) containerStdio(id string) string { return filepath.Join(d.state, "stdio", id) }

// logURI is the stdio URI that makes the shim start wincri's logging
// process for a container.
func (m *Manager) logURI(id, logDir, logPath string) (string, error) {
	if logPath == "" {
		return logger.BinaryURI(m.loggerPath, logger.Options{ID: id, StateDir: m.dirs.loggerState()})
	}
	rel, err := filepath.Rel(logDir, logPath)
	if err != nil {
		return "", fmt.Errorf("log path %s: %w", logPath, errdefs.ErrInvalidArgument)
	}
	return logger.BinaryURI(m.loggerPath, logger.Options{
		ID:           id,
		LogDirectory: logDir,
		LogPath:      rel,
		StateDir:     m.dirs.loggerState(),
	})
}
