package sandbox

import (
	"context"
	"strings"
	"sync"
	"time"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/stats"
)

// statsParallelism bounds how many pods' shims are asked at once.
const statsParallelism = 16

// podRateKey keeps a pod's CPU rate apart from its sandbox task's.
const podRateKey = "pod/"

// StatsCache is what stats keep between requests: the previous CPU
// samples that rates derive from, and the writable layers' disk usage,
// measured in the background by Run.
type StatsCache struct {
	rates *stats.Rates
	disk  *stats.DiskUsage
	// procRoot is the process table tasks' threads and files are
	// counted in; "" where the host has none.
	procRoot string
	// capacity sizes the filesystem of the writable layers.
	capacity func(dir string) (stats.Capacity, error)
	specs    specCache
}

// NewStatsCache returns an empty cache; diskInterval is how often
// writable layers are re-measured (stats.DefaultDiskInterval when 0).
func NewStatsCache(diskInterval time.Duration) *StatsCache {
	return &StatsCache{
		rates:    stats.NewRates(),
		disk:     stats.NewDiskUsage(diskInterval),
		procRoot: stats.HostProc(),
		capacity: stats.FilesystemCapacity,
	}
}

// Run measures disk usage until ctx ends.
func (c *StatsCache) Run(ctx context.Context) { c.disk.Run(ctx) }

// ContainerStats is one container's usage.
type ContainerStats struct {
	Container Container
	// Sample is empty for a container that is not running.
	stats.Sample
	// WritableLayer is nil until its first measurement.
	WritableLayer *stats.Filesystem
	// Capacity is the filesystem holding the writable layer, nil when
	// it cannot be sized.
	Capacity *stats.Capacity
	// Spec is what the container's runtime spec configures, nil when
	// the container has none recorded.
	Spec *stats.Spec
}

// PodStats is one pod's usage: the sum of its sandbox's and its
// containers' tasks, so that pods without a cgroup parent of their own
// (as crictl creates them) have figures too; for a hyperv pod, its
// utility VM's, which hold its containers'.
type PodStats struct {
	Pod Pod
	stats.Sample
	// Network lists the pod's interfaces, its default (eth0 on Linux)
	// first; nil for host-network pods.
	Network    []stats.Interface
	Containers []ContainerStats
}

// StatsOptions say how much a stats request gathers.
type StatsOptions struct {
	// Tasks counts the threads, open files and sockets of the tasks'
	// processes (stats.Process.Tasks), which only the CRI metrics
	// report: listing a runc task's processes runs `runc ps`, tens of
	// milliseconds per task, which kubelet's stats calls must not pay.
	Tasks bool
}

// PodStats reports the ready pods that match f, gathering pods in
// parallel. A pod whose shim does not answer is reported without
// figures rather than failing the whole list.
func (m *Manager) PodStats(ctx context.Context, cache *StatsCache, f PodFilter, opts StatsOptions) []PodStats {
	if f.State == "" {
		f.State = PodReady
	}
	pods := m.ListPods(f)
	// One pass over the containers, not one per pod.
	running := map[string][]Container{}
	for _, c := range m.ListContainers(ContainerFilter{State: ContainerRunning}) {
		running[c.PodID] = append(running[c.PodID], c)
	}
	capacity := m.layersCapacity(ctx, cache)
	out := make([]PodStats, len(pods))
	sem := make(chan struct{}, statsParallelism)
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = m.podStats(ctx, cache, opts, capacity, p, running[p.ID])
		}()
	}
	wg.Wait()
	if f.ID == "" && len(f.Labels) == 0 {
		m.forgetStats(cache)
	}
	return out
}

// ContainerStats reports the containers that match f; running ones
// with their tasks' figures.
func (m *Manager) ContainerStats(ctx context.Context, cache *StatsCache, f ContainerFilter, opts StatsOptions) []ContainerStats {
	ctrs := m.ListContainers(f)
	capacity := m.layersCapacity(ctx, cache)
	out := make([]ContainerStats, len(ctrs))
	sem := make(chan struct{}, statsParallelism)
	var wg sync.WaitGroup
	for i, c := range ctrs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var s shim.Shim
			if p, err := m.getPod(c.PodID); err == nil {
				var done func()
				if s, done, err = p.useShim(); err == nil {
					defer done()
				}
			}
			out[i] = m.containerStats(ctx, cache, opts, capacity, s, c)
		}()
	}
	wg.Wait()
	return out
}

func (m *Manager) podStats(ctx context.Context, cache *StatsCache, opts StatsOptions, capacity *stats.Capacity, pod Pod, ctrs []Container) PodStats {
	out := PodStats{Pod: pod}
	p, err := m.getPod(pod.ID)
	if err != nil {
		return out
	}
	s, done, err := p.useShim()
	if err == nil {
		defer done()
	}
	sandboxTask := m.taskSample(ctx, cache, opts, s, pod.ID)
	var ctrSamples []stats.Sample
	for _, c := range ctrs {
		cs := m.containerStats(ctx, cache, opts, capacity, s, c)
		out.Containers = append(out.Containers, cs)
		ctrSamples = append(ctrSamples, cs.Sample)
	}
	if sandboxTask.UtilityVM {
		// The VM's figures include its containers'; only the process
		// count is theirs alone.
		out.Sample = sandboxTask
		out.Process = stats.Sum(ctrSamples...).Process
	} else {
		out.Sample = stats.Sum(append(ctrSamples, sandboxTask)...)
	}
	cache.rates.Apply(podRateKey+pod.ID, &out.Sample)
	if pod.NetNS != "" {
		ifaces, err := podInterfaces(ctx, pod.PodRecord, pod.Config)
		if err != nil {
			klog.FromContext(ctx).V(4).Info("Reading pod network counters failed", logkeys.PodSandboxID, pod.ID, "err", err)
		}
		out.Network = ifaces
	}
	return out
}

func (m *Manager) containerStats(ctx context.Context, cache *StatsCache, opts StatsOptions, capacity *stats.Capacity, s shim.Shim, c Container) ContainerStats {
	out := ContainerStats{Container: c, Capacity: capacity, Spec: cache.specs.get(ctx, c.ID, c.Spec)}
	if fs, ok := cache.disk.Get(m.dirs.containerLayer(c.ID)); ok {
		out.WritableLayer = &fs
	}
	if c.State != ContainerRunning {
		return out
	}
	out.Sample = m.taskSample(ctx, cache, opts, s, c.ID)
	cache.rates.Apply(c.ID, &out.Sample)
	return out
}

// taskSample asks a task's shim for its figures; an empty sample when
// it cannot answer (the task exited or the shim is gone). Where the
// host sees the task's processes and opts ask, their threads and files
// are counted.
func (m *Manager) taskSample(ctx context.Context, cache *StatsCache, opts StatsOptions, s shim.Shim, id string) stats.Sample {
	now := time.Now()
	if s == nil {
		return stats.Sample{At: now}
	}
	logger := klog.FromContext(ctx).WithValues(logkeys.TaskID, id)
	raw, err := s.Stats(ctx, id)
	if err != nil {
		if !gone(err) {
			logger.V(4).Info("Task stats failed", "err", err)
		}
		return stats.Sample{At: now}
	}
	sample, err := stats.Decode(raw, now)
	if err != nil {
		logger.V(4).Info("Decoding task stats failed", "err", err)
		return stats.Sample{At: now}
	}
	countTasks := opts.Tasks && cache.procRoot != ""
	if sample.Process != nil && !countTasks {
		return sample
	}
	pids, err := s.Pids(ctx, id)
	if err != nil {
		if !gone(err) {
			logger.V(4).Info("Listing task processes failed", "err", err)
		}
		return sample
	}
	if sample.Process == nil {
		// runhcs statistics do not count processes.
		sample.Process = &stats.Process{Count: uint64(len(pids))}
	}
	if countTasks {
		tasks := stats.CountTasks(cache.procRoot, pids)
		sample.Process.Tasks = &tasks
	}
	return sample
}

// forgetStats drops cached figures of pods and containers that are gone.
func (m *Manager) forgetStats(cache *StatsCache) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	cache.specs.forget(func(id string) bool {
		_, ok := m.ctrs[id]
		return ok
	})
	cache.rates.Forget(func(key string) bool {
		if id, ok := strings.CutPrefix(key, podRateKey); ok {
			_, found := m.pods[id]
			return found
		}
		_, c := m.ctrs[key]
		_, p := m.pods[key]
		return c || p
	})
}
