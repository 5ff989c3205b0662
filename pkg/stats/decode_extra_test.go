package stats

import (
	"testing"
	"time"

	runhcsstats "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/stats"
	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// The figures behind the CFS, memory peak, swap, kernel, OOM, pids
// limit and block I/O metrics, from each source.
func TestDecodeCgroupExtras(t *testing.T) {
	at := time.Unix(1000, 0)
	const pidsMaxV1 = 0 // containerd reports pids.max "max" as 0
	tests := []struct {
		name    string
		msg     proto.Message
		cfs     *CFS
		memory  *Memory
		process *Process
		io      []DeviceIO
	}{
		{
			name: "cgroup v1",
			msg: &v1.Metrics{
				CPU: &v1.CPUStat{Usage: &v1.CPUUsage{Total: 1}, Throttling: &v1.Throttle{Periods: 100, ThrottledPeriods: 7, ThrottledTime: 3e9}},
				Memory: &v1.MemoryStat{
					Usage:  &v1.MemoryEntry{Usage: 100, Max: 150},
					Swap:   &v1.MemoryEntry{Usage: 130}, // memory+swap
					Kernel: &v1.MemoryEntry{Usage: 12},
				},
				MemoryOomControl: &v1.MemoryOomControl{OomKill: 2},
				Pids:             &v1.PidsStat{Current: 3, Limit: 1024},
				Blkio: &v1.BlkIOStat{
					IoServiceBytesRecursive: []*v1.BlkIOEntry{
						{Op: "Read", Major: 8, Minor: 0, Device: "/dev/sda", Value: 4096},
						{Op: "Write", Major: 8, Minor: 0, Device: "/dev/sda", Value: 8192},
						{Op: "Total", Major: 8, Minor: 0, Device: "/dev/sda", Value: 12288},
						{Op: "Write", Major: 253, Minor: 1, Value: 512},
					},
					IoServicedRecursive: []*v1.BlkIOEntry{
						{Op: "Read", Major: 8, Minor: 0, Value: 2},
						{Op: "Write", Major: 8, Minor: 0, Value: 3},
						{Op: "Sync", Major: 8, Minor: 0, Value: 5},
					},
				},
			},
			cfs:     &CFS{Periods: 100, ThrottledPeriods: 7, ThrottledTime: 3e9},
			memory:  &Memory{Usage: 100, WorkingSet: 100, MaxUsage: 150, Swap: 30, Kernel: 12, OOMEvents: 2},
			process: &Process{Count: 3, ThreadsMax: 1024},
			io: []DeviceIO{
				{Major: 8, Minor: 0, Device: "/dev/sda", ReadBytes: 4096, WriteBytes: 8192, Reads: 2, Writes: 3},
				{Major: 253, Minor: 1, Device: "253:1", WriteBytes: 512},
			},
		},
		{
			name: "cgroup v1 swap below usage, no pids limit, no blkio",
			msg: &v1.Metrics{
				Memory: &v1.MemoryStat{Usage: &v1.MemoryEntry{Usage: 100}, Swap: &v1.MemoryEntry{Usage: 90}},
				Pids:   &v1.PidsStat{Current: 1, Limit: pidsMaxV1},
			},
			memory:  &Memory{Usage: 100, WorkingSet: 100},
			process: &Process{Count: 1},
		},
		{
			name: "cgroup v2",
			msg: &v2.Metrics{
				CPU:          &v2.CPUStat{UsageUsec: 1, NrPeriods: 50, NrThrottled: 4, ThrottledUsec: 2e6},
				Memory:       &v2.MemoryStat{Usage: 100, MaxUsage: 180, SwapUsage: 40, KernelStack: 8, Slab: 24},
				MemoryEvents: &v2.MemoryEvents{OomKill: 3, Oom: 5},
				Pids:         &v2.PidsStat{Current: 2, Limit: ^uint64(0)},
				Io: &v2.IOStat{Usage: []*v2.IOEntry{
					{Major: 259, Minor: 0, Rbytes: 1000, Wbytes: 2000, Rios: 10, Wios: 20},
				}},
			},
			cfs:     &CFS{Periods: 50, ThrottledPeriods: 4, ThrottledTime: 2e9},
			memory:  &Memory{Usage: 100, WorkingSet: 100, MaxUsage: 180, Swap: 40, Kernel: 32, Failcnt: 3, OOMEvents: 3},
			process: &Process{Count: 2},
			io:      []DeviceIO{{Major: 259, Minor: 0, Device: "259:0", ReadBytes: 1000, WriteBytes: 2000, Reads: 10, Writes: 20}},
		},
		{
			name:    "cgroup v2 pids limit",
			msg:     &v2.Metrics{Pids: &v2.PidsStat{Current: 2, Limit: 64}},
			process: &Process{Count: 2, ThreadsMax: 64},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(anyOf(t, tt.msg), at)
			require.NoError(t, err)
			assert.True(t, got.Cgroup)
			if tt.cfs != nil {
				require.NotNil(t, got.CPU)
				assert.Equal(t, tt.cfs, got.CPU.CFS)
			} else if got.CPU != nil {
				assert.Nil(t, got.CPU.CFS)
			}
			if tt.memory != nil {
				assert.Equal(t, tt.memory, got.Memory)
			}
			assert.Equal(t, tt.process, got.Process)
			assert.Equal(t, tt.io, got.IO)
		})
	}
}

// runhcs reports no CFS, swap, kernel memory or pids limit for a
// Windows container; its storage counters are one device-less entry.
func TestDecodeRunhcsStorage(t *testing.T) {
	got, err := Decode(anyOf(t, &runhcsstats.Statistics{Container: &runhcsstats.Statistics_Windows{Windows: &runhcsstats.WindowsContainerStatistics{
		Processor: &runhcsstats.WindowsContainerProcessorStatistics{TotalRuntimeNS: 1},
		Storage:   &runhcsstats.WindowsContainerStorageStatistics{ReadCountNormalized: 1, ReadSizeBytes: 2, WriteCountNormalized: 3, WriteSizeBytes: 4},
	}}}), time.Unix(1, 0))
	require.NoError(t, err)
	assert.False(t, got.Cgroup)
	assert.Nil(t, got.CPU.CFS)
	assert.Equal(t, []DeviceIO{{Reads: 1, ReadBytes: 2, Writes: 3, WriteBytes: 4}}, got.IO)
}
