package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/internal/testutil"
)

// fsEntry is what the test checks of one file of a pulled image.
type fsEntry struct {
	typ      byte
	mode     int64
	uid, gid int
	link     string
	data     string
}

// servedRegistry builds the whole catalog from the machine's busybox (or the
// one named by $WINCRI_TEST_BUSYBOX, e.g. Debian's dynamic one that
// hack/setup.sh unpacks) and serves it on a free loopback port for the
// duration of the test.
func servedRegistry(t *testing.T) string {
	t.Helper()
	bbPath := os.Getenv("WINCRI_TEST_BUSYBOX")
	if bbPath == "" {
		bbPath = testutil.RequireBinary(t, "busybox")
	}
	ctx := klog.NewContext(context.Background(), klog.Background())
	bb, err := loadBusybox(ctx, bbPath)
	require.NoError(t, err)
	images, err := buildAll(bb, catalog(buildHelper(t)))
	require.NoError(t, err)
	srv, err := startRegistry(ctx, "127.0.0.1:0", nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.stop(context.Background())) })
	require.NoError(t, srv.push(ctx, images))
	return srv.addr
}

var (
	helperOnce sync.Once
	helperBin  []byte
	helperErr  error
)

// buildHelper compiles ./helper once per test binary, as hack/critest.sh
// does.
func buildHelper(t *testing.T) []byte {
	t.Helper()
	goBin := testutil.RequireBinary(t, "go")
	helperOnce.Do(func() {
		out := filepath.Join(os.TempDir(), fmt.Sprintf("wincri-testimages-helper-%d", os.Getpid()))
		defer os.Remove(out)
		cmd := exec.Command(goBin, "build", "-o", out, "./helper")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			helperErr = fmt.Errorf("go build ./helper: %w: %s", err, b)
			return
		}
		helperBin, helperErr = os.ReadFile(out)
	})
	require.NoError(t, helperErr)
	return helperBin
}

// pull fetches upstream's local counterpart for linux/amd64 and reads its
// flattened file system.
func pull(t *testing.T, addr, upstream string) (v1.Image, map[string]fsEntry) {
	t.Helper()
	_, local, err := localRef(upstream)
	require.NoError(t, err)
	ref, err := name.ParseReference(addr+"/"+local, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	require.NoError(t, err, upstream)
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]fsEntry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		e := fsEntry{typ: hdr.Typeflag, mode: hdr.Mode, uid: hdr.Uid, gid: hdr.Gid, link: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg && hdr.Size < 1<<16 {
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			e.data = string(b)
		}
		files["/"+strings.TrimSuffix(hdr.Name, "/")] = e
	}
	return img, files
}

func TestServedImages(t *testing.T) {
	addr := servedRegistry(t)
	for _, tc := range []struct {
		image      string
		user       string
		entrypoint []string
		cmd        []string
		files      map[string]func(t *testing.T, e fsEntry)
	}{
		{image: e2eImages + "busybox:1.29-2", cmd: []string{"sh"}},
		{image: e2eImages + "nginx:1.14-2", cmd: []string{"nginx", "-g", "daemon off;"}, files: map[string]func(*testing.T, fsEntry){
			"/usr/sbin/nginx":                  executable,
			"/etc/nginx/conf.d/default.conf":   contains("listen       80;"),
			"/usr/share/nginx/html/index.html": contains("Welcome to nginx!"),
		}},
		{image: criTools + "hostnet-nginx-amd64:latest", cmd: []string{"nginx", "-g", "daemon off;"}, files: map[string]func(*testing.T, fsEntry){
			"/etc/nginx/conf.d/default.conf": contains("listen       12003;"),
		}},
		{image: e2eImages + "httpd:2.4.39-4", cmd: []string{"httpd-foreground"}, files: map[string]func(*testing.T, fsEntry){
			"/usr/local/apache2/bin/httpd-foreground": executable,
			"/usr/local/apache2/htdocs/index.html":    contains("It works!"),
		}},
		{image: e2eImages + "nonewprivs:1.3", entrypoint: []string{"/usr/local/bin/nnp"}, files: map[string]func(*testing.T, fsEntry){
			"/usr/local/bin/nnp": func(t *testing.T, e fsEntry) {
				assert.Equal(t, int64(0o4755), e.mode&0o7777, "set-uid root")
				assert.Equal(t, 0, e.uid)
			},
		}},
		{image: "registry.k8s.io/pause:3.9", user: "65535:65535", entrypoint: []string{"/pause"}, files: map[string]func(*testing.T, fsEntry){
			"/pause": func(t *testing.T, e fsEntry) { assert.Equal(t, int64(0o755), e.mode&0o7777) },
		}},
		{image: "k8s.gcr.io/pause:3.9", user: "65535:65535", entrypoint: []string{"/pause"}},
		{image: criTools + "test-image-latest:latest", cmd: []string{"sh"}, files: map[string]func(*testing.T, fsEntry){"/test-image-latest": contains("test-image-latest")}},
		{image: criTools + "test-image-tag:test", cmd: []string{"sh"}, files: map[string]func(*testing.T, fsEntry){"/test-image-tag": contains("test-image-tag")}},
		{image: criTools + "test-image-tags:2", cmd: []string{"sh"}},
		{image: criTools + "test-image-2:latest", cmd: []string{"sh"}, files: map[string]func(*testing.T, fsEntry){"/test-image-2": contains("test-image-2")}},
		{image: criTools + "test-image-user-uid:latest", user: "1002", cmd: []string{"sh"}},
		{image: criTools + "test-image-user-username:latest", user: "www-data", cmd: []string{"sh"}},
		{image: criTools + "test-image-user-uid-group:latest", user: "1003:1004", cmd: []string{"sh"}},
		{image: criTools + "test-image-user-username-group:latest", user: "www-data:1004", cmd: []string{"sh"}},
		{image: criTools + "test-image-predefined-group:latest", user: "1000", cmd: []string{"sh"}, files: map[string]func(*testing.T, fsEntry){
			"/etc/passwd":        contains("default-user:x:1000:1000:"),
			"/etc/group":         contains("group-defined-in-image:x:50000:default-user"),
			"/home/default-user": func(t *testing.T, e fsEntry) { assert.Equal(t, []int{1000, 1000}, []int{e.uid, e.gid}) },
		}},
		{image: ecrLibrary + "busybox:1-musl", cmd: []string{"sh"}, files: map[string]func(*testing.T, fsEntry){"/busybox-1-musl": contains("busybox-1-musl")}},
	} {
		t.Run(tc.image, func(t *testing.T) {
			img, files := pull(t, addr, tc.image)
			cf, err := img.ConfigFile()
			require.NoError(t, err)
			assert.Equal(t, "linux", cf.OS)
			assert.Equal(t, "amd64", cf.Architecture)
			assert.Equal(t, tc.user, cf.Config.User)
			assert.Equal(t, tc.entrypoint, cf.Config.Entrypoint)
			assert.Equal(t, tc.cmd, cf.Config.Cmd)
			assert.NotEmpty(t, cf.Config.Env, "PATH is set")

			// Every image is busybox with hard-linked applets.
			assert.Equal(t, fsEntry{typ: tar.TypeReg, mode: 0o755}, withoutData(files["/bin/busybox"]))
			for _, applet := range []string{"/bin/sh", "/bin/ls", "/bin/sleep", "/bin/top", "/bin/httpd", "/bin/id"} {
				assert.Equal(t, fsEntry{typ: tar.TypeLink, mode: 0o755, link: "bin/busybox"}, files[applet], applet)
			}
			assert.Contains(t, files["/etc/passwd"].data, "www-data:x:33:33:")
			assert.Equal(t, int64(0o1777), files["/tmp"].mode&0o7777)
			for path, check := range tc.files {
				e, ok := files[path]
				if assert.True(t, ok, "%s is in the image", path) {
					check(t, e)
				}
			}
		})
	}
}

// TestServedImageIdentity checks which names must be one image and which
// must be different ones, as the image specs compare their ids.
func TestServedImageIdentity(t *testing.T) {
	addr := servedRegistry(t)
	digest := func(image string) v1.Hash {
		img, _ := pull(t, addr, image)
		d, err := img.ConfigName()
		require.NoError(t, err)
		return d
	}
	for _, same := range [][]string{
		{criTools + "test-image-tags:1", criTools + "test-image-tags:2", criTools + "test-image-tags:3"},
		{criTools + "test-image-tag:test", criTools + "test-image-tag:all"},
		{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"},
	} {
		for _, other := range same[1:] {
			assert.Equal(t, digest(same[0]), digest(other), "%s and %s", same[0], other)
		}
	}
	ids := map[v1.Hash]string{}
	for _, image := range []string{criTools + "test-image-1:latest", criTools + "test-image-2:latest", criTools + "test-image-3:latest", criTools + "test-image-latest:latest"} {
		d := digest(image)
		assert.NotContains(t, ids, d, "%s is the same image as %s", image, ids[d])
		ids[d] = image
	}
}

// TestServedIndex checks that a multi-platform name offers a Windows entry
// beside the Linux one, so the runtime must choose.
func TestServedIndex(t *testing.T) {
	addr := servedRegistry(t)
	_, local, err := localRef(e2eImages + "busybox:1.29-2")
	require.NoError(t, err)
	ref, err := name.ParseReference(addr+"/"+local, name.Insecure)
	require.NoError(t, err)
	desc, err := remote.Get(ref)
	require.NoError(t, err)
	assert.Equal(t, types.DockerManifestList, desc.MediaType)
	idx, err := desc.ImageIndex()
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	var platforms []string
	for _, d := range m.Manifests {
		require.NotNil(t, d.Platform)
		platforms = append(platforms, d.Platform.OS+"/"+d.Platform.Architecture)
	}
	assert.Equal(t, []string{"linux/amd64", "windows/amd64"}, platforms)
}

func executable(t *testing.T, e fsEntry) {
	assert.Equal(t, byte(tar.TypeReg), e.typ)
	assert.Equal(t, int64(0o755), e.mode&0o7777)
	assert.True(t, strings.HasPrefix(e.data, "#!/bin/sh\n"), "a shell script")
}

func contains(s string) func(t *testing.T, e fsEntry) {
	return func(t *testing.T, e fsEntry) { assert.Contains(t, e.data, s) }
}

func withoutData(e fsEntry) fsEntry {
	e.data = ""
	return e
}
