package image

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
)

// A pull counts the bytes it downloaded, its duration by the image's
// size class, and each layer's unpack; a second pull of the same image
// downloads nothing.
func TestPullMetrics(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	layers := []file{{name: "a", body: "aaaa"}, {name: "b", body: "bbbb"}}
	img := imageOf(t, "linux", "amd64", "", layerOf(t, layers[0]), layerOf(t, layers[1]))
	ref := reg.push(t, "metrics/app:1", img)
	ts := newTestService(t, linuxHost(), nil)
	promReg := prometheus.NewRegistry()
	m, err := newMetrics(promReg)
	require.NoError(t, err)
	ts.metrics = m

	_, err = ts.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
	ls, err := img.Layers()
	require.NoError(t, err)
	var compressed int64
	for _, l := range ls {
		n, err := l.Size()
		require.NoError(t, err)
		compressed += n
	}
	assert.Equal(t, float64(compressed), promtest.ToFloat64(m.pullBytes))
	assert.Equal(t, uint64(2), sampleCount(t, promReg, "wincri_image_unpack_duration_seconds"), "one unpack per layer")
	assert.Equal(t, uint64(1), sampleCount(t, promReg, "wincri_image_pull_duration_seconds"))

	_, err = ts.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
	assert.Equal(t, float64(compressed), promtest.ToFloat64(m.pullBytes), "nothing downloaded again")
}

// sampleCount is how many observations a histogram got, over its series.
func sampleCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

func TestSizeClass(t *testing.T) {
	for _, tt := range []struct {
		bytes int64
		want  string
	}{{0, sizeSmall}, {100<<20 - 1, sizeSmall}, {100 << 20, sizeMedium}, {1<<30 - 1, sizeMedium}, {1 << 30, sizeLarge}} {
		assert.Equal(t, tt.want, sizeClass(tt.bytes), "%d", tt.bytes)
	}
}
