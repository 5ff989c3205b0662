//go:build !windows

// Imports unpack overlay layers, the Linux path, and need root.

package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testarchive"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/image/archive"
	"github.com/wincri/wincri/pkg/store"
)

func hashOf(t testing.TB, f func() (v1.Hash, error)) string {
	t.Helper()
	h, err := f()
	require.NoError(t, err)
	return h.String()
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// readLayerFile reads a file of an image's topmost layer that has it.
func readLayerFile(t *testing.T, img *Image, name string) string {
	t.Helper()
	for _, dir := range img.LayerPaths {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return string(data)
		}
	}
	t.Fatalf("no layer of %s has %s", img.ID, name)
	return ""
}

func TestImportArchives(t *testing.T) {
	testutil.RequireRoot(t)
	app := testarchive.Image(t, "linux", "amd64",
		testarchive.Layer(t, testarchive.File{Name: "etc/os", Body: "base"}),
		testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "app v1"}))
	other := testarchive.Image(t, "linux", "amd64", testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "other"}))
	amd64 := testarchive.Image(t, "linux", "amd64", testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "amd64"}))
	arm64 := testarchive.Image(t, "linux", "arm64", testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "arm64"}))
	windows := testarchive.Image(t, "windows", "amd64", testarchive.Layer(t, testarchive.File{Name: "Files/run", Body: "windows"}))
	multi := testarchive.Index(t, windows, arm64, amd64)

	type want struct {
		id, file, body string
		tags, digests  []string
	}
	tests := []struct {
		name    string
		archive []byte
		want    []want
		offered int
	}{
		{
			name: "OCI layout",
			archive: testarchive.OCI(t, func(p layout.Path) {
				require.NoError(t, p.AppendImage(app, testarchive.Named("example.com/app:1")))
			}),
			want: []want{{id: hashOf(t, app.ConfigName), file: "app/run", body: "app v1",
				tags: []string{"example.com/app:1"}, digests: []string{"example.com/app@" + hashOf(t, app.Digest)}}},
		},
		{
			name: "OCI layout, one image under two names",
			archive: testarchive.OCI(t, func(p layout.Path) {
				require.NoError(t, p.AppendImage(app, testarchive.Named("example.com/app:1")))
				require.NoError(t, p.AppendImage(app, testarchive.Named("busybox:latest")))
			}),
			want: []want{{id: hashOf(t, app.ConfigName), file: "app/run", body: "app v1",
				tags:    []string{"docker.io/library/busybox:latest", "example.com/app:1"},
				digests: []string{"docker.io/library/busybox@" + hashOf(t, app.Digest), "example.com/app@" + hashOf(t, app.Digest)}}},
		},
		{
			name: "docker save",
			archive: testarchive.Docker(t, map[string]v1.Image{
				"example.com/app:1": app, "example.com/app:latest": app, "example.com/other:2": other,
			}),
			want: []want{
				{id: hashOf(t, app.ConfigName), file: "app/run", body: "app v1", tags: []string{"example.com/app:1", "example.com/app:latest"}},
				{id: hashOf(t, other.ConfigName), file: "app/run", body: "other", tags: []string{"example.com/other:2"}},
			},
		},
		{
			name:    "docker save, gzip-compressed",
			archive: gzipped(t, testarchive.Docker(t, map[string]v1.Image{"example.com/app:1": app})),
			want:    []want{{id: hashOf(t, app.ConfigName), file: "app/run", body: "app v1", tags: []string{"example.com/app:1"}}},
		},
		{
			name: "multi-platform index picks linux/amd64",
			archive: testarchive.OCI(t, func(p layout.Path) {
				require.NoError(t, p.AppendIndex(multi, testarchive.Named("example.com/multi:1")))
			}),
			want: []want{{id: hashOf(t, amd64.ConfigName), file: "app/run", body: "amd64",
				tags: []string{"example.com/multi:1"}, digests: []string{"example.com/multi@" + hashOf(t, multi.Digest)}}},
			offered: 3,
		},
		{
			name: "index.json as the index, unnamed",
			archive: func() []byte {
				dir := t.TempDir()
				_, err := layout.Write(dir, multi)
				require.NoError(t, err)
				return testarchive.TarDir(t, dir)
			}(),
			want:    []want{{id: hashOf(t, amd64.ConfigName), file: "app/run", body: "amd64"}},
			offered: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, linuxHost(), nil)
			ctx := context.Background()
			got, err := s.Import(ctx, bytes.NewReader(tt.archive), ImportOptions{})
			require.NoError(t, err)
			require.Len(t, got, len(tt.want))
			list, err := s.List(ctx)
			require.NoError(t, err)
			assert.Len(t, list, len(tt.want))
			for _, w := range tt.want {
				var imported *Imported
				for i := range got {
					if got[i].ID == w.id {
						imported = &got[i]
					}
				}
				require.NotNil(t, imported, "image %s imported", w.id)
				assert.ElementsMatch(t, append(append([]string{}, w.tags...), w.digests...), imported.Names)

				img, err := s.Status(ctx, w.id)
				require.NoError(t, err)
				assert.Equal(t, w.tags, nilIfEmpty(img.RepoTags))
				assert.Equal(t, w.digests, nilIfEmpty(img.RepoDigests))
				assert.Positive(t, img.Size)
				assert.Equal(t, "1234", img.Config.Config.User)
				assert.Len(t, img.Offered, tt.offered)
				assert.Equal(t, w.body, readLayerFile(t, img, w.file))
				for _, name := range w.tags {
					byName, err := s.Resolve(ctx, name)
					require.NoError(t, err, name)
					assert.Equal(t, w.id, byName.ID)
				}
			}
			assertImportClean(t, s, len(tt.want) > 0)
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// assertImportClean checks that an import left no blob and no spool
// behind, and, unless images were recorded, no layer either.
func assertImportClean(t *testing.T, s *testService, recorded bool) {
	t.Helper()
	blobs, err := s.content.List()
	require.NoError(t, err)
	assert.Empty(t, blobs, "no blob left in the content store")
	ingest, err := os.ReadDir(s.content.ingestDir())
	require.NoError(t, err)
	assert.Empty(t, ingest, "no spool left")
	if recorded {
		return
	}
	imgs, err := s.List(context.Background())
	require.NoError(t, err)
	assert.Empty(t, imgs, "no image recorded")
	dirs, err := os.ReadDir(s.layers.root)
	require.NoError(t, err)
	assert.Empty(t, dirs, "no layer directory left")
	require.NoError(t, s.store.View(func(tx *store.Tx) error {
		recs, err := store.List[layerRecord](tx, bucketLayers)
		assert.Empty(t, recs, "no layer record left")
		return err
	}))
}

func TestImportRejectsBadArchives(t *testing.T) {
	testutil.RequireRoot(t)
	base := testarchive.Layer(t, testarchive.File{Name: "etc/os", Body: "base"})
	top := testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "app"})
	app := testarchive.Image(t, "linux", "amd64", base, top)
	good := testarchive.OCI(t, func(p layout.Path) {
		require.NoError(t, p.AppendImage(app, testarchive.Named("example.com/app:1")))
	})
	topBlob := archive.BlobName(mustDigest(t, top.Digest))
	dockerGood := testarchive.Docker(t, map[string]v1.Image{"example.com/app:1": app})
	edit := func(data []byte, fn func(name string, data []byte) []byte) []byte {
		return testarchive.Rewrite(t, data, fn)
	}
	tests := []struct {
		name    string
		archive []byte
		kind    func(error) bool
		wantErr string
	}{
		{"not a tar", []byte(strings.Repeat("GIF89a not an archive ", 64)), errdefs.IsInvalidArgument, "not a tar archive"},
		{"no manifest", edit(good, func(name string, data []byte) []byte {
			if name == archive.IndexFile {
				return []byte(`{"schemaVersion":2,"manifests":[]}`)
			}
			return data
		}), errdefs.IsInvalidArgument, "the archive lists no images"},
		{"missing layer blob", edit(good, func(name string, data []byte) []byte {
			if name == topBlob {
				return nil
			}
			return data
		}), errdefs.IsInvalidArgument, "image example.com/app:1: the archive lacks layer 2, blob " + mustDigest(t, top.Digest).String()},
		{"layer digest mismatch", edit(good, func(name string, data []byte) []byte {
			if name == topBlob {
				data[len(data)/2] ^= 0xff
			}
			return data
		}), errdefs.IsDataLoss, "in the archive hashes to"},
		{"layer content does not match the config's diff id", edit(dockerGood, func(name string, data []byte) []byte {
			// docker save names layers by path, so only the unpack's
			// diff id check can catch this.
			if strings.HasSuffix(name, ".tar.gz") && bytes.Equal(data, mustCompressed(t, top)) {
				return mustCompressed(t, testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "evil"}))
			}
			return data
		}), errdefs.IsDataLoss, "uncompressed layer hashes to"},
		{"truncated", good[:512+100], errdefs.IsInvalidArgument, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, linuxHost(), nil)
			ctx := context.Background()
			_, err := s.Import(ctx, bytes.NewReader(tt.archive), ImportOptions{})
			require.Error(t, err)
			assert.True(t, tt.kind(err), "wrong kind: %v", err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assertImportClean(t, s, false)

			// Nothing half-imported stands in the way of a good import.
			got, err := s.Import(ctx, bytes.NewReader(good), ImportOptions{})
			require.NoError(t, err)
			require.Len(t, got, 1)
			img, err := s.Status(ctx, "example.com/app:1")
			require.NoError(t, err)
			assert.Equal(t, "app", readLayerFile(t, img, "app/run"))
			assertImportClean(t, s, true)
		})
	}
}

func mustDigest(t testing.TB, f func() (v1.Hash, error)) digest.Digest {
	t.Helper()
	return digest.Digest(hashOf(t, f))
}

func mustCompressed(t testing.TB, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Compressed()
	require.NoError(t, err)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	return data
}

// An image for another platform fails the import with the error a pull
// of it gives, and records nothing.
func TestImportWrongPlatformFailsAsAPull(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	win := testarchive.Image(t, "windows", "amd64", testarchive.Layer(t, testarchive.File{Name: "Files/x", Body: "x"}))
	arm := testarchive.Image(t, "linux", "arm64", testarchive.Layer(t, testarchive.File{Name: "x", Body: "x"}))
	tests := []struct {
		name  string
		push  func(ref string) string
		write func(p layout.Path, name string)
	}{
		{
			name: "single manifest",
			push: func(ref string) string { return reg.push(t, ref, win) },
			write: func(p layout.Path, name string) {
				require.NoError(t, p.AppendImage(win, testarchive.Named(name)))
			},
		},
		{
			name: "index without the host's platform",
			push: func(ref string) string { return reg.pushIndex(t, ref, testarchive.Index(t, win, arm)) },
			write: func(p layout.Path, name string) {
				require.NoError(t, p.AppendIndex(testarchive.Index(t, win, arm), testarchive.Named(name)))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, linuxHost(), nil)
			ctx := context.Background()
			ref := tt.push("other/app:1")
			_, pullErr := s.Pull(ctx, ref, PullOptions{})
			require.Error(t, pullErr)

			name := "example.com/other/app:1"
			data := testarchive.OCI(t, func(p layout.Path) { tt.write(p, name) })
			_, importErr := s.Import(ctx, bytes.NewReader(data), ImportOptions{})
			require.Error(t, importErr)
			assert.Equal(t, errdefs.IsNotFound(pullErr), errdefs.IsNotFound(importErr))
			assert.Equal(t, errdefs.IsFailedPrecondition(pullErr), errdefs.IsFailedPrecondition(importErr))
			assert.Equal(t, strings.TrimPrefix(pullErr.Error(), "image "+ref+": "), strings.TrimPrefix(importErr.Error(), "image "+name+": "))
			assert.Contains(t, importErr.Error(), "no manifest for linux/amd64")
			assertImportClean(t, s, false)
		})
	}
}

// An import reads a stream that can be read only once.
func TestImportFromAPipe(t *testing.T) {
	testutil.RequireRoot(t)
	app := testarchive.Image(t, "linux", "amd64", testarchive.Layer(t, testarchive.File{Name: "app/run", Body: "piped"}))
	data := testarchive.Docker(t, map[string]v1.Image{"example.com/app:1": app})
	pr, pw := io.Pipe()
	go func() {
		// Small writes, as a pipe from another process delivers them.
		for len(data) > 0 {
			n := min(len(data), 777)
			if _, err := pw.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
		pw.Close()
	}()
	s := newTestService(t, linuxHost(), nil)
	got, err := s.Import(context.Background(), pr, ImportOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []string{"example.com/app:1"}, got[0].Names)
}

// `ctr images export` writes an index of every platform with the blobs
// of its own only: the import picks among the variants present.
func TestImportPartialIndex(t *testing.T) {
	testutil.RequireRoot(t)
	ltsc2022 := imageOf(t, "windows", "amd64", "10.0.20348.2000", layerOf(t, file{name: "Files/os", body: "ltsc2022"}))
	ltsc2025 := imageOf(t, "windows", "amd64", "10.0.26100.100", layerOf(t, file{name: "Files/os", body: "ltsc2025"}))
	linux := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "os", body: "linux"}))
	idx := testarchive.Index(t, linux, ltsc2022, ltsc2025)
	without := func(drop ...v1.Image) []byte {
		names := map[string]bool{}
		for _, img := range drop {
			names[archive.BlobName(mustDigest(t, img.Digest))] = true
		}
		return testarchive.Rewrite(t, testarchive.OCI(t, func(p layout.Path) {
			require.NoError(t, p.AppendIndex(idx, testarchive.Named("example.com/win:1")))
		}), func(name string, data []byte) []byte {
			if names[name] {
				return nil
			}
			return data
		})
	}
	ctx := context.Background()

	// The 2025 host would take the 2025 variant; the archive has 2022's.
	s := newTestService(t, winHost(26100), nil)
	got, err := s.Import(ctx, bytes.NewReader(without(ltsc2025)), ImportOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, hashOf(t, ltsc2022.ConfigName), got[0].ID)
	img, err := s.Status(ctx, "example.com/win:1")
	require.NoError(t, err)
	assert.Len(t, img.Offered, 3, "the index's platforms, as a pull records them")

	// A Linux host's variant is absent: the error says so.
	s = newTestService(t, linuxHost(), nil)
	_, err = s.Import(ctx, bytes.NewReader(without(linux)), ImportOptions{})
	require.Error(t, err)
	assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
	assert.Contains(t, err.Error(), "the variant for this host (linux/amd64, manifest "+hashOf(t, linux.Digest)+") is not in the archive, which holds only windows/amd64 10.0.20348.2000, windows/amd64 10.0.26100.100")
	assertImportClean(t, s, false)
}
