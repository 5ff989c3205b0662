package isolation

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Bounds the kernel enforces for CFS bandwidth control and weights; a
// value outside them makes runc fail at start with a less helpful error.
const (
	minCPUPeriod = 1000    // 1ms
	maxCPUPeriod = 1000000 // 1s
	minCPUQuota  = 1000
	minCPUShares = 2
	maxCPUShares = 262144
	minMemory    = 4096 // one page; the kernel rounds anything smaller up
	minOOMScore  = -1000
	maxOOMScore  = 1000
)

var (
	cpuListRE  = regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)
	pageSizeRE = regexp.MustCompile(`^[0-9]+(B|KB|MB|GB|TB|PB)$`)
)

// LinuxResources converts and validates CRI container resources, for
// CreateContainer and for UpdateContainerResources (which replaces the
// whole set). A nil input gives nil. An invalid value is an
// errdefs.ErrInvalidArgument naming the CRI field. A valid limit the node
// cannot enforce (see CgroupSupport) is left out and named in dropped,
// for the caller to log. oom_score_adj is not a cgroup setting: see
// ClampOOMScoreAdj.
func LinuxResources(r *runtimeapi.LinuxContainerResources, cg CgroupSupport) (out *specs.LinuxResources, dropped []string, err error) {
	if r == nil {
		return nil, nil, nil
	}
	if err := validateLinuxResources(r); err != nil {
		return nil, nil, err
	}
	drop := func(what string) { dropped = append(dropped, what) }
	out = &specs.LinuxResources{}
	cpu := &specs.LinuxCPU{}
	if r.GetCpusetCpus() != "" || r.GetCpusetMems() != "" {
		if cg.Cpuset {
			cpu.Cpus, cpu.Mems = r.GetCpusetCpus(), r.GetCpusetMems()
		} else {
			drop("cpuset (no cpuset controller)")
		}
	}
	if r.GetCpuPeriod() != 0 || r.GetCpuQuota() != 0 {
		if cg.CPUQuota {
			if v := r.GetCpuPeriod(); v != 0 {
				p := uint64(v)
				cpu.Period = &p
			}
			if v := r.GetCpuQuota(); v != 0 {
				cpu.Quota = &v
			}
		} else {
			drop("cpu_period/cpu_quota (no CFS bandwidth control)")
		}
	}
	if v := r.GetCpuShares(); v != 0 {
		s := uint64(v)
		cpu.Shares = &s
	}
	if cpu.Period != nil || cpu.Quota != nil || cpu.Shares != nil || cpu.Cpus != "" || cpu.Mems != "" {
		out.CPU = cpu
	}
	if v := r.GetMemoryLimitInBytes(); v != 0 {
		out.Memory = &specs.LinuxMemory{Limit: &v}
		if s := r.GetMemorySwapLimitInBytes(); s != 0 {
			if cg.Swap {
				out.Memory.Swap = &s
			} else {
				drop("memory_swap_limit_in_bytes (no swap accounting)")
			}
		}
	}
	for _, h := range r.GetHugepageLimits() {
		if !slices.Contains(cg.HugePageSizes, h.GetPageSize()) {
			drop("hugepage_limits " + h.GetPageSize() + " (no hugetlb controller for that size)")
			continue
		}
		out.HugepageLimits = append(out.HugepageLimits, specs.LinuxHugepageLimit{Pagesize: h.GetPageSize(), Limit: h.GetLimit()})
	}
	if len(r.GetUnified()) > 0 {
		if cg.V2 {
			out.Unified = maps.Clone(r.GetUnified())
		} else {
			drop("unified (needs cgroup v2)")
		}
	}
	return out, dropped, nil
}

func validateLinuxResources(r *runtimeapi.LinuxContainerResources) error {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("resources.%s=%v: %s: %w", field, v, why, errdefs.ErrInvalidArgument)
	}
	if v := r.GetCpuPeriod(); v != 0 && (v < minCPUPeriod || v > maxCPUPeriod) {
		return bad("cpu_period", v, fmt.Sprintf("must be between %d and %d microseconds", minCPUPeriod, maxCPUPeriod))
	}
	if v := r.GetCpuQuota(); v != 0 && v != -1 && v < minCPUQuota {
		return bad("cpu_quota", v, fmt.Sprintf("must be -1 (unlimited) or at least %d microseconds", minCPUQuota))
	}
	if v := r.GetCpuShares(); v != 0 && (v < minCPUShares || v > maxCPUShares) {
		return bad("cpu_shares", v, fmt.Sprintf("must be between %d and %d", minCPUShares, maxCPUShares))
	}
	mem := r.GetMemoryLimitInBytes()
	if mem < 0 || (mem > 0 && mem < minMemory) {
		return bad("memory_limit_in_bytes", mem, fmt.Sprintf("must be 0 (unlimited) or at least %d bytes", minMemory))
	}
	if s := r.GetMemorySwapLimitInBytes(); s != 0 {
		switch {
		case s < -1:
			return bad("memory_swap_limit_in_bytes", s, "must be -1 (unlimited), 0 or a byte count")
		case mem == 0:
			return bad("memory_swap_limit_in_bytes", s, "needs memory_limit_in_bytes")
		case s != -1 && s < mem:
			return bad("memory_swap_limit_in_bytes", s, "is memory plus swap and must not be below memory_limit_in_bytes")
		}
	}
	if v := r.GetOomScoreAdj(); v < minOOMScore || v > maxOOMScore {
		return bad("oom_score_adj", v, fmt.Sprintf("must be between %d and %d", minOOMScore, maxOOMScore))
	}
	if v := r.GetCpusetCpus(); v != "" && !validCPUList(v) {
		return bad("cpuset_cpus", strconv.Quote(v), "must be a list such as 0-3,6")
	}
	if v := r.GetCpusetMems(); v != "" && !validCPUList(v) {
		return bad("cpuset_mems", strconv.Quote(v), "must be a list such as 0-1")
	}
	for _, h := range r.GetHugepageLimits() {
		if !pageSizeRE.MatchString(h.GetPageSize()) {
			return bad("hugepage_limits.page_size", strconv.Quote(h.GetPageSize()), "must be a size such as 2MB or 1GB")
		}
	}
	for k := range r.GetUnified() {
		if !strings.Contains(k, ".") || strings.ContainsAny(k, "/\x00") || strings.HasPrefix(k, ".") {
			return bad("unified", strconv.Quote(k), "must name a cgroup v2 interface file such as memory.max")
		}
	}
	return nil
}

// validCPUList checks the cpuset list syntax, including that every range
// runs upwards.
func validCPUList(s string) bool {
	if !cpuListRE.MatchString(s) {
		return false
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			continue
		}
		a, err1 := strconv.ParseUint(lo, 10, 32)
		b, err2 := strconv.ParseUint(hi, 10, 32)
		if err1 != nil || err2 != nil || a > b {
			return false
		}
	}
	return true
}

// ClampOOMScoreAdj returns the oom_score_adj to ask runc for: want, but
// never below floor. Without CAP_SYS_RESOURCE a process may not lower its
// children's score below its own, so runc would fail to start a container
// that asks for less than the daemon has (containerd's
// restrict_oom_score_adj). Values are kept within the kernel's range.
func ClampOOMScoreAdj(want, floor int) int {
	if want < floor {
		want = floor
	}
	return min(max(want, minOOMScore), maxOOMScore)
}

// cgroupsPath places a sandbox or container in the pod's cgroup parent:
// a cgroupfs path gets the id as a child; a systemd slice gets
// "slice:prefix:id", the form runc's systemd driver takes. An empty
// parent leaves the choice to runc.
func cgroupsPath(parent, id string) (string, error) {
	if parent == "" {
		return "", nil
	}
	if strings.HasSuffix(parent, ".slice") {
		if strings.Contains(parent, "/") {
			parent = path.Base(parent) // kubelet may send the full slice path
		}
		if strings.ContainsAny(parent, ":") || parent == ".slice" {
			return "", fmt.Errorf("cgroup_parent %q: malformed systemd slice name: %w", parent, errdefs.ErrInvalidArgument)
		}
		return parent + ":" + cgroupNamePrefix + ":" + id, nil
	}
	if !path.IsAbs(parent) || path.Clean(parent) != parent || strings.Contains(parent, "..") {
		return "", fmt.Errorf("cgroup_parent %q: must be a clean absolute cgroupfs path or a systemd .slice: %w", parent, errdefs.ErrInvalidArgument)
	}
	return path.Join(parent, id), nil
}
