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
)

// stdinWatchInterval is how often the keeper of a container's stdin
// checks whether the container has ended.
const stdinWatchInterval = 2 * time.Second

// taskStdio returns the stdio endpoints of a container's task. Output
// goes to wincri's logging process, which outlives wincri and also
// serves it live to attach clients. A container that asked for stdin
// gets an endpoint that wincri keeps open for its life, so that attach
// clients come and go without the container seeing end of input.
func (m *Manager) taskStdio(ctx context.Context, c *container, logDir string) (stdin, stdout, stderr string, err error) {
	rec := c.snapshot()
	if c.cfg.GetStdin() {
		path, keeper, err := openStdin(ctx, m.dirs.containerStdio(""), rec.ID)
		if err != nil {
			return "", "", "", fmt.Errorf("creating the container's stdin: %w", err)
		}
		go m.keepStdin(klog.FromContext(ctx), rec.ID, keeper)
		stdin = path
	}
	if rec.LogPath == "" {
		return stdin, "", "", nil
	}
	uri, err := m.logURI(rec.ID, logDir, rec.LogPath)
	if err != nil {
		return "", "", "", err
	}
	if c.cfg.GetTty() {
		return stdin, uri, "", nil
	}
	return stdin, uri, uri, nil
}

// keepStdin holds a container's stdin endpoint open until the container
// has exited or is gone, then releases it.
func (m *Manager) keepStdin(logger klog.Logger, id string, keeper io.Closer) {
	t := time.NewTicker(stdinWatchInterval)
	defer t.Stop()
	for range t.C {
		c, err := m.getContainer(id)
		if err == nil {
			if st := c.snapshot().State; st == ContainerCreating || st == ContainerCreated || st == ContainerRunning {
				continue
			}
		}
		if err := keeper.Close(); err != nil {
			logger.V(4).Info("Releasing a container's stdin", "containerID", id, "err", err)
		}
		return
	}
}

// containerStdio holds the stdin endpoints of containers (Linux).
func (d dirs) containerStdio(id string) string { return filepath.Join(d.state, "stdio", id) }

// logURI is the stdio URI that makes the shim start wincri's logging
// process for a container.
func (m *Manager) logURI(id, logDir, logPath string) (string, error) {
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
