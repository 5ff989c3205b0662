package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// LayersRuntime reports the containers' writable layers
// (*sandbox.Manager implements it).
type LayersRuntime interface {
	WritableLayers() sandbox.LayersUsage
}

// ImageFsInfo reports the image store's disk use and, apart, that of the
// containers' writable layers.
func (s *Server) ImageFsInfo(ctx context.Context, req *runtime.ImageFsInfoRequest) (*runtime.ImageFsInfoResponse, error) {
	u, err := s.images.FsInfo(ctx)
	if err != nil {
		return nil, err
	}
	resp := &runtime.ImageFsInfoResponse{ImageFilesystems: []*runtime.FilesystemUsage{{
		Timestamp:  u.Timestamp.UnixNano(),
		FsId:       &runtime.FilesystemIdentifier{Mountpoint: u.Mountpoint},
		UsedBytes:  &runtime.UInt64Value{Value: uint64(max(u.UsedBytes, 0))},
		InodesUsed: &runtime.UInt64Value{Value: uint64(max(u.InodesUsed, 0))},
	}}}
	if s.layers != nil {
		l := s.layers.WritableLayers()
		resp.ContainerFilesystems = []*runtime.FilesystemUsage{{
			Timestamp:  l.At.UnixNano(),
			FsId:       &runtime.FilesystemIdentifier{Mountpoint: l.Dir},
			UsedBytes:  &runtime.UInt64Value{Value: l.UsedBytes},
			InodesUsed: &runtime.UInt64Value{Value: l.InodesUsed},
		}}
	}
	return resp, nil
}
