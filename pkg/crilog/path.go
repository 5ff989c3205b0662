package crilog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// ResolveLogPath returns the file a container's log goes to: logPath
// (the container config's log_path) inside logDirectory (the pod's
// log_directory). Anything that could put it elsewhere is
// errdefs.ErrInvalidArgument: a relative log directory, an empty,
// absolute or volume-qualified log path, ".." that climbs out, a path
// naming the directory itself, a NUL byte, a Windows reserved device
// name, and a symlink inside the directory that points out of it, as
// far as it exists now. The logger opens the file through an os.Root,
// so a symlink planted later cannot make it escape either.
func ResolveLogPath(logDirectory, logPath string) (string, error) {
	if logDirectory == "" || !filepath.IsAbs(logDirectory) {
		return "", fmt.Errorf("log directory %q must be an absolute path: %w", logDirectory, errdefs.ErrInvalidArgument)
	}
	if logPath == "" {
		return "", fmt.Errorf("log path is empty: %w", errdefs.ErrInvalidArgument)
	}
	if strings.ContainsRune(logDirectory+logPath, 0) {
		return "", fmt.Errorf("log path %q contains a NUL byte: %w", logPath, errdefs.ErrInvalidArgument)
	}
	// IsLocal rejects absolute and volume paths, ".." escapes and, on
	// Windows, reserved names such as NUL or COM1.
	if !filepath.IsLocal(logPath) {
		return "", fmt.Errorf("log path %q must stay inside log directory %q: %w", logPath, logDirectory, errdefs.ErrInvalidArgument)
	}
	name := filepath.Clean(logPath)
	if name == "." {
		return "", fmt.Errorf("log path %q names the log directory itself: %w", logPath, errdefs.ErrInvalidArgument)
	}

	root, err := os.OpenRoot(logDirectory)
	if errors.Is(err, fs.ErrNotExist) {
		// Nothing to follow yet; the logger creates it through a Root.
		return filepath.Join(logDirectory, name), nil
	}
	if err != nil {
		return "", fmt.Errorf("log directory %q: %v: %w", logDirectory, err, errdefs.ErrInvalidArgument)
	}
	defer root.Close()
	// Stat through the Root follows symlinks and fails when one leaves
	// the directory; a missing file or parent is fine.
	fi, err := root.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("log path %q in %q: %v: %w", logPath, logDirectory, err, errdefs.ErrInvalidArgument)
	case fi.IsDir():
		return "", fmt.Errorf("log path %q in %q is a directory: %w", logPath, logDirectory, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(logDirectory, name), nil
}
