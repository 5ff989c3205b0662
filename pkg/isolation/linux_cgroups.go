package isolation

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// CgroupSupport is what the node's cgroup hierarchy can enforce. kubelet
// sends every limit its own configuration knows of (a hugepage limit for
// each page size, a swap limit under NodeSwap, cpusets from the CPU
// manager) whether or not the node has the controller, and runc fails a
// container asking for one the node lacks, so wincri drops those and
// logs what it dropped, as containerd's spec options do
// (internal/cri/opts/spec_linux_opts.go, WithResources).
type CgroupSupport struct {
	// V2 is a unified (cgroup v2) hierarchy; only then may a container
	// carry unified settings.
	V2 bool
	// Swap is swap accounting in the memory controller.
	Swap bool
	// CPUQuota is CFS bandwidth control (cpu.cfs_quota_us, cpu.max).
	CPUQuota bool
	// Cpuset is the cpuset controller.
	Cpuset bool
	// HugePageSizes are the page sizes, in kubelet's spelling ("2MB",
	// "1GB"), that the hugetlb controller limits.
	HugePageSizes []string
}

// FullCgroupSupport enforces everything, with the given huge page sizes.
func FullCgroupSupport(hugePageSizes ...string) CgroupSupport {
	return CgroupSupport{V2: true, Swap: true, CPUQuota: true, Cpuset: true, HugePageSizes: hugePageSizes}
}

// DetectCgroupSupport reads what the hierarchy mounted at cgroupRoot
// (/sys/fs/cgroup) enforces; hugePagesDir (/sys/kernel/mm/hugepages)
// lists the kernel's page sizes for a v2 hierarchy, whose root holds no
// per-size files. runc uses the v2 hierarchy only when it is mounted at
// the root; a hybrid one (v1 controllers plus cgroup2 at unified/) counts
// as v1.
func DetectCgroupSupport(cgroupRoot, hugePagesDir string) CgroupSupport {
	exists := func(p ...string) bool {
		_, err := os.Stat(filepath.Join(append([]string{cgroupRoot}, p...)...))
		return err == nil
	}
	if data, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		ctrls := strings.Fields(string(data))
		has := func(c string) bool { return slices.Contains(ctrls, c) }
		cs := CgroupSupport{V2: true, Swap: has("memory"), CPUQuota: has("cpu"), Cpuset: has("cpuset")}
		if has("hugetlb") {
			cs.HugePageSizes = kernelHugePageSizes(hugePagesDir)
		}
		return cs
	}
	cs := CgroupSupport{
		Swap:     exists("memory", "memory.memsw.limit_in_bytes"),
		CPUQuota: exists("cpu", "cpu.cfs_quota_us"),
		Cpuset:   exists("cpuset", "cpuset.cpus"),
	}
	entries, _ := os.ReadDir(filepath.Join(cgroupRoot, "hugetlb"))
	for _, e := range entries {
		size, ok := strings.CutPrefix(e.Name(), "hugetlb.")
		if size, ok2 := strings.CutSuffix(size, ".limit_in_bytes"); ok && ok2 && !strings.Contains(size, ".") {
			cs.HugePageSizes = append(cs.HugePageSizes, size)
		}
	}
	return cs
}

// kernelHugePageSizes lists the page sizes of hugepages-<N>kB directories.
func kernelHugePageSizes(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var sizes []string
	for _, e := range entries {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if kb, ok2 := strings.CutSuffix(kb, "kB"); ok && ok2 {
			if n, err := strconv.ParseUint(kb, 10, 64); err == nil && n > 0 {
				sizes = append(sizes, pageSizeName(n))
			}
		}
	}
	return sizes
}

// pageSizeName spells a page size of kb kilobytes as kubelet and the
// hugetlb controller do: the largest unit that divides it.
func pageSizeName(kb uint64) string {
	units := []string{"KB", "MB", "GB", "TB"}
	i := 0
	for kb%1024 == 0 && i < len(units)-1 {
		kb /= 1024
		i++
	}
	return strconv.FormatUint(kb, 10) + units[i]
}
