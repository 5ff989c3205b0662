//go:build !windows

package image

import (
	"bytes"
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testarchive"
	"github.com/wincri/wincri/internal/testutil"
)

// BenchmarkImport imports an OCI image layout archive of a 4-layer image
// of about 8 MB uncompressed (blobs first, as containerd writes them)
// into a fresh store each time: read, spool, verify, unpack, record.
// MB/s is archive bytes per second, end to end.
func BenchmarkImport(b *testing.B) {
	testutil.RequireRoot(b)
	var layers []v1.Layer
	var total int64
	for i := range 4 {
		l, n := benchLayer(b, uint64(i+1), 2)
		layers = append(layers, l)
		total += n
	}
	img := imageOf(b, "linux", "amd64", "", layers...)
	data := testarchive.OCI(b, func(p layout.Path) {
		require.NoError(b, p.AppendImage(img, testarchive.Named("example.com/bench:1")))
	})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := newTestService(b, linuxHost(), nil)
		b.StartTimer()
		_, err := s.Import(context.Background(), bytes.NewReader(data), ImportOptions{})
		require.NoError(b, err)
	}
	b.StopTimer()
	b.Logf("archive: %d layers, %.1f MB uncompressed, %.1f MB archived", len(layers), float64(total)/1e6, float64(len(data))/1e6)
}
