package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateContainerResources replaces a container's resources.
func (s *Server) UpdateContainerResources(ctx context.Context, req *runtime.UpdateContainerResourcesRequest) (*runtime.UpdateContainerResourcesResponse, error) {
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	if req.GetLinux() == nil && req.GetWindows() == nil {
		return nil, invalid("linux or windows resources must be set")
	}
	if err := validateAnnotations("annotations", req.GetAnnotations()); err != nil {
		return nil, err
	}
	r := &runtime.ContainerResources{Linux: req.GetLinux(), Windows: req.GetWindows()}
	if err := s.runtime.UpdateContainerResources(ctx, req.GetContainerId(), r, req.GetAnnotations()); err != nil {
		return nil, err
	}
	return &runtime.UpdateContainerResourcesResponse{}, nil
}
