package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"
)

func TestParseRandomSpec(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    randomSpec
		wantErr string
	}{
		{in: "wincri.invalid/bench/big:1=200MiB/8", want: randomSpec{Name: "wincri.invalid/bench/big:1", Size: 200 << 20, Layers: 8}},
		{in: "wincri.invalid/b:1=4096/1", want: randomSpec{Name: "wincri.invalid/b:1", Size: 4096, Layers: 1}},
		{in: "wincri.invalid/b:1=2GiB/3", want: randomSpec{Name: "wincri.invalid/b:1", Size: 2 << 30, Layers: 3}},
		{in: "wincri.invalid/b:1=1KiB", wantErr: "want NAME=SIZE/LAYERS"},
		{in: "=1KiB/1", wantErr: "want NAME=SIZE/LAYERS"},
		{in: "bench/b:1=1KiB/1", wantErr: "does not start with a registry host"},
		{in: "wincri.invalid/b:1=1TB/1", wantErr: "want a positive number"},
		{in: "wincri.invalid/b:1=0/1", wantErr: "want a positive number"},
		{in: "wincri.invalid/b:1=4/5", wantErr: "layers must be between"},
		{in: "wincri.invalid/b:1=4/0", wantErr: "layers must be between"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRandomSpec(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestRandomImage: the layers hold the asked size between them, the same
// name gives the same digests, and another name shares no layer.
func TestRandomImage(t *testing.T) {
	build := func(n string) built {
		b, err := buildRandom(randomSpec{Name: n, Size: 3<<20 + 5, Layers: 3})
		require.NoError(t, err)
		return b
	}
	a, again, other := build("wincri.invalid/r/a:1"), build("wincri.invalid/r/a:1"), build("wincri.invalid/r/b:1")
	digests := func(b built) []string {
		layers, err := b.img.Layers()
		require.NoError(t, err)
		var out []string
		var compressed int64
		for _, l := range layers {
			d, err := l.Digest()
			require.NoError(t, err)
			size, err := l.Size()
			require.NoError(t, err)
			compressed += size
			out = append(out, d.String())
		}
		// Incompressible: gzip adds a little instead of saving.
		assert.GreaterOrEqual(t, compressed, int64(3<<20+5))
		return out
	}
	assert.Equal(t, digests(a), digests(again))
	assert.Len(t, digests(a), 3)
	for _, d := range digests(other) {
		assert.NotContains(t, digests(a), d)
	}
}

// TestServedBytes: the registry counts the blob bytes it serves.
func TestServedBytes(t *testing.T) {
	ctx := klog.NewContext(context.Background(), klog.Background())
	img, err := buildRandom(randomSpec{Name: "wincri.invalid/r/c:1", Size: 1 << 20, Layers: 2})
	require.NoError(t, err)
	srv, err := startRegistry(ctx, "127.0.0.1:0", nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.stop(context.Background())) })
	require.NoError(t, srv.push(ctx, []built{img}))

	served := func() int64 {
		resp, err := http.Get("http://" + srv.addr + servedPath)
		require.NoError(t, err)
		defer resp.Body.Close()
		var v struct {
			BlobBytes int64 `json:"blob_bytes"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return v.BlobBytes
	}
	before := served()
	ref, err := name.ParseReference(srv.addr+"/r/c:1", name.Insecure)
	require.NoError(t, err)
	pulled, err := remote.Image(ref)
	require.NoError(t, err)
	layers, err := pulled.Layers()
	require.NoError(t, err)
	var want int64
	for _, l := range layers {
		rc, err := l.Compressed()
		require.NoError(t, err)
		n, err := io.Copy(io.Discard, rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		want += n
	}
	cfg, err := pulled.RawConfigFile()
	require.NoError(t, err)
	want += int64(len(cfg))
	assert.Equal(t, want, served()-before)
}
