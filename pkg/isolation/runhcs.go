package isolation

import (
	"maps"

	runhcsoptions "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/options"
)

// RunhcsOptions returns the containerd-shim-runhcs-v1 options for h: its
// isolation, the configured runhcs options with containerd's defaults
// for unset ones (internal/cri/config/config_windows.go: ScrubLogs on,
// ScaleCpuLimitsToSandbox on for hyperv), and the daemon's log level. The
// configured UVM size is also sent here so that tasks created without
// the sizing annotations (containers of the pod) see the same defaults.
func RunhcsOptions(h Handler) *runhcsoptions.Options {
	r := h.Runhcs
	scrub := true
	if r.ScrubLogs != nil {
		scrub = *r.ScrubLogs
	}
	opts := &runhcsoptions.Options{
		SandboxIsolation:                runhcsoptions.Options_PROCESS,
		ScrubLogs:                       &scrub,
		BootFilesRootPath:               r.BootFilesRootPath,
		DefaultContainerScratchSizeInGb: r.DefaultContainerScratchSizeInGB,
		DefaultVmScratchSizeInGb:        r.DefaultVMScratchSizeInGB,
		ShareScratch:                    r.ShareScratch,
		NCProxyAddr:                     r.NCProxyAddr,
		IoRetryTimeoutInSec:             r.IORetryTimeoutInSec,
		DefaultContainerAnnotations:     maps.Clone(r.DefaultContainerAnnotations),
		NoInheritHostTimezone:           r.NoInheritHostTimezone,
		GPUVHDPath:                      r.GPUVHDPath,
		LogLevel:                        h.ShimLogLevel,
	}
	if opts.LogLevel == "" {
		opts.LogLevel = ShimLogLevel(0)
	}
	if h.HyperV() {
		opts.SandboxIsolation = runhcsoptions.Options_HYPERVISOR
		opts.ScaleCpuLimitsToSandbox = r.ScaleCPULimitsToSandbox == nil || *r.ScaleCPULimitsToSandbox
		// ResolveOn bounds the memory far below math.MaxInt32 MB.
		if h.UVMMemoryMB > 0 && h.UVMMemoryMB <= maxUVMMemoryMB {
			opts.VmMemorySizeInMb = int32(h.UVMMemoryMB)
		}
		if h.UVMProcessors > 0 {
			opts.VmProcessorCount = h.UVMProcessors
		}
	}
	return opts
}
