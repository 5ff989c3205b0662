package cri

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// PortForward returns the URL of a port-forward session to a ready pod.
func (s *Server) PortForward(_ context.Context, req *runtime.PortForwardRequest) (*runtime.PortForwardResponse, error) {
	st, err := s.streamServer()
	if err != nil {
		return nil, err
	}
	if err := validateID("pod_sandbox_id", req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	for _, p := range req.GetPort() {
		if p <= 0 || p > 65535 {
			return nil, invalid("port %d is out of range 1-65535", p)
		}
	}
	p, err := s.runtime.PodStatus(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	if p.State != sandbox.PodReady {
		return nil, fmt.Errorf("pod sandbox %s is not ready: %w", p.ID, errdefs.ErrFailedPrecondition)
	}
	return st.GetPortForward(&runtime.PortForwardRequest{PodSandboxId: p.ID, Port: req.GetPort()})
}
