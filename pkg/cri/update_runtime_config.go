package cri

import (
	"context"
	"fmt"
	"net"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// UpdateRuntimeConfig stores the node's pod CIDR for the default network.
// kubelet may send several comma-separated CIDRs (dual stack).
func (s *Server) UpdateRuntimeConfig(ctx context.Context, req *runtime.UpdateRuntimeConfigRequest) (*runtime.UpdateRuntimeConfigResponse, error) {
	cidr := req.GetRuntimeConfig().GetNetworkConfig().GetPodCidr()
	if cidr == "" {
		return &runtime.UpdateRuntimeConfigResponse{}, nil
	}
	if err := validatePodCIDRs(cidr); err != nil {
		return nil, err
	}
	if err := s.network.SetPodCIDR(cidr); err != nil {
		return nil, err
	}
	klog.FromContext(ctx).Info("Pod CIDR updated", "podCIDR", cidr)
	return &runtime.UpdateRuntimeConfigResponse{}, nil
}

func validatePodCIDRs(cidrs string) error {
	for _, c := range splitComma(cidrs) {
		if _, _, err := net.ParseCIDR(c); err != nil {
			return fmt.Errorf("runtime_config.network_config.pod_cidr: %q is not a CIDR: %w", c, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}
