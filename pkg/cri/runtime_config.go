package cri

import (
	"context"
	goruntime "runtime"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RuntimeConfig tells kubelet the cgroup driver on Linux. wincri's
// runc shim manages cgroupfs paths; Windows has no cgroups.
func (s *Server) RuntimeConfig(ctx context.Context, req *runtime.RuntimeConfigRequest) (*runtime.RuntimeConfigResponse, error) {
	return runtimeConfigFor(goruntime.GOOS), nil
}

func runtimeConfigFor(goos string) *runtime.RuntimeConfigResponse {
	if goos != "linux" {
		return &runtime.RuntimeConfigResponse{}
	}
	return &runtime.RuntimeConfigResponse{Linux: &runtime.LinuxRuntimeConfiguration{CgroupDriver: runtime.CgroupDriver_CGROUPFS}}
}
