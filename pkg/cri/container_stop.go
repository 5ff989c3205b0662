package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// maxStopTimeout bounds a stop's grace period (one day): a larger value is
// a mistake, not a wish.
const maxStopTimeout = 24 * 60 * 60

// StopContainer stops a running container within its grace period;
// stopping a stopped or unknown container succeeds.
func (s *Server) StopContainer(ctx context.Context, req *runtime.StopContainerRequest) (*runtime.StopContainerResponse, error) {
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	if t := req.GetTimeout(); t < 0 || t > maxStopTimeout {
		return nil, invalid("timeout %d must be within 0-%d seconds", t, maxStopTimeout)
	}
	if err := s.runtime.StopContainer(ctx, req.GetContainerId(), req.GetTimeout()); err != nil {
		return nil, err
	}
	return &runtime.StopContainerResponse{}, nil
}
