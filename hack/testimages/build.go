package main

import (
	"bytes"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// built is an image ready to push: exactly one of img and idx is set.
type built struct {
	spec imageSpec
	img  v1.Image
	idx  v1.ImageIndex
}

// builder makes images on top of one shared busybox layer, so that the
// registry holds that layer once.
type builder struct {
	base []byte // uncompressed tar of the busybox file system
	// baseLayers caches the compressed busybox layer per media type.
	baseLayers map[types.MediaType]v1.Layer
	// decoy is the Windows entry of every index. Its layer is a marker
	// file: a runtime that picks it by mistake fails loudly.
	decoy func(oci bool) (v1.Image, error)
}

func newBuilder(bb *busybox) (*builder, error) {
	t, err := bb.baseTree()
	if err != nil {
		return nil, fmt.Errorf("busybox layer: %w", err)
	}
	base, err := t.tar()
	if err != nil {
		return nil, err
	}
	b := &builder{base: base, baseLayers: map[types.MediaType]v1.Layer{}}
	b.decoy = func(oci bool) (v1.Image, error) {
		t := newTree()
		if err := t.file("Files/windows-decoy.txt", 0o644, []byte("not a Linux image\n")); err != nil {
			return nil, err
		}
		cfg := &v1.ConfigFile{
			Architecture: "amd64",
			OS:           "windows",
			OSVersion:    "10.0.20348.2849",
			Config:       v1.Config{Cmd: []string{"cmd", "/S", "/C", "exit 1"}},
		}
		raw, err := t.tar()
		if err != nil {
			return nil, err
		}
		layer, err := newLayer(raw, layerType(oci))
		if err != nil {
			return nil, err
		}
		return assemble(cfg, oci, []layerInput{{layer: layer, createdBy: "testimages: windows decoy"}})
	}
	return b, nil
}

type layerInput struct {
	layer     v1.Layer
	createdBy string
}

func layerType(oci bool) types.MediaType {
	if oci {
		return types.OCILayer
	}
	return types.DockerLayer
}

// newLayer makes a gzip-compressed layer of an uncompressed tar.
func newLayer(raw []byte, mt types.MediaType) (v1.Layer, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithMediaType(mt), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return layer, nil
}

func (b *builder) baseLayer(mt types.MediaType) (v1.Layer, error) {
	if l, ok := b.baseLayers[mt]; ok {
		return l, nil
	}
	l, err := newLayer(b.base, mt)
	if err != nil {
		return nil, err
	}
	b.baseLayers[mt] = l
	return l, nil
}

func (b *builder) build(spec imageSpec) (built, error) {
	if len(spec.names) == 0 {
		return built{}, fmt.Errorf("image spec without a name")
	}
	mt := layerType(spec.oci)
	base, err := b.baseLayer(mt)
	if err != nil {
		return built{}, err
	}
	layers := []layerInput{{layer: base, createdBy: "testimages: busybox with hard-linked applets"}}
	if spec.files != nil {
		t := newTree()
		if err := spec.files(t); err != nil {
			return built{}, fmt.Errorf("%s: files: %w", spec.names[0], err)
		}
		raw, err := t.tar()
		if err != nil {
			return built{}, err
		}
		own, err := newLayer(raw, mt)
		if err != nil {
			return built{}, err
		}
		layers = append(layers, layerInput{layer: own, createdBy: "testimages: files of " + spec.names[0]})
	}
	config := spec.config
	if len(config.Env) == 0 {
		config.Env = []string{defaultPath}
	}
	cfg := &v1.ConfigFile{Architecture: "amd64", OS: "linux", Config: config}
	img, err := assemble(cfg, spec.oci, layers)
	if err != nil {
		return built{}, fmt.Errorf("%s: %w", spec.names[0], err)
	}
	if !spec.index {
		return built{spec: spec, img: img}, nil
	}
	decoy, err := b.decoy(spec.oci)
	if err != nil {
		return built{}, fmt.Errorf("windows decoy: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	if spec.oci {
		idx = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	}
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: decoy, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: cfgOSVersion(decoy)}}},
	)
	return built{spec: spec, idx: idx}, nil
}

func cfgOSVersion(img v1.Image) string {
	cf, err := img.ConfigFile()
	if err != nil {
		return ""
	}
	return cf.OSVersion
}

// assemble makes an image of cfg and layers with fixed time stamps.
func assemble(cfg *v1.ConfigFile, oci bool, layers []layerInput) (v1.Image, error) {
	cfg.Created = v1.Time{Time: epoch}
	cfg.RootFS = v1.RootFS{Type: "layers"}
	img := empty.Image
	if oci {
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	}
	img, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	for _, in := range layers {
		mt, err := in.layer.MediaType()
		if err != nil {
			return nil, fmt.Errorf("layer media type: %w", err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     in.layer,
			MediaType: mt,
			History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: in.createdBy},
		})
		if err != nil {
			return nil, fmt.Errorf("appending layer: %w", err)
		}
	}
	return img, nil
}
