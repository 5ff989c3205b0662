package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// ContainerStats reports one container's usage.
func (s *Server) ContainerStats(ctx context.Context, req *runtime.ContainerStatsRequest) (*runtime.ContainerStatsResponse, error) {
	r, err := s.statsRuntime()
	if err != nil {
		return nil, err
	}
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	c, err := s.runtime.ContainerStatus(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	for _, st := range r.ContainerStats(ctx, sandbox.ContainerFilter{ID: c.ID, PodID: c.PodID}, sandbox.StatsOptions{}) {
		if st.Container.ID == c.ID {
			return &runtime.ContainerStatsResponse{Stats: toCRIContainerStats(st)}, nil
		}
	}
	// Removed between the two calls.
	return &runtime.ContainerStatsResponse{Stats: &runtime.ContainerStats{Attributes: containerAttributes(c)}}, nil
}

// ListContainerStats reports the running containers that match the
// filter.
func (s *Server) ListContainerStats(ctx context.Context, req *runtime.ListContainerStatsRequest) (*runtime.ListContainerStatsResponse, error) {
	list, err := s.listContainerStats(ctx, req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &runtime.ListContainerStatsResponse{Stats: list}, nil
}

func (s *Server) listContainerStats(ctx context.Context, f *runtime.ContainerStatsFilter) ([]*runtime.ContainerStats, error) {
	r, err := s.statsRuntime()
	if err != nil {
		return nil, err
	}
	filter := sandbox.ContainerFilter{ID: f.GetId(), PodID: f.GetPodSandboxId(), State: sandbox.ContainerRunning, Labels: f.GetLabelSelector()}
	list := r.ContainerStats(ctx, filter, sandbox.StatsOptions{})
	out := make([]*runtime.ContainerStats, 0, len(list))
	for _, c := range list {
		out = append(out, toCRIContainerStats(c))
	}
	return out, nil
}
