//go:build !windows

package cri

import (
	"bytes"
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/testarchive"
	"github.com/wincri/wincri/pkg/endpoint"
	"github.com/wincri/wincri/pkg/image/archive"
)

// newArchiveEnv serves the CRI and Archive services of a real image
// service over a unix socket, and dials the Archive service as the
// command line does.
func newArchiveEnv(t *testing.T) (*testEnv, *ArchiveClient) {
	t.Helper()
	env, _ := newImageEnv(t, nil, nil)
	client, err := DialArchive(t.Context(), env.endpoint)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	return env, client
}

// bigImage has a layer of random bytes larger than one message.
func bigImage(t *testing.T) v1.Image {
	t.Helper()
	l, err := random.Layer(3<<20, types.OCIUncompressedLayer)
	require.NoError(t, err)
	return testarchive.Image(t, "linux", "amd64", testarchive.Layer(t, testarchive.File{Name: "hello", Body: "hello"}), l)
}

func TestArchiveImportExportThroughGRPC(t *testing.T) {
	env, client := newArchiveEnv(t)
	ctx := context.Background()
	img := bigImage(t)
	data := testarchive.OCI(t, func(p layout.Path) {
		require.NoError(t, p.AppendImage(img, testarchive.Named("example.com/team/app:1")))
	})
	require.Greater(t, len(data), 2*chunkSize, "the archive takes several messages")

	imported, sent, err := client.Import(ctx, bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), sent)
	require.Len(t, imported, 1)
	cfg, err := img.ConfigName()
	require.NoError(t, err)
	assert.Equal(t, cfg.String(), imported[0].ID)
	assert.Contains(t, imported[0].Names, "example.com/team/app:1")

	// CRI sees it at once, by tag.
	list, err := env.images.ListImages(ctx, &runtime.ListImagesRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetImages(), 1)
	assert.Equal(t, []string{"example.com/team/app:1"}, list.GetImages()[0].GetRepoTags())
	st, err := env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: "example.com/team/app:1"}})
	require.NoError(t, err)
	assert.Equal(t, cfg.String(), st.GetImage().GetId())
	assert.Equal(t, int64(1234), st.GetImage().GetUid().GetValue())
	assert.Equal(t, 1.0, env.count("Import", "OK"))

	// Export streams an archive that imports again, under the same tag.
	var out bytes.Buffer
	n, err := client.Export(ctx, []string{"example.com/team/app:1"}, &out)
	require.NoError(t, err)
	assert.Equal(t, int64(out.Len()), n)
	assert.Greater(t, out.Len(), 3<<20)
	c, err := archive.Read(ctx, bytes.NewReader(out.Bytes()), t.TempDir())
	require.NoError(t, err)
	require.NotNil(t, c.Index)
	assert.Equal(t, "example.com/team/app:1", c.Index.Manifests[0].Annotations[archive.AnnotationImageName])
	again, _, err := client.Import(ctx, bytes.NewReader(out.Bytes()))
	require.NoError(t, err)
	require.Len(t, again, 1)
	st, err = env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: "example.com/team/app:1"}})
	require.NoError(t, err)
	assert.Equal(t, again[0].ID, st.GetImage().GetId(), "the tag moved to the re-created image")
}

func TestArchiveRPCErrors(t *testing.T) {
	env, client := newArchiveEnv(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() error
		code     string
		wantText string
	}{
		{"import of garbage", func() error {
			_, _, err := client.Import(ctx, strings.NewReader(strings.Repeat("not an archive ", 1000)))
			return err
		}, "InvalidArgument", "not a tar archive"},
		{"import without images", func() error {
			_, _, err := client.Import(ctx, bytes.NewReader(testarchive.OCI(t, func(layout.Path) {})))
			return err
		}, "InvalidArgument", "the archive lists no images"},
		{"export of an unknown image", func() error {
			_, err := client.Export(ctx, []string{"example.com/absent:1"}, &bytes.Buffer{})
			return err
		}, "NotFound", `image "example.com/absent:1" not found`},
		{"export of nothing", func() error {
			_, err := client.Export(ctx, nil, &bytes.Buffer{})
			return err
		}, "InvalidArgument", "no image to export"},
		{"export of a bad reference", func() error {
			_, err := client.Export(ctx, []string{"a\nb"}, &bytes.Buffer{})
			return err
		}, "InvalidArgument", "images[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.True(t, IsRemoteCode(err, tt.code), "code of %v", err)
			assert.Contains(t, err.Error(), tt.wantText)
		})
	}
	assert.Equal(t, 2.0, env.count("Import", "InvalidArgument"))
	assert.Equal(t, 1.0, env.count("Export", "NotFound"))
}

func TestArchiveServiceGatedAndOptional(t *testing.T) {
	// Until recovery is done, the Archive RPCs wait like the CRI ones.
	env := newTestEnv(t, Options{}, false)
	client, err := DialArchive(t.Context(), env.endpoint)
	require.NoError(t, err)
	defer client.Close()
	_, _, err = client.Import(t.Context(), strings.NewReader("x"))
	assert.True(t, IsRemoteCode(err, "Unavailable"), "%v", err)

	// A server without an image store answers Unimplemented.
	env.srv.SetReady()
	_, err = client.Export(t.Context(), []string{"example.com/app:1"}, &bytes.Buffer{})
	assert.True(t, IsRemoteCode(err, "Unimplemented"), "%v", err)
}

func TestDialArchiveWithoutDaemon(t *testing.T) {
	_, err := DialArchive(t.Context(), endpoint.Endpoint{Scheme: endpoint.Unix, Path: t.TempDir() + "/none.sock"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is the daemon running there?")
}
