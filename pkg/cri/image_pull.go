package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/image"
)

// PullImage pulls the image for the isolation of the request's runtime
// handler (the default handler when none is given) and returns its id.
// The credentials are passed on and never logged.
func (s *Server) PullImage(ctx context.Context, req *runtime.PullImageRequest) (*runtime.PullImageResponse, error) {
	ref, err := checkImageRef("image.image", req.GetImage().GetImage())
	if err != nil {
		return nil, err
	}
	iso, err := s.isolationFor(req.GetImage().GetRuntimeHandler())
	if err != nil {
		return nil, err
	}
	opts := image.PullOptions{Isolation: iso}
	if a := req.GetAuth(); a != nil {
		opts.Auth = &image.Auth{
			Username:      a.GetUsername(),
			Password:      a.GetPassword(),
			Auth:          a.GetAuth(),
			IdentityToken: a.GetIdentityToken(),
			RegistryToken: a.GetRegistryToken(),
			ServerAddress: a.GetServerAddress(),
		}
	}
	id, err := s.images.Pull(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	return &runtime.PullImageResponse{ImageRef: id}, nil
}
