//go:build !windows

package cri

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/store"
	"github.com/wincri/wincri/pkg/winversion"
)

// podsRuntime is a Runtime that only lists its pods.
type podsRuntime struct {
	Runtime
	pods []sandbox.Pod
}

func (r podsRuntime) ListPods(sandbox.PodFilter) []sandbox.Pod { return r.pods }

// pushWindowsIndex pushes an index of three Windows variants and returns
// its reference and each variant's image id, by os.version.
func pushWindowsIndex(t *testing.T, host, repoTag string) (string, map[string]string) {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	ids := map[string]string{}
	for _, version := range []string{"10.0.17763.5000", "10.0.20348.2000", "10.0.26100.100"} {
		img := windowsVariant(t, version)
		h, err := img.ConfigName()
		require.NoError(t, err)
		ids[version] = h.String()
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: version}}})
	}
	ref, err := name.ParseReference(host+"/"+repoTag, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref, idx))
	return ref.String(), ids
}

// TestPullImagePicksTheHandlersVariant pulls on an emulated Windows
// Server 2025 host, where a process pod runs the 26100 variant and a pod
// of a hyperv handler pinned to build 17763 the 17763 one. The handler
// comes from image.runtime_handler, else from the pod sandbox_config
// describes, else it is the default (containerd v2.4.2 takes it from the
// request, then its sandbox config: internal/cri/server/images/
// image_pull.go, PullImage and snapshotterFromPodSandboxConfig).
func TestPullImagePicksTheHandlersVariant(t *testing.T) {
	testutil.RequireRoot(t)
	host := imageRegistry(t)
	ref, ids := pushWindowsIndex(t, host, "team/win:1")

	cfg := config.Default()
	cfg.DefaultRuntime = "process"
	cfg.Runtimes = map[string]config.Runtime{
		"process":         {Shim: "runhcs", Isolation: config.IsolationProcess},
		"hyperv-ltsc2019": {Shim: "runhcs", Isolation: config.IsolationHyperV, SandboxOSBuild: 17763},
	}
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	svc, err := image.New(context.Background(), image.Options{
		Config: cfg.Image, Root: filepath.Join(dir, "images"), Store: st,
		Host: image.Host{OS: "windows", Architecture: "amd64", OSVersion: winversion.Version{Major: 10, Build: 26100, Revision: 1}},
	})
	require.NoError(t, err)
	md := &runtime.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "u1"}
	pods := podsRuntime{pods: []sandbox.Pod{{
		PodRecord: sandbox.PodRecord{ID: "p1", Handler: "hyperv-ltsc2019", State: sandbox.PodReady},
		Config:    &runtime.PodSandboxConfig{Metadata: md},
	}}}
	env := newTestEnv(t, Options{Config: cfg, Images: svc, Runtime: pods}, true)
	ctx := context.Background()

	tests := []struct {
		name string
		req  *runtime.PullImageRequest
		want string
	}{
		{"default handler", &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}}, "10.0.26100.100"},
		{"image.runtime_handler", &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref, RuntimeHandler: "hyperv-ltsc2019"}}, "10.0.17763.5000"},
		{"handler of the pod of sandbox_config", &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref},
			SandboxConfig: &runtime.PodSandboxConfig{Metadata: md}}, "10.0.17763.5000"},
		{"image.runtime_handler wins", &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref, RuntimeHandler: "process"},
			SandboxConfig: &runtime.PodSandboxConfig{Metadata: md}}, "10.0.26100.100"},
		{"another pod's sandbox_config", &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref},
			SandboxConfig: &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "u2"}}}, "10.0.26100.100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := env.images.PullImage(ctx, tt.req)
			require.NoError(t, err)
			assert.Equal(t, ids[tt.want], resp.GetImageRef())

			st, err := env.images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: resp.GetImageRef()}, Verbose: true})
			require.NoError(t, err)
			var info struct {
				Platform map[string]string `json:"platform"`
			}
			require.NoError(t, json.Unmarshal([]byte(st.GetInfo()["info"]), &info))
			assert.Equal(t, map[string]string{"os": "windows", "architecture": "amd64", "os.version": tt.want}, info.Platform)
		})
	}

	t.Run("mismatch is FailedPrecondition naming builds and handlers", func(t *testing.T) {
		// An index offering 17763 only, pulled for a process pod.
		ref2019 := pushOnly(t, host, "team/ltsc2019:1", "10.0.17763.5000")
		_, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref2019}})
		require.Error(t, err)
		assert.Equal(t, codes.FailedPrecondition, status.Code(err), err.Error())
		assert.Contains(t, err.Error(), `no variant suits runtime handler "process" (process isolation on host build 10.0.26100.1): `+
			`the image offers Windows builds 10.0.17763.5000; runtime handler "hyperv-ltsc2019" can run it`)
		resp, err := env.images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref2019, RuntimeHandler: "hyperv-ltsc2019"}})
		require.NoError(t, err, "an image offering only an older build pulls for the handler whose VM runs it")
		assert.NotEmpty(t, resp.GetImageRef())
	})
}

// pushOnly pushes an index with a single Windows variant of version.
func pushOnly(t *testing.T, host, repoTag, version string) string {
	t.Helper()
	img := windowsVariant(t, version)
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img,
		Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: version}}})
	ref, err := name.ParseReference(host+"/"+repoTag, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref, idx))
	return ref.String()
}

// windowsVariant is an empty Windows image of os.version version.
func windowsVariant(t *testing.T, version string) v1.Image {
	t.Helper()
	cf, err := empty.Image.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.OSVersion = "windows", "amd64", version
	img, err := mutate.ConfigFile(empty.Image, cf)
	require.NoError(t, err)
	return img
}
