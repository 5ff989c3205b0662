//go:build !windows

package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
)

// benchLayer is a layer of files of 1 MiB each, half random and half
// text, which compresses about as well as real image layers do.
func benchLayer(b *testing.B, seed uint64, files int) (v1.Layer, int64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := make([]byte, 1<<20)
	for i := range files {
		for j := 0; j < len(body)/2; j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				body[j+k] = byte(v >> (8 * k))
			}
		}
		for j := len(body) / 2; j < len(body); j++ {
			body[j] = "wincri image service benchmark "[j%31]
		}
		require.NoError(b, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/lib/file-%d-%d", seed, i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(body)
		require.NoError(b, err)
	}
	require.NoError(b, tw.Close())
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching)
	require.NoError(b, err)
	return l, int64(len(data))
}

// BenchmarkPull pulls and unpacks a 4-layer image of about 200 MB
// (uncompressed) from a loopback registry into a fresh store each time.
// MB/s is uncompressed bytes unpacked per second, end to end.
func BenchmarkPull(b *testing.B) {
	testutil.RequireRoot(b)
	reg := startRegistry(b)
	var layers []v1.Layer
	var total, compressed int64
	for i := range 4 {
		l, n := benchLayer(b, uint64(i+1), 50)
		layers = append(layers, l)
		total += n
		size, err := l.Size()
		require.NoError(b, err)
		compressed += size
	}
	img := imageOf(b, "linux", "amd64", "", layers...)
	ref := reg.push(b, "bench/big:1", img)
	b.SetBytes(total)
	b.ResetTimer()
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		s := newTestService(b, linuxHost(), nil)
		b.StartTimer()
		start := time.Now()
		_, err := s.Pull(context.Background(), ref, PullOptions{})
		elapsed += time.Since(start)
		require.NoError(b, err)
	}
	b.ReportMetric(float64(compressed)/1e6/(elapsed.Seconds()/float64(b.N)), "compressed-MB/s")
	b.Logf("image: %d layers, %.0f MB uncompressed, %.0f MB compressed", len(layers), float64(total)/1e6, float64(compressed)/1e6)
}
