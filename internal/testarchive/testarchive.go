// Package testarchive builds image archives for tests, with
// go-containerregistry: OCI image layouts as crane and `ctr images
// export` write them, and docker save tarballs.
package testarchive

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/require"
)

// ImageNameAnnotation is containerd's full image name on an index entry.
const ImageNameAnnotation = "io.containerd.image.name"

// File is one entry of a test layer.
type File struct {
	Name, Body string
	// Type is a tar type flag; 0 is a regular file.
	Type byte
	// Link is the target of a symlink or hard link.
	Link string
	// Mode is the permission bits; 0 is 0644 (0755 for a directory).
	Mode int64
}

// Layer is a gzip-compressed layer of files.
func Layer(t testing.TB, files ...File) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: f.Name, Typeflag: typ, Mode: 0o644, Linkname: f.Link, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if f.Mode != 0 {
			hdr.Mode = f.Mode
		}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(f.Body))
		}
		require.NoError(t, tw.WriteHeader(hdr))
		_, err := tw.Write([]byte(f.Body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	require.NoError(t, err)
	return l
}

// Image is an image of the layers for os/arch, running /bin/sh as user
// 1234.
func Image(t testing.TB, os, arch string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = os, arch
	cf.Config.User = "1234"
	cf.Config.Entrypoint = []string{"/bin/sh"}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// Index is a multi-platform index of the images, each under its config's
// platform.
func Index(t testing.TB, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, OSVersion: cf.OSVersion}},
		})
	}
	return idx
}

// Named is the options that give an index.json entry containerd's name
// and the tag as its OCI ref name.
func Named(ref string) layout.Option {
	r, err := name.ParseReference(ref)
	if err != nil {
		panic(err)
	}
	return layout.WithAnnotations(map[string]string{ImageNameAnnotation: ref, "org.opencontainers.image.ref.name": r.Identifier()})
}

// OCI is an OCI image layout archive: fill appends images and indexes to
// an empty layout, which is then archived with its entries in name
// order, as containerd writes them (blobs before index.json).
func OCI(t testing.TB, fill func(p layout.Path)) []byte {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	require.NoError(t, err)
	fill(p)
	return TarDir(t, dir)
}

// Docker is a docker save archive of the images under their references.
func Docker(t testing.TB, refs map[string]v1.Image) []byte {
	t.Helper()
	m := map[name.Reference]v1.Image{}
	for ref, img := range refs {
		r, err := name.ParseReference(ref)
		require.NoError(t, err)
		m[r] = img
	}
	var buf bytes.Buffer
	require.NoError(t, tarball.MultiRefWrite(m, &buf))
	return buf.Bytes()
}

// TarDir archives the files under dir, in name order.
func TarDir(t testing.TB, dir string) []byte {
	t.Helper()
	var paths []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	}))
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		rel, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data))}))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// Rewrite copies an archive, passing each regular file's content
// through edit (which may return nil to drop the entry).
func Rewrite(t testing.TB, archive []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		if hdr.Typeflag == tar.TypeReg {
			if data = edit(hdr.Name, data); data == nil {
				continue
			}
			hdr.Size = int64(len(data))
		}
		require.NoError(t, tw.WriteHeader(hdr))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// Extract unpacks an archive's regular files and directories into a new
// directory, for go-containerregistry's layout reader.
func Extract(t testing.TB, archive []byte) string {
	t.Helper()
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		require.NoError(t, err)
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, 0o755))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, data, 0o644))
		}
	}
}
