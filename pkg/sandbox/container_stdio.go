package sandbox

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/crilog/logger"
)

// taskStdio returns the stdio endpoints of a container's task: its
// output goes to wincri's logging process, which outlives wincri.
func (m *Manager) taskStdio(ctx context.Context, c *container, logDir string) (stdin, stdout, stderr string, err error) {
	rec := c.snapshot()
	if rec.LogPath == "" {
		return "", "", "", nil
	}
	uri, err := m.logURI(rec.ID, logDir, rec.LogPath)
	if err != nil {
		return "", "", "", err
	}
	if c.cfg.GetTty() {
		return "", uri, "", nil
	}
	return "", uri, uri, nil
}

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
