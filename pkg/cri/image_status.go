package cri

import (
	"context"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ImageStatus returns the image, or an empty response when it is not
// present: kubelet asks before every pull and expects no error then.
func (s *Server) ImageStatus(ctx context.Context, req *runtime.ImageStatusRequest) (*runtime.ImageStatusResponse, error) {
	ref, err := checkImageRef("image.image", req.GetImage().GetImage())
	if err != nil {
		return nil, err
	}
	img, err := s.images.Status(ctx, ref)
	if errdefs.IsNotFound(err) {
		return &runtime.ImageStatusResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	resp := &runtime.ImageStatusResponse{Image: s.toCRIImage(img)}
	if req.GetVerbose() {
		if resp.Info, err = imageInfo(img); err != nil {
			return nil, err
		}
	}
	return resp, nil
}
