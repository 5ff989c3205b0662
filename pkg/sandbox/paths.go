package sandbox

import "path/filepath"

// dirs are every on-disk location of pods and containers: the state
// directory (lost at reboot) holds bundles, the root directory holds
// containers' writable layers.
type dirs struct {
	root  string
	state string
}

func (d dirs) podBundle(id string) string { return filepath.Join(d.state, "pods", id) }

func (d dirs) containerBundle(id string) string { return filepath.Join(d.state, "containers", id) }

// containerLayer holds a container's writable layer (upper and work
// directories on Linux, the scratch layer on Windows).
func (d dirs) containerLayer(id string) string { return filepath.Join(d.root, "containers", id) }

// loggerState holds the logging processes' control endpoints.
func (d dirs) loggerState() string { return filepath.Join(d.state, "log") }

// podLayer holds a pod's own writable layer (Windows pause scratch).
func (d dirs) podLayer(id string) string { return filepath.Join(d.root, "pods", id) }

// execState holds exec processes' stdio endpoints.
func (d dirs) execState() string { return filepath.Join(d.state, "exec") }
