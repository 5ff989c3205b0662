package config

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
)

// Paths are the command-line defaults of the daemon.
type Paths struct {
	Root   string
	State  string
	Listen string
	Config string
}

// WindowsSandboxImage is the default pause image of Windows nodes: the one
// kubelet v1.37's release uses (kubeadm's PauseVersion), a multi-platform
// image with a variant per Windows build, so a fresh node runs pods
// without configuration.
const WindowsSandboxImage = "registry.k8s.io/pause:3.10.2"

// windowsCNI are the CNI locations of Windows nodes: where the Windows
// node guides (sig-windows-tools, the Calico and Flannel installers) put
// plugin binaries and network configurations, so that they work
// unchanged. containerd's own default is under Program Files.
func windowsCNI() CNI {
	return CNI{BinDirs: []string{`C:\opt\cni\bin`}, ConfDir: `C:\etc\cni\net.d`}
}

// runhcs is hcsshim's containerd shim, the one of every Windows handler.
const runhcs = "containerd-shim-runhcs-v1.exe"

// windowsRuntimes are the handlers of Windows nodes: both isolations on
// runhcs, so that a RuntimeClass can pick either.
func windowsRuntimes() map[string]Runtime {
	return map[string]Runtime{
		"process": {Shim: runhcs, Isolation: IsolationProcess},
		"hyperv":  {Shim: runhcs, Isolation: IsolationHyperV},
	}
}

// Default returns the complete default configuration for this OS.
func Default() *Config {
	return defaults(defaultRuntimeName(), defaultRuntimes(), defaultSandboxImage(), defaultCNI())
}

// WindowsDefault returns the default configuration of a Windows node,
// whatever the OS it runs on: the configuration a Windows release ships.
// Its DefaultRuntime is "", which Render writes as a commented key, so
// that the node's wincri follows the host SKU (process on Windows
// Server, hyperv on client Windows). Validate refuses it as it is; Parse
// of its rendering takes the host's default handler.
func WindowsDefault() *Config {
	return defaults("", windowsRuntimes(), WindowsSandboxImage, windowsCNI())
}

// defaultLimits bound the operations of a burst of pods. Measured with
// hack/bench.sh density, 100 pods created at once on 2 cores (network /
// shim / hcs limits: time until all were Ready): none 62 s, 4/4/2 46 s,
// 8/8/4 43 s, 16/16/8 57 s.
func defaultLimits() Limits {
	return Limits{NetworkOps: 8, ShimLaunches: 8, HCSOps: 4}
}

func defaults(runtime string, runtimes map[string]Runtime, sandboxImage string, cni CNI) *Config {
	return &Config{
		DefaultRuntime: runtime,
		Runtimes:       runtimes,
		Image: Image{
			SandboxImage:           sandboxImage,
			InsecureRegistries:     []string{},
			Mirrors:                map[string][]string{},
			MaxConcurrentDownloads: 3,
			PullProgressTimeout:    Duration{5 * time.Minute},
		},
		CNI:    cni,
		Stream: Streaming{Address: "127.0.0.1", Port: 0},
		Limits: defaultLimits(),
	}
}

// defaultTemplate is parsed when `wincri config default` first renders:
// parsed at start, its tree took 40 KB of the daemon's heap for good.
var defaultTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("config").Funcs(template.FuncMap{
		"q":     strconv.Quote,
		"list":  quoteList,
		"set":   func(s []string) bool { return s != nil },
		"table": inlineTable,
	}).Parse(`# wincri configuration. A missing file means exactly these defaults.

# Handler used when a pod names no RuntimeClass handler.
{{if .DefaultRuntime}}default_runtime = {{q .DefaultRuntime}}{{else}}# default_runtime = "process"   (unset: follows the host: process on Windows Server, hyperv on client Windows){{end}}
# Windows priority class of wincri and its shims: idle, below_normal, normal, above_normal, high ("" = unchanged).
priority_class = {{q .PriorityClass}}
{{range $name, $rt := .Runtimes}}
# One table per RuntimeClass handler.
[runtimes.{{$name}}]
# containerd shim v2 binary: a name looked up in PATH, or an absolute path.
shim = {{q $rt.Shim}}
# "process" (shared kernel) or "hyperv" (one utility VM per pod).
isolation = {{q (printf "%s" $rt.Isolation)}}
# Utility VM memory in MB when the pod asks for none (0 = shim default, 1024).
uvm_memory_mb = {{$rt.UVMMemoryMB}}
# Utility VM processor count when the pod asks for none (0 = shim default).
uvm_processors = {{$rt.UVMProcessors}}
# Windows build of the utility VMs (hyperv only): the sandbox image variant they boot,
# which workload images must suit (0 = the newest the sandbox image offers and the host runs).
sandbox_os_build = {{$rt.SandboxOSBuild}}
# Pod annotations passed to the shim (patterns such as "io.microsoft.virtualmachine.*").
{{if set $rt.PodAnnotations}}pod_annotations = {{list $rt.PodAnnotations}}{{else}}# pod_annotations = {{list $rt.PodAnnotationPatterns}}   (unset: this default){{end}}
# Container annotations passed to the shim (patterns such as "io.microsoft.container.*").
{{if set $rt.ContainerAnnotations}}container_annotations = {{list $rt.ContainerAnnotations}}{{else}}# container_annotations = {{list $rt.ContainerAnnotationPatterns}}   (unset: this default){{end}}

# containerd-shim-runhcs-v1 options (Windows), as containerd names them in snake_case.
[runtimes.{{$name}}.runhcs]
# Scale container CPU maximums to the utility VM's processors (hyperv only).
{{with $rt.Runhcs.ScaleCPULimitsToSandbox}}scale_cpu_limits_to_sandbox = {{.}}{{else}}# scale_cpu_limits_to_sandbox = {{eq (printf "%s" $rt.Isolation) "hyperv"}}   (unset: this default){{end}}
# Keep environment variables out of the shim's logs.
{{with $rt.Runhcs.ScrubLogs}}scrub_logs = {{.}}{{else}}# scrub_logs = true   (unset: this default){{end}}
# Utility VM boot files ("" = hcsshim's).
boot_files_root_path = {{q $rt.Runhcs.BootFilesRootPath}}
# Scratch disk sizes in GB when nothing else sets them (0 = hcsshim's).
default_container_scratch_size_in_gb = {{$rt.Runhcs.DefaultContainerScratchSizeInGB}}
# Utility VM scratch disk size in GB (0 = hcsshim's).
default_vm_scratch_size_in_gb = {{$rt.Runhcs.DefaultVMScratchSizeInGB}}
# Share one scratch disk among a utility VM's containers.
share_scratch = {{$rt.Runhcs.ShareScratch}}
# Network configuration proxy address ("" = none).
ncproxy_addr = {{q $rt.Runhcs.NCProxyAddr}}
# Seconds the shim retries connecting container IO (0 = hcsshim's).
io_retry_timeout_in_sec = {{$rt.Runhcs.IORetryTimeoutInSec}}
# Keep the host's time zone out of utility VMs.
no_inherit_host_timezone = {{$rt.Runhcs.NoInheritHostTimezone}}
# GPU driver VHD for Linux utility VMs ("" = none).
gpu_vhd_path = {{q $rt.Runhcs.GPUVHDPath}}
# Annotations every container of the handler gets unless it sets them.
{{if $rt.Runhcs.DefaultContainerAnnotations}}default_container_annotations = {{table $rt.Runhcs.DefaultContainerAnnotations}}{{else}}# default_container_annotations = { "io.microsoft.container.storage.qos.iopsmaximum" = "500" }{{end}}
{{end}}
[image]
# Pause image for pod sandboxes; "" on Linux runs wincri's own pause process.
sandbox_image = {{q .Image.SandboxImage}}
# Registries reached over plain HTTP; loopback registries always are.
insecure_registries = {{list .Image.InsecureRegistries}}
# Layers downloaded in parallel by one pull.
max_concurrent_downloads = {{.Image.MaxConcurrentDownloads}}
# A pull fails after making no progress (download or unpack) for this long.
pull_progress_timeout = {{q .Image.PullProgressTimeout.String}}

# Registry host -> mirror endpoints tried in order, then the host itself.
[image.mirrors]
{{- range $host, $eps := .Image.Mirrors}}
{{q $host}} = {{list $eps}}
{{- end}}
# "registry.example.com" = ["http://127.0.0.1:5000"]

[cni]
# Directories searched for CNI plugin binaries.
bin_dirs = {{list .CNI.BinDirs}}
# Directory of CNI network configurations; built-in default network when empty.
conf_dir = {{q .CNI.ConfDir}}

[streaming]
# Address of the exec/attach/port-forward server (loopback by default).
address = {{q .Stream.Address}}
# Port of the streaming server; 0 picks a free port.
port = {{.Stream.Port}}

# Operations of a kind run at once at most (0 = no limit); the others queue, and
# wincri_queue_wait_seconds says for how long. The defaults were measured with 100 pods
# created at once on 2 cores (hack/bench.sh density): all Ready in 62 s without limits,
# 46 s at 4/4/2, 43 s at 8/8/4, 57 s at 16/16/8.
[limits]
# CNI ADD and DEL.
max_concurrent_network_ops = {{.Limits.NetworkOps}}
# Shim starts.
max_concurrent_shim_launches = {{.Limits.ShimLaunches}}
# Layer imports and task creations (the Host Compute Service's heavy work on Windows).
max_concurrent_hcs_ops = {{.Limits.HCSOps}}

[debug]
# "127.0.0.1:PORT" serves /metrics and /debug/pprof; "" turns it off.
address = {{q .Debug.Address}}
`))
})

func quoteList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// inlineTable renders a string map as a TOML inline table, keys sorted.
func inlineTable(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = strconv.Quote(k) + " = " + strconv.Quote(m[k])
	}
	return "{ " + strings.Join(pairs, ", ") + " }"
}

// Render writes c as commented TOML that Load parses back to c.
func Render(c *Config) ([]byte, error) {
	for name := range c.Runtimes {
		if !bareKey(name) {
			return nil, fmt.Errorf("runtime handler %q cannot be rendered as a bare TOML key", name)
		}
	}
	var buf bytes.Buffer
	if err := defaultTemplate().Execute(&buf, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func bareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
