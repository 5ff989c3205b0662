package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testarchive"
)

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(1024, 2)
	require.NoError(t, err)
	return img
}

func digestOf(t *testing.T, f func() (v1.Hash, error)) digest.Digest {
	t.Helper()
	h, err := f()
	require.NoError(t, err)
	return digest.Digest(h.String())
}

func TestReadOCILayout(t *testing.T) {
	img := randomImage(t)
	data := testarchive.OCI(t, func(p layout.Path) {
		require.NoError(t, p.AppendImage(img, testarchive.Named("example.com/app:1")))
	})
	c, err := Read(t.Context(), bytes.NewReader(data), t.TempDir())
	require.NoError(t, err)
	require.NotNil(t, c.Layout)
	assert.Equal(t, ocispec.ImageLayoutVersion, c.Layout.Version)
	require.NotNil(t, c.Index)
	require.Len(t, c.Index.Manifests, 1)
	m := c.Index.Manifests[0]
	assert.Equal(t, "example.com/app:1", m.Annotations[AnnotationImageName])
	assert.Equal(t, digestOf(t, img.Digest), m.Digest)
	assert.Equal(t, int64(len(data)), c.Bytes)

	for _, d := range []digest.Digest{m.Digest, digestOf(t, img.ConfigName)} {
		f, ok := c.Blob(d)
		require.True(t, ok, d)
		got, err := os.ReadFile(f.Path)
		require.NoError(t, err)
		assert.Equal(t, d, digest.FromBytes(got))
	}
	layers, err := img.Layers()
	require.NoError(t, err)
	for _, l := range layers {
		f, ok := c.Blob(digestOf(t, l.Digest))
		require.True(t, ok)
		size, err := l.Size()
		require.NoError(t, err)
		assert.Equal(t, size, f.Size)
	}
	_, ok := c.Blob(digest.FromString("absent"))
	assert.False(t, ok)
}

func TestReadDockerSave(t *testing.T) {
	img := randomImage(t)
	data := testarchive.Docker(t, map[string]v1.Image{"example.com/app:1": img, "example.com/app:2": img})
	c, err := Read(t.Context(), bytes.NewReader(data), t.TempDir())
	require.NoError(t, err)
	assert.Nil(t, c.Index)
	require.Len(t, c.Docker, 1, "one image under two tags")
	d := c.Docker[0]
	assert.ElementsMatch(t, []string{"example.com/app:1", "example.com/app:2"}, d.RepoTags)
	cfg, ok := c.File(d.Config)
	require.True(t, ok)
	assert.Equal(t, digestOf(t, img.ConfigName), cfg.Digest)
	require.Len(t, d.Layers, 2)
	for _, l := range d.Layers {
		_, ok := c.File(l)
		assert.True(t, ok, l)
	}
}

func TestReadCompressedAndLinked(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(hdr *tar.Header, body string) {
		hdr.Size = int64(len(body))
		require.NoError(t, tw.WriteHeader(hdr))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	write(&tar.Header{Typeflag: tar.TypeReg, Name: "./a/layer.tar", Mode: 0o644}, "layer")
	write(&tar.Header{Typeflag: tar.TypeSymlink, Name: "b/layer.tar", Linkname: "../a/layer.tar"}, "")
	write(&tar.Header{Typeflag: tar.TypeReg, Name: "manifest.json", Mode: 0o644}, `[{"Config":"c.json","RepoTags":["x:1"],"Layers":["b/layer.tar"]}]`)
	require.NoError(t, tw.Close())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(buf.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	c, err := Read(t.Context(), &gz, t.TempDir())
	require.NoError(t, err)
	f, ok := c.File("b/layer.tar")
	require.True(t, ok, "the symlink leads to the file")
	assert.Equal(t, "a/layer.tar", f.Name)
	assert.Equal(t, digest.FromString("layer"), f.Digest)
	f2, ok := c.Blob(digest.FromString("layer"))
	require.True(t, ok, "found by content digest")
	assert.Same(t, f, f2)
}

var errBroken = errors.New("connection broke")

type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errBroken
	}
	return n, err
}

func TestReadErrors(t *testing.T) {
	img := randomImage(t)
	good := testarchive.OCI(t, func(p layout.Path) { require.NoError(t, p.AppendImage(img)) })
	cfg := digestOf(t, img.ConfigName)
	tarOf := func(entries ...*tar.Header) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range entries {
			require.NoError(t, tw.WriteHeader(h))
		}
		require.NoError(t, tw.Close())
		return buf.Bytes()
	}
	tests := []struct {
		name    string
		input   io.Reader
		kind    func(error) bool
		wantErr string
	}{
		{"not a tar", strings.NewReader(strings.Repeat("hello, this is text\n", 100)), errdefs.IsInvalidArgument, "not a tar archive"},
		{"short garbage", strings.NewReader("hello"), errdefs.IsInvalidArgument, "not a tar archive"},
		{"empty", strings.NewReader(""), errdefs.IsInvalidArgument, "empty"},
		{"truncated", bytes.NewReader(good[:512+100]), errdefs.IsInvalidArgument, "truncated"},
		{"no index nor manifest", bytes.NewReader(testarchive.Rewrite(t, good, func(name string, data []byte) []byte {
			if name == IndexFile {
				return nil
			}
			return data
		})), errdefs.IsInvalidArgument, "neither an OCI index.json nor a docker manifest.json"},
		{"digest mismatch", bytes.NewReader(testarchive.Rewrite(t, good, func(name string, data []byte) []byte {
			if name == BlobName(cfg) {
				return append(data, ' ')
			}
			return data
		})), errdefs.IsDataLoss, "blob " + cfg.String() + " in the archive hashes to"},
		{"bad index", bytes.NewReader(testarchive.Rewrite(t, good, func(name string, data []byte) []byte {
			if name == IndexFile {
				return []byte("{")
			}
			return data
		})), errdefs.IsInvalidArgument, "index.json"},
		{"bad layout version", bytes.NewReader(testarchive.Rewrite(t, good, func(name string, data []byte) []byte {
			if name == LayoutFile {
				return []byte(`{"imageLayoutVersion":"9.9"}`)
			}
			return data
		})), errdefs.IsInvalidArgument, `image layout version "9.9"`},
		{"escaping path", bytes.NewReader(tarOf(&tar.Header{Typeflag: tar.TypeReg, Name: "../../etc/x"})), errdefs.IsInvalidArgument, "leaves the archive"},
		{"blob not named by a digest", bytes.NewReader(tarOf(&tar.Header{Typeflag: tar.TypeReg, Name: "blobs/sha256/nothex"})), errdefs.IsInvalidArgument, "not named by a digest"},
		{"stream error stays", &failingReader{bytes.NewReader(good[:len(good)/2])}, func(err error) bool { return errors.Is(err, errBroken) }, "connection broke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spool := t.TempDir()
			_, err := Read(t.Context(), tt.input, spool)
			require.Error(t, err)
			assert.True(t, tt.kind(err), "wrong kind: %v", err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	data := testarchive.OCI(t, func(p layout.Path) { require.NoError(t, p.AppendImage(randomImage(t))) })
	_, err := Read(ctx, bytes.NewReader(data), t.TempDir())
	assert.ErrorIs(t, err, context.Canceled)
}

// TestWriterRoundTrip writes an archive, reads it back, and has
// go-containerregistry validate it as an OCI image layout.
func TestWriterRoundTrip(t *testing.T) {
	img := randomImage(t)
	raw := func(f func() ([]byte, error)) []byte {
		b, err := f()
		require.NoError(t, err)
		return b
	}
	manifest, config := raw(img.RawManifest), raw(img.RawConfigFile)
	md := digest.FromBytes(manifest)
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(manifest)),
		Annotations: map[string]string{AnnotationImageName: "example.com/app:1", ocispec.AnnotationRefName: "1"},
	}}}
	idx.SchemaVersion = 2
	var out bytes.Buffer
	w := NewWriter(&out)
	require.NoError(t, w.WriteIndex(idx, []DockerImage{{Config: BlobName(digest.FromBytes(config)), RepoTags: []string{"example.com/app:1"}}}))
	require.NoError(t, w.WriteBlob(md, int64(len(manifest)), bytes.NewReader(manifest)))
	require.NoError(t, w.WriteBlob(digest.FromBytes(config), int64(len(config)), bytes.NewReader(config)))
	require.NoError(t, w.WriteBlob(md, int64(len(manifest)), strings.NewReader("not read again")))
	layers, err := img.Layers()
	require.NoError(t, err)
	for _, l := range layers {
		rc, err := l.Compressed()
		require.NoError(t, err)
		size, err := l.Size()
		require.NoError(t, err)
		require.NoError(t, w.WriteBlob(digestOf(t, l.Digest), size, rc))
		rc.Close()
	}
	require.NoError(t, w.Close())
	assert.Error(t, NewWriter(io.Discard).WriteBlob(digest.FromString("x"), 5, strings.NewReader("x")), "a short blob is refused")

	c, err := Read(t.Context(), bytes.NewReader(out.Bytes()), t.TempDir())
	require.NoError(t, err)
	require.NotNil(t, c.Index)
	assert.Equal(t, md, c.Index.Manifests[0].Digest)
	require.Len(t, c.Docker, 1)

	lp, err := layout.FromPath(testarchive.Extract(t, out.Bytes()))
	require.NoError(t, err)
	back, err := lp.Image(v1.Hash{Algorithm: "sha256", Hex: md.Encoded()})
	require.NoError(t, err)
	require.NoError(t, validate.Image(back))
}
