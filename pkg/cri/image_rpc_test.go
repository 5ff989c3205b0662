//go:build !windows

package cri

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/store"
)

// imageRegistry serves an in-process registry on 127.0.0.1 whose
// "private/" repositories want basic credentials.
func imageRegistry(t *testing.T) string {
	t.Helper()
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v2/private/") && r.Method == http.MethodGet {
			if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "pw" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"credentials required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// pushTestImage pushes a one-layer linux image whose config runs as user.
func pushTestImage(t *testing.T, host, repoTag, user string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg}))
	_, err := tw.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	require.NoError(t, err)
	img, err := mutate.AppendLayers(empty.Image, layer)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.User = user
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	ref, err := name.ParseReference(host+"/"+repoTag, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "alice", Password: "pw"})))
	return ref.String()
}

func newImageEnv(t *testing.T, cfg *config.Config, inUse image.InUseFunc) (*testEnv, *image.Service) {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	if cfg == nil {
		cfg = config.Default()
	}
	svc, err := image.New(context.Background(), image.Options{
		Config: cfg.Image,
		Root:   filepath.Join(dir, "images"),
		Store:  st,
		Host:   image.Host{OS: "linux", Architecture: "amd64"},
		InUse:  inUse,
	})
	require.NoError(t, err)
	return newTestEnv(t, Options{Config: cfg, Images: svc, Archive: svc}, true), svc
}

func TestImageRPCs(t *testing.T) {
	host := imageRegistry(t)
	ref := pushTestImage(t, host, "team/app:1", "1234:5678")
	cfg := config.Default()
	cfg.Image.SandboxImage = ref
	env, _ := newImageEnv(t, cfg, nil)
	ctx := context.Background()

	pulled, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	require.NoError(t, err)
	id := pulled.GetImageRef()
	assert.True(t, strings.HasPrefix(id, "sha256:"))

	st, err := env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}, Verbose: true})
	require.NoError(t, err)
	img := st.GetImage()
	require.NotNil(t, img)
	assert.Equal(t, id, img.GetId())
	assert.Equal(t, []string{ref}, img.GetRepoTags())
	require.Len(t, img.GetRepoDigests(), 1)
	assert.True(t, strings.HasPrefix(img.GetRepoDigests()[0], host+"/team/app@sha256:"))
	assert.Positive(t, img.GetSize())
	assert.Equal(t, int64(1234), img.GetUid().GetValue())
	assert.Empty(t, img.GetUsername())
	assert.True(t, img.GetPinned(), "the sandbox image is pinned")
	assert.Contains(t, st.GetInfo()["info"], `"imageSpec"`)
	assert.Contains(t, st.GetInfo()["info"], `"layerPaths"`)

	// Status by id answers too; an unknown image is an empty answer.
	st, err = env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: id}})
	require.NoError(t, err)
	assert.Equal(t, id, st.GetImage().GetId())
	assert.Nil(t, st.GetInfo())
	st, err = env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: host + "/none:1"}})
	require.NoError(t, err)
	assert.Nil(t, st.GetImage())

	list, err := env.images.ListImages(ctx, &runtime.ListImagesRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetImages(), 1)
	list, err = env.images.ListImages(ctx, &runtime.ListImagesRequest{Filter: &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: id}}})
	require.NoError(t, err)
	require.Len(t, list.GetImages(), 1)
	list, err = env.images.ListImages(ctx, &runtime.ListImagesRequest{Filter: &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: "other:1"}}})
	require.NoError(t, err)
	assert.Empty(t, list.GetImages())

	fs, err := env.images.ImageFsInfo(ctx, &runtime.ImageFsInfoRequest{})
	require.NoError(t, err)
	require.Len(t, fs.GetImageFilesystems(), 1)
	assert.Positive(t, fs.GetImageFilesystems()[0].GetUsedBytes().GetValue())
	assert.Positive(t, fs.GetImageFilesystems()[0].GetInodesUsed().GetValue())
	assert.NotEmpty(t, fs.GetImageFilesystems()[0].GetFsId().GetMountpoint())

	_, err = env.images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	require.NoError(t, err)
	st, err = env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: id}})
	require.NoError(t, err)
	assert.Nil(t, st.GetImage())
	_, err = env.images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	require.NoError(t, err, "removing an absent image succeeds")
}

func TestImageRPCErrors(t *testing.T) {
	host := imageRegistry(t)
	private := pushTestImage(t, host, "private/app:1", "daemon")
	used := pushTestImage(t, host, "team/used:1", "")
	env, _ := newImageEnv(t, nil, func(_ context.Context, _ string) ([]string, error) {
		return []string{"web-1"}, nil
	})
	ctx := context.Background()

	tests := []struct {
		name     string
		call     func() error
		code     codes.Code
		mentions string
	}{
		{"pull without image", func() error {
			_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{})
			return err
		}, codes.InvalidArgument, "image.image"},
		{"pull with unknown handler", func() error {
			_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: used, RuntimeHandler: "kata"}})
			return err
		}, codes.InvalidArgument, "image.runtime_handler"},
		{"pull invalid reference", func() error {
			_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: "UPPER/case"}})
			return err
		}, codes.InvalidArgument, "UPPER/case"},
		{"pull unknown image", func() error {
			_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: host + "/missing/app:1"}})
			return err
		}, codes.NotFound, "missing/app"},
		{"pull private without credentials", func() error {
			_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: private}})
			return err
		}, codes.Unauthenticated, "credentials required"},
		{"pull private with wrong credentials", func() error {
			_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: private},
				Auth: &runtime.AuthConfig{Username: "alice", Password: "nope"}})
			return err
		}, codes.Unauthenticated, "credentials required"},
		{"status without image", func() error {
			_, err := env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{})
			return err
		}, codes.InvalidArgument, "image.image"},
		{"remove without image", func() error {
			_, err := env.images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{}})
			return err
		}, codes.InvalidArgument, "image.image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.Equal(t, tt.code, status.Code(err), err.Error())
			assert.Contains(t, err.Error(), tt.mentions)
			assert.NotContains(t, err.Error(), "nope", "no secret in errors")
		})
	}

	t.Run("pull private with credentials", func(t *testing.T) {
		for _, auth := range []*runtime.AuthConfig{
			{Username: "alice", Password: "pw"},
			{Auth: base64.StdEncoding.EncodeToString([]byte("alice:pw"))},
		} {
			resp, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: private}, Auth: auth})
			require.NoError(t, err)
			st, err := env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: resp.GetImageRef()}})
			require.NoError(t, err)
			assert.Equal(t, "daemon", st.GetImage().GetUsername())
			assert.Nil(t, st.GetImage().GetUid())
		}
	})

	t.Run("remove an image in use", func(t *testing.T) {
		_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: used}})
		require.NoError(t, err)
		_, err = env.images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: used}})
		assert.Equal(t, codes.FailedPrecondition, status.Code(err))
		assert.Contains(t, err.Error(), "web-1")
	})
}
