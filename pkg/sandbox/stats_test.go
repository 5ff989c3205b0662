package sandbox

import (
	"fmt"
	"os"
	"testing"
	"time"

	runhcsstats "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/stats"
	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/shim/shimtest"
	"github.com/wincri/wincri/pkg/stats"
	"github.com/wincri/wincri/pkg/store"
)

func metricsV1(cpuNanos, memory uint64) *anypb.Any {
	return mustAny(&v1.Metrics{
		CPU:    &v1.CPUStat{Usage: &v1.CPUUsage{Total: cpuNanos}},
		Memory: &v1.MemoryStat{Usage: &v1.MemoryEntry{Usage: memory}},
		Pids:   &v1.PidsStat{Current: 1},
	})
}

func metricsV2(cpuMicros, memory uint64) *anypb.Any {
	return mustAny(&v2.Metrics{
		CPU:    &v2.CPUStat{UsageUsec: cpuMicros},
		Memory: &v2.MemoryStat{Usage: memory},
		Pids:   &v2.PidsStat{Current: 2},
	})
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

func TestPodStatsSumsTheTasks(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("stats")
	a := e.runContainer(podID, "a")
	b := e.runContainer(podID, "b")
	exited := e.runContainer(podID, "gone")
	require.NoError(t, e.shims.Exit(exited, "", 0))
	e.shims.Sync()

	require.NoError(t, e.shims.SetStats(podID, metricsV1(1e6, 1<<20)))
	require.NoError(t, e.shims.SetStats(a, metricsV1(2e9, 10<<20)))
	require.NoError(t, e.shims.SetStats(b, metricsV2(3e6, 20<<20))) // 3 s

	cache := NewStatsCache(time.Hour)
	pods := e.m.PodStats(e.ctx(), cache, PodFilter{}, StatsOptions{})
	require.Len(t, pods, 1)
	p := pods[0]
	assert.Equal(t, podID, p.Pod.ID)
	require.NotNil(t, p.CPU)
	assert.Equal(t, uint64(1e6+2e9+3e9), p.CPU.UsageCoreNanoSeconds)
	assert.Equal(t, uint64(31<<20), p.Memory.WorkingSet)
	assert.Equal(t, uint64(4), p.Process.Count)
	assert.Zero(t, p.CPU.UsageNanoCores, "no rate from one sample")
	byID := map[string]ContainerStats{}
	for _, c := range p.Containers {
		byID[c.Container.ID] = c
	}
	assert.Len(t, byID, 2, "exited containers are not in pod stats")
	assert.Equal(t, uint64(2e9), byID[a].CPU.UsageCoreNanoSeconds)
	assert.Equal(t, uint64(3e9), byID[b].CPU.UsageCoreNanoSeconds)

	// One more CPU second each a little later: a rate now.
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, e.shims.SetStats(a, metricsV1(3e9, 10<<20)))
	ctrs := e.m.ContainerStats(e.ctx(), cache, ContainerFilter{ID: a}, StatsOptions{})
	require.Len(t, ctrs, 1)
	assert.Greater(t, ctrs[0].CPU.UsageNanoCores, uint64(1e9), "a second of CPU in about 10ms is many cores")

	ctrs = e.m.ContainerStats(e.ctx(), cache, ContainerFilter{ID: exited}, StatsOptions{})
	require.Len(t, ctrs, 1)
	assert.Nil(t, ctrs[0].CPU, "an exited container has no task to ask")
	assert.Equal(t, ContainerExited, ctrs[0].Container.State)
}

// A hyperv pod's sandbox task reports its utility VM, which already
// holds the containers: the pod's figures are the VM's, not a sum.
func TestPodStatsOfAUtilityVM(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("hyperv")
	id := e.runContainer(podID, "c")
	require.NoError(t, e.shims.SetStats(podID, mustAny(&runhcsstats.Statistics{VM: &runhcsstats.VirtualMachineStatistics{
		Processor: &runhcsstats.VirtualMachineProcessorStatistics{TotalRuntimeNS: 9e9},
		Memory:    &runhcsstats.VirtualMachineMemoryStatistics{WorkingSetBytes: 512 << 20},
	}})))
	require.NoError(t, e.shims.SetStats(id, mustAny(&runhcsstats.Statistics{Container: &runhcsstats.Statistics_Windows{Windows: &runhcsstats.WindowsContainerStatistics{
		Processor: &runhcsstats.WindowsContainerProcessorStatistics{TotalRuntimeNS: 4e9},
		Memory:    &runhcsstats.WindowsContainerMemoryStatistics{MemoryUsagePrivateWorkingSetBytes: 100 << 20},
	}}})))
	pods := e.m.PodStats(e.ctx(), NewStatsCache(time.Hour), PodFilter{}, StatsOptions{})
	require.Len(t, pods, 1)
	p := pods[0]
	assert.Equal(t, uint64(9e9), p.CPU.UsageCoreNanoSeconds)
	assert.Equal(t, uint64(512<<20), p.Memory.WorkingSet)
	require.NotNil(t, p.Process, "counted from the containers' processes")
	require.Len(t, p.Containers, 1)
	assert.Equal(t, uint64(100<<20), p.Containers[0].Memory.WorkingSet)
}

func TestPodStatsFilters(t *testing.T) {
	e := newEnv(t)
	one := e.runPod("one")
	two := e.runPod("two")
	cache := NewStatsCache(time.Hour)
	assert.Len(t, e.m.PodStats(e.ctx(), cache, PodFilter{}, StatsOptions{}), 2)
	got := e.m.PodStats(e.ctx(), cache, PodFilter{Labels: map[string]string{"app": "two"}}, StatsOptions{})
	require.Len(t, got, 1)
	assert.Equal(t, two, got[0].Pod.ID)
	require.NoError(t, e.m.StopPod(e.ctx(), one))
	got = e.m.PodStats(e.ctx(), cache, PodFilter{}, StatsOptions{})
	require.Len(t, got, 1, "only ready pods")
	assert.Equal(t, two, got[0].Pod.ID)
}

func TestStatsSurviveShimFailures(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("broken")
	id := e.runContainer(podID, "c")
	require.NoError(t, e.shims.SetStats(id, &anypb.Any{TypeUrl: "example.com/Unknown"}))
	e.shims.FailNext("Stats", fmt.Errorf("shim is busy"))
	cache := NewStatsCache(time.Hour)
	pods := e.m.PodStats(e.ctx(), cache, PodFilter{}, StatsOptions{})
	require.Len(t, pods, 1)
	require.Len(t, pods[0].Containers, 1)
	assert.Nil(t, pods[0].Containers[0].CPU)
	assert.False(t, pods[0].Containers[0].At.IsZero(), "stamped anyway")
}

// BenchmarkListPodSandboxStats measures listing the stats of 50 running
// pods of two containers each, over the fake shim with canned cgroup v1
// metrics: the cost of wincri's side of the call (locking, parallel
// gathering, decoding, rates, counting the tasks' threads and files in
// /proc), without the shims' own latency.
func BenchmarkListPodSandboxStats(b *testing.B) {
	e := newBenchEnv(b)
	for i := range 50 {
		podID, err := e.m.RunPod(b.Context(), podConfig(fmt.Sprintf("p%d", i)), "")
		require.NoError(b, err)
		require.NoError(b, e.shims.SetStats(podID, metricsV1(1e6, 1<<20)))
		for j := range 2 {
			id, err := e.m.CreateContainer(b.Context(), podID, containerConfig(fmt.Sprintf("c%d", j)))
			require.NoError(b, err)
			require.NoError(b, e.m.StartContainer(b.Context(), id))
			require.NoError(b, e.shims.SetStats(id, metricsV1(uint64(i+1)*1e9, 50<<20)))
		}
	}
	// With the host's /proc, as on Linux: the fake pids are counted
	// where the host has such processes. Without, as on Windows.
	for _, procRoot := range []string{stats.HostProc(), ""} {
		name := "proc=host"
		if procRoot == "" {
			name = "proc=none"
		}
		b.Run(name, func(b *testing.B) {
			cache := NewStatsCache(time.Hour)
			cache.procRoot = procRoot
			var n int
			for b.Loop() {
				n = len(e.m.PodStats(b.Context(), cache, PodFilter{}, StatsOptions{}))
			}
			if n != 50 {
				b.Fatalf("listed %d pods, want 50", n)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/list")
		})
	}
}

// benchEnv is newEnv's Manager over fakes, for benchmarks.
type benchEnv struct {
	m     *Manager
	shims *shimtest.Manager
}

func newBenchEnv(b *testing.B) benchEnv {
	b.Helper()
	root, err := os.MkdirTemp("", "wsb")
	require.NoError(b, err)
	b.Cleanup(func() { _ = os.RemoveAll(root) })
	db, err := store.Open(root + "/state.db")
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	var target func(shim.Event)
	shims := shimtest.NewManager(func(ev shim.Event) {
		if target != nil {
			target(ev)
		}
	})
	m, err := New(Options{
		Config: config.Default(), Root: root + "/root", State: root + "/state", Store: db,
		Network: &fakeNetwork{active: map[string]bool{}}, Images: fakeImages{},
		Platform:   &fakePlatform{podCleanups: map[string]int{}, ctrCleanups: map[string]int{}},
		LoggerPath: "/usr/local/bin/wincri-logger",
		NewShims: func(on func(shim.Event)) (shim.Manager, error) {
			target = on
			return shims, nil
		},
	})
	require.NoError(b, err)
	return benchEnv{m: m, shims: shims}
}
