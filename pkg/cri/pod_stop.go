package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StopPodSandbox stops a pod's containers and sandbox and releases its
// network; stopping a stopped or unknown pod succeeds.
func (s *Server) StopPodSandbox(ctx context.Context, req *runtime.StopPodSandboxRequest) (*runtime.StopPodSandboxResponse, error) {
	if err := validateID("pod_sandbox_id", req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	if err := s.runtime.StopPod(ctx, req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	return &runtime.StopPodSandboxResponse{}, nil
}
