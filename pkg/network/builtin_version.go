package network

import (
	"context"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
)

// builtinPluginTypes are the plugins of the built-in network.
var builtinPluginTypes = []string{"bridge", "host-local", "portmap", "loopback"}

// Versions of the built-in network: CNI 1.1, with GC, when its plugins
// all understand it (containernetworking-plugins v1.5 and later), else
// 1.0, the newest Debian stable's plugins (1.1.1) understand.
const (
	builtinVersionGC  = "1.1.0"
	builtinVersionOld = "1.0.0"
)

// versionTimeout bounds a plugin's VERSION command.
const versionTimeout = 10 * time.Second

// pluginVersions remembers which CNI versions a plugin binary supports,
// until the binary changes.
type pluginVersions struct {
	exec invoke.Exec

	mu    sync.Mutex
	known map[string]pluginVersion
}

type pluginVersion struct {
	mtime     time.Time
	supported []string
}

// builtinVersion is the CNI version of the built-in network for the
// plugins found in binDirs.
func (p *pluginVersions) builtinVersion(ctx context.Context, binDirs []string) string {
	for _, t := range builtinPluginTypes {
		path, err := invoke.FindInPath(t, binDirs)
		if err != nil {
			// Status reports the missing plugin.
			return builtinVersionOld
		}
		if !slices.Contains(p.supported(ctx, path), builtinVersionGC) {
			return builtinVersionOld
		}
	}
	return builtinVersionGC
}

func (p *pluginVersions) supported(ctx context.Context, path string) []string {
	info, err := os.Stat(path)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	known, ok := p.known[path]
	p.mu.Unlock()
	if ok && known.mtime.Equal(info.ModTime()) {
		return known.supported
	}
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	vi, err := invoke.GetVersionInfo(ctx, path, p.exec)
	var supported []string
	if err == nil {
		supported = vi.SupportedVersions()
	}
	p.mu.Lock()
	if p.known == nil {
		p.known = map[string]pluginVersion{}
	}
	p.known[path] = pluginVersion{mtime: info.ModTime(), supported: supported}
	p.mu.Unlock()
	return supported
}
