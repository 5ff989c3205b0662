package isolation

import (
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
		name string
		in   *runtimeapi.LinuxContainerResources
		opts ResourceOptions
		want *specs.LinuxResources
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty", in: &runtimeapi.LinuxContainerResources{}, want: &specs.LinuxResources{}},
		{
			name: "everything", in: full, opts: ResourceOptions{SwapLimitSupported: true},
			want: &specs.LinuxResources{
				CPU:            &specs.LinuxCPU{Period: linuxPtr(uint64(100000)), Quota: linuxPtr(int64(50000)), Shares: linuxPtr(uint64(512)), Cpus: "0-1,3", Mems: "0"},
				Memory:         &specs.LinuxMemory{Limit: linuxPtr(int64(64 << 20)), Swap: linuxPtr(int64(128 << 20))},
				HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
				Unified:        map[string]string{"memory.high": "1000000"},
			},
		},
		{
			name: "swap dropped without swap accounting",
			in:   &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 64 << 20, MemorySwapLimitInBytes: 64 << 20},
			want: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: linuxPtr(int64(64 << 20))}},
		},
		{name: "unlimited quota", in: &runtimeapi.LinuxContainerResources{CpuQuota: -1}, want: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: linuxPtr(int64(-1))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LinuxResources(tt.in, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
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
			_, err := LinuxResources(tt.in, ResourceOptions{SwapLimitSupported: true})
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
