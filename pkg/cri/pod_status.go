package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodSandboxStatus reports a pod; verbose adds the isolation mode, the
// shim, for hyperv pods the utility VM, and the pod network's health
// from its last CNI CHECK as a condition. The checks run every minute;
// a pod's first verbose status starts its first check and reports it
// once it is done, so that no status waits for a CNI plugin (containerd's
// verbose status runs none either: internal/cri/server
// sandbox_status.go, PodSandboxStatus).
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
		if p.NetworkCheck.At.IsZero() {
			s.runtime.CheckPodNetworkSoon(p.ID)
		}
		if resp.Info, err = podVerboseInfo(p); err != nil {
			return nil, err
		}
	}
	resp.Timestamp = nowNano()
	return resp, nil
}
