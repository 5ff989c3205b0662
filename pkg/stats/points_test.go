package stats

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullFigures has every group a Linux container can report.
func fullFigures(at time.Time) Figures {
	return Figures{
		Sample: Sample{
			At:      at,
			Cgroup:  true,
			CPU:     &CPU{UsageCoreNanoSeconds: 3.5e9, User: 2e9, System: 1.5e9, CFS: &CFS{Periods: 10, ThrottledPeriods: 2, ThrottledTime: 2.5e9}},
			Memory:  &Memory{Usage: 10, WorkingSet: 7, MaxUsage: 12, Swap: 1, Kernel: 2, OOMEvents: 1, Limit: 64},
			Process: &Process{Count: 2, ThreadsMax: 100, Tasks: &Tasks{Threads: 5, FileDescriptors: 9, Sockets: 1}},
			IO:      []DeviceIO{{Major: 8, Minor: 16, Device: "/dev/sdb", ReadBytes: 4096, WriteBytes: 512, Reads: 1, Writes: 2}},
		},
		Layer:     &Filesystem{UsedBytes: 9, InodesUsed: 3},
		Capacity:  &Capacity{Bytes: 1 << 30, Inodes: 1000, InodesFree: 900},
		Spec:      &Spec{Linux: true, CPUPeriod: 100000, CPUQuota: 20000, CPUShares: 1024, MemorySwapLimit: 64 << 20},
		StartedAt: at.Add(-time.Minute),
	}
}

func byName(points []Point) map[string][]Point {
	out := map[string][]Point{}
	for _, p := range points {
		out[p.Name] = append(out[p.Name], p)
	}
	return out
}

// Every point is described, with as many label values as its
// descriptor has keys: kubelet rejects a metric whose counts differ.
func TestPointsMatchTheirDescriptors(t *testing.T) {
	at := time.Unix(50, 0)
	described := map[string]Descriptor{}
	for _, d := range Descriptors() {
		_, dup := described[d.Name]
		assert.False(t, dup, "%s described twice", d.Name)
		assert.NotEmpty(t, d.Help, d.Name)
		assert.NotEmpty(t, d.LabelKeys, d.Name)
		described[d.Name] = d
	}
	id := Identity{Pod: "web", Namespace: "default", Container: "app", ID: "c1", Image: "img"}
	windows := Figures{Sample: Sample{At: at, CPU: &CPU{}, Memory: &Memory{}, Process: &Process{}, IO: []DeviceIO{{}}}, Capacity: &Capacity{Bytes: 1}, Spec: &Spec{CPUShares: 2}}
	points := append(ContainerPoints(id, fullFigures(at)), ContainerPoints(Identity{ID: "pod"}, windows)...)
	points = append(points, NetworkPoints(id, at, []Interface{{Name: "eth0", RxBytes: 5}})...)
	emitted := byName(points)
	for _, p := range points {
		d, ok := described[p.Name]
		if assert.True(t, ok, "%s is described", p.Name) {
			assert.Len(t, p.Labels, len(d.LabelKeys), p.Name)
			assert.Equal(t, d.Type, p.Type, p.Name)
		}
	}
	for name := range described {
		assert.Contains(t, emitted, name, "a full set of figures yields every described metric")
	}
	assert.Empty(t, ContainerPoints(id, Figures{}))
}

func TestContainerPointValues(t *testing.T) {
	at := time.Unix(5000, 0)
	id := Identity{Pod: "web", Namespace: "default", Container: "app", ID: "c1", Image: "img"}
	got := byName(ContainerPoints(id, fullFigures(at)))
	want := map[string]uint64{
		MetricCPUUsageSeconds:        3,
		MetricCPUCFSPeriods:          10,
		MetricCPUCFSThrottledPeriods: 2,
		MetricCPUCFSThrottledSeconds: 2,
		MetricMemoryMaxUsage:         12,
		MetricMemorySwap:             1,
		MetricMemoryKernel:           2,
		MetricOOMEvents:              1,
		MetricProcesses:              2,
		MetricThreads:                5,
		MetricThreadsMax:             100,
		MetricFileDescriptors:        9,
		MetricSockets:                1,
		MetricFSUsage:                9,
		MetricFSLimit:                1 << 30,
		MetricFSInodes:               1000,
		MetricFSInodesFree:           900,
		MetricFSReadsBytes:           4096,
		MetricFSReads:                1,
		MetricFSWritesBytes:          512,
		MetricFSWrites:               2,
		MetricSpecCPUPeriod:          100000,
		MetricSpecCPUQuota:           20000,
		MetricSpecCPUShares:          1024,
		MetricSpecMemorySwapLimit:    64 << 20,
		MetricSpecMemoryReservation:  0,
		MetricStartTime:              uint64(at.Unix() - 60),
		MetricLastSeen:               uint64(at.Unix()),
	}
	for name, v := range want {
		if assert.Len(t, got[name], 1, name) {
			assert.Equal(t, v, got[name][0].Value, name)
		}
	}
	blkio := got[MetricBlkioDeviceUsage]
	require.Len(t, blkio, 2)
	assert.Equal(t, []string{"web", "default", "app", "c1", "img", "/dev/sdb", "8", "16", "Read"}, blkio[0].Labels)
	assert.Equal(t, uint64(4096), blkio[0].Value)
	assert.Equal(t, []string{"web", "default", "app", "c1", "img", "/dev/sdb", "8", "16", "Write"}, blkio[1].Labels)
	assert.Equal(t, []string{"web", "default", "app", "c1", "img", "/dev/sdb"}, got[MetricFSReads][0].Labels)
}

// What a source does not report has no points, rather than zeros that
// read as measurements.
func TestContainerPointsLeaveOutWhatIsUnknown(t *testing.T) {
	at := time.Unix(50, 0)
	tests := []struct {
		name    string
		figures Figures
		absent  []string
		present []string
	}{
		{
			name:    "windows container",
			figures: Figures{Sample: Sample{At: at, CPU: &CPU{}, Memory: &Memory{}, Process: &Process{Count: 1}, IO: []DeviceIO{{ReadBytes: 1}}}, Capacity: &Capacity{Bytes: 5}, Spec: &Spec{CPUShares: 5000}},
			absent:  []string{MetricCPUCFSPeriods, MetricMemorySwap, MetricMemoryKernel, MetricOOMEvents, MetricThreadsMax, MetricThreads, MetricBlkioDeviceUsage, MetricFSInodes, MetricFSInodesFree, MetricSpecCPUPeriod, MetricSpecMemorySwapLimit, MetricFSUsage, MetricStartTime},
			present: []string{MetricCPUUsageSeconds, MetricMemoryMaxUsage, MetricProcesses, MetricFSReadsBytes, MetricFSLimit, MetricSpecCPUShares},
		},
		{
			name:    "linux spec without period or quota",
			figures: Figures{Spec: &Spec{Linux: true}},
			absent:  []string{MetricSpecCPUPeriod, MetricSpecCPUQuota},
			present: []string{MetricSpecCPUShares, MetricSpecMemorySwapLimit, MetricSpecMemoryReservation},
		},
		{
			name:    "pod: no layer, spec or start",
			figures: Figures{Sample: Sample{At: at, Cgroup: true, Memory: &Memory{}}},
			absent:  []string{MetricFSUsage, MetricFSLimit, MetricSpecCPUShares, MetricStartTime},
			present: []string{MetricMemorySwap, MetricLastSeen},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := byName(ContainerPoints(Identity{ID: "x"}, tt.figures))
			for _, n := range tt.absent {
				assert.NotContains(t, got, n)
			}
			for _, n := range tt.present {
				assert.Contains(t, got, n)
			}
		})
	}
}
