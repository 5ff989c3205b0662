package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/version"
)

// criAPIVersion is the CRI API version wincri serves.
const criAPIVersion = "v1"

// Version reports the runtime's name and versions.
func (s *Server) Version(ctx context.Context, req *runtime.VersionRequest) (*runtime.VersionResponse, error) {
	v := version.Version()
	return &runtime.VersionResponse{
		Version:           criAPIVersion,
		RuntimeName:       version.Name,
		RuntimeVersion:    v,
		RuntimeApiVersion: criAPIVersion,
	}, nil
}
