package image

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/image/archive"
	"github.com/wincri/wincri/pkg/store"
)

// Export writes the images that refs name (references or ids) to w as an
// OCI image layout archive, with the io.containerd.image.name and
// org.opencontainers.image.ref.name annotations of `ctr images export`
// and a docker manifest.json, which Import, `ctr images import` and
// `docker load` read.
//
// The registry's blobs cannot be reproduced: wincri keeps no compressed
// layers (a pull deletes each layer's blob once it is unpacked, see
// ensureLayer and removeUnpackedBlobs) and keeps the config only
// parsed. Keeping the blobs beside the unpacked layers would double the
// disk that multi-GB Windows base layers take, which is what nodes
// import images to avoid. So Export writes each layer afresh, as an
// uncompressed tar of its unpacked directory, and a config and manifest
// for those layers: the file systems, config and tags are the image's,
// but the layer, config and manifest digests are new, and with them the
// image id. Errors: ErrInvalidArgument without refs, ErrNotFound for an
// image that is not present (before anything is written),
// ErrFailedPrecondition for an image whose layers are gone.
func (s *Service) Export(ctx context.Context, refs []string, w io.Writer) error {
	start := time.Now()
	if len(refs) == 0 {
		return fmt.Errorf("no image to export: %w", errdefs.ErrInvalidArgument)
	}
	var imgs []*Image
	for _, ref := range refs {
		img, err := s.Status(ctx, ref)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(imgs, func(o *Image) bool { return o.ID == img.ID }) {
			imgs = append(imgs, img)
		}
	}
	var chain []string
	for _, img := range imgs {
		chain = append(chain, img.ChainIDs...)
	}
	// The lease keeps the layers from a Remove's collection while they
	// are read; one that came between Status and here is caught below.
	s.layers.lease(chain...)
	defer s.layers.unlease(chain...)
	if err := s.checkLayersPresent(imgs); err != nil {
		return err
	}
	spool, err := os.MkdirTemp(s.content.ingestDir(), "export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)

	e := &exporter{s: s, spool: spool, layers: map[string]*exportBlob{}}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	var docker []archive.DockerImage
	var blobs []*exportBlob
	for _, img := range imgs {
		x, err := e.image(ctx, img)
		if err != nil {
			return fmt.Errorf("exporting image %s: %w", img.ID, err)
		}
		idx.Manifests = append(idx.Manifests, x.indexEntries(img)...)
		docker = append(docker, x.dockerEntry(img))
		blobs = append(blobs, x.config, x.manifest)
		blobs = append(blobs, x.layers...)
	}
	aw := archive.NewWriter(w)
	if err := aw.WriteIndex(idx, docker); err != nil {
		return err
	}
	for _, b := range blobs {
		if err := b.writeTo(aw); err != nil {
			return err
		}
	}
	if err := aw.Close(); err != nil {
		return err
	}
	klog.FromContext(ctx).Info("Exported images", "images", refs, "layers", len(e.layers), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// checkLayersPresent fails for an image whose layers were removed.
func (s *Service) checkLayersPresent(imgs []*Image) error {
	return s.store.View(func(tx *store.Tx) error {
		for _, img := range imgs {
			for _, c := range img.ChainIDs {
				var l layerRecord
				if err := tx.Get(bucketLayers, c, &l); err != nil {
					return fmt.Errorf("image %s: layer %s is not present (was the image removed?): %v: %w", img.ID, c, err, errdefs.ErrFailedPrecondition)
				}
			}
		}
		return nil
	})
}

// exportBlob is a blob of the archive being written: small ones in
// memory, layers spooled to disk.
type exportBlob struct {
	desc ocispec.Descriptor
	data []byte
	path string
}

func (b *exportBlob) writeTo(aw *archive.Writer) error {
	if b.path == "" {
		return aw.WriteBlob(b.desc.Digest, b.desc.Size, bytes.NewReader(b.data))
	}
	f, err := os.Open(b.path)
	if err != nil {
		return err
	}
	defer f.Close()
	return aw.WriteBlob(b.desc.Digest, b.desc.Size, f)
}

func jsonBlob(mediaType string, v any) (*exportBlob, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &exportBlob{desc: ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}, data: data}, nil
}

// exporter writes the layers of one export, each once.
type exporter struct {
	s     *Service
	spool string
	// layers are the layer blobs by chain id.
	layers map[string]*exportBlob
}

// exportedImage is an image as the archive holds it.
type exportedImage struct {
	config, manifest *exportBlob
	layers           []*exportBlob
}

func (e *exporter) image(ctx context.Context, img *Image) (*exportedImage, error) {
	x := &exportedImage{}
	cfg := img.Config
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: make([]digest.Digest, 0, len(img.ChainIDs))}
	for i, chainID := range img.ChainIDs {
		b, err := e.layer(ctx, chainID, e.s.layers.paths(img.ChainIDs[:i]))
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		x.layers = append(x.layers, b)
		// Uncompressed, the blob is its own diff id.
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, b.desc.Digest)
	}
	var err error
	if x.config, err = jsonBlob(ocispec.MediaTypeImageConfig, cfg); err != nil {
		return nil, err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    x.config.desc,
	}
	for _, l := range x.layers {
		m.Layers = append(m.Layers, l.desc)
	}
	if x.manifest, err = jsonBlob(ocispec.MediaTypeImageManifest, m); err != nil {
		return nil, err
	}
	return x, nil
}

// layer spools the tar of one unpacked layer, hashing it on the way.
func (e *exporter) layer(ctx context.Context, chainID string, parents []string) (*exportBlob, error) {
	if b := e.layers[chainID]; b != nil {
		return b, nil
	}
	f, err := os.CreateTemp(e.spool, "layer-")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := digest.Canonical.Digester()
	cw := &countingWriter{w: io.MultiWriter(f, h.Hash())}
	bw := bufio.NewWriterSize(cw, 1<<20)
	if err := exportLayer(ctx, e.s.layers.dir(chainID), parents, bw); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	b := &exportBlob{desc: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: h.Digest(), Size: cw.n}, path: f.Name()}
	e.layers[chainID] = b
	return b, f.Close()
}

// indexEntries are the image's index.json entries: one per tag, named as
// containerd names them, or one without a name for an untagged image.
func (x *exportedImage) indexEntries(img *Image) []ocispec.Descriptor {
	p := img.Config.Platform
	desc := x.manifest.desc
	desc.Platform = &ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures}
	if len(img.RepoTags) == 0 {
		return []ocispec.Descriptor{desc}
	}
	out := make([]ocispec.Descriptor, 0, len(img.RepoTags))
	for _, tag := range img.RepoTags {
		d := desc
		d.Annotations = map[string]string{archive.AnnotationImageName: tag, ocispec.AnnotationRefName: tagOf(tag)}
		out = append(out, d)
	}
	return out
}

func (x *exportedImage) dockerEntry(img *Image) archive.DockerImage {
	d := archive.DockerImage{Config: archive.BlobName(x.config.desc.Digest), RepoTags: img.RepoTags}
	for _, l := range x.layers {
		d.Layers = append(d.Layers, archive.BlobName(l.desc.Digest))
	}
	return d
}

// tagOf is the tag of a normalised repo:tag, which
// org.opencontainers.image.ref.name holds in containerd's exports.
func tagOf(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[i+1:]
	}
	return ref
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
