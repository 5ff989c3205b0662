package cri

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/stats"
)

// fakeRuntime is a hand-written Runtime that also serves stats,
// streams and events. Methods the tests here do not use are left to the
// embedded nil interface.
type fakeRuntime struct {
	Runtime
	pods   []sandbox.Pod
	ctrs   []sandbox.Container
	stats  []sandbox.PodStats
	events chan sandbox.Event
	// filters records the stats filters asked for.
	podFilters []sandbox.PodFilter
}

func (f *fakeRuntime) PodStatus(id string) (sandbox.Pod, error) {
	for _, p := range f.pods {
		if p.ID == id {
			return p, nil
		}
	}
	return sandbox.Pod{}, fmt.Errorf("pod sandbox %q: %w", id, errdefs.ErrNotFound)
}

func (f *fakeRuntime) ContainerStatus(id string) (sandbox.Container, error) {
	for _, c := range f.ctrs {
		if c.ID == id {
			return c, nil
		}
	}
	return sandbox.Container{}, fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
}

func (f *fakeRuntime) ListContainers(flt sandbox.ContainerFilter) []sandbox.Container {
	var out []sandbox.Container
	for _, c := range f.ctrs {
		if flt.PodID == "" || c.PodID == flt.PodID {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeRuntime) PodStats(_ context.Context, flt sandbox.PodFilter, _ sandbox.StatsOptions) []sandbox.PodStats {
	f.podFilters = append(f.podFilters, flt)
	var out []sandbox.PodStats
	for _, p := range f.stats {
		if flt.ID == "" || p.Pod.ID == flt.ID {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeRuntime) ContainerStats(_ context.Context, flt sandbox.ContainerFilter, _ sandbox.StatsOptions) []sandbox.ContainerStats {
	var out []sandbox.ContainerStats
	for _, p := range f.stats {
		for _, c := range p.Containers {
			if flt.ID == "" || c.Container.ID == flt.ID {
				out = append(out, c)
			}
		}
	}
	return out
}

func (f *fakeRuntime) Subscribe() (<-chan sandbox.Event, func()) { return f.events, func() {} }

func (f *fakeRuntime) GetExec(req *runtime.ExecRequest) (*runtime.ExecResponse, error) {
	return &runtime.ExecResponse{Url: "http://127.0.0.1:1/exec/" + req.GetContainerId()}, nil
}

func (f *fakeRuntime) GetAttach(req *runtime.AttachRequest) (*runtime.AttachResponse, error) {
	return &runtime.AttachResponse{Url: "http://127.0.0.1:1/attach/" + req.GetContainerId()}, nil
}

func (f *fakeRuntime) GetPortForward(req *runtime.PortForwardRequest) (*runtime.PortForwardResponse, error) {
	return &runtime.PortForwardResponse{Url: "http://127.0.0.1:1/portforward/" + req.GetPodSandboxId()}, nil
}

var at = time.Unix(1700000000, 0)

func testPod(id string) sandbox.Pod {
	return sandbox.Pod{
		PodRecord: sandbox.PodRecord{ID: id, State: sandbox.PodReady},
		Config:    &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: id, Namespace: "ns", Uid: id + "-uid"}, Labels: map[string]string{"app": id}},
	}
}

func testContainer(id, podID string, state sandbox.ContainerState) sandbox.Container {
	return sandbox.Container{
		ContainerRecord: sandbox.ContainerRecord{ID: id, PodID: podID, State: state, ImageName: "busybox"},
		Config:          &runtime.ContainerConfig{Metadata: &runtime.ContainerMetadata{Name: id}},
		PodConfig:       testPod(podID).Config,
	}
}

func testPodStats() sandbox.PodStats {
	ctr := sandbox.ContainerStats{
		Container: testContainer("c1", "p1", sandbox.ContainerRunning),
		Sample: stats.Sample{
			At:      at,
			CPU:     &stats.CPU{UsageCoreNanoSeconds: 3e9, UsageNanoCores: 5e8},
			Memory:  &stats.Memory{WorkingSet: 100, Usage: 150, RSS: 80, PageFaults: 7, Limit: 1000, Available: 900, Commit: 200},
			Process: &stats.Process{Count: 2},
		},
		WritableLayer: &stats.Filesystem{At: at, UsedBytes: 4096, InodesUsed: 12},
	}
	return sandbox.PodStats{
		Pod:        testPod("p1"),
		Sample:     stats.Sample{At: at, CPU: &stats.CPU{UsageCoreNanoSeconds: 4e9, UsageNanoCores: 6e8}, Memory: &stats.Memory{WorkingSet: 120}, Process: &stats.Process{Count: 3}},
		Network:    []stats.Interface{{Name: "eth0", RxBytes: 10, TxBytes: 20, RxErrors: 1, TxDropped: 2}},
		Containers: []sandbox.ContainerStats{ctr},
	}
}

func TestToCRIPodStats(t *testing.T) {
	p := testPodStats()
	ts := at.UnixNano()
	t.Run("linux", func(t *testing.T) {
		got := toCRIPodStats(p, false)
		assert.Nil(t, got.Windows)
		assert.Equal(t, "p1", got.Attributes.Id)
		assert.Equal(t, map[string]string{"app": "p1"}, got.Attributes.Labels)
		l := got.Linux
		require.NotNil(t, l)
		assert.Equal(t, uint64(4e9), l.Cpu.UsageCoreNanoSeconds.GetValue())
		assert.Equal(t, uint64(6e8), l.Cpu.UsageNanoCores.GetValue())
		assert.Equal(t, ts, l.Cpu.Timestamp)
		assert.Equal(t, uint64(120), l.Memory.WorkingSetBytes.GetValue())
		assert.Nil(t, l.Memory.AvailableBytes, "no pod limit")
		assert.Equal(t, uint64(3), l.Process.ProcessCount.GetValue())
		assert.Equal(t, "eth0", l.Network.DefaultInterface.Name)
		assert.Equal(t, uint64(10), l.Network.Interfaces[0].RxBytes.GetValue())
		assert.Equal(t, uint64(1), l.Network.Interfaces[0].RxErrors.GetValue())
		require.Len(t, l.Containers, 1)
		c := l.Containers[0]
		assert.Equal(t, "c1", c.Attributes.Id)
		assert.Equal(t, uint64(100), c.Memory.WorkingSetBytes.GetValue())
		assert.Equal(t, uint64(900), c.Memory.AvailableBytes.GetValue())
		assert.Equal(t, uint64(80), c.Memory.RssBytes.GetValue())
		assert.Equal(t, uint64(7), c.Memory.PageFaults.GetValue())
		assert.Equal(t, uint64(4096), c.WritableLayer.UsedBytes.GetValue())
		assert.Equal(t, uint64(12), c.WritableLayer.InodesUsed.GetValue())
	})
	t.Run("windows", func(t *testing.T) {
		got := toCRIPodStats(p, true)
		assert.Nil(t, got.Linux)
		w := got.Windows
		require.NotNil(t, w)
		assert.Equal(t, uint64(4e9), w.Cpu.UsageCoreNanoSeconds.GetValue())
		assert.Equal(t, uint64(3), w.Process.ProcessCount.GetValue())
		assert.Equal(t, uint64(2), w.Network.Interfaces[0].TxPacketsDropped.GetValue())
		require.Len(t, w.Containers, 1)
		c := w.Containers[0]
		assert.Equal(t, uint64(200), c.Memory.CommitMemoryBytes.GetValue())
		assert.Equal(t, uint64(100), c.Memory.WorkingSetBytes.GetValue())
		assert.Equal(t, uint64(4096), c.WritableLayer.UsedBytes.GetValue())
	})
	t.Run("empty", func(t *testing.T) {
		got := toCRIPodStats(sandbox.PodStats{Pod: testPod("p2")}, false)
		assert.Nil(t, got.Linux.Cpu)
		assert.Nil(t, got.Linux.Memory)
		assert.Nil(t, got.Linux.Network)
		assert.Nil(t, got.Linux.Process)
	})
}

func TestStatsRPCs(t *testing.T) {
	rt := &fakeRuntime{pods: []sandbox.Pod{testPod("p1")}, ctrs: []sandbox.Container{testContainer("c1", "p1", sandbox.ContainerRunning)}, stats: []sandbox.PodStats{testPodStats()}}
	env := newTestEnv(t, Options{Runtime: rt, Stats: rt}, true)

	cs, err := env.runtime.ContainerStats(ctx(t), &runtime.ContainerStatsRequest{ContainerId: "c1"})
	require.NoError(t, err)
	assert.Equal(t, uint64(3e9), cs.Stats.Cpu.UsageCoreNanoSeconds.GetValue())
	_, err = env.runtime.ContainerStats(ctx(t), &runtime.ContainerStatsRequest{ContainerId: "nope"})
	assert.Equal(t, codes.NotFound, status.Code(err))

	list, err := env.runtime.ListContainerStats(ctx(t), &runtime.ListContainerStatsRequest{})
	require.NoError(t, err)
	assert.Len(t, list.Stats, 1)

	ps, err := env.runtime.PodSandboxStats(ctx(t), &runtime.PodSandboxStatsRequest{PodSandboxId: "p1"})
	require.NoError(t, err)
	assert.Equal(t, "p1", ps.Stats.Attributes.Id)
	_, err = env.runtime.PodSandboxStats(ctx(t), &runtime.PodSandboxStatsRequest{PodSandboxId: "nope"})
	assert.Equal(t, codes.NotFound, status.Code(err))

	pl, err := env.runtime.ListPodSandboxStats(ctx(t), &runtime.ListPodSandboxStatsRequest{Filter: &runtime.PodSandboxStatsFilter{LabelSelector: map[string]string{"app": "p1"}}})
	require.NoError(t, err)
	assert.Len(t, pl.Stats, 1)
	last := rt.podFilters[len(rt.podFilters)-1]
	assert.Equal(t, sandbox.PodReady, last.State, "only ready pods are listed")
	assert.Equal(t, map[string]string{"app": "p1"}, last.Labels)

	descs, err := env.runtime.ListMetricDescriptors(ctx(t), &runtime.ListMetricDescriptorsRequest{})
	require.NoError(t, err)
	names := map[string]int{}
	for _, d := range descs.Descriptors {
		names[d.Name] = len(d.LabelKeys)
	}
	metrics, err := env.runtime.ListPodSandboxMetrics(ctx(t), &runtime.ListPodSandboxMetricsRequest{})
	require.NoError(t, err)
	require.Len(t, metrics.PodMetrics, 1)
	pm := metrics.PodMetrics[0]
	assert.Equal(t, "p1", pm.PodSandboxId)
	require.Len(t, pm.ContainerMetrics, 1)
	var all []*runtime.Metric
	all = append(all, pm.Metrics...)
	all = append(all, pm.ContainerMetrics[0].Metrics...)
	var sawWorkingSet bool
	for _, m := range all {
		keys, ok := names[m.Name]
		if assert.True(t, ok, "%s is described", m.Name) {
			assert.Len(t, m.LabelValues, keys, m.Name)
		}
		// Labelled pod, namespace, container, id, image.
		if m.Name == stats.MetricMemoryWorkingSet && m.LabelValues[3] == "c1" {
			sawWorkingSet = true
			assert.Equal(t, uint64(100), m.Value.GetValue())
			assert.Equal(t, runtime.MetricType_GAUGE, m.MetricType)
			assert.Equal(t, []string{"p1", "ns", "c1", "c1", "busybox"}, m.LabelValues)
		}
	}
	assert.True(t, sawWorkingSet)
}

func TestStatsRPCsUnimplementedWithoutStatsRuntime(t *testing.T) {
	env := newTestEnv(t, Options{Runtime: struct{ Runtime }{}}, true)
	_, err := env.runtime.ListPodSandboxStats(ctx(t), &runtime.ListPodSandboxStatsRequest{})
	assert.Equal(t, codes.Unimplemented, status.Code(err))
	_, err = env.runtime.ContainerStats(ctx(t), &runtime.ContainerStatsRequest{})
	assert.Equal(t, codes.Unimplemented, status.Code(err))
	_, err = env.runtime.ListPodSandboxMetrics(ctx(t), &runtime.ListPodSandboxMetricsRequest{})
	assert.Equal(t, codes.Unimplemented, status.Code(err))
}

// The Stream* RPCs send every item once, in batches, then end.
func TestStreamPodSandboxStatsBatches(t *testing.T) {
	rt := &fakeRuntime{}
	for i := range 2*streamBatch + 7 {
		rt.stats = append(rt.stats, sandbox.PodStats{Pod: testPod(fmt.Sprintf("p%04d", i))})
	}
	env := newTestEnv(t, Options{Runtime: rt, Stats: rt}, true)
	stream, err := env.runtime.StreamPodSandboxStats(ctx(t), &runtime.StreamPodSandboxStatsRequest{})
	require.NoError(t, err)
	var sizes []int
	seen := map[string]bool{}
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		sizes = append(sizes, len(resp.PodSandboxStats))
		for _, s := range resp.PodSandboxStats {
			assert.False(t, seen[s.Attributes.Id], "sent once")
			seen[s.Attributes.Id] = true
		}
	}
	assert.Equal(t, []int{streamBatch, streamBatch, 7}, sizes)
	assert.Len(t, seen, 2*streamBatch+7)

	none := &fakeRuntime{}
	empty := newTestEnv(t, Options{Runtime: none, Stats: none}, true)
	s2, err := empty.runtime.StreamPodSandboxStats(ctx(t), &runtime.StreamPodSandboxStatsRequest{})
	require.NoError(t, err)
	_, err = s2.Recv()
	assert.Equal(t, io.EOF, err, "nothing to send, no message")
}
