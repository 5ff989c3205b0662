package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StartContainer starts a created container.
func (s *Server) StartContainer(ctx context.Context, req *runtime.StartContainerRequest) (*runtime.StartContainerResponse, error) {
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	if err := s.runtime.StartContainer(ctx, req.GetContainerId()); err != nil {
		return nil, err
	}
	return &runtime.StartContainerResponse{}, nil
}
