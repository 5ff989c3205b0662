package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/stats"
)

// ListMetricDescriptors describes the cAdvisor-named metrics that
// ListPodSandboxMetrics returns; the list never changes.
func (s *Server) ListMetricDescriptors(context.Context, *runtime.ListMetricDescriptorsRequest) (*runtime.ListMetricDescriptorsResponse, error) {
	ds := stats.Descriptors()
	out := make([]*runtime.MetricDescriptor, 0, len(ds))
	for _, d := range ds {
		out = append(out, &runtime.MetricDescriptor{Name: d.Name, Help: d.Help, LabelKeys: d.LabelKeys})
	}
	return &runtime.ListMetricDescriptorsResponse{Descriptors: out}, nil
}

// ListPodSandboxMetrics reports the metrics of every ready pod.
func (s *Server) ListPodSandboxMetrics(ctx context.Context, _ *runtime.ListPodSandboxMetricsRequest) (*runtime.ListPodSandboxMetricsResponse, error) {
	list, err := s.listPodMetrics(ctx)
	if err != nil {
		return nil, err
	}
	return &runtime.ListPodSandboxMetricsResponse{PodMetrics: list}, nil
}

func (s *Server) listPodMetrics(ctx context.Context) ([]*runtime.PodSandboxMetrics, error) {
	r, err := s.statsRuntime()
	if err != nil {
		return nil, err
	}
	pods := r.PodStats(ctx, sandbox.PodFilter{State: sandbox.PodReady}, sandbox.StatsOptions{Tasks: true})
	out := make([]*runtime.PodSandboxMetrics, 0, len(pods))
	for _, p := range pods {
		out = append(out, toCRIPodMetrics(p))
	}
	return out, nil
}

// toCRIPodMetrics converts a pod's figures and its containers'.
func toCRIPodMetrics(p sandbox.PodStats) *runtime.PodSandboxMetrics {
	out := &runtime.PodSandboxMetrics{PodSandboxId: p.Pod.ID, Metrics: toCRIMetrics(p.Points())}
	for _, c := range p.Containers {
		out.ContainerMetrics = append(out.ContainerMetrics, &runtime.ContainerMetrics{
			ContainerId: c.Container.ID,
			Metrics:     toCRIMetrics(c.Points()),
		})
	}
	return out
}

func toCRIMetrics(points []stats.Point) []*runtime.Metric {
	out := make([]*runtime.Metric, 0, len(points))
	for _, p := range points {
		t := runtime.MetricType_COUNTER
		if p.Type == stats.Gauge {
			t = runtime.MetricType_GAUGE
		}
		out = append(out, &runtime.Metric{Name: p.Name, Timestamp: p.At.UnixNano(), MetricType: t, LabelValues: p.Labels, Value: u64(p.Value)})
	}
	return out
}
