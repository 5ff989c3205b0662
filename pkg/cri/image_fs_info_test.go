package cri

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/sandbox"
)

// fsImages is an ImageService whose only answer is FsInfo.
type fsImages struct {
	ImageService
	u image.FsUsage
}

func (f fsImages) FsInfo(context.Context) (image.FsUsage, error) { return f.u, nil }

// layersRuntime is a Runtime that only measures writable layers.
type layersRuntime struct {
	u sandbox.LayersUsage
}

func (l layersRuntime) WritableLayers() sandbox.LayersUsage { return l.u }

func TestImageFsInfoReportsWritableLayersApart(t *testing.T) {
	now := time.Now()
	images := fsImages{u: image.FsUsage{Mountpoint: "/var/lib/wincri/images", Timestamp: now, UsedBytes: 1000, InodesUsed: 10}}
	layers := sandbox.LayersUsage{Dir: "/var/lib/wincri/containers", At: now, UsedBytes: 300, InodesUsed: 3}

	env := newTestEnv(t, Options{Images: images, Layers: layersRuntime{u: layers}}, true)
	resp, err := env.images.ImageFsInfo(ctx(t), &runtime.ImageFsInfoRequest{})
	require.NoError(t, err)
	require.Len(t, resp.ImageFilesystems, 1)
	assert.Equal(t, "/var/lib/wincri/images", resp.ImageFilesystems[0].GetFsId().GetMountpoint())
	assert.Equal(t, uint64(1000), resp.ImageFilesystems[0].GetUsedBytes().GetValue())
	require.Len(t, resp.ContainerFilesystems, 1)
	assert.Equal(t, "/var/lib/wincri/containers", resp.ContainerFilesystems[0].GetFsId().GetMountpoint())
	assert.Equal(t, uint64(300), resp.ContainerFilesystems[0].GetUsedBytes().GetValue())
	assert.Equal(t, uint64(3), resp.ContainerFilesystems[0].GetInodesUsed().GetValue())
}
