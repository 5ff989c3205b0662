package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemoveContainer removes a container, killing it first if it runs;
// removing an unknown container succeeds.
func (s *Server) RemoveContainer(ctx context.Context, req *runtime.RemoveContainerRequest) (*runtime.RemoveContainerResponse, error) {
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	if err := s.runtime.RemoveContainer(ctx, req.GetContainerId()); err != nil {
		return nil, err
	}
	return &runtime.RemoveContainerResponse{}, nil
}
