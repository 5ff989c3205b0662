package sandbox

import (
	"fmt"
	"path/filepath"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/crilog/logger"
)

// taskIO is the stdio of a container's task, as handed to the shim.
type taskIO struct {
	stdin, stdout, stderr string
	// abandon releases what was started for the task when its creation
	// fails (Windows: the logging process wincri started); nil when
	// nothing needs it.
	abandon func()
}

// containerStdio holds the stdin endpoints of containers (Linux).
func (d dirs) containerStdio(id string) string { return filepath.Join(d.state, "stdio", id) }

// loggerOptions configure the logging process of container id, whose
// log (if any) is logPath inside the pod's logDir.
func (m *Manager) loggerOptions(id, logDir, logPath string) (logger.Options, error) {
	o := logger.Options{ID: id, StateDir: m.dirs.loggerState()}
	if logPath == "" {
		return o, nil
	}
	rel, err := filepath.Rel(logDir, logPath)
	if err != nil {
		return logger.Options{}, fmt.Errorf("log path %s: %w", logPath, errdefs.ErrInvalidArgument)
	}
	o.LogDirectory, o.LogPath = logDir, rel
	return o, nil
}
