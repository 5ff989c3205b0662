package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// prepareHostPath is the node's isolation.HostPathFunc for Windows mounts,
// as containerd's parseMount (internal/cri/opts/spec_windows_opts.go): a
// missing host path is created as a directory, since kubelet leaves
// hostPath volumes of type "" and emptyDir-like paths for the runtime to
// create, and symbolic links are resolved, since HCS maps the target.
func prepareHostPath(p string) (string, error) {
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", fmt.Errorf("creating the missing directory: %w", err)
		}
	} else if err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("resolving links: %w", err)
	}
	return resolved, nil
}
