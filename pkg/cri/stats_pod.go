package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// PodSandboxStats reports one pod's usage; a pod that is not ready has
// only its attributes.
func (s *Server) PodSandboxStats(ctx context.Context, req *runtime.PodSandboxStatsRequest) (*runtime.PodSandboxStatsResponse, error) {
	r, err := s.statsRuntime()
	if err != nil {
		return nil, err
	}
	if err := validateID("pod_sandbox_id", req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	p, err := s.runtime.PodStatus(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	for _, st := range r.PodStats(ctx, sandbox.PodFilter{ID: p.ID}, sandbox.StatsOptions{}) {
		if st.Pod.ID == p.ID {
			return &runtime.PodSandboxStatsResponse{Stats: toCRIPodStats(st, windowsStats)}, nil
		}
	}
	return &runtime.PodSandboxStatsResponse{Stats: &runtime.PodSandboxStats{Attributes: podAttributes(p)}}, nil
}

// ListPodSandboxStats reports the ready pods that match the filter.
func (s *Server) ListPodSandboxStats(ctx context.Context, req *runtime.ListPodSandboxStatsRequest) (*runtime.ListPodSandboxStatsResponse, error) {
	list, err := s.listPodStats(ctx, req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &runtime.ListPodSandboxStatsResponse{Stats: list}, nil
}

func (s *Server) listPodStats(ctx context.Context, f *runtime.PodSandboxStatsFilter) ([]*runtime.PodSandboxStats, error) {
	r, err := s.statsRuntime()
	if err != nil {
		return nil, err
	}
	list := r.PodStats(ctx, sandbox.PodFilter{ID: f.GetId(), State: sandbox.PodReady, Labels: f.GetLabelSelector()}, sandbox.StatsOptions{})
	out := make([]*runtime.PodSandboxStats, 0, len(list))
	for _, p := range list {
		out = append(out, toCRIPodStats(p, windowsStats))
	}
	return out, nil
}
