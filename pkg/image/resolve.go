package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
)

// resolved is an image manifest chosen for this host, with its config.
type resolved struct {
	endpoint endpoint
	// top is the digest the reference pointed at: an index or a manifest.
	top            digest.Digest
	manifestDigest digest.Digest
	config         ocispec.Image
	configDigest   digest.Digest
	configSize     int64
	// offered are the platforms of the index, nil for a single manifest.
	offered []ocispec.Platform
	layers  []ocispec.Descriptor
	// source puts layer blobs into the content store: the registry
	// endpoints that served the manifest, or an archive.
	source blobSource
}

// chainIDs are the chain ids of the image's layers, base first.
func (r *resolved) chainIDs() []string { return chainIDs(r.config.RootFS.DiffIDs) }

// image is the record of the resolved image, without its names; its
// Size is the config's until record adds the layers'.
func (r *resolved) image() *Image {
	return &Image{
		ID:             r.configDigest.String(),
		ManifestDigest: r.manifestDigest.String(),
		Offered:        r.offered,
		Config:         r.config,
		ChainIDs:       r.chainIDs(),
		Size:           r.configSize,
		Pulled:         time.Now(),
	}
}

// resolve finds the image at the reference's mirrors in order, then at
// its registry. A mirror's failure only moves on to the next endpoint;
// the registry's own error is the one returned.
func (s *Service) resolve(ctx context.Context, ref Reference, opts PullOptions) (*resolved, error) {
	log := klog.FromContext(ctx)
	endpoints := s.registry.endpoints(ref)
	for i, e := range endpoints {
		r, err := s.resolveAt(ctx, ref, e, opts)
		if err == nil {
			// Blobs come from the endpoint that served the manifest, and
			// from the others when it fails: they are verified by digest,
			// so any source is as good.
			order := append([]endpoint{e}, endpoints[i+1:]...)
			order = append(order, endpoints[:i]...)
			r.source = registrySource{open: s.blobFetcher(ref, order, opts)}
			return r, nil
		}
		if !e.mirror || ctx.Err() != nil {
			return nil, err
		}
		log.V(2).Info("Mirror failed, trying the next endpoint", logkeys.ImageRef, ref.String(), "mirror", e.host, "err", err)
	}
	return nil, fmt.Errorf("no endpoint for %s: %w", ref, errdefs.ErrNotFound)
}

func (s *Service) resolveAt(ctx context.Context, ref Reference, e endpoint, opts PullOptions) (*resolved, error) {
	nref, err := nameFor(ref, e)
	if err != nil {
		return nil, fmt.Errorf("image %s at %s: %v: %w", ref, e, err, errdefs.ErrInvalidArgument)
	}
	ropts := s.registry.options(ctx, e, opts.Auth)
	desc, err := remote.Get(nref, ropts...)
	if err != nil {
		return nil, registryError(e, err)
	}
	r := &resolved{endpoint: e, top: digest.Digest(desc.Digest.String())}
	var img v1.Image
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, registryError(e, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, registryError(e, err)
		}
		chosen, err := r.chooseManifest(s.host, opts.Target, opts.Handlers, ociDescriptors(im.Manifests))
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		h, err := v1.NewHash(chosen.Digest.String())
		if err != nil {
			return nil, fmt.Errorf("image %s: %v: %w", ref, err, errdefs.ErrInvalidArgument)
		}
		if img, err = idx.Image(h); err != nil {
			return nil, registryError(e, err)
		}
	case desc.MediaType.IsImage():
		if img, err = desc.Image(); err != nil {
			return nil, registryError(e, err)
		}
	default:
		return nil, fmt.Errorf("image %s: unsupported manifest media type %q: %w", ref, desc.MediaType, errdefs.ErrNotImplemented)
	}
	if err := r.readImage(img); err != nil {
		return nil, fmt.Errorf("image %s at %s: %w", ref, e, err)
	}
	if err := r.checkPlatform(s.host, opts.Target, opts.Handlers); err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	return r, nil
}

// chooseManifest picks the manifest of an index that suits the host and
// the target, and keeps the index's platforms.
func (r *resolved) chooseManifest(h Host, t Target, handlers []Target, manifests []ocispec.Descriptor) (ocispec.Descriptor, error) {
	for _, d := range manifests {
		if d.Platform != nil {
			r.offered = append(r.offered, *d.Platform)
		}
	}
	return SelectManifest(h, t, handlers, manifests)
}

// checkPlatform applies the rules of an index to the chosen image's
// config, which for a single manifest is all there is to go by.
func (r *resolved) checkPlatform(h Host, t Target, handlers []Target) error {
	if r.config.OS == "" {
		return nil
	}
	return CheckConfigPlatform(h, t, handlers, &r.config)
}

// blobFetcher opens a layer blob from the first endpoint that serves it.
func (s *Service) blobFetcher(ref Reference, endpoints []endpoint, opts PullOptions) func(context.Context, digest.Digest) (io.ReadCloser, error) {
	return func(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
		var first error
		for _, e := range endpoints {
			rc, err := s.openBlob(ctx, ref, e, d, opts)
			if err == nil {
				return rc, nil
			}
			if ctx.Err() != nil {
				return nil, err
			}
			if first == nil {
				first = err
			}
			klog.FromContext(ctx).V(2).Info("Blob download failed, trying the next endpoint", "blob", d, "endpoint", e.String(), "err", err)
		}
		return nil, first
	}
}

func (s *Service) openBlob(ctx context.Context, ref Reference, e endpoint, d digest.Digest, opts PullOptions) (io.ReadCloser, error) {
	nref, err := nameFor(ref, e)
	if err != nil {
		return nil, fmt.Errorf("image %s at %s: %v: %w", ref, e, err, errdefs.ErrInvalidArgument)
	}
	l, err := remote.Layer(nref.Context().Digest(d.String()), s.registry.options(ctx, e, opts.Auth)...)
	if err != nil {
		return nil, registryError(e, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, registryError(e, err)
	}
	return rc, nil
}

// readImage reads the manifest and config of a registry's image.
func (r *resolved) readImage(img v1.Image) error {
	md, err := img.Digest()
	if err != nil {
		return registryError(r.endpoint, err)
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return registryError(r.endpoint, err)
	}
	return r.parseImage(digest.Digest(md.String()), manifest, func(ocispec.Descriptor) ([]byte, error) {
		raw, err := img.RawConfigFile()
		return raw, registryError(r.endpoint, err)
	})
}

// parseImage reads a manifest and the config it names, which readConfig
// returns, and checks that they agree: the config's digest, one diff id
// per layer, valid layer digests. A pull and an import parse alike.
func (r *resolved) parseImage(manifestDigest digest.Digest, manifest []byte, readConfig func(ocispec.Descriptor) ([]byte, error)) error {
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("image manifest: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if err := m.Config.Digest.Validate(); err != nil {
		return fmt.Errorf("config digest %q: %v: %w", m.Config.Digest, err, errdefs.ErrInvalidArgument)
	}
	raw, err := readConfig(m.Config)
	if err != nil {
		return err
	}
	r.manifestDigest = manifestDigest
	r.configDigest = m.Config.Digest
	r.configSize = int64(len(raw))
	if got := r.configDigest.Algorithm().FromBytes(raw); got != r.configDigest {
		return fmt.Errorf("config hashes to %s, manifest says %s: %w", got, r.configDigest, errdefs.ErrDataLoss)
	}
	if err := json.Unmarshal(raw, &r.config); err != nil {
		return fmt.Errorf("image config: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	for _, l := range m.Layers {
		r.layers = append(r.layers, ocispec.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size})
	}
	if n := len(r.config.RootFS.DiffIDs); n != len(r.layers) {
		return fmt.Errorf("config lists %d layers, manifest %d: %w", n, len(r.layers), errdefs.ErrInvalidArgument)
	}
	for _, l := range r.layers {
		if err := l.Digest.Validate(); err != nil {
			return fmt.Errorf("layer digest %q: %v: %w", l.Digest, err, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

func ociDescriptors(in []v1.Descriptor) []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, 0, len(in))
	for _, d := range in {
		o := ocispec.Descriptor{MediaType: string(d.MediaType), Digest: digest.Digest(d.Digest.String()), Size: d.Size, Annotations: d.Annotations}
		if p := d.Platform; p != nil {
			o.Platform = &ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures}
		}
		out = append(out, o)
	}
	return out
}
