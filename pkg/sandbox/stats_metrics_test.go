package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/stats"
)

// The metric names critest v1.37.0 (sigs.k8s.io/cri-tools
// pkg/validate/pod.go) expects of ListPodSandboxMetrics: its
// expectedMetricDescriptorNames less unimplementedMetricDescriptors
// (which no runtime has yet) and optionalValuesForMetricDescriptors
// (block I/O, which a virtual disk may not account). Copied from there.
var (
	critestExpectedMetrics = []string{
		"container_blkio_device_usage_total",
		"container_cpu_cfs_periods_total",
		"container_cpu_cfs_throttled_periods_total",
		"container_cpu_cfs_throttled_seconds_total",
		"container_cpu_system_seconds_total",
		"container_cpu_usage_seconds_total",
		"container_cpu_user_seconds_total",
		"container_file_descriptors",
		"container_fs_inodes_free",
		"container_fs_inodes_total",
		"container_fs_limit_bytes",
		"container_fs_reads_bytes_total",
		"container_fs_reads_total",
		"container_fs_usage_bytes",
		"container_fs_writes_bytes_total",
		"container_fs_writes_total",
		"container_hugetlb_max_usage_bytes",
		"container_hugetlb_usage_bytes",
		"container_last_seen",
		"container_memory_cache",
		"container_memory_failcnt",
		"container_memory_failures_total",
		"container_memory_kernel_usage",
		"container_memory_mapped_file",
		"container_memory_max_usage_bytes",
		"container_memory_rss",
		"container_memory_swap",
		"container_memory_usage_bytes",
		"container_memory_working_set_bytes",
		"container_network_receive_bytes_total",
		"container_network_receive_errors_total",
		"container_network_receive_packets_dropped_total",
		"container_network_receive_packets_total",
		"container_network_transmit_bytes_total",
		"container_network_transmit_errors_total",
		"container_network_transmit_packets_dropped_total",
		"container_network_transmit_packets_total",
		"container_oom_events_total",
		"container_pressure_cpu_stalled_seconds_total",
		"container_pressure_cpu_waiting_seconds_total",
		"container_pressure_io_stalled_seconds_total",
		"container_pressure_io_waiting_seconds_total",
		"container_pressure_memory_stalled_seconds_total",
		"container_pressure_memory_waiting_seconds_total",
		"container_processes",
		"container_sockets",
		"container_spec_cpu_period",
		"container_spec_cpu_quota",
		"container_spec_cpu_shares",
		"container_spec_memory_limit_bytes",
		"container_spec_memory_reservation_limit_bytes",
		"container_spec_memory_swap_limit_bytes",
		"container_start_time_seconds",
		"container_threads",
		"container_threads_max",
		"container_ulimits_soft",
	}
	critestUnimplementedMetrics = []string{
		"container_hugetlb_max_usage_bytes",
		"container_hugetlb_usage_bytes",
		"container_pressure_cpu_stalled_seconds_total",
		"container_pressure_cpu_waiting_seconds_total",
		"container_pressure_io_stalled_seconds_total",
		"container_pressure_io_waiting_seconds_total",
		"container_pressure_memory_stalled_seconds_total",
		"container_pressure_memory_waiting_seconds_total",
		"container_spec_cpu_quota",
		"container_spec_memory_reservation_limit_bytes",
		"container_ulimits_soft",
	}
	critestOptionalMetrics = []string{
		"container_blkio_device_usage_total",
		"container_fs_reads_bytes_total",
		"container_fs_reads_total",
		"container_fs_writes_bytes_total",
		"container_fs_writes_total",
	}
)

// critestSpec is the runtime spec of critest's metrics container
// (createContainerForMetrics), as the Linux platform builds it.
const critestSpec = `{"linux":{"resources":{"cpu":{"shares":1024,"quota":20000,"period":100000},"memory":{"limit":67108864,"swap":67108864}}}}`

// cgroupV1Metrics is what runc-v2 reports for a task on a cgroup v1
// host.
func cgroupV1Metrics() *v1.Metrics {
	return &v1.Metrics{
		CPU: &v1.CPUStat{Usage: &v1.CPUUsage{Total: 2e9, User: 1e9, Kernel: 1e9}, Throttling: &v1.Throttle{Periods: 10, ThrottledPeriods: 1, ThrottledTime: 1e6}},
		Memory: &v1.MemoryStat{
			Usage: &v1.MemoryEntry{Usage: 8 << 20, Max: 9 << 20, Limit: 64 << 20}, Swap: &v1.MemoryEntry{Usage: 8 << 20},
			Kernel: &v1.MemoryEntry{Usage: 1 << 20}, TotalRSS: 4 << 20, TotalCache: 2 << 20,
		},
		MemoryOomControl: &v1.MemoryOomControl{},
		Pids:             &v1.PidsStat{Current: 1},
	}
}

// writeProc fakes /proc entries for pids: one thread, a socket and a
// pipe each.
func writeProc(t *testing.T, root string, pids ...uint32) {
	t.Helper()
	for _, pid := range pids {
		dir := filepath.Join(root, fmt.Sprint(pid))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "fd"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tsleep\nThreads:\t1\n"), 0o644))
		require.NoError(t, os.Symlink("socket:[1]", filepath.Join(dir, "fd", "3")))
		require.NoError(t, os.Symlink("pipe:[2]", filepath.Join(dir, "fd", "4")))
	}
}

// A pod with a running container yields every metric critest requires
// (over the fake shim), each with as many labels as its descriptor.
func TestPodMetricsCoverCritest(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("metrics")
	id := e.runContainer(podID, "c")
	c, err := e.m.getContainer(id)
	require.NoError(t, err)
	require.NoError(t, e.m.updateContainer(c, fields(func(r *ContainerRecord) { r.Spec = []byte(critestSpec) })))
	// The platform makes the writable layer; the fake one does not.
	layer := e.m.dirs.containerLayer(id)
	require.NoError(t, os.MkdirAll(filepath.Join(layer, "upper"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(layer, "upper", "f"), []byte("hi"), 0o644))
	cache := statsCacheWithProc(t, e, podID, id)

	pods := e.m.PodStats(e.ctx(), cache, PodFilter{}, StatsOptions{Tasks: true})
	require.Len(t, pods, 1)
	// A pod network is read from its namespace, which the fake network
	// does not make: stand in for what it would hold.
	pods[0].Network = []stats.Interface{{Name: "eth0", RxBytes: 1}}
	points := pods[0].Points()
	require.Len(t, pods[0].Containers, 1)
	points = append(points, pods[0].Containers[0].Points()...)

	keys := map[string]int{}
	for _, d := range stats.Descriptors() {
		keys[d.Name] = len(d.LabelKeys)
	}
	found := map[string]bool{}
	for _, p := range points {
		found[p.Name] = true
		if assert.Contains(t, keys, p.Name) {
			assert.Len(t, p.Labels, keys[p.Name], p.Name)
		}
	}
	for _, name := range critestExpectedMetrics {
		if slices.Contains(critestUnimplementedMetrics, name) || slices.Contains(critestOptionalMetrics, name) {
			continue
		}
		assert.True(t, found[name], "%s has a value", name)
		assert.Contains(t, keys, name, "%s is described", name)
	}

	byName := map[string]stats.Point{}
	for _, p := range pods[0].Containers[0].Points() {
		byName[p.Name] = p
	}
	assert.Equal(t, uint64(100000), byName[stats.MetricSpecCPUPeriod].Value)
	assert.Equal(t, uint64(1), byName[stats.MetricSockets].Value)
	assert.Equal(t, uint64(2), byName[stats.MetricFileDescriptors].Value)
	assert.Equal(t, uint64(e.container(id).StartedAt.Unix()), byName[stats.MetricStartTime].Value)
	assert.Equal(t, []string{"metrics", "default", "c", id, e.container(id).ImageName}, byName[stats.MetricThreads].Labels)
	assert.GreaterOrEqual(t, byName[stats.MetricFSUsage].Value, uint64(2), "measured on the first request")
}

// Kubelet's stats calls do not list the tasks' processes, which on runc
// runs `runc ps` per task; the metrics, which report threads and files,
// do.
func TestPodStatsCountTasksOnlyForMetrics(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("tasks")
	id := e.runContainer(podID, "c")
	cache := statsCacheWithProc(t, e, podID, id)

	for _, tc := range []struct {
		opts      StatsOptions
		wantTasks bool
	}{{StatsOptions{}, false}, {StatsOptions{Tasks: true}, true}} {
		pods := e.m.PodStats(e.ctx(), cache, PodFilter{}, tc.opts)
		require.Len(t, pods, 1)
		require.Len(t, pods[0].Containers, 1)
		p := pods[0].Containers[0].Process
		require.NotNil(t, p, "the process count comes from the task's metrics")
		assert.Equal(t, uint64(1), p.Count)
		assert.Equal(t, tc.wantTasks, p.Tasks != nil, "%+v", tc.opts)
	}
}

// statsCacheWithProc gives the pod's sandbox and container tasks cgroup
// v1 figures in the fake shim and returns a cache whose process table
// holds their processes.
func statsCacheWithProc(t *testing.T, e *env, podID, ctrID string) *StatsCache {
	t.Helper()
	for _, task := range []string{podID, ctrID} {
		require.NoError(t, e.shims.SetStats(task, mustAny(cgroupV1Metrics())))
	}
	cache := NewStatsCache(time.Hour)
	cache.procRoot = t.TempDir()
	pod, err := e.m.PodStatus(podID)
	require.NoError(t, err)
	writeProc(t, cache.procRoot, pod.Pid, e.container(ctrID).Pid)
	return cache
}
