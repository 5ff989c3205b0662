// Package config holds wincri's configuration: its TOML schema, the
// per-OS defaults and strict loading.
package config

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
)

// Isolation is how the containers of a pod are isolated from the host.
type Isolation string

const (
	// IsolationProcess shares the host kernel (a Windows silo, or a Linux
	// container).
	IsolationProcess Isolation = "process"
	// IsolationHyperV runs the pod in its own Hyper-V utility VM.
	IsolationHyperV Isolation = "hyperv"
)

// Config is the whole daemon configuration. Its TOML keys are a public
// interface: rename none of them.
type Config struct {
	// DefaultRuntime is the handler used when a pod names none.
	DefaultRuntime string `toml:"default_runtime" json:"default_runtime"`
	// Runtimes maps a RuntimeClass handler name to how it runs pods.
	Runtimes map[string]Runtime `toml:"runtimes" json:"runtimes"`
	Image    Image              `toml:"image" json:"image"`
	CNI      CNI                `toml:"cni" json:"cni"`
	Stream   Streaming          `toml:"streaming" json:"streaming"`
	Debug    Debug              `toml:"debug" json:"debug"`
}

// Runtime is one RuntimeClass handler.
type Runtime struct {
	// Shim is the containerd shim v2 binary: a name looked up in PATH or
	// an absolute path.
	Shim string `toml:"shim" json:"shim"`
	// Isolation is "process" or "hyperv".
	Isolation Isolation `toml:"isolation" json:"isolation"`
	// UVMMemoryMB and UVMProcessors size a Hyper-V pod's utility VM when
	// the pod asks for nothing else; 0 leaves the choice to the shim.
	UVMMemoryMB   int64 `toml:"uvm_memory_mb" json:"uvm_memory_mb"`
	UVMProcessors int32 `toml:"uvm_processors" json:"uvm_processors"`
}

// Image configures the image service.
type Image struct {
	// SandboxImage is the pause image; "" on Linux runs wincri's own
	// pause process without pulling anything.
	SandboxImage string `toml:"sandbox_image" json:"sandbox_image"`
	// InsecureRegistries may be reached over plain HTTP. Loopback
	// registries always may.
	InsecureRegistries []string `toml:"insecure_registries" json:"insecure_registries"`
	// Mirrors maps a registry host to endpoints tried in order before the
	// host itself.
	Mirrors map[string][]string `toml:"mirrors" json:"mirrors"`
	// MaxConcurrentDownloads bounds parallel layer downloads per pull.
	MaxConcurrentDownloads int `toml:"max_concurrent_downloads" json:"max_concurrent_downloads"`
	// PullProgressTimeout fails a pull that made no progress for this
	// long, e.g. "5m".
	PullProgressTimeout Duration `toml:"pull_progress_timeout" json:"pull_progress_timeout"`
}

// CNI configures pod networking.
type CNI struct {
	BinDirs []string `toml:"bin_dirs" json:"bin_dirs"`
	ConfDir string   `toml:"conf_dir" json:"conf_dir"`
}

// Streaming configures the exec/attach/port-forward server.
type Streaming struct {
	Address string `toml:"address" json:"address"`
	Port    int    `toml:"port" json:"port"`
}

// Debug configures the metrics and pprof server.
type Debug struct {
	// Address is "host:port"; "" turns the server off.
	Address string `toml:"address" json:"address"`
}

// Duration is a time.Duration written in TOML as a string such as "5m".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Runtime returns the runtime for handler, where "" means the default
// runtime. The error lists the configured handlers.
func (c *Config) Runtime(handler string) (string, Runtime, error) {
	if handler == "" {
		handler = c.DefaultRuntime
	}
	rt, ok := c.Runtimes[handler]
	if !ok {
		return "", Runtime{}, fmt.Errorf("unknown runtime handler %q: configured handlers are %s", handler, strings.Join(c.HandlerNames(), ", "))
	}
	return handler, rt, nil
}

// HandlerNames lists the configured handlers in sorted order.
func (c *Config) HandlerNames() []string {
	names := make([]string, 0, len(c.Runtimes))
	for n := range c.Runtimes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks the values that parsing alone cannot.
func (c *Config) Validate() error {
	if len(c.Runtimes) == 0 {
		return fmt.Errorf("runtimes: at least one runtime handler must be configured")
	}
	if _, ok := c.Runtimes[c.DefaultRuntime]; !ok {
		return fmt.Errorf("default_runtime: %q is not a configured handler (have %s)", c.DefaultRuntime, strings.Join(c.HandlerNames(), ", "))
	}
	for _, name := range c.HandlerNames() {
		rt := c.Runtimes[name]
		if name == "" {
			return fmt.Errorf("runtimes: a handler name must not be empty")
		}
		if rt.Shim == "" {
			return fmt.Errorf("runtimes.%s.shim: must not be empty", name)
		}
		switch rt.Isolation {
		case IsolationProcess, IsolationHyperV:
		default:
			return fmt.Errorf("runtimes.%s.isolation: %q is neither %q nor %q", name, rt.Isolation, IsolationProcess, IsolationHyperV)
		}
		if rt.UVMMemoryMB < 0 || rt.UVMProcessors < 0 {
			return fmt.Errorf("runtimes.%s: uvm_memory_mb and uvm_processors must not be negative", name)
		}
	}
	for host, eps := range c.Image.Mirrors {
		if host == "" || len(eps) == 0 {
			return fmt.Errorf("image.mirrors: %q needs a registry host and at least one endpoint", host)
		}
	}
	if c.Image.MaxConcurrentDownloads < 1 {
		return fmt.Errorf("image.max_concurrent_downloads: must be at least 1, got %d", c.Image.MaxConcurrentDownloads)
	}
	if c.Image.PullProgressTimeout.Duration <= 0 {
		return fmt.Errorf("image.pull_progress_timeout: must be positive, got %s", c.Image.PullProgressTimeout)
	}
	if len(c.CNI.BinDirs) == 0 || c.CNI.ConfDir == "" {
		return fmt.Errorf("cni: bin_dirs and conf_dir must be set")
	}
	if net.ParseIP(c.Stream.Address) == nil {
		return fmt.Errorf("streaming.address: %q is not an IP address", c.Stream.Address)
	}
	if c.Stream.Port < 0 || c.Stream.Port > 65535 {
		return fmt.Errorf("streaming.port: %d is out of range 0-65535", c.Stream.Port)
	}
	if c.Debug.Address != "" {
		if _, _, err := net.SplitHostPort(c.Debug.Address); err != nil {
			return fmt.Errorf("debug.address: %q is not host:port: %v", c.Debug.Address, err)
		}
	}
	return nil
}
