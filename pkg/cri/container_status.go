package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerStatus reports a container; verbose adds where its process
// lives (a host PID, or for a hyperv container the PID inside the utility
// VM and the host PID of the VM's worker process) and its spec.
func (s *Server) ContainerStatus(ctx context.Context, req *runtime.ContainerStatusRequest) (*runtime.ContainerStatusResponse, error) {
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	c, err := s.runtime.ContainerStatus(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	resp := &runtime.ContainerStatusResponse{Status: toCRIContainerStatus(c)}
	if req.GetVerbose() {
		if resp.Info, err = containerVerboseInfo(c, s.runtime.UVMWorkerPid); err != nil {
			return nil, err
		}
	}
	return resp, nil
}
