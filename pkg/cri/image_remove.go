package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemoveImage removes the image with all its tags. Removing an image that
// is not there succeeds; one that containers use is FailedPrecondition.
func (s *Server) RemoveImage(ctx context.Context, req *runtime.RemoveImageRequest) (*runtime.RemoveImageResponse, error) {
	ref, err := checkImageRef("image.image", req.GetImage().GetImage())
	if err != nil {
		return nil, err
	}
	if err := s.images.Remove(ctx, ref); err != nil {
		return nil, err
	}
	return &runtime.RemoveImageResponse{}, nil
}
