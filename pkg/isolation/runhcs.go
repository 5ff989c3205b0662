package isolation

import (
	runhcsoptions "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/options"
)

// RunhcsOptions returns the containerd-shim-runhcs-v1 options for h. The
// configured UVM size is also sent here so that tasks created without
// the sizing annotations (containers of the pod) see the same defaults.
func RunhcsOptions(h Handler) *runhcsoptions.Options {
	opts := &runhcsoptions.Options{SandboxIsolation: runhcsoptions.Options_PROCESS}
	if h.HyperV() {
		opts.SandboxIsolation = runhcsoptions.Options_HYPERVISOR
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
