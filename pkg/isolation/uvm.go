package isolation

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Microsoft/hcsshim/pkg/annotations"
	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Utility VM sizing bounds. The upper ones are beyond what any Hyper-V
// VM supports; they catch unit mistakes (bytes given as MB) before
// hcsshim fails with a less helpful message.
const (
	// DefaultUVMMemoryMB is hcsshim's own default for a Windows UVM.
	DefaultUVMMemoryMB int64 = 1024
	maxUVMMemoryMB     int64 = 240 << 20 // 240 TiB
	maxUVMProcessors   int64 = 2048
	mib                int64 = 1 << 20
	// uvmMaxCPUPeriod is the kernel's limit on the CFS period, 1 s in µs.
	uvmMaxCPUPeriod int64 = 1_000_000
)

// UVMSize is the size of a hyperv pod's utility VM.
type UVMSize struct {
	MemoryMB int64
	// Processors is 0 when nothing asks for a count: hcsshim picks one.
	Processors int32
}

// Annotations returns the sandbox spec annotations that fix the UVM size
// when runhcs creates the sandbox task; they take precedence over the
// shim options.
func (s UVMSize) Annotations() map[string]string {
	a := map[string]string{annotations.MemorySizeInMB: strconv.FormatInt(s.MemoryMB, 10)}
	if s.Processors > 0 {
		a[annotations.ProcessorCount] = strconv.FormatInt(int64(s.Processors), 10)
	}
	return a
}

// SizeUVM sizes the utility VM of a hyperv pod. Memory and processors
// are each taken from the first source that names them:
//
//  1. the pod annotations io.microsoft.virtualmachine.computetopology.
//     memory.sizeinmb and .processor.count;
//  2. the pod's resources plus its overhead (LinuxPodSandboxConfig
//     resources and overhead: the containers' limits and the
//     RuntimeClass overhead, which should cover the guest OS). kubelet
//     v1.37 sends these only for Linux pods, CRI v1 has no Windows
//     equivalent; other clients may send them;
//  3. the handler's uvm_memory_mb / uvm_processors;
//  4. 1024 MB and the shim's processor default.
//
// Errors wrap errdefs.ErrInvalidArgument and name the offending
// annotation or field.
func SizeUVM(pod *runtimeapi.PodSandboxConfig, h Handler) (UVMSize, error) {
	size := UVMSize{MemoryMB: DefaultUVMMemoryMB}
	if h.UVMMemoryMB > 0 {
		size.MemoryMB = h.UVMMemoryMB
	}
	if h.UVMProcessors > 0 {
		size.Processors = h.UVMProcessors
	}

	res, overhead := pod.GetLinux().GetResources(), pod.GetLinux().GetOverhead()
	if mem, set, err := podMemoryMB(res, overhead); err != nil {
		return UVMSize{}, err
	} else if set {
		size.MemoryMB = mem
	}
	if cpus, set, err := podProcessors(res, overhead); err != nil {
		return UVMSize{}, err
	} else if set {
		size.Processors = int32(cpus)
	}

	podAnnotations := pod.GetAnnotations()
	if mem, set, err := annotationInt(podAnnotations, annotations.MemorySizeInMB, maxUVMMemoryMB); err != nil {
		return UVMSize{}, err
	} else if set {
		size.MemoryMB = mem
	}
	if cpus, set, err := annotationInt(podAnnotations, annotations.ProcessorCount, maxUVMProcessors); err != nil {
		return UVMSize{}, err
	} else if set {
		size.Processors = int32(cpus)
	}
	return size, nil
}

// annotationInt parses a positive integer annotation no larger than max.
func annotationInt(a map[string]string, key string, max int64) (int64, bool, error) {
	raw, ok := a[key]
	if !ok {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("pod annotation %s: %q is not an integer: %w", key, raw, errdefs.ErrInvalidArgument)
	}
	if v < 1 || v > max {
		return 0, false, fmt.Errorf("pod annotation %s: %d is outside 1-%d: %w", key, v, max, errdefs.ErrInvalidArgument)
	}
	return v, true, nil
}

// podMemoryMB is the pod's memory limit plus its overhead, rounded up to
// whole MB; set is false when neither names a limit.
func podMemoryMB(res, overhead *runtimeapi.LinuxContainerResources) (mb int64, set bool, err error) {
	const field = "linux.resources.memory_limit_in_bytes + linux.overhead.memory_limit_in_bytes"
	limit, overheadLimit := res.GetMemoryLimitInBytes(), overhead.GetMemoryLimitInBytes()
	if limit < 0 || overheadLimit < 0 {
		return 0, false, fmt.Errorf("pod %s: negative memory limit: %w", field, errdefs.ErrInvalidArgument)
	}
	if limit == 0 && overheadLimit == 0 {
		return 0, false, nil
	}
	// Compare in MB before adding, so that huge values cannot overflow.
	mb = ceilDiv(limit, mib) + ceilDiv(overheadLimit, mib)
	if mb > maxUVMMemoryMB {
		return 0, false, fmt.Errorf("pod %s: %d MB exceeds %d MB: %w", field, mb, maxUVMMemoryMB, errdefs.ErrInvalidArgument)
	}
	return mb, true, nil
}

// podProcessors is the number of whole CPUs the pod's CPU quota plus its
// overhead's quota amount to, rounded up; set is false when neither has
// a quota.
func podProcessors(res, overhead *runtimeapi.LinuxContainerResources) (cpus int64, set bool, err error) {
	const field = "linux.resources + linux.overhead cpu_quota / cpu_period"
	var milli int64
	for _, r := range []*runtimeapi.LinuxContainerResources{res, overhead} {
		quota, period := r.GetCpuQuota(), r.GetCpuPeriod()
		if quota <= 0 {
			// -1 and 0 both mean "no limit" to the CFS quota.
			continue
		}
		if period <= 0 || period > uvmMaxCPUPeriod {
			return 0, false, fmt.Errorf("pod %s: cpu_quota %d needs a cpu_period of 1-%d µs, got %d: %w", field, quota, uvmMaxCPUPeriod, period, errdefs.ErrInvalidArgument)
		}
		if quota/period >= maxUVMProcessors {
			return 0, false, fmt.Errorf("pod %s: %d/%d is more than %d CPUs: %w", field, quota, period, maxUVMProcessors, errdefs.ErrInvalidArgument)
		}
		// quota < 2048 s here, so quota*1000 cannot overflow.
		m := ceilDiv(quota*1000, period)
		milli += m
	}
	if milli == 0 {
		return 0, false, nil
	}
	cpus = ceilDiv(milli, 1000)
	if cpus > maxUVMProcessors {
		return 0, false, fmt.Errorf("pod %s: %d CPUs exceeds %d: %w", field, cpus, maxUVMProcessors, errdefs.ErrInvalidArgument)
	}
	return cpus, true, nil
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a-1)/b + 1
}
