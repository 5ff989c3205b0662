// Package config holds wincri's configuration: its TOML schema, the
// per-OS defaults and strict loading.
package config

import (
	"fmt"
	"net"
	"path"
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

// minSandboxOSBuild is the oldest Windows build with container support
// (Windows Server 2016, 14393).
const minSandboxOSBuild = 14393

// Config is the whole daemon configuration. Its TOML keys are a public
// interface: rename none of them.
type Config struct {
	// DefaultRuntime is the handler used when a pod names none.
	DefaultRuntime string `toml:"default_runtime" json:"default_runtime"`
	// PriorityClass is the Windows priority class of wincri and of the
	// shims it starts (PriorityClassValue's names); "" leaves them at the
	// class they start with.
	PriorityClass string `toml:"priority_class" json:"priority_class"`
	// Runtimes maps a RuntimeClass handler name to how it runs pods.
	Runtimes map[string]Runtime `toml:"runtimes" json:"runtimes"`
	Image    Image              `toml:"image" json:"image"`
	CNI      CNI                `toml:"cni" json:"cni"`
	Stream   Streaming          `toml:"streaming" json:"streaming"`
	Limits   Limits             `toml:"limits" json:"limits"`
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
	// SandboxOSBuild is the Windows build (17763, 20348, 26100...) that a
	// hyperv handler's utility VMs run: the variant of the sandbox image
	// its pods boot, and so the build their containers' images must
	// suit. 0 takes the newest build the sandbox image offers that the
	// host can boot. Process pods always run the host's build.
	SandboxOSBuild uint32 `toml:"sandbox_os_build" json:"sandbox_os_build"`
	// PodAnnotations and ContainerAnnotations are the pod and container
	// annotations passed to the shim in the task specs: patterns matched
	// as path.Match does ("io.microsoft.virtualmachine.*"), as
	// containerd's runtime options of the same names. nil takes the
	// defaults of the handler's isolation (DefaultPodAnnotations,
	// DefaultContainerAnnotations); an empty list passes none.
	PodAnnotations       []string `toml:"pod_annotations,omitempty" json:"pod_annotations,omitempty"`
	ContainerAnnotations []string `toml:"container_annotations,omitempty" json:"container_annotations,omitempty"`
	// Runhcs are options of containerd-shim-runhcs-v1 (Windows).
	Runhcs Runhcs `toml:"runhcs" json:"runhcs"`
}

// Runhcs are the options of hcsshim's containerd-shim-runhcs-v1 that
// containerd exposes as a runtime's options (options.Options of
// github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/options),
// under snake_case names. Unset pointers take containerd's defaults for
// the handler's isolation (internal/cri/config/config_windows.go); the
// isolation, utility VM size and log level are wincri's own settings.
type Runhcs struct {
	// ScaleCPULimitsToSandbox scales a container's CPU maximum to the
	// utility VM's processor count (hyperv only); default on for hyperv.
	ScaleCPULimitsToSandbox *bool `toml:"scale_cpu_limits_to_sandbox,omitempty" json:"scale_cpu_limits_to_sandbox,omitempty"`
	// ScrubLogs keeps environment variables out of the shim's logs;
	// default on.
	ScrubLogs *bool `toml:"scrub_logs,omitempty" json:"scrub_logs,omitempty"`
	// BootFilesRootPath holds the utility VM's boot files ("" = hcsshim's).
	BootFilesRootPath string `toml:"boot_files_root_path,omitempty" json:"boot_files_root_path,omitempty"`
	// DefaultContainerScratchSizeInGB and DefaultVMScratchSizeInGB size
	// scratch disks when nothing else does (0 = hcsshim's).
	DefaultContainerScratchSizeInGB int32 `toml:"default_container_scratch_size_in_gb,omitempty" json:"default_container_scratch_size_in_gb,omitempty"`
	DefaultVMScratchSizeInGB        int32 `toml:"default_vm_scratch_size_in_gb,omitempty" json:"default_vm_scratch_size_in_gb,omitempty"`
	// ShareScratch shares one scratch disk among a utility VM's containers.
	ShareScratch bool `toml:"share_scratch,omitempty" json:"share_scratch,omitempty"`
	// NCProxyAddr is the address of a network configuration proxy.
	NCProxyAddr string `toml:"ncproxy_addr,omitempty" json:"ncproxy_addr,omitempty"`
	// IORetryTimeoutInSec bounds the shim's retries to connect container IO.
	IORetryTimeoutInSec int32 `toml:"io_retry_timeout_in_sec,omitempty" json:"io_retry_timeout_in_sec,omitempty"`
	// DefaultContainerAnnotations apply to every container of the handler
	// unless the container sets them itself.
	DefaultContainerAnnotations map[string]string `toml:"default_container_annotations,omitempty" json:"default_container_annotations,omitempty"`
	// NoInheritHostTimezone keeps the host's time zone out of utility VMs.
	NoInheritHostTimezone bool `toml:"no_inherit_host_timezone,omitempty" json:"no_inherit_host_timezone,omitempty"`
	// GPUVHDPath is the GPU driver VHD for Linux utility VMs.
	GPUVHDPath string `toml:"gpu_vhd_path,omitempty" json:"gpu_vhd_path,omitempty"`
}

// DefaultPodAnnotations are the pod annotation patterns passed to the
// shim when a handler names none: the utility VM's settings for a hyperv
// handler, none for a process one (containerd's defaults).
func DefaultPodAnnotations(iso Isolation) []string {
	if iso == IsolationHyperV {
		return []string{"io.microsoft.virtualmachine.*"}
	}
	return []string{}
}

// DefaultContainerAnnotations are the container annotation patterns passed
// to the shim when a handler names none (containerd's defaults).
func DefaultContainerAnnotations(Isolation) []string {
	return []string{"io.microsoft.container.*"}
}

// PodAnnotationPatterns is the handler's pod annotation allow-list.
func (rt Runtime) PodAnnotationPatterns() []string {
	if rt.PodAnnotations == nil {
		return DefaultPodAnnotations(rt.Isolation)
	}
	return rt.PodAnnotations
}

// ContainerAnnotationPatterns is the handler's container annotation
// allow-list.
func (rt Runtime) ContainerAnnotationPatterns() []string {
	if rt.ContainerAnnotations == nil {
		return DefaultContainerAnnotations(rt.Isolation)
	}
	return rt.ContainerAnnotations
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

// Limits bound how many operations of a kind run at once, so that many
// pods created together queue instead of overloading the node; 0 is no
// limit. Queue times are the wincri_queue_wait_seconds metric.
type Limits struct {
	// NetworkOps bounds CNI ADD and DEL (pod network setup and teardown).
	NetworkOps int `toml:"max_concurrent_network_ops" json:"max_concurrent_network_ops"`
	// ShimLaunches bounds shim starts (the start handshake of a pod's shim).
	ShimLaunches int `toml:"max_concurrent_shim_launches" json:"max_concurrent_shim_launches"`
	// HCSOps bounds the Host Compute Service's heavy work: layer imports
	// (unpacks on Linux) and task creations of containers and pods.
	HCSOps int `toml:"max_concurrent_hcs_ops" json:"max_concurrent_hcs_ops"`
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

// validPatterns checks annotation patterns as path.Match reads them.
func validPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return fmt.Errorf("%q is not a valid pattern", p)
		}
	}
	return nil
}

// Validate checks the values that parsing alone cannot.
func (c *Config) Validate() error {
	if len(c.Runtimes) == 0 {
		return fmt.Errorf("runtimes: at least one runtime handler must be configured")
	}
	if _, ok := c.Runtimes[c.DefaultRuntime]; !ok {
		return fmt.Errorf("default_runtime: %q is not a configured handler (have %s)", c.DefaultRuntime, strings.Join(c.HandlerNames(), ", "))
	}
	if _, err := PriorityClassValue(c.PriorityClass); err != nil {
		return fmt.Errorf("priority_class: %w", err)
	}
	for key, v := range map[string]int{
		"max_concurrent_network_ops":   c.Limits.NetworkOps,
		"max_concurrent_shim_launches": c.Limits.ShimLaunches,
		"max_concurrent_hcs_ops":       c.Limits.HCSOps,
	} {
		if v < 0 {
			return fmt.Errorf("limits.%s: %d is negative (0 is no limit)", key, v)
		}
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
		if rt.SandboxOSBuild != 0 && rt.Isolation != IsolationHyperV {
			return fmt.Errorf("runtimes.%s.sandbox_os_build: applies to hyperv isolation only (process pods run the host's build)", name)
		}
		if rt.SandboxOSBuild != 0 && rt.SandboxOSBuild < minSandboxOSBuild {
			return fmt.Errorf("runtimes.%s.sandbox_os_build: %d is not a Windows container build (%d or later)", name, rt.SandboxOSBuild, minSandboxOSBuild)
		}
		if err := validPatterns(rt.PodAnnotations); err != nil {
			return fmt.Errorf("runtimes.%s.pod_annotations: %w", name, err)
		}
		if err := validPatterns(rt.ContainerAnnotations); err != nil {
			return fmt.Errorf("runtimes.%s.container_annotations: %w", name, err)
		}
		if r := rt.Runhcs; r.DefaultContainerScratchSizeInGB < 0 || r.DefaultVMScratchSizeInGB < 0 || r.IORetryTimeoutInSec < 0 {
			return fmt.Errorf("runtimes.%s.runhcs: sizes and timeouts must not be negative", name)
		}
		if rt.Runhcs.ScaleCPULimitsToSandbox != nil && *rt.Runhcs.ScaleCPULimitsToSandbox && rt.Isolation != IsolationHyperV {
			return fmt.Errorf("runtimes.%s.runhcs.scale_cpu_limits_to_sandbox: applies to hyperv isolation only", name)
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
