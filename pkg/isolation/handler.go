package isolation

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	runcoptions "github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"

	"github.com/wincri/wincri/pkg/config"
)

// Target operating systems of a handler, as runtime.GOOS spells them.
const (
	OSWindows = "windows"
	OSLinux   = "linux"
)

// Handler is a resolved RuntimeClass handler: how its pods are isolated
// and which shim, with which options, runs them.
type Handler struct {
	// Name is the handler name as configured ("" never appears here: the
	// default handler is resolved to its name).
	Name string
	// Isolation is config.IsolationProcess or config.IsolationHyperV.
	Isolation config.Isolation
	// Shim is the containerd shim v2 binary.
	Shim string
	// OS is the operating system the pods run on: OSWindows or OSLinux.
	// It decides which spec builder and which shim options apply.
	OS string
	// Options are the runtime options sent to the shim in its bootstrap
	// parameters and with every CreateTask: runhcs Options on Windows,
	// runc Options on Linux.
	Options typeurl.Any
	// SystemdCgroup makes runc manage the pods' cgroups through systemd
	// (Linux hosts whose init is systemd).
	SystemdCgroup bool
	// UVMMemoryMB and UVMProcessors are the configured utility VM size
	// of a hyperv handler; 0 leaves the choice to SizeUVM's defaults.
	UVMMemoryMB   int64
	UVMProcessors int32
	// PodAnnotations and ContainerAnnotations are the allow-lists of pod
	// and container annotations passed to the shim (path.Match patterns).
	PodAnnotations       []string
	ContainerAnnotations []string
	// Runhcs are the configured runhcs options (Windows).
	Runhcs config.Runhcs
	// ShimLogLevel is the level the shim logs at (logrus names, runhcs's
	// LogLevel): Host.ShimLogLevel.
	ShimLogLevel string
}

// HyperV reports whether the handler runs each pod in a utility VM.
func (h Handler) HyperV() bool { return h.Isolation == config.IsolationHyperV }

// Host is what the node can run. ProbeHost fills it in for this machine;
// tests construct it to resolve handlers for another OS.
type Host struct {
	// OS is the host operating system, as runtime.GOOS spells it.
	OS string
	// HyperV reports whether the host can start Hyper-V utility VMs.
	HyperV bool
	// HyperVMissing says what is missing when HyperV is false, for the
	// error message; "" when nothing more specific is known.
	HyperVMissing string
	// SystemdCgroup is a Linux host whose init is systemd: runc then
	// manages cgroups through systemd, the driver kubelet should use too.
	SystemdCgroup bool
	// ShimLogLevel is the level the node's shims log at, from the
	// daemon's verbosity (ShimLogLevel); "" leaves the shim's default.
	ShimLogLevel string
	// OSBuild is a Windows host's build number (0 when unknown), and
	// ClientSKU whether it is client Windows rather than Windows Server.
	OSBuild   uint32
	ClientSKU bool
}

// minProcessIsolationBuild is the first Windows build that runs
// process-isolated containers under Kubernetes: Windows Server 2019.
const minProcessIsolationBuild = 17763

// checkProcessIsolation refuses process isolation on a Windows host older
// than minProcessIsolationBuild.
func checkProcessIsolation(handler string, host Host) error {
	if host.OS != OSWindows || host.OSBuild == 0 || host.OSBuild >= minProcessIsolationBuild {
		return nil
	}
	return fmt.Errorf("runtime handler %q: process isolation needs Windows build %d or later; this host is build %d: use a hyperv handler: %w",
		handler, minProcessIsolationBuild, host.OSBuild, errdefs.ErrFailedPrecondition)
}

// ProcessOnClient reports a process-isolated handler on client Windows,
// where process isolation is for development and test only: RunPodSandbox
// warns about it.
func ProcessOnClient(h Handler, host Host) bool {
	return host.OS == OSWindows && host.ClientSKU && !h.HyperV()
}

// ShimLogLevel maps the daemon's klog verbosity to a shim's logrus level:
// what wincri logs at -v=4 (every request) matches the shim's debug, at
// -v=6 its trace.
func ShimLogLevel(verbosity int) string {
	switch {
	case verbosity >= 6:
		return "trace"
	case verbosity >= 4:
		return "debug"
	default:
		return "info"
	}
}

// CgroupDriver is the cgroup driver of pods on host: "systemd",
// "cgroupfs", or "" where there are no cgroups (Windows).
func (host Host) CgroupDriver() string {
	switch {
	case host.OS != OSLinux:
		return ""
	case host.SystemdCgroup:
		return "systemd"
	default:
		return "cgroupfs"
	}
}

// Resolve resolves handler on this host: "" means cfg.DefaultRuntime. It
// probes the host on every call; callers that resolve often keep a Host
// from ProbeHost and call ResolveOn.
//
// Errors: errdefs.ErrInvalidArgument for an unknown handler (listing the
// configured ones), errdefs.ErrFailedPrecondition for a hyperv handler on
// a host without Hyper-V.
func Resolve(cfg *config.Config, handler string) (Handler, error) {
	return ResolveOn(cfg, handler, ProbeHost())
}

// ResolveOn resolves handler for host; see Resolve.
func ResolveOn(cfg *config.Config, handler string, host Host) (Handler, error) {
	if cfg == nil {
		return Handler{}, fmt.Errorf("resolving runtime handler %q: no configuration: %w", handler, errdefs.ErrInvalidArgument)
	}
	name, rt, err := cfg.Runtime(handler)
	if err != nil {
		return Handler{}, fmt.Errorf("%w: %w", errdefs.ErrInvalidArgument, err)
	}
	h := Handler{
		Name:          name,
		Isolation:     rt.Isolation,
		Shim:          rt.Shim,
		OS:            host.OS,
		SystemdCgroup: host.OS == OSLinux && host.SystemdCgroup,
		UVMMemoryMB:   rt.UVMMemoryMB,
		UVMProcessors: rt.UVMProcessors,

		PodAnnotations:       rt.PodAnnotationPatterns(),
		ContainerAnnotations: rt.ContainerAnnotationPatterns(),
		Runhcs:               rt.Runhcs,
		ShimLogLevel:         host.ShimLogLevel,
	}
	switch rt.Isolation {
	case config.IsolationProcess:
		if err := checkProcessIsolation(name, host); err != nil {
			return Handler{}, err
		}
	case config.IsolationHyperV:
		if err := checkHyperV(name, host); err != nil {
			return Handler{}, err
		}
		if rt.UVMMemoryMB < 0 || rt.UVMMemoryMB > maxUVMMemoryMB {
			return Handler{}, fmt.Errorf("runtimes.%s.uvm_memory_mb: %d is outside 0-%d: %w", name, rt.UVMMemoryMB, maxUVMMemoryMB, errdefs.ErrInvalidArgument)
		}
		if rt.UVMProcessors < 0 || int64(rt.UVMProcessors) > maxUVMProcessors {
			return Handler{}, fmt.Errorf("runtimes.%s.uvm_processors: %d is outside 0-%d: %w", name, rt.UVMProcessors, maxUVMProcessors, errdefs.ErrInvalidArgument)
		}
	default:
		return Handler{}, fmt.Errorf("runtime handler %q: unknown isolation %q: %w", name, rt.Isolation, errdefs.ErrInvalidArgument)
	}
	opts, err := shimOptions(h)
	if err != nil {
		return Handler{}, err
	}
	h.Options = opts
	return h, nil
}

// checkHyperV fails unless host can run Hyper-V isolated pods.
func checkHyperV(handler string, host Host) error {
	if host.OS == OSWindows && host.HyperV {
		return nil
	}
	why := "this host runs " + host.OS
	if host.OS == OSWindows {
		why = "this host lacks it"
		if host.HyperVMissing != "" {
			why = host.HyperVMissing
		}
	}
	return fmt.Errorf("runtime handler %q: Hyper-V isolation needs a Windows host with the Hyper-V role (%s): %w", handler, why, errdefs.ErrFailedPrecondition)
}

// shimOptions builds the runtime options for h's shim: runhcs Options on
// Windows, runc Options on Linux.
func shimOptions(h Handler) (typeurl.Any, error) {
	switch h.OS {
	case OSWindows:
		return typeurl.MarshalAny(RunhcsOptions(h))
	case OSLinux:
		// runc's defaults are what wincri wants, but for the cgroup
		// driver; an explicit message tells the shim which options type
		// it gets.
		return typeurl.MarshalAny(&runcoptions.Options{SystemdCgroup: h.SystemdCgroup})
	default:
		return nil, fmt.Errorf("runtime handler %q: pods cannot run on %s: %w", h.Name, h.OS, errdefs.ErrNotImplemented)
	}
}

// ProbeHost describes this machine: its OS; on Windows, whether it can
// run Hyper-V isolated pods; on Linux, whether systemd is the init.
func ProbeHost() Host {
	if runtime.GOOS != OSWindows {
		return Host{OS: runtime.GOOS, SystemdCgroup: systemdRunning("/run/systemd/system")}
	}
	host := hostFromServices(serviceInstalled)
	host.OSBuild, host.ClientSKU = windowsVersion()
	return host
}

// systemdRunning tells whether systemd is the init, as sd_booted(3),
// runc and kubelet tell it: its runtime directory exists.
func systemdRunning(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// hostFromServices decides Hyper-V availability from which services are
// installed; installed is the Windows service probe.
func hostFromServices(installed func(name string) (bool, error)) Host {
	// The Hyper-V role installs vmms, the Containers feature installs
	// vmcompute (the HCS itself); Hyper-V isolation needs both.
	services := []struct{ name, what string }{
		{"vmms", "the Hyper-V Virtual Machine Management service (vmms) is not installed; enable the Hyper-V role"},
		{"vmcompute", "the Host Compute Service (vmcompute) is not installed; enable the Containers feature"},
	}
	host := Host{OS: OSWindows, HyperV: true}
	var missing []string
	for _, svc := range services {
		ok, err := installed(svc.name)
		switch {
		case err != nil:
			missing = append(missing, fmt.Sprintf("probing service %s: %v", svc.name, err))
		case !ok:
			missing = append(missing, svc.what)
		}
	}
	if len(missing) > 0 {
		host.HyperV = false
		host.HyperVMissing = strings.Join(missing, "; ")
	}
	return host
}
