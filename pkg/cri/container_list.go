package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// ListContainers lists containers by id prefix, pod, state and labels.
func (s *Server) ListContainers(ctx context.Context, req *runtime.ListContainersRequest) (*runtime.ListContainersResponse, error) {
	f := req.GetFilter()
	filter := sandbox.ContainerFilter{ID: f.GetId(), PodID: f.GetPodSandboxId(), Labels: f.GetLabelSelector()}
	if st := f.GetState(); st != nil {
		filter.State = fromCRIContainerState(st.GetState())
	}
	ctrs := s.runtime.ListContainers(filter)
	resp := &runtime.ListContainersResponse{Containers: make([]*runtime.Container, 0, len(ctrs))}
	for _, c := range ctrs {
		resp.Containers = append(resp.Containers, toCRIContainer(c))
	}
	return resp, nil
}
