package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RunPodSandbox creates and starts a pod sandbox.
func (s *Server) RunPodSandbox(ctx context.Context, req *runtime.RunPodSandboxRequest) (*runtime.RunPodSandboxResponse, error) {
	if err := validatePodSandboxConfig(req.GetConfig()); err != nil {
		return nil, err
	}
	if err := validateName("runtime_handler", req.GetRuntimeHandler(), true); err != nil {
		return nil, err
	}
	id, err := s.runtime.RunPod(ctx, req.GetConfig(), req.GetRuntimeHandler())
	if err != nil {
		return nil, err
	}
	return &runtime.RunPodSandboxResponse{PodSandboxId: id}, nil
}
