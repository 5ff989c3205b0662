package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// randomSpec is an image of incompressible content for the pull bench:
// Size bytes of file data spread over Layers layers, each layer one file.
// The content is a function of the name, so both runtimes of one bench
// run, and every run, get the same blobs, and two names never share one.
type randomSpec struct {
	Name   string // upstream name, host/path:tag under a mirrored host
	Size   int64
	Layers int
}

// parseRandomSpec reads NAME=SIZE/LAYERS, SIZE in bytes or with a KiB,
// MiB or GiB suffix: "wincri.invalid/bench/big:1=200MiB/8".
func parseRandomSpec(s string) (randomSpec, error) {
	name, rest, ok := strings.Cut(s, "=")
	size, layers, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || name == "" {
		return randomSpec{}, fmt.Errorf("random image %q: want NAME=SIZE/LAYERS", s)
	}
	if _, _, err := localRef(name); err != nil {
		return randomSpec{}, err
	}
	n, err := parseSize(size)
	if err != nil {
		return randomSpec{}, fmt.Errorf("random image %q: %w", s, err)
	}
	l, err := strconv.Atoi(layers)
	if err != nil || l < 1 || int64(l) > n {
		return randomSpec{}, fmt.Errorf("random image %q: layers must be between 1 and the size in bytes", s)
	}
	return randomSpec{Name: name, Size: n, Layers: l}, nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// buildRandom makes the image of spec: OCI media types, gzip layers
// (the fastest level: random data does not compress anyway), built in
// parallel.
func buildRandom(spec randomSpec) (built, error) {
	layers := make([]layerInput, spec.Layers)
	errs := make([]error, spec.Layers)
	per := spec.Size / int64(spec.Layers)
	var wg sync.WaitGroup
	for i := range spec.Layers {
		n := per
		if i == spec.Layers-1 {
			n = spec.Size - per*int64(spec.Layers-1)
		}
		wg.Go(func() {
			layers[i].createdBy = fmt.Sprintf("testimages: %d random bytes", n)
			layers[i].layer, errs[i] = randomLayer(spec.Name, i, n)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return built{}, fmt.Errorf("%s: %w", spec.Name, err)
		}
	}
	cfg := &v1.ConfigFile{Architecture: "amd64", OS: "linux", Config: v1.Config{Env: []string{defaultPath}}}
	img, err := assemble(cfg, true, layers)
	if err != nil {
		return built{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	return built{spec: imageSpec{names: []string{spec.Name}, oci: true}, img: img}, nil
}

// randomLayer is layer i of the image name: one file of n bytes seeded
// by both.
func randomLayer(name string, i int, n int64) (v1.Layer, error) {
	seed := sha256.Sum256([]byte(name + "\x00" + strconv.Itoa(i)))
	rng := rand.New(rand.NewChaCha8(seed))
	data := make([]byte, n)
	for j := 0; j < len(data); j += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(data[j:], w[:])
	}
	t := newTree()
	if err := t.file(fmt.Sprintf("random/layer-%d", i), 0o644, data); err != nil {
		return nil, err
	}
	raw, err := t.tar()
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	// Compress here, on this layer's goroutine, not later on the push's.
	if _, err := layer.Digest(); err != nil {
		return nil, err
	}
	return layer, nil
}
