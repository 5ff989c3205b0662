package isolation

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func linuxPtr[T any](v T) *T { return &v }

func TestLinuxResources(t *testing.T) {
	full := &runtimeapi.LinuxContainerResources{
		CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512,
		MemoryLimitInBytes: 64 << 20, MemorySwapLimitInBytes: 128 << 20,
		CpusetCpus: "0-1,3", CpusetMems: "0",
		HugepageLimits: []*runtimeapi.HugepageLimit{{PageSize: "2MB", Limit: 4 << 20}},
		Unified:        map[string]string{"memory.high": "1000000"},
		OomScoreAdj:    500,
	}
	tests := []struct {
		name        string
		in          *runtimeapi.LinuxContainerResources
		cg          CgroupSupport
		want        *specs.LinuxResources
		wantDropped []string
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty", in: &runtimeapi.LinuxContainerResources{}, want: &specs.LinuxResources{}},
		{
			name: "everything", in: full, cg: FullCgroupSupport("2MB", "1GB"),
			want: &specs.LinuxResources{
				CPU:            &specs.LinuxCPU{Period: linuxPtr(uint64(100000)), Quota: linuxPtr(int64(50000)), Shares: linuxPtr(uint64(512)), Cpus: "0-1,3", Mems: "0"},
				Memory:         &specs.LinuxMemory{Limit: linuxPtr(int64(64 << 20)), Swap: linuxPtr(int64(128 << 20))},
				HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
				Unified:        map[string]string{"memory.high": "1000000"},
			},
		},
		{
			name:        "swap dropped without swap accounting",
			in:          &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 64 << 20, MemorySwapLimitInBytes: 64 << 20},
			cg:          CgroupSupport{CPUQuota: true},
			want:        &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: linuxPtr(int64(64 << 20))}},
			wantDropped: []string{"memory_swap_limit_in_bytes (no swap accounting)"},
		},
		{
			// kubelet v1.37 sends a limit for every page size it knows;
			// runc failed such containers with "cannot set hugetlb limit"
			// on a node without the controller.
			name: "hugepage sizes the node lacks dropped",
			in: &runtimeapi.LinuxContainerResources{HugepageLimits: []*runtimeapi.HugepageLimit{
				{PageSize: "2MB", Limit: 0}, {PageSize: "1GB", Limit: 0},
			}},
			cg:          FullCgroupSupport("2MB"),
			want:        &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 0}}},
			wantDropped: []string{"hugepage_limits 1GB (no hugetlb controller for that size)"},
		},
		{
			name: "cgroup v1 without hugetlb, cpuset or CFS bandwidth",
			in:   full,
			cg:   CgroupSupport{Swap: true},
			want: &specs.LinuxResources{
				CPU:    &specs.LinuxCPU{Shares: linuxPtr(uint64(512))},
				Memory: &specs.LinuxMemory{Limit: linuxPtr(int64(64 << 20)), Swap: linuxPtr(int64(128 << 20))},
			},
			wantDropped: []string{
				"cpuset (no cpuset controller)",
				"cpu_period/cpu_quota (no CFS bandwidth control)",
				"hugepage_limits 2MB (no hugetlb controller for that size)",
				"unified (needs cgroup v2)",
			},
		},
		{name: "unlimited quota", in: &runtimeapi.LinuxContainerResources{CpuQuota: -1}, cg: FullCgroupSupport(), want: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: linuxPtr(int64(-1))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped, err := LinuxResources(tt.in, tt.cg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantDropped, dropped)
		})
	}
}

func TestLinuxResourcesInvalid(t *testing.T) {
	tests := []struct {
		field string
		in    *runtimeapi.LinuxContainerResources
	}{
		{"cpu_period", &runtimeapi.LinuxContainerResources{CpuPeriod: 999}},
		{"cpu_period", &runtimeapi.LinuxContainerResources{CpuPeriod: 1000001}},
		{"cpu_quota", &runtimeapi.LinuxContainerResources{CpuQuota: 999}},
		{"cpu_quota", &runtimeapi.LinuxContainerResources{CpuQuota: -2}},
		{"cpu_shares", &runtimeapi.LinuxContainerResources{CpuShares: 1}},
		{"cpu_shares", &runtimeapi.LinuxContainerResources{CpuShares: 262145}},
		{"memory_limit_in_bytes", &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: -1}},
		{"memory_limit_in_bytes", &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 100}},
		{"memory_swap_limit_in_bytes", &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 1 << 20, MemorySwapLimitInBytes: 1 << 19}},
		{"memory_swap_limit_in_bytes", &runtimeapi.LinuxContainerResources{MemorySwapLimitInBytes: 1 << 20}},
		{"memory_swap_limit_in_bytes", &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 1 << 20, MemorySwapLimitInBytes: -7}},
		{"oom_score_adj", &runtimeapi.LinuxContainerResources{OomScoreAdj: 1001}},
		{"oom_score_adj", &runtimeapi.LinuxContainerResources{OomScoreAdj: -1001}},
		{"cpuset_cpus", &runtimeapi.LinuxContainerResources{CpusetCpus: "0-"}},
		{"cpuset_cpus", &runtimeapi.LinuxContainerResources{CpusetCpus: "3-1"}},
		{"cpuset_cpus", &runtimeapi.LinuxContainerResources{CpusetCpus: "a"}},
		{"cpuset_mems", &runtimeapi.LinuxContainerResources{CpusetMems: "0,,1"}},
		{"hugepage_limits.page_size", &runtimeapi.LinuxContainerResources{HugepageLimits: []*runtimeapi.HugepageLimit{{PageSize: "2M"}}}},
		{"unified", &runtimeapi.LinuxContainerResources{Unified: map[string]string{"../memory.max": "1"}}},
		{"unified", &runtimeapi.LinuxContainerResources{Unified: map[string]string{"nodot": "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			_, _, err := LinuxResources(tt.in, FullCgroupSupport("2MB"))
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), "resources."+tt.field)
		})
	}
}

func TestClampOOMScoreAdj(t *testing.T) {
	tests := []struct{ want, floor, got int }{
		{-998, 0, 0},
		{-998, -999, -998},
		{500, 0, 500},
		{-998, -1000, -998},
		{2000, 0, 1000},
		{-2000, -2000, -1000},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.got, ClampOOMScoreAdj(tt.want, tt.floor), "want %d floor %d", tt.want, tt.floor)
	}
}

func TestCgroupsPath(t *testing.T) {
	tests := []struct {
		parent, want string
		wantErr      bool
	}{
		{parent: "", want: ""},
		{parent: "/kubepods/besteffort/pod123", want: "/kubepods/besteffort/pod123/abc"},
		{parent: "/", want: "/abc"},
		{parent: "kubepods-besteffort-pod123.slice", want: "kubepods-besteffort-pod123.slice:wincri:abc"},
		{parent: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice", want: "kubepods-besteffort-pod1.slice:wincri:abc"},
		{parent: "relative/path", wantErr: true},
		{parent: "/a/../b", wantErr: true},
		{parent: "/a/b/", wantErr: true},
		{parent: "a:b.slice", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.parent, func(t *testing.T) {
			got, err := cgroupsPath(tt.parent, "abc")
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDetectCgroupSupport(t *testing.T) {
	touch := func(t *testing.T, root string, files map[string]string) {
		for name, data := range files {
			p := filepath.Join(root, name)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
		}
	}
	tests := []struct {
		name      string
		cgroups   map[string]string
		hugepages []string
		want      CgroupSupport
	}{
		{
			// This machine's shape: v1 controllers, cgroup2 at unified/
			// holding hugetlb, which runc's v1 mode cannot use.
			name: "hybrid without a v1 hugetlb controller",
			cgroups: map[string]string{
				"cpu/cpu.cfs_quota_us": "", "cpuset/cpuset.cpus": "", "memory/memory.limit_in_bytes": "",
				"unified/cgroup.controllers": "hugetlb",
			},
			hugepages: []string{"hugepages-2048kB"},
			want:      CgroupSupport{CPUQuota: true, Cpuset: true},
		},
		{
			name: "v1 with hugetlb and swap accounting",
			cgroups: map[string]string{
				"cpu/cpu.cfs_quota_us": "", "memory/memory.memsw.limit_in_bytes": "",
				"hugetlb/hugetlb.2MB.limit_in_bytes": "", "hugetlb/hugetlb.1GB.limit_in_bytes": "",
				"hugetlb/hugetlb.2MB.rsvd.limit_in_bytes": "", "hugetlb/hugetlb.2MB.usage_in_bytes": "",
			},
			want: CgroupSupport{Swap: true, CPUQuota: true, HugePageSizes: []string{"1GB", "2MB"}},
		},
		{
			name:      "v2 with every controller",
			cgroups:   map[string]string{"cgroup.controllers": "cpuset cpu io memory hugetlb pids\n"},
			hugepages: []string{"hugepages-2048kB", "hugepages-1048576kB", "hugepages-64kB"},
			want:      CgroupSupport{V2: true, Swap: true, CPUQuota: true, Cpuset: true, HugePageSizes: []string{"1GB", "2MB", "64KB"}},
		},
		{
			name:      "v2 without hugetlb",
			cgroups:   map[string]string{"cgroup.controllers": "cpu memory pids"},
			hugepages: []string{"hugepages-2048kB"},
			want:      CgroupSupport{V2: true, Swap: true, CPUQuota: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, huge := t.TempDir(), t.TempDir()
			touch(t, root, tt.cgroups)
			for _, d := range tt.hugepages {
				require.NoError(t, os.Mkdir(filepath.Join(huge, d), 0o755))
			}
			assert.Equal(t, tt.want, DetectCgroupSupport(root, huge))
		})
	}
}
