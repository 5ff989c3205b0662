package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RuntimeConfig tells kubelet the cgroup driver of the pods on Linux:
// systemd when it is the host's init, cgroupfs otherwise, as runc's
// SystemdCgroup option is set (kubelet follows the runtime's answer).
// Windows has no cgroups.
func (s *Server) RuntimeConfig(ctx context.Context, req *runtime.RuntimeConfigRequest) (*runtime.RuntimeConfigResponse, error) {
	return runtimeConfigFor(s.cgroupDriver), nil
}

func runtimeConfigFor(driver string) *runtime.RuntimeConfigResponse {
	switch driver {
	case "systemd":
		return &runtime.RuntimeConfigResponse{Linux: &runtime.LinuxRuntimeConfiguration{CgroupDriver: runtime.CgroupDriver_SYSTEMD}}
	case "cgroupfs":
		return &runtime.RuntimeConfigResponse{Linux: &runtime.LinuxRuntimeConfiguration{CgroupDriver: runtime.CgroupDriver_CGROUPFS}}
	default:
		return &runtime.RuntimeConfigResponse{}
	}
}
