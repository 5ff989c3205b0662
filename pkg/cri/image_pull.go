package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/image"
)

// PullImage pulls the image's variant for the request's runtime handler
// (image.runtime_handler, else the handler of the pod that sandbox_config
// describes, else the default handler) and returns its id: the host's
// build for a process handler, the utility VM's for a hyperv one. The
// credentials are passed on and never logged.
func (s *Server) PullImage(ctx context.Context, req *runtime.PullImageRequest) (*runtime.PullImageResponse, error) {
	ref, err := checkImageRef("image.image", req.GetImage().GetImage())
	if err != nil {
		return nil, err
	}
	handler := req.GetImage().GetRuntimeHandler()
	if handler == "" {
		handler = s.podHandler(req.GetSandboxConfig())
	}
	t, handlers, err := s.imageTarget(ctx, handler)
	if err != nil {
		return nil, err
	}
	opts := image.PullOptions{Target: t, Handlers: handlers}
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
