//go:build !windows

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testarchive"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/cri"
	"github.com/wincri/wincri/pkg/endpoint"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/store"
)

// startDaemon serves the CRI and Archive services of a real image
// service on a unix socket, as the daemon does, and returns its
// endpoint and image service.
func startDaemon(t *testing.T) (string, *image.Service) {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	images, err := image.New(context.Background(), image.Options{Config: cfg.Image, Root: filepath.Join(dir, "images"), Store: st,
		Host: image.Host{OS: "linux", Architecture: "amd64"}})
	require.NoError(t, err)
	srv, err := cri.New(cri.Options{Config: cfg, Images: images, Archive: images})
	require.NoError(t, err)
	srv.SetReady()
	ep := endpoint.Endpoint{Scheme: endpoint.Unix, Path: filepath.Join(dir, "wincri.sock")}
	lis, err := endpoint.Listen(ep)
	require.NoError(t, err)
	g := srv.NewGRPCServer()
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return ep.String(), images
}

func TestImageImportAndExport(t *testing.T) {
	ep, images := startDaemon(t)
	app := testarchive.Image(t, "linux", "amd64", testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "v1"}))
	cfg, err := app.ConfigName()
	require.NoError(t, err)
	id := cfg.String()
	dir := t.TempDir()
	ociFile := filepath.Join(dir, "app.tar")
	require.NoError(t, os.WriteFile(ociFile, testarchive.OCI(t, func(p layout.Path) {
		require.NoError(t, p.AppendImage(app, testarchive.Named("example.com/app:1")))
	}), 0o600))

	// From a file.
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"image", "import", "--endpoint", ep, ociFile}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "example.com/app:1 "+id+"\n")
	assert.Regexp(t, `^imported 1 image\(s\) from .*app\.tar in \d+\.\d{3}s, \d+ bytes read\n$`, stderr.String())

	// From standard input, a docker save archive.
	stdout.Reset()
	stderr.Reset()
	docker := testarchive.Docker(t, map[string]v1.Image{"example.com/app:2": app})
	require.NoError(t, imageCommand([]string{"import", "--endpoint", ep, "-"}, bytes.NewReader(docker), &stdout, &stderr))
	assert.Equal(t, "example.com/app:2 "+id+"\n", stdout.String())
	assert.Contains(t, stderr.String(), "from standard input")
	assert.Contains(t, stderr.String(), " bytes read")
	img, err := images.Status(context.Background(), "example.com/app:2")
	require.NoError(t, err)
	assert.Equal(t, []string{"example.com/app:1", "example.com/app:2"}, img.RepoTags)

	// Export to a file, which imports again.
	out := filepath.Join(dir, "export.tar")
	stderr.Reset()
	require.NoError(t, run([]string{"image", "export", "--endpoint", ep, "-o", out, "example.com/app:1"}, &stdout, &stderr))
	assert.Regexp(t, `^exported 1 image\(s\) to .*export\.tar in \d+\.\d{3}s, \d+ bytes written\n$`, stderr.String())
	stdout.Reset()
	require.NoError(t, run([]string{"image", "import", "--endpoint", ep, out}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "example.com/app:1 sha256:")

	// Export to standard output.
	stdout.Reset()
	require.NoError(t, run([]string{"image", "export", "--endpoint", ep, id}, &stdout, &stderr))
	assert.Greater(t, stdout.Len(), 1024)

	// A failed export leaves no file.
	failed := filepath.Join(dir, "failed.tar")
	err = run([]string{"image", "export", "--endpoint", ep, "-o", failed, "example.com/absent:1"}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `NotFound: image "example.com/absent:1" not found`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), "failed", "no archive, partial or not, is left")
	}
}

func TestImageCommandErrors(t *testing.T) {
	ep, _ := startDaemon(t)
	garbage := filepath.Join(t.TempDir(), "garbage.tar")
	require.NoError(t, os.WriteFile(garbage, []byte(strings.Repeat("garbage", 200)), 0o600))
	noDaemon := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"image"}, "import or export?"},
		{"unknown subcommand", []string{"image", "pull"}, `unknown subcommand "pull"`},
		{"import without file", []string{"image", "import", "--endpoint", ep}, "usage: wincri image import"},
		{"import of a missing file", []string{"image", "import", "--endpoint", ep, "/nonexistent.tar"}, "no such file"},
		{"import of garbage", []string{"image", "import", "--endpoint", ep, garbage}, "InvalidArgument: reading the archive: not a tar archive"},
		{"export without image", []string{"image", "export", "--endpoint", ep}, "usage: wincri image export"},
		{"bad endpoint", []string{"image", "export", "--endpoint", "tcp://x", "a"}, "--endpoint: "},
		{"no daemon", []string{"image", "import", "--endpoint", noDaemon, garbage}, "cannot connect to wincri at " + noDaemon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, &out, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}
