//go:build !windows

package image

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
)

// A pull unpacks each layer as it downloads it: a registry that serves a
// layer other than its digest, or breaks off, fails the pull with the
// right error and leaves no layer behind, and the next pull from a good
// registry succeeds; a good pull never stores the layer's blob.
func TestStreamedLayerVerification(t *testing.T) {
	testutil.RequireRoot(t)
	body := strings.Repeat("wincri streams ", 1<<14)
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "data", body: body}))
	layers, err := img.Layers()
	require.NoError(t, err)
	layerDigest, err := layers[0].Digest()
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		// mangle rewrites the layer blob as served.
		mangle  func(b []byte) []byte
		errIs   func(error) bool
		errText string
	}{
		{"a byte flipped in the compressed data", func(b []byte) []byte {
			b[len(b)/2] ^= 0xff
			return b
		}, errdefs.IsDataLoss, ""},
		{"the gzip trailer of another stream", func(b []byte) []byte {
			b[len(b)-5] ^= 0xff // the CRC
			return b
		}, errdefs.IsDataLoss, ""},
		{"a stream cut short", func(b []byte) []byte { return b[:len(b)/2] }, func(err error) bool {
			return errdefs.IsDataLoss(err) || errdefs.IsUnavailable(err)
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := startRegistry(t)
			ref := reg.push(t, "stream/app:1", img)
			reg.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, layerDigest.String()) {
					next.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				out := tc.mangle(rec.Body.Bytes())
				w.Header().Set("Content-Length", rec.Header().Get("Content-Length"))
				w.WriteHeader(rec.Code)
				_, _ = w.Write(out)
			}
			s := newTestService(t, linuxHost(), nil)
			_, err := s.Pull(context.Background(), ref, PullOptions{})
			require.Error(t, err)
			assert.True(t, tc.errIs(err), "error class: %v", err)
			assert.Empty(t, dirEntries(t, s.layers.root), "no layer is left")

			reg.wrap = nil
			_, err = s.Pull(context.Background(), ref, PullOptions{})
			require.NoError(t, err, "a good registry's pull goes through")
			assert.Len(t, dirEntries(t, s.layers.root), 1)
		})
	}

	t.Run("the blob is never stored", func(t *testing.T) {
		reg := startRegistry(t)
		ref := reg.push(t, "stream/app:1", img)
		s := newTestService(t, linuxHost(), nil)
		// A content store that cannot take a blob fails a pull that
		// would store one.
		blobs := filepath.Join(s.content.root, "blobs")
		require.NoError(t, os.RemoveAll(blobs))
		require.NoError(t, os.WriteFile(blobs, nil, 0o400))
		_, err := s.Pull(context.Background(), ref, PullOptions{})
		require.NoError(t, err)
		assert.Equal(t, 1, reg.blobGetsOf(layerDigest.String()), "downloaded once")
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		diffIDs := make([]digest.Digest, len(cf.RootFS.DiffIDs))
		for i, d := range cf.RootFS.DiffIDs {
			diffIDs[i] = digest.Digest(d.String())
		}
		data, err := os.ReadFile(filepath.Join(s.layers.dir(chainIDs(diffIDs)[0]), "data"))
		require.NoError(t, err)
		assert.True(t, bytes.Equal([]byte(body), data))
	})
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
