package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ImageFsInfo reports the image store's disk use. The writable layers of
// containers are not listed separately, so kubelet counts them on the
// same filesystem.
func (s *Server) ImageFsInfo(ctx context.Context, req *runtime.ImageFsInfoRequest) (*runtime.ImageFsInfoResponse, error) {
	u, err := s.images.FsInfo(ctx)
	if err != nil {
		return nil, err
	}
	return &runtime.ImageFsInfoResponse{ImageFilesystems: []*runtime.FilesystemUsage{{
		Timestamp:  u.Timestamp.UnixNano(),
		FsId:       &runtime.FilesystemIdentifier{Mountpoint: u.Mountpoint},
		UsedBytes:  &runtime.UInt64Value{Value: uint64(max(u.UsedBytes, 0))},
		InodesUsed: &runtime.UInt64Value{Value: uint64(max(u.InodesUsed, 0))},
	}}}, nil
}
