package isolation

import (
	"encoding/json"
	"fmt"

	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// WindowsResourcesTypeURL is the type URL under which containerd, and so
// every shim built on its runtime package (runhcs), knows OCI Windows
// resources in an UpdateTaskRequest; 1 is the runtime-spec major version.
const WindowsResourcesTypeURL = "types.containerd.io/opencontainers/runtime-spec/1/WindowsResources"

// Bounds of the Windows container resource values. Shares (the HCS CPU
// weight) and maximum (cycles per 10000) are defined on 1-10000; the
// count and memory bounds are beyond any Windows host and catch unit
// mistakes.
const (
	windowsMaxCPUWeight     = 10000
	windowsMaxCPUMaximum    = 10000
	windowsMaxCPUCount      = 2048    // Windows Server's logical processor limit
	windowsMaxMemoryBytes   = 1 << 50 // 1 PiB
	windowsMaxCPUGroupIndex = 63      // processor groups hold 64 CPUs; 2048 CPUs need 32 groups
)

// WindowsResources converts CRI Windows container resources to the OCI
// form, for CreateContainer and UpdateContainerResources. nil or all-zero
// resources give nil. A negative or out-of-range value, or more than one
// of cpu_count, cpu_shares and cpu_maximum (HCS takes only one), fails
// with errdefs.ErrInvalidArgument naming the field.
func WindowsResources(r *runtimeapi.WindowsContainerResources) (*specs.WindowsResources, error) {
	if r == nil {
		return nil, nil
	}
	if err := windowsCheckRange("cpu_shares", r.GetCpuShares(), windowsMaxCPUWeight); err != nil {
		return nil, err
	}
	if err := windowsCheckRange("cpu_count", r.GetCpuCount(), windowsMaxCPUCount); err != nil {
		return nil, err
	}
	if err := windowsCheckRange("cpu_maximum", r.GetCpuMaximum(), windowsMaxCPUMaximum); err != nil {
		return nil, err
	}
	if err := windowsCheckRange("memory_limit_in_bytes", r.GetMemoryLimitInBytes(), windowsMaxMemoryBytes); err != nil {
		return nil, err
	}
	if err := windowsCheckRange("rootfs_size_in_bytes", r.GetRootfsSizeInBytes(), windowsMaxMemoryBytes); err != nil {
		return nil, err
	}
	cpuControls := 0
	for _, v := range []int64{r.GetCpuShares(), r.GetCpuCount(), r.GetCpuMaximum()} {
		if v > 0 {
			cpuControls++
		}
	}
	if cpuControls > 1 {
		return nil, invalidArg("windows resources: cpu_count (%d), cpu_shares (%d) and cpu_maximum (%d) are mutually exclusive on Windows",
			r.GetCpuCount(), r.GetCpuShares(), r.GetCpuMaximum())
	}

	out := &specs.WindowsResources{}
	cpu := &specs.WindowsCPUResources{}
	if v := r.GetCpuShares(); v > 0 {
		shares := uint16(v)
		cpu.Shares = &shares
	}
	if v := r.GetCpuCount(); v > 0 {
		count := uint64(v)
		cpu.Count = &count
	}
	if v := r.GetCpuMaximum(); v > 0 {
		maximum := uint16(v)
		cpu.Maximum = &maximum
	}
	for i, a := range r.GetAffinityCpus() {
		if a.GetCpuMask() == 0 {
			return nil, invalidArg("windows resources: affinity_cpus[%d].cpu_mask is empty", i)
		}
		if a.GetCpuGroup() > windowsMaxCPUGroupIndex {
			return nil, invalidArg("windows resources: affinity_cpus[%d].cpu_group %d exceeds %d", i, a.GetCpuGroup(), windowsMaxCPUGroupIndex)
		}
		cpu.Affinity = append(cpu.Affinity, specs.WindowsCPUGroupAffinity{Mask: a.GetCpuMask(), Group: a.GetCpuGroup()})
	}
	if cpu.Shares != nil || cpu.Count != nil || cpu.Maximum != nil || len(cpu.Affinity) > 0 {
		out.CPU = cpu
	}
	if v := r.GetMemoryLimitInBytes(); v > 0 {
		limit := uint64(v)
		out.Memory = &specs.WindowsMemoryResources{Limit: &limit}
	}
	// rootfs_size_in_bytes grows the scratch disk instead (ScratchSize).
	if out.CPU == nil && out.Memory == nil {
		return nil, nil
	}
	return out, nil
}

// MarshalWindowsResources encodes r for a shim's Update call, the way
// containerd does: JSON under WindowsResourcesTypeURL. It builds the Any
// itself rather than registering the type in typeurl's process-wide
// registry.
func MarshalWindowsResources(r *specs.WindowsResources) (typeurl.Any, error) {
	if r == nil {
		r = &specs.WindowsResources{}
	}
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding windows resources: %w", err)
	}
	return &anypb.Any{TypeUrl: WindowsResourcesTypeURL, Value: data}, nil
}

// windowsCheckRange accepts 0 (not set) and 1..max.
func windowsCheckRange(field string, v, max int64) error {
	if v < 0 || v > max {
		return invalidArg("windows resources: %s %d is outside 0-%d", field, v, max)
	}
	return nil
}
