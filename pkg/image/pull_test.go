//go:build !windows

package image

import (
	"archive/tar"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
)

func TestPullMultiLayerWithWhiteouts(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	base := layerOf(t,
		file{name: "etc/", typ: tar.TypeDir},
		file{name: "etc/keep", body: "keep"},
		file{name: "etc/gone", body: "gone"},
		file{name: "data/", typ: tar.TypeDir},
		file{name: "data/old", body: "old"},
	)
	top := layerOf(t,
		file{name: "etc/.wh.gone"},
		file{name: "data/", typ: tar.TypeDir},
		file{name: "data/.wh..wh..opq"},
		file{name: "data/new", body: "new"},
	)
	img := imageOf(t, "linux", "amd64", "", base, top)
	ref := reg.push(t, "app/web:v1", img)

	s := newTestService(t, linuxHost(), nil)
	ctx := context.Background()
	id, err := s.Pull(ctx, ref, PullOptions{})
	require.NoError(t, err)
	assert.Equal(t, configDigest(t, img), id)

	got, err := s.Resolve(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, id, got.ID)
	assert.Equal(t, []string{ref}, got.RepoTags)
	md, err := img.Digest()
	require.NoError(t, err)
	assert.Equal(t, []string{reg.host + "/app/web@" + md.String()}, got.RepoDigests)
	assert.Equal(t, "1234", got.Config.Config.User)
	require.Len(t, got.LayerPaths, 2)
	assert.Positive(t, got.Size)

	topDir, baseDir := got.LayerPaths[0], got.LayerPaths[1]
	body, err := os.ReadFile(filepath.Join(baseDir, "etc/gone"))
	require.NoError(t, err)
	assert.Equal(t, "gone", string(body))
	fi, err := os.Lstat(filepath.Join(topDir, "etc/gone"))
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeCharDevice, "whiteout in the top layer")
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(topDir, "data"), "trusted.overlay.opaque", buf)
	require.NoError(t, err)
	assert.Equal(t, "y", string(buf[:n]))

	// Status answers to the id, the bare hex and the digest reference.
	for _, name := range []string{id, id[len("sha256:"):], got.RepoDigests[0]} {
		st, err := s.Status(ctx, name)
		require.NoError(t, err, name)
		assert.Equal(t, id, st.ID)
	}
	list, err := s.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, id, list[0].ID)

	// A pull by tag and digest is a pull by digest: same image, no new tag.
	byDigest := ref + "@" + md.String()
	again, err := s.Pull(ctx, byDigest, PullOptions{})
	require.NoError(t, err)
	assert.Equal(t, id, again)
	st, err := s.Status(ctx, byDigest)
	require.NoError(t, err)
	assert.Equal(t, []string{ref}, st.RepoTags)

	// The layer archives are gone once unpacked.
	blobs, err := s.content.List()
	require.NoError(t, err)
	assert.Empty(t, blobs)

	assertOverlayView(t, got.LayerPaths)
}

// assertOverlayView mounts the layers and checks what a container sees.
func assertOverlayView(t *testing.T, lower []string) {
	if _, err := exec.LookPath("mount"); err != nil {
		return
	}
	mnt := t.TempDir()
	opts := "lowerdir=" + lower[0] + ":" + lower[1]
	if err := unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, opts); err != nil {
		t.Logf("overlay mount not possible here (%v); merged view not checked", err)
		return
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	_, err := os.Stat(filepath.Join(mnt, "etc/gone"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Join(mnt, "etc/keep"))
	assert.NoError(t, err)
	_, err = os.Stat(filepath.Join(mnt, "data/old"))
	assert.ErrorIs(t, err, os.ErrNotExist, "opaque directory hides the lower one")
	_, err = os.Stat(filepath.Join(mnt, "data/new"))
	assert.NoError(t, err)
}

func TestPullMultiPlatformIndex(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	variants := map[string]v1.Image{
		"linux/amd64":        imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "os", body: "linux-amd64"})),
		"linux/arm64":        imageOf(t, "linux", "arm64", "", layerOf(t, file{name: "os", body: "linux-arm64"})),
		"windows 10.0.17763": imageOf(t, "windows", "amd64", "10.0.17763.5000", layerOf(t, file{name: "Files/os", body: "ltsc2019"})),
		"windows 10.0.20348": imageOf(t, "windows", "amd64", "10.0.20348.2000", layerOf(t, file{name: "Files/os", body: "ltsc2022"})),
		"windows 10.0.26100": imageOf(t, "windows", "amd64", "10.0.26100.100", layerOf(t, file{name: "Files/os", body: "ltsc2025"})),
	}
	idx := indexOf(t, variants)
	ref := reg.pushIndex(t, "multi/app:1", idx)

	tests := []struct {
		name string
		host Host
		iso  config.Isolation
		want string
	}{
		{"linux amd64", linuxHost(), "", "linux/amd64"},
		{"linux arm64", Host{OS: "linux", Architecture: "arm64"}, "", "linux/arm64"},
		{"2022 host process", winHost(20348), config.IsolationProcess, "windows 10.0.20348"},
		{"win11 host process", winHost(22621), config.IsolationProcess, "windows 10.0.20348"},
		{"2019 host process", winHost(17763), config.IsolationProcess, "windows 10.0.17763"},
		{"2025 host hyperv", winHost(26100), config.IsolationHyperV, "windows 10.0.26100"},
		{"future host hyperv", winHost(27000), config.IsolationHyperV, "windows 10.0.26100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, tt.host, nil)
			id, err := s.Pull(context.Background(), ref, PullOptions{Target: Target{Isolation: tt.iso}})
			require.NoError(t, err)
			assert.Equal(t, configDigest(t, variants[tt.want]), id)
			img, err := s.Status(context.Background(), ref)
			require.NoError(t, err)
			idxDigest, err := idx.Digest()
			require.NoError(t, err)
			assert.Equal(t, []string{reg.host + "/multi/app@" + idxDigest.String()}, img.RepoDigests, "the repo digest is the index's")
		})
	}

	t.Run("1607 host process fails naming builds", func(t *testing.T) {
		s := newTestService(t, winHost(14393), nil)
		_, err := s.Pull(context.Background(), ref, PullOptions{Target: Target{Isolation: config.IsolationProcess}})
		require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
		assert.Contains(t, err.Error(), "10.0.14393.1")
		assert.Contains(t, err.Error(), "10.0.17763.5000")
	})
}

func TestConcurrentIdenticalPullsDownloadOnce(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	img := imageOf(t, "linux", "amd64", "",
		layerOf(t, file{name: "a", body: "first"}),
		layerOf(t, file{name: "b", body: "second"}),
		layerOf(t, file{name: "c", body: "third"}))
	ref := reg.push(t, "shared/app:1", img)
	// Hold every blob until all pulls are in, so they overlap for sure.
	release := make(chan struct{})
	reg.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			<-release
		}
		next.ServeHTTP(w, r)
	}
	s := newTestService(t, linuxHost(), nil)
	const pulls = 6
	ids := make([]string, pulls)
	errs := make([]error, pulls)
	var wg sync.WaitGroup
	for i := range pulls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = s.Pull(context.Background(), ref, PullOptions{})
		}()
	}
	key := pullKey(mustRef(t, ref), PullOptions{})
	require.Eventually(t, func() bool { return s.pulls.callers(key) == pulls }, 5*time.Second, time.Millisecond, "every pull joins the one in flight")
	close(release)
	wg.Wait()
	for i := range pulls {
		require.NoError(t, errs[i])
		assert.Equal(t, configDigest(t, img), ids[i])
	}
	layers, err := img.Layers()
	require.NoError(t, err)
	for _, l := range layers {
		d, err := l.Digest()
		require.NoError(t, err)
		assert.Equal(t, 1, reg.blobGetsOf(d.String()), "layer %s downloaded once", d)
	}

	// A second image sharing two layers downloads only its new one.
	img2 := imageOf(t, "linux", "amd64", "", append(layers[:2:2], layerOf(t, file{name: "d", body: "fourth"}))...)
	ref2 := reg.push(t, "shared/other:1", img2)
	_, err = s.Pull(context.Background(), ref2, PullOptions{})
	require.NoError(t, err)
	for _, l := range layers[:2] {
		d, _ := l.Digest()
		assert.Equal(t, 1, reg.blobGetsOf(d.String()), "shared layer %s not downloaded again", d)
	}
	entries, err := os.ReadDir(filepath.Join(s.root, "layers"))
	require.NoError(t, err)
	assert.Len(t, entries, 4, "3 layers + 1 new, each unpacked once")
}

func mustRef(t testing.TB, s string) Reference {
	t.Helper()
	r, err := ParseReference(s)
	require.NoError(t, err)
	return r
}

func TestRemoveAndLayerGC(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	shared := layerOf(t, file{name: "base", body: "base"})
	imgA := imageOf(t, "linux", "amd64", "", shared, layerOf(t, file{name: "a", body: "a"}))
	imgB := imageOf(t, "linux", "amd64", "", shared, layerOf(t, file{name: "b", body: "b"}))
	refA := reg.push(t, "gc/a:1", imgA)
	refA2 := reg.push(t, "gc/a:2", imgA)
	refB := reg.push(t, "gc/b:1", imgB)
	s := newTestService(t, linuxHost(), nil)
	ctx := context.Background()
	idA, err := s.Pull(ctx, refA, PullOptions{})
	require.NoError(t, err)
	_, err = s.Pull(ctx, refA2, PullOptions{})
	require.NoError(t, err)
	idB, err := s.Pull(ctx, refB, PullOptions{})
	require.NoError(t, err)
	a, err := s.Status(ctx, refA)
	require.NoError(t, err)
	assert.Equal(t, []string{refA, refA2}, a.RepoTags, "two tags, one image")
	layerDirs := func() int {
		e, err := os.ReadDir(filepath.Join(s.root, "layers"))
		require.NoError(t, err)
		return len(e)
	}
	assert.Equal(t, 3, layerDirs())

	// Any one reference removes the image with all its tags.
	require.NoError(t, s.Remove(ctx, refA2))
	for _, r := range []string{refA, refA2, idA} {
		_, err = s.Status(ctx, r)
		assert.ErrorIs(t, err, errdefs.ErrNotFound, r)
	}
	assert.Equal(t, 2, layerDirs(), "A's own layer is collected, the shared one stays")
	require.NoError(t, s.Remove(ctx, refA), "removing an unknown image succeeds")

	s.SetInUse(func(_ context.Context, id string) ([]string, error) {
		if id == idB {
			return []string{"c1", "c2"}, nil
		}
		return nil, nil
	})
	err = s.Remove(ctx, idB)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), "c1, c2")
	s.SetInUse(nil)
	require.NoError(t, s.Remove(ctx, idB))
	assert.Equal(t, 0, layerDirs())
	list, err := s.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
	fs, err := s.FsInfo(ctx)
	require.NoError(t, err)
	assert.Zero(t, fs.UsedBytes)
}

// A crash leaves a partial download and a half-unpacked layer: the next
// start removes both and the pull that follows is complete and verified.
func TestCrashLeftoversCleanedAtStartup(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "f", body: "content"}))
	ref := reg.push(t, "crash/app:1", img)
	layers, _ := img.Layers()
	blob, _ := layers[0].Digest()
	diffID, _ := layers[0].DiffID()

	s := newTestService(t, linuxHost(), nil)
	partial := filepath.Join(s.root, "content", "ingest", blob.Hex+"-0011")
	require.NoError(t, os.WriteFile(partial, []byte("trunc"), 0o600))
	halfLayer := filepath.Join(s.root, "layers", diffID.Hex)
	require.NoError(t, os.MkdirAll(filepath.Join(halfLayer, "junk"), 0o755))

	dir := filepath.Dir(s.root)
	s2 := reopenService(t, dir, s.store, linuxHost(), nil)
	_, err := os.Stat(partial)
	assert.ErrorIs(t, err, os.ErrNotExist, "partial download removed")
	_, err = os.Stat(halfLayer)
	assert.ErrorIs(t, err, os.ErrNotExist, "unrecorded layer removed")

	_, err = s2.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
	got, err := s2.Resolve(context.Background(), ref)
	require.NoError(t, err)
	body, err := os.ReadFile(filepath.Join(got.LayerPaths[0], "f"))
	require.NoError(t, err)
	assert.Equal(t, "content", string(body))
	_, err = os.Stat(filepath.Join(got.LayerPaths[0], "junk"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(got.LayerPaths[0], &st))
}

func TestPullErrors(t *testing.T) {
	reg := startRegistry(t)
	closed := httptestClosedAddr(t)
	tests := []struct {
		name string
		ref  string
		want error
	}{
		{"invalid reference", "Not/Valid", errdefs.ErrInvalidArgument},
		{"unknown repository", reg.host + "/nope/app:1", errdefs.ErrNotFound},
		{"registry unreachable", closed + "/app:1", errdefs.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, linuxHost(), nil)
			_, err := s.Pull(context.Background(), tt.ref, PullOptions{})
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// httptestClosedAddr is a loopback address where nothing listens.
func httptestClosedAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestParallelDownloadsAreBounded(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	var layers []v1.Layer
	for i := range 6 {
		layers = append(layers, layerOf(t, file{name: fmt.Sprintf("f%d", i), body: strings.Repeat("x", i+1)}))
	}
	ref := reg.push(t, "bounded/app:1", imageOf(t, "linux", "amd64", "", layers...))
	var mu sync.Mutex
	active, peak := 0, 0
	reg.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if !strings.Contains(r.URL.Path, "/blobs/") {
			next.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		active++
		peak = max(peak, active)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		next.ServeHTTP(w, r)
		mu.Lock()
		active--
		mu.Unlock()
	}
	s := newTestService(t, linuxHost(), func(c *config.Image) { c.MaxConcurrentDownloads = 2 })
	_, err := s.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, peak, "layer downloads run in parallel up to the limit")
}

// A layerless image (only a config, as `FROM scratch` with no files
// gives) still takes space: its config. kubelet's and crictl's CRI client
// refuses an image status whose size is 0 ("Id or size of image ... is
// not set", k8s.io/cri-client pkg/remote_image.go, ImageStatus), so the
// size counts the config, as containerd's counts every blob of the image
// (core/images/image.go, Size).
func TestPullLayerlessImageHasASize(t *testing.T) {
	reg := startRegistry(t)
	img := imageOf(t, "linux", "amd64", "")
	ref := reg.push(t, "scratch/config-only:1", img)
	s := newTestService(t, linuxHost(), nil)
	_, err := s.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
	st, err := s.Status(context.Background(), ref)
	require.NoError(t, err)
	raw, err := img.RawConfigFile()
	require.NoError(t, err)
	assert.Equal(t, int64(len(raw)), st.Size)
}
