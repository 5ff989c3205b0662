package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemovePodSandbox removes a pod and its containers; removing an unknown
// pod succeeds.
func (s *Server) RemovePodSandbox(ctx context.Context, req *runtime.RemovePodSandboxRequest) (*runtime.RemovePodSandboxResponse, error) {
	if err := validateID("pod_sandbox_id", req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	if err := s.runtime.RemovePod(ctx, req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	return &runtime.RemovePodSandboxResponse{}, nil
}
