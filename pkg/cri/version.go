package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/version"
)

const (
	// kubeletRuntimeAPIVersion is the kubelet-runtime API version that
	// kubelet's runtime manager requires in VersionResponse.version; it
	// refuses to start with any other.
	kubeletRuntimeAPIVersion = "0.1.0"
	// criAPIVersion is the CRI API version wincri serves.
	criAPIVersion = "v1"
)

// Version reports the runtime's name and versions.
func (s *Server) Version(ctx context.Context, req *runtime.VersionRequest) (*runtime.VersionResponse, error) {
	v := version.Version()
	return &runtime.VersionResponse{
		Version:           kubeletRuntimeAPIVersion,
		RuntimeName:       version.Name,
		RuntimeVersion:    v,
		RuntimeApiVersion: criAPIVersion,
	}, nil
}
