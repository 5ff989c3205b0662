package isolation

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func winPtr[T any](v T) *T { return &v }

func TestWindowsResources(t *testing.T) {
	tests := []struct {
		name string
		in   *runtimeapi.WindowsContainerResources
		want *specs.WindowsResources
	}{
		{name: "nil", in: nil, want: nil},
		{name: "all zero", in: &runtimeapi.WindowsContainerResources{}, want: nil},
		{
			name: "cpu maximum and memory, as kubelet sends a limit",
			in:   &runtimeapi.WindowsContainerResources{CpuMaximum: 2500, MemoryLimitInBytes: 512 << 20},
			want: &specs.WindowsResources{
				CPU:    &specs.WindowsCPUResources{Maximum: winPtr[uint16](2500)},
				Memory: &specs.WindowsMemoryResources{Limit: winPtr[uint64](512 << 20)},
			},
		},
		{
			name: "cpu count",
			in:   &runtimeapi.WindowsContainerResources{CpuCount: 2},
			want: &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Count: winPtr[uint64](2)}},
		},
		{
			name: "cpu shares",
			in:   &runtimeapi.WindowsContainerResources{CpuShares: 10000},
			want: &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Shares: winPtr[uint16](10000)}},
		},
		{
			name: "affinity and scratch size",
			in: &runtimeapi.WindowsContainerResources{
				CpuCount:          1,
				RootfsSizeInBytes: 20 << 30,
				AffinityCpus:      []*runtimeapi.WindowsCpuGroupAffinity{{CpuMask: 0b1100, CpuGroup: 0}, {CpuMask: 1, CpuGroup: 1}},
			},
			want: &specs.WindowsResources{
				CPU: &specs.WindowsCPUResources{
					Count:    winPtr[uint64](1),
					Affinity: []specs.WindowsCPUGroupAffinity{{Mask: 0b1100, Group: 0}, {Mask: 1, Group: 1}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WindowsResources(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWindowsResourcesInvalid(t *testing.T) {
	tests := []struct {
		name    string
		in      *runtimeapi.WindowsContainerResources
		wantErr string
	}{
		{name: "negative shares", in: &runtimeapi.WindowsContainerResources{CpuShares: -1}, wantErr: "cpu_shares -1"},
		{name: "shares above 10000", in: &runtimeapi.WindowsContainerResources{CpuShares: 10001}, wantErr: "cpu_shares"},
		{name: "negative count", in: &runtimeapi.WindowsContainerResources{CpuCount: -4}, wantErr: "cpu_count"},
		{name: "absurd count", in: &runtimeapi.WindowsContainerResources{CpuCount: 1 << 20}, wantErr: "cpu_count"},
		{name: "maximum above 10000", in: &runtimeapi.WindowsContainerResources{CpuMaximum: 20000}, wantErr: "cpu_maximum"},
		{name: "negative memory", in: &runtimeapi.WindowsContainerResources{MemoryLimitInBytes: -1}, wantErr: "memory_limit_in_bytes"},
		{name: "absurd memory", in: &runtimeapi.WindowsContainerResources{MemoryLimitInBytes: 1 << 62}, wantErr: "memory_limit_in_bytes"},
		{name: "negative rootfs size", in: &runtimeapi.WindowsContainerResources{RootfsSizeInBytes: -5}, wantErr: "rootfs_size_in_bytes"},
		{name: "count and maximum", in: &runtimeapi.WindowsContainerResources{CpuCount: 1, CpuMaximum: 5000}, wantErr: "mutually exclusive"},
		{name: "shares and maximum", in: &runtimeapi.WindowsContainerResources{CpuShares: 2, CpuMaximum: 5000}, wantErr: "mutually exclusive"},
		{name: "empty affinity mask", in: &runtimeapi.WindowsContainerResources{AffinityCpus: []*runtimeapi.WindowsCpuGroupAffinity{{CpuGroup: 0}}}, wantErr: "affinity_cpus[0].cpu_mask"},
		{name: "absurd cpu group", in: &runtimeapi.WindowsContainerResources{AffinityCpus: []*runtimeapi.WindowsCpuGroupAffinity{{CpuMask: 1, CpuGroup: 1000}}}, wantErr: "affinity_cpus[0].cpu_group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := WindowsResources(tt.in)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestMarshalWindowsResources(t *testing.T) {
	assert.Contains(t, WindowsResourcesTypeURL, "/runtime-spec/"+strconv.Itoa(specs.VersionMajor)+"/")

	in := &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Count: winPtr[uint64](2)}, Memory: &specs.WindowsMemoryResources{Limit: winPtr[uint64](1 << 30)}}
	a, err := MarshalWindowsResources(in)
	require.NoError(t, err)
	assert.Equal(t, "types.containerd.io/opencontainers/runtime-spec/1/WindowsResources", a.GetTypeUrl())
	assert.JSONEq(t, `{"cpu":{"count":2},"memory":{"limit":1073741824}}`, string(a.GetValue()))

	var back specs.WindowsResources
	require.NoError(t, json.Unmarshal(a.GetValue(), &back))
	assert.Equal(t, in, &back)

	empty, err := MarshalWindowsResources(nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(empty.GetValue()))
}
