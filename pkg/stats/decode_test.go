package stats

import (
	"testing"
	"time"

	runhcsstats "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/stats"
	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	return a
}

func TestDecode(t *testing.T) {
	at := time.Unix(1000, 0)
	winAt := time.Unix(2000, 0).UTC()
	const unlimitedV1 = 9223372036854771712
	tests := []struct {
		name string
		msg  proto.Message
		want Sample
	}{
		{
			name: "cgroup v1 with a limit",
			msg: &v1.Metrics{
				CPU:  &v1.CPUStat{Usage: &v1.CPUUsage{Total: 5e9, User: 3e9, Kernel: 2e9}},
				Pids: &v1.PidsStat{Current: 3},
				Memory: &v1.MemoryStat{
					Usage: &v1.MemoryEntry{Usage: 100 << 20, Limit: 256 << 20, Failcnt: 2}, TotalInactiveFile: 20 << 20,
					TotalRSS: 60 << 20, TotalCache: 30 << 20, TotalMappedFile: 1 << 20, TotalPgFault: 1000, TotalPgMajFault: 7,
				},
			},
			want: Sample{
				At:      at,
				Cgroup:  true,
				CPU:     &CPU{UsageCoreNanoSeconds: 5e9, User: 3e9, System: 2e9},
				Process: &Process{Count: 3},
				Memory: &Memory{
					WorkingSet: 80 << 20, Usage: 100 << 20, RSS: 60 << 20, Cache: 30 << 20, MappedFile: 1 << 20,
					Limit: 256 << 20, Available: 176 << 20, PageFaults: 1000, MajorPageFaults: 7, Failcnt: 2,
				},
			},
		},
		{
			name: "cgroup v1 unlimited, inactive file above usage",
			msg:  &v1.Metrics{Memory: &v1.MemoryStat{Usage: &v1.MemoryEntry{Usage: 10, Limit: unlimitedV1}, TotalInactiveFile: 20}},
			want: Sample{At: at, Cgroup: true, Memory: &Memory{Usage: 10}},
		},
		{
			name: "cgroup v2",
			msg: &v2.Metrics{
				CPU:          &v2.CPUStat{UsageUsec: 5e6, UserUsec: 4e6, SystemUsec: 1e6},
				Pids:         &v2.PidsStat{Current: 2},
				Memory:       &v2.MemoryStat{Usage: 50 << 20, UsageLimit: 64 << 20, InactiveFile: 10 << 20, Anon: 30 << 20, File: 15 << 20, FileMapped: 2 << 20, Pgfault: 9, Pgmajfault: 1},
				MemoryEvents: &v2.MemoryEvents{OomKill: 1},
			},
			want: Sample{
				At:      at,
				Cgroup:  true,
				CPU:     &CPU{UsageCoreNanoSeconds: 5e9, User: 4e9, System: 1e9, CFS: &CFS{}},
				Process: &Process{Count: 2},
				Memory: &Memory{
					WorkingSet: 40 << 20, Usage: 50 << 20, RSS: 30 << 20, Cache: 15 << 20, MappedFile: 2 << 20,
					Limit: 64 << 20, Available: 24 << 20, PageFaults: 9, MajorPageFaults: 1, Failcnt: 1, OOMEvents: 1,
				},
			},
		},
		{
			name: "cgroup v2 max limit",
			msg:  &v2.Metrics{Memory: &v2.MemoryStat{Usage: 5, UsageLimit: ^uint64(0)}},
			want: Sample{At: at, Cgroup: true, Memory: &Memory{Usage: 5, WorkingSet: 5}},
		},
		{
			name: "runhcs windows container",
			msg: &runhcsstats.Statistics{Container: &runhcsstats.Statistics_Windows{Windows: &runhcsstats.WindowsContainerStatistics{
				Timestamp: timestamppb.New(winAt),
				Processor: &runhcsstats.WindowsContainerProcessorStatistics{TotalRuntimeNS: 7e9, RuntimeUserNS: 5e9, RuntimeKernelNS: 2e9},
				Memory:    &runhcsstats.WindowsContainerMemoryStatistics{MemoryUsageCommitBytes: 300, MemoryUsageCommitPeakBytes: 400, MemoryUsagePrivateWorkingSetBytes: 200},
			}}},
			want: Sample{
				At:     winAt,
				CPU:    &CPU{UsageCoreNanoSeconds: 7e9, User: 5e9, System: 2e9},
				Memory: &Memory{WorkingSet: 200, Usage: 300, Commit: 300, CommitPeak: 400, MaxUsage: 400},
			},
		},
		{
			name: "runhcs utility VM",
			msg: &runhcsstats.Statistics{VM: &runhcsstats.VirtualMachineStatistics{
				Processor: &runhcsstats.VirtualMachineProcessorStatistics{TotalRuntimeNS: 9},
				Memory:    &runhcsstats.VirtualMachineMemoryStatistics{WorkingSetBytes: 1 << 30, VmMemory: &runhcsstats.VirtualMachineMemory{AvailableMemory: 512}},
			}},
			want: Sample{At: at, UtilityVM: true, CPU: &CPU{UsageCoreNanoSeconds: 9}, Memory: &Memory{WorkingSet: 1 << 30, Usage: 1 << 30, Available: 512 << 20}},
		},
		{
			name: "runhcs linux container in a VM",
			msg:  &runhcsstats.Statistics{Container: &runhcsstats.Statistics_Linux{Linux: &v1.Metrics{Pids: &v1.PidsStat{Current: 4}}}},
			want: Sample{At: at, Cgroup: true, Process: &Process{Count: 4}},
		},
		{
			name: "empty",
			msg:  &v1.Metrics{},
			want: Sample{At: at, Cgroup: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(anyOf(t, tt.msg), at)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	at := time.Unix(1, 0)
	got, err := Decode(nil, at)
	require.NoError(t, err)
	assert.Equal(t, Sample{At: at}, got)

	for name, a := range map[string]*anypb.Any{
		"unknown type": anyOf(t, timestamppb.Now()),
		"malformed":    {TypeUrl: "type.googleapis.com/" + TypeCgroupsV2, Value: []byte{0xff, 0xff, 0xff}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(a, at)
			assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
		})
	}
}
