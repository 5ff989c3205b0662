package image

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wincri/wincri/pkg/store"
)

// Buckets of the state store that this package owns.
const (
	bucketImages = "images"
	bucketLayers = "layers"
	// bucketRefs maps every repo tag and repo digest to its image id.
	bucketRefs = "image-refs"
)

// Image is a pulled image.
type Image struct {
	// ID is the digest of the image config, "sha256:...".
	ID string `json:"id"`
	// RepoTags are normalised references such as
	// "docker.io/library/busybox:latest". A tag names one image, or the
	// variants of one index that are present (see putImage).
	RepoTags []string `json:"repoTags"`
	// RepoDigests are "repository@digest" of what the registry served:
	// the index digest when the reference named an index.
	RepoDigests []string `json:"repoDigests"`
	// ManifestDigest is the platform manifest that was unpacked.
	ManifestDigest string `json:"manifestDigest"`
	// Offered are the platforms of the index the reference named, nil
	// when it named a single manifest. A pod that needs another Windows
	// variant gets it pulled from the index (Service.ResolveFor).
	Offered []ocispec.Platform `json:"offered,omitempty"`
	// Config is the OCI image config.
	Config ocispec.Image `json:"config"`
	// ChainIDs are the layers, base first.
	ChainIDs []string `json:"chainIDs"`
	// Size is the disk space of the unpacked layers and the config, in
	// bytes.
	Size int64 `json:"size"`
	// Pulled is when the image was last pulled.
	Pulled time.Time `json:"pulled"`

	// LayerPaths are the unpacked layer directories, topmost first and
	// base last: the order of overlay's lowerdir list and of the
	// Windows parentLayerPaths. Filled by Resolve and Status only.
	LayerPaths []string `json:"-"`
}

// layerRecord is one unpacked layer, shared by every image that has it.
type layerRecord struct {
	ChainID string     `json:"chainID"`
	DiffID  string     `json:"diffID"`
	Blob    string     `json:"blob"`
	Usage   layerUsage `json:"usage"`
	// Images are the ids of the images that use the layer: its reference
	// count, kept as a set so that recording twice is harmless.
	Images []string `json:"images"`
}

// lookupID finds the image id for an id, a full id without "sha256:",
// or a reference. A missing image is ErrNotFound.
func lookupID(tx *store.Tx, s string) (string, error) {
	if id, ok := parseImageID(s); ok {
		var img Image
		if err := tx.Get(bucketImages, id, &img); err != nil {
			return "", fmt.Errorf("image %q: %w", s, errdefs.ErrNotFound)
		}
		return id, nil
	}
	ref, err := ParseReference(s)
	if err != nil {
		return "", err
	}
	var id string
	if err := tx.Get(bucketRefs, ref.String(), &id); err != nil {
		return "", fmt.Errorf("image %q: %w", s, errdefs.ErrNotFound)
	}
	return id, nil
}

// putImage records img under its tags and digests. Variants of one index
// (images sharing a repo digest, pulled for pods of different Windows
// builds) share its names: a variant pulled by digest takes its
// siblings' tags, and the names point at the variant recorded last. A
// name that another image had moves to img, as a re-pushed tag does in
// the registry; that image stays, listed without it.
func putImage(tx *store.Tx, img *Image) error {
	var old Image
	err := tx.Get(bucketImages, img.ID, &old)
	switch {
	case err == nil:
		img.RepoTags = union(old.RepoTags, img.RepoTags)
		img.RepoDigests = union(old.RepoDigests, img.RepoDigests)
	case !errors.Is(err, errdefs.ErrNotFound):
		return err
	}
	others, err := store.List[Image](tx, bucketImages)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != img.ID && siblings(&o, img) {
			img.RepoTags = union(img.RepoTags, o.RepoTags)
		}
	}
	for _, ref := range append(slices.Clone(img.RepoTags), img.RepoDigests...) {
		for i := range others {
			o := &others[i]
			if o.ID == img.ID || siblings(o, img) || !names(o, ref) {
				continue
			}
			if err := dropRef(tx, o, ref); err != nil {
				return err
			}
		}
		if err := tx.Put(bucketRefs, ref, img.ID); err != nil {
			return err
		}
	}
	for _, chainID := range img.ChainIDs {
		var l layerRecord
		if err := tx.Get(bucketLayers, chainID, &l); err != nil {
			return fmt.Errorf("layer %s of image %s: %w", chainID, img.ID, err)
		}
		l.Images = union(l.Images, []string{img.ID})
		if err := tx.Put(bucketLayers, chainID, &l); err != nil {
			return err
		}
	}
	return tx.Put(bucketImages, img.ID, img)
}

// siblings reports whether a and b are variants of one index: they share
// a repo digest, which for an index names the index.
func siblings(a, b *Image) bool {
	for _, d := range a.RepoDigests {
		if slices.Contains(b.RepoDigests, d) {
			return true
		}
	}
	return false
}

// names reports whether ref is one of img's tags or digests.
func names(img *Image, ref string) bool {
	return slices.Contains(img.RepoTags, ref) || slices.Contains(img.RepoDigests, ref)
}

// dropRef removes ref from img's record.
func dropRef(tx *store.Tx, img *Image, ref string) error {
	img.RepoTags = slices.DeleteFunc(img.RepoTags, func(s string) bool { return s == ref })
	img.RepoDigests = slices.DeleteFunc(img.RepoDigests, func(s string) bool { return s == ref })
	return tx.Put(bucketImages, img.ID, img)
}

// deleteImage removes the image, its names and its layer references, and
// returns the layers that no image uses any more. A name that a sibling
// variant shares points at that variant from then on.
func deleteImage(tx *store.Tx, img *Image) ([]string, error) {
	others, err := store.List[Image](tx, bucketImages)
	if err != nil {
		return nil, err
	}
	for _, ref := range append(slices.Clone(img.RepoTags), img.RepoDigests...) {
		var id string
		if err := tx.Get(bucketRefs, ref, &id); err != nil || id != img.ID {
			continue
		}
		heir := ""
		for _, o := range others {
			if o.ID != img.ID && names(&o, ref) {
				heir = o.ID
				break
			}
		}
		if heir != "" {
			err = tx.Put(bucketRefs, ref, heir)
		} else {
			err = tx.Delete(bucketRefs, ref)
		}
		if err != nil {
			return nil, err
		}
	}
	var unused []string
	for _, chainID := range img.ChainIDs {
		var l layerRecord
		if err := tx.Get(bucketLayers, chainID, &l); err != nil {
			continue
		}
		l.Images = slices.DeleteFunc(l.Images, func(s string) bool { return s == img.ID })
		if len(l.Images) == 0 {
			unused = append(unused, chainID)
		}
		if err := tx.Put(bucketLayers, chainID, &l); err != nil {
			return nil, err
		}
	}
	return unused, tx.Delete(bucketImages, img.ID)
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
