//go:build linux

package wine

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/require"
)

// registry is an in-memory OCI registry on 127.0.0.1; wincri pulls from
// loopback registries over plain HTTP without configuration.
type registry struct{ host string }

func startRegistry(t *testing.T) *registry {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &registry{host: strings.TrimPrefix(srv.URL, "http://")}
}

// windowsImage is a Windows image for build (10.0.BUILD.1) whose
// config names the build in a label, so a pull's choice can be read back
// with crictl inspecti. With layered, it has one layer laid out as a
// Windows layer is (Files/, Hives/).
func windowsImage(t *testing.T, build string, layered bool) v1.Image {
	t.Helper()
	img := empty.Image
	if layered {
		var err error
		img, err = mutate.AppendLayers(img, windowsLayer(t))
		require.NoError(t, err)
	}
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.OSVersion = "windows", "amd64", "10.0."+build+".1"
	cf.Config.Entrypoint = []string{`C:\pause.exe`}
	cf.Config.Labels = map[string]string{"test.build": build}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

func windowsLayer(t *testing.T) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mod := time.Unix(1700000000, 0)
	for _, h := range []*tar.Header{
		{Name: "Files/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mod},
		{Name: "Files/hello.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5, ModTime: mod},
		{Name: "Hives/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mod},
	} {
		require.NoError(t, tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write([]byte("hello"))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	require.NoError(t, err)
	return l
}

// pushIndex pushes a multi-platform index of Windows images, one per
// build, and returns its reference.
func (r *registry) pushIndex(t *testing.T, repoTag string, layered bool, builds ...string) string {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	for _, b := range builds {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: windowsImage(t, b, layered),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{
				OS: "windows", Architecture: "amd64", OSVersion: "10.0." + b + ".1",
			}},
		})
	}
	ref, err := name.ParseReference(r.host+"/"+repoTag, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref, idx, remote.WithTransport(http.DefaultTransport)))
	return ref.String()
}
