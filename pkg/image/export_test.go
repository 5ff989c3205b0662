//go:build !windows

package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wincri/wincri/internal/testarchive"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/image/archive"
)

// treeOf describes every file of a layer directory: type, mode, owner,
// links, content, device and overlay opaque marker.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v uid=%d gid=%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode().IsRegular():
			body, err := os.ReadFile(p)
			require.NoError(t, err)
			desc += fmt.Sprintf(" links=%d body=%q mtime=%d", st.Nlink, body, fi.ModTime().Unix())
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			require.NoError(t, err)
			desc += " -> " + target
		case fi.Mode()&fs.ModeDevice != 0:
			desc += fmt.Sprintf(" rdev=%d", st.Rdev)
		case fi.IsDir():
			buf := make([]byte, 8)
			if n, err := unix.Lgetxattr(p, overlayOpaque, buf); err == nil {
				desc += " opaque=" + string(buf[:n])
			}
		}
		out[rel] = desc
		return nil
	}))
	return out
}

func TestExportImportRoundTrip(t *testing.T) {
	testutil.RequireRoot(t)
	base := testarchive.Layer(t,
		testarchive.File{Name: "bin/", Type: tar.TypeDir},
		testarchive.File{Name: "bin/tool", Body: "#!/bin/sh\necho hi\n", Mode: 0o4755},
		testarchive.File{Name: "bin/alias", Type: tar.TypeLink, Link: "bin/tool"},
		testarchive.File{Name: "bin/sh", Type: tar.TypeSymlink, Link: "tool"},
		testarchive.File{Name: "etc/", Type: tar.TypeDir},
		testarchive.File{Name: "etc/gone", Body: "gone"},
		testarchive.File{Name: "etc/keep", Body: "keep"},
		testarchive.File{Name: "data/", Type: tar.TypeDir},
		testarchive.File{Name: "data/old", Body: "old"},
	)
	top := testarchive.Layer(t,
		testarchive.File{Name: "etc/.wh.gone"},
		testarchive.File{Name: "data/", Type: tar.TypeDir},
		testarchive.File{Name: "data/.wh..wh..opq"},
		testarchive.File{Name: "data/new", Body: "new"},
	)
	img := testarchive.Image(t, "linux", "amd64", base, top)
	ctx := context.Background()
	src := newTestService(t, linuxHost(), nil)
	_, err := src.Import(ctx, bytes.NewReader(testarchive.OCI(t, func(p layout.Path) {
		require.NoError(t, p.AppendImage(img, testarchive.Named("example.com/app:1")))
	})), ImportOptions{})
	require.NoError(t, err)
	orig, err := src.Status(ctx, "example.com/app:1")
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, src.Export(ctx, []string{"example.com/app:1", orig.ID}, &out))
	exported := out.Bytes()

	// go-containerregistry reads it as a valid OCI image layout.
	lp, err := layout.FromPath(testarchive.Extract(t, exported))
	require.NoError(t, err)
	idx, err := lp.ImageIndex()
	require.NoError(t, err)
	// Fast: its layer check assumes gzip; the layers are checked below.
	require.NoError(t, validate.Index(idx, validate.Fast))
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 1, "one entry: the image named twice is exported once")
	entry := im.Manifests[0]
	assert.Equal(t, map[string]string{archive.AnnotationImageName: "example.com/app:1", ocispec.AnnotationRefName: "1"}, entry.Annotations)
	assert.Equal(t, &v1.Platform{OS: "linux", Architecture: "amd64"}, entry.Platform)
	exp, err := idx.Image(entry.Digest)
	require.NoError(t, err)
	layers, err := exp.Layers()
	require.NoError(t, err)
	cf, err := exp.ConfigFile()
	require.NoError(t, err)
	require.Len(t, layers, 2)
	for i, l := range layers {
		rc, err := l.Compressed()
		require.NoError(t, err)
		h, size, err := v1.SHA256(rc)
		rc.Close()
		require.NoError(t, err)
		d, err := l.Digest()
		require.NoError(t, err)
		assert.Equal(t, d, h, "layer %d blob digest", i)
		assert.Equal(t, d, cf.RootFS.DiffIDs[i], "an uncompressed layer is its own diff id")
		ls, err := l.Size()
		require.NoError(t, err)
		assert.Equal(t, ls, size)
		mt, err := l.MediaType()
		require.NoError(t, err)
		assert.EqualValues(t, ocispec.MediaTypeImageLayer, mt)
	}
	var docker []archive.DockerImage
	data, err := os.ReadFile(filepath.Join(testarchive.Extract(t, exported), "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &docker))
	require.Len(t, docker, 1)
	assert.Equal(t, []string{"example.com/app:1"}, docker[0].RepoTags)

	// Imported elsewhere, it has the same files, config and tag; its
	// digests are new (see Export).
	dst := newTestService(t, linuxHost(), nil)
	got, err := dst.Import(ctx, bytes.NewReader(exported), ImportOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	back, err := dst.Status(ctx, "example.com/app:1")
	require.NoError(t, err)
	assert.NotEqual(t, orig.ID, back.ID)
	assert.Equal(t, []string{"example.com/app:1", "example.com/app@" + entry.Digest.String()}, got[0].Names)
	assert.Equal(t, orig.Config.Config, back.Config.Config)
	assert.Equal(t, orig.Config.Platform, back.Config.Platform)
	require.Len(t, back.LayerPaths, len(orig.LayerPaths))
	for i := range orig.LayerPaths {
		assert.Equal(t, treeOf(t, orig.LayerPaths[i]), treeOf(t, back.LayerPaths[i]), "layer %d", i)
	}

	// Imported where it came from, the tag moves to the new id.
	_, err = src.Import(ctx, bytes.NewReader(exported), ImportOptions{})
	require.NoError(t, err)
	now, err := src.Status(ctx, "example.com/app:1")
	require.NoError(t, err)
	assert.Equal(t, back.ID, now.ID)
}

func TestExportErrors(t *testing.T) {
	testutil.RequireRoot(t)
	s := newTestService(t, linuxHost(), nil)
	ctx := context.Background()
	_, err := s.Import(ctx, bytes.NewReader(testarchive.Docker(t, map[string]v1.Image{
		"example.com/app:1": testarchive.Image(t, "linux", "amd64", testarchive.Layer(t, testarchive.File{Name: "x", Body: "x"})),
	})), ImportOptions{})
	require.NoError(t, err)
	tests := []struct {
		name    string
		refs    []string
		kind    func(error) bool
		wantErr string
	}{
		{"no image", nil, errdefs.IsInvalidArgument, "no image to export"},
		{"unknown image", []string{"example.com/app:1", "example.com/absent:1"}, errdefs.IsNotFound, `image "example.com/absent:1": not found`},
		{"bad reference", []string{"Not A Ref"}, errdefs.IsInvalidArgument, "invalid image reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := s.Export(ctx, tt.refs, &out)
			require.Error(t, err)
			assert.True(t, tt.kind(err), "wrong kind: %v", err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Zero(t, out.Len(), "nothing written")
		})
	}
}
