package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodSandboxStatus reports a pod; verbose adds the isolation mode, the
// shim, for hyperv pods the utility VM, and the pod network's health,
// checked then with CNI CHECK, as a condition.
func (s *Server) PodSandboxStatus(ctx context.Context, req *runtime.PodSandboxStatusRequest) (*runtime.PodSandboxStatusResponse, error) {
	if err := validateID("pod_sandbox_id", req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	p, err := s.runtime.PodStatus(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	resp := &runtime.PodSandboxStatusResponse{Status: toCRIPodStatus(p)}
	for _, c := range s.runtime.ListContainers(sandboxContainerFilter(p.ID)) {
		resp.ContainersStatuses = append(resp.ContainersStatuses, toCRIContainerStatus(c))
	}
	if req.GetVerbose() {
		// The pod may go meanwhile; its status stands as read.
		if chk, err := s.runtime.CheckPodNetwork(ctx, p.ID); err == nil {
			p.NetworkCheck = chk
		}
		if resp.Info, err = podVerboseInfo(p); err != nil {
			return nil, err
		}
	}
	resp.Timestamp = nowNano()
	return resp, nil
}
