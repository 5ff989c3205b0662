package cri

import (
	"context"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListImages lists every image, or only the one the filter names.
func (s *Server) ListImages(ctx context.Context, req *runtime.ListImagesRequest) (*runtime.ListImagesResponse, error) {
	if ref := req.GetFilter().GetImage().GetImage(); ref != "" {
		if _, err := checkImageRef("filter.image.image", ref); err != nil {
			return nil, err
		}
		img, err := s.images.Status(ctx, ref)
		if errdefs.IsNotFound(err) || errdefs.IsInvalidArgument(err) {
			// A filter that matches nothing is an empty list, not an error.
			return &runtime.ListImagesResponse{}, nil
		}
		if err != nil {
			return nil, err
		}
		return &runtime.ListImagesResponse{Images: []*runtime.Image{s.toCRIImage(img)}}, nil
	}
	imgs, err := s.images.List(ctx)
	if err != nil {
		return nil, err
	}
	resp := &runtime.ListImagesResponse{Images: make([]*runtime.Image, 0, len(imgs))}
	for i := range imgs {
		resp.Images = append(resp.Images, s.toCRIImage(&imgs[i]))
	}
	return resp, nil
}
