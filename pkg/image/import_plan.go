package image

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wincri/wincri/pkg/image/archive"
)

// maxManifestSize bounds the indexes, manifests and configs an import
// reads into memory.
const maxManifestSize = 16 << 20

// The manifest types of OCI and of docker's registry API.
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// importPlan is one image of an archive, resolved for this host.
type importPlan struct {
	// name is what messages call it: its first name, else its digest.
	name    string
	res     *resolved
	tags    []string
	digests []string
}

// planImport resolves every image of the archive as a pull resolves a
// reference, and checks that the archive holds every layer blob, before
// anything is unpacked. An OCI index.json wins over a docker
// manifest.json (newer docker writes both); the latter's tags are added
// to the images they name.
func (s *Service) planImport(c *archive.Contents, opts ImportOptions) ([]*importPlan, error) {
	var plans []*importPlan
	var err error
	switch {
	case c.Index != nil && len(c.Index.Manifests) > 0:
		if plans, err = s.planOCI(c, opts); err == nil {
			err = addDockerTags(c, plans)
		}
	case len(c.Docker) > 0:
		plans, err = s.planDocker(c, opts)
	default:
		err = fmt.Errorf("the archive lists no images: its %s and %s are empty or absent: %w", archive.IndexFile, archive.DockerManifestFile, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if err := checkLayerBlobs(c, p); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// ociEntry is an image index.json lists: a manifest or an index, with
// every name the entries of its digest give it.
type ociEntry struct {
	desc  ocispec.Descriptor
	names []Reference
	// variants, for the entries that name nothing but have platforms,
	// are chosen from as the manifests of one index.
	variants []ocispec.Descriptor
}

func (s *Service) planOCI(c *archive.Contents, opts ImportOptions) ([]*importPlan, error) {
	var entries []*ociEntry
	byDigest := map[digest.Digest]*ociEntry{}
	var unnamed []ocispec.Descriptor
	for _, d := range c.Index.Manifests {
		if err := d.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%s: digest %q: %v: %w", archive.IndexFile, d.Digest, err, errdefs.ErrInvalidArgument)
		}
		ref, ok := archiveName(d.Annotations)
		if !ok {
			unnamed = append(unnamed, d)
			continue
		}
		e := byDigest[d.Digest]
		if e == nil {
			e = &ociEntry{desc: d}
			byDigest[d.Digest] = e
			entries = append(entries, e)
		}
		e.names = append(e.names, ref)
	}
	if len(unnamed) > 0 && hasPlatforms(unnamed) {
		// index.json itself is the image's index, as crane and
		// `layout.Write` of an index make it.
		entries = append(entries, &ociEntry{desc: unnamed[0], variants: unnamed})
	} else {
		for _, d := range unnamed {
			if byDigest[d.Digest] == nil {
				e := &ociEntry{desc: d}
				byDigest[d.Digest] = e
				entries = append(entries, e)
			}
		}
	}
	plans := make([]*importPlan, 0, len(entries))
	for _, e := range entries {
		p, err := s.planEntry(c, e, opts)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// planEntry resolves one index.json entry as resolveAt resolves what a
// registry serves.
func (s *Service) planEntry(c *archive.Contents, e *ociEntry, opts ImportOptions) (*importPlan, error) {
	p := &importPlan{name: e.desc.Digest.String(), res: &resolved{endpoint: endpoint{host: "archive"}, top: e.desc.Digest}}
	if len(e.names) > 0 {
		p.name = e.names[0].String()
	}
	desc := e.desc
	var raw []byte
	var err error
	switch {
	case e.variants != nil:
		if desc, err = p.res.chooseManifest(s.host, opts.Target, opts.Handlers, e.variants); err != nil {
			return nil, fmt.Errorf("image %s: %w", archive.IndexFile, err)
		}
		p.res.top, p.name = desc.Digest, desc.Digest.String()
	default:
		if raw, err = readBlob(c, desc, p.name); err != nil {
			return nil, err
		}
		if isIndex(desc.MediaType, raw) {
			var idx ocispec.Index
			if err := json.Unmarshal(raw, &idx); err != nil {
				return nil, fmt.Errorf("image %s: index %s: %v: %w", p.name, desc.Digest, err, errdefs.ErrInvalidArgument)
			}
			if desc, err = s.chooseFromArchive(c, p.res, idx.Manifests, opts); err != nil {
				return nil, fmt.Errorf("image %s: %w", p.name, err)
			}
			raw = nil
		}
	}
	if raw == nil {
		if raw, err = readBlob(c, desc, p.name); err != nil {
			return nil, err
		}
	}
	if isIndex(desc.MediaType, raw) || !isManifest(desc.MediaType, raw) {
		return nil, fmt.Errorf("image %s: unsupported manifest media type %q: %w", p.name, mediaTypeOf(desc.MediaType, raw), errdefs.ErrNotImplemented)
	}
	err = p.res.parseImage(desc.Digest, raw, func(cfg ocispec.Descriptor) ([]byte, error) {
		return readBlob(c, cfg, p.name)
	})
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", p.name, err)
	}
	if err := p.res.checkPlatform(s.host, opts.Target, opts.Handlers); err != nil {
		return nil, fmt.Errorf("image %s: %w", p.name, err)
	}
	for _, ref := range e.names {
		p.addName(ref, true)
	}
	return p, nil
}

// chooseFromArchive picks the manifest of an index as a pull does, among
// the variants the archive holds: `ctr images export` writes an index
// with every platform but, by default, the blobs of its host's only. A
// variant that suits this host better but is absent is no reason to
// fail; when only absent variants suit, the error says so.
func (s *Service) chooseFromArchive(c *archive.Contents, r *resolved, manifests []ocispec.Descriptor, opts ImportOptions) (ocispec.Descriptor, error) {
	var present []ocispec.Descriptor
	for _, m := range manifests {
		if _, ok := c.Blob(m.Digest); ok {
			present = append(present, m)
		}
	}
	desc, err := r.chooseManifest(s.host, opts.Target, opts.Handlers, manifests)
	if err != nil || len(present) == len(manifests) {
		return desc, err
	}
	if _, ok := c.Blob(desc.Digest); ok {
		return desc, nil
	}
	if chosen, err := SelectManifest(s.host, opts.Target, opts.Handlers, present); err == nil {
		return chosen, nil
	}
	p := ocispec.Platform{}
	if desc.Platform != nil {
		p = *desc.Platform
	}
	holds := "none of its variants"
	if len(present) > 0 {
		holds = "only " + offered(present)
	}
	return ocispec.Descriptor{}, fmt.Errorf("the variant for this host (%s, manifest %s) is not in the archive, which holds %s: export the image with that platform: %w",
		platformString(p), desc.Digest, holds, errdefs.ErrInvalidArgument)
}

// addName records ref as a tag and, with repoDigest, the digest the
// archive gave the image in ref's repository, as a pull by ref records
// them.
func (p *importPlan) addName(ref Reference, repoDigest bool) {
	if ref.Digest == "" {
		p.tags = union(p.tags, []string{ref.String()})
	}
	if repoDigest {
		p.digests = union(p.digests, []string{ref.Repository() + "@" + p.res.top.String()})
	}
}

// planDocker resolves the images of a docker save manifest.json, whose
// entries name their config and layers by path: a manifest is made up
// for them, as containerd's import does.
func (s *Service) planDocker(c *archive.Contents, opts ImportOptions) ([]*importPlan, error) {
	plans := make([]*importPlan, 0, len(c.Docker))
	for i, d := range c.Docker {
		what := fmt.Sprintf("%s entry %d", archive.DockerManifestFile, i+1)
		cfg, err := dockerFile(c, d.Config, what, "config")
		if err != nil {
			return nil, err
		}
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfg.Digest, Size: cfg.Size},
		}
		for _, l := range d.Layers {
			f, err := dockerFile(c, l, what, "layer")
			if err != nil {
				return nil, err
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: f.Digest, Size: f.Size})
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		p := &importPlan{name: cfg.Digest.String(), res: &resolved{endpoint: endpoint{host: "archive"}, top: digest.FromBytes(raw)}}
		if len(d.RepoTags) > 0 {
			p.name = d.RepoTags[0]
		}
		err = p.res.parseImage(p.res.top, raw, func(ocispec.Descriptor) ([]byte, error) { return archive.ReadFile(cfg, maxManifestSize) })
		if err == nil {
			err = p.res.checkPlatform(s.host, opts.Target, opts.Handlers)
		}
		if err == nil {
			err = p.addDockerTags(d.RepoTags, what)
		}
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", p.name, err)
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// dockerFile is the file a manifest.json entry names. A config named
// <hex>.json, as docker names them, is checked against that digest.
func dockerFile(c *archive.Contents, name, what, kind string) (*archive.File, error) {
	f, ok := c.File(name)
	if !ok {
		return nil, fmt.Errorf("%s names %s %q, which the archive lacks: %w", what, kind, name, errdefs.ErrInvalidArgument)
	}
	if hex, ok := strings.CutSuffix(path.Base(name), ".json"); ok && kind == "config" {
		if d := digest.NewDigestFromEncoded(digest.SHA256, hex); d.Validate() == nil && d != f.Digest {
			return nil, fmt.Errorf("%s: config %s hashes to %s: %w", what, name, f.Digest, errdefs.ErrDataLoss)
		}
	}
	return f, nil
}

// addDockerTags records the RepoTags of a manifest.json entry, without
// repository digests: what docker save lists is no registry's manifest.
func (p *importPlan) addDockerTags(tags []string, what string) error {
	for _, t := range tags {
		ref, err := ParseReference(t)
		if err != nil {
			return fmt.Errorf("%s: RepoTags: %w", what, err)
		}
		p.addName(ref, false)
	}
	return nil
}

// addDockerTags adds the RepoTags of manifest.json to the OCI images
// with the same config.
func addDockerTags(c *archive.Contents, plans []*importPlan) error {
	for i, d := range c.Docker {
		f, ok := c.File(d.Config)
		if !ok {
			continue
		}
		for _, p := range plans {
			if p.res.configDigest == f.Digest {
				if err := p.addDockerTags(d.RepoTags, fmt.Sprintf("%s entry %d", archive.DockerManifestFile, i+1)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkLayerBlobs makes sure the archive holds every layer of the image,
// of the size its manifest gives, before anything is unpacked.
func checkLayerBlobs(c *archive.Contents, p *importPlan) error {
	for i, l := range p.res.layers {
		f, ok := c.Blob(l.Digest)
		if !ok {
			hint := ""
			if strings.Contains(l.MediaType, "foreign") || strings.Contains(l.MediaType, "nondistributable") {
				hint = " (a non-distributable layer: export the image with its non-distributable layers included)"
			}
			return fmt.Errorf("image %s: the archive lacks layer %d, blob %s%s: %w", p.name, i+1, l.Digest, hint, errdefs.ErrInvalidArgument)
		}
		if l.Size > 0 && f.Size != l.Size {
			return fmt.Errorf("image %s: layer blob %s is %d bytes, its manifest says %d: %w", p.name, l.Digest, f.Size, l.Size, errdefs.ErrDataLoss)
		}
	}
	return nil
}

// readBlob returns a manifest, index or config blob of the archive.
func readBlob(c *archive.Contents, d ocispec.Descriptor, image string) ([]byte, error) {
	f, ok := c.Blob(d.Digest)
	if !ok {
		return nil, fmt.Errorf("image %s: the archive lacks blob %s (%s): %w", image, d.Digest, mediaTypeOf(d.MediaType, nil), errdefs.ErrInvalidArgument)
	}
	if d.Size > 0 && f.Size != d.Size {
		return nil, fmt.Errorf("image %s: blob %s is %d bytes, its descriptor says %d: %w", image, d.Digest, f.Size, d.Size, errdefs.ErrDataLoss)
	}
	return archive.ReadFile(f, maxManifestSize)
}

// archiveName is the image name an index.json entry gives: containerd's
// full name, else an org.opencontainers.image.ref.name that is a full
// reference rather than a bare tag.
func archiveName(annotations map[string]string) (Reference, bool) {
	for _, n := range []string{annotations[archive.AnnotationImageName], annotations[ocispec.AnnotationRefName]} {
		if !strings.ContainsAny(n, "/:@") {
			continue
		}
		if ref, err := ParseReference(n); err == nil {
			return ref, true
		}
	}
	return Reference{}, false
}

func hasPlatforms(descs []ocispec.Descriptor) bool {
	for _, d := range descs {
		if d.Platform != nil {
			return true
		}
	}
	return false
}

// mediaTypeOf is a descriptor's media type, else the one the blob
// declares.
func mediaTypeOf(mediaType string, raw []byte) string {
	if mediaType != "" || raw == nil {
		return mediaType
	}
	var probe struct {
		MediaType string            `json:"mediaType"`
		Manifests []json.RawMessage `json:"manifests"`
		Config    json.RawMessage   `json:"config"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.Manifests != nil:
		return ocispec.MediaTypeImageIndex
	case probe.Config != nil:
		return ocispec.MediaTypeImageManifest
	}
	return ""
}

func isIndex(mediaType string, raw []byte) bool {
	mt := mediaTypeOf(mediaType, raw)
	return mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerList
}

func isManifest(mediaType string, raw []byte) bool {
	mt := mediaTypeOf(mediaType, raw)
	return mt == ocispec.MediaTypeImageManifest || mt == mediaTypeDockerManifest
}
