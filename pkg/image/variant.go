package image

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/winversion"
)

// ResolveFor returns the image that ref (a reference or an image id)
// names, in the variant a pod of target t can run: the one ref names when
// it suits t, else another variant of the same index that is present,
// else that one variant pulled now from the index, by digest and without
// credentials (kubelet sends them with its pulls only). handlers name, in
// a mismatch error, the handlers that can run the image. Errors:
// ErrNotFound when ref is absent, ErrFailedPrecondition when no variant
// suits t (see CheckRunnable), and those of Pull.
func (s *Service) ResolveFor(ctx context.Context, ref string, t Target, handlers []Target) (*Image, error) {
	img, err := s.Status(ctx, ref)
	if err != nil {
		return nil, err
	}
	mismatch := CheckRunnable(s.host, t, img, handlers)
	if mismatch == nil {
		return img, nil
	}
	present, err := s.presentVariant(ctx, img, t)
	if err != nil || present != nil {
		return present, err
	}
	index := img.indexRef()
	if index == "" {
		return nil, mismatch
	}
	if _, err := SelectManifest(s.host, t, nil, descriptorsOf(img.Offered)); err != nil {
		return nil, mismatch
	}
	klog.FromContext(ctx).Info("Pulling the image variant the pod's handler needs", logkeys.ImageRef, index, logkeys.Handler, t.Handler, "present", img.Config.OSVersion)
	id, err := s.Pull(ctx, index, PullOptions{Target: t, Handlers: handlers})
	if err != nil {
		return nil, fmt.Errorf("image %s has no variant for runtime handler %q present, and pulling it failed: %w", ref, t.Handler, err)
	}
	return s.Status(ctx, id)
}

// presentVariant is the newest variant of img's index that is present and
// suits t; nil when none does.
func (s *Service) presentVariant(ctx context.Context, img *Image, t Target) (*Image, error) {
	imgs, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var best *Image
	var bestV winversion.Version
	for i := range imgs {
		o := &imgs[i]
		if o.ID == img.ID || !siblings(o, img) || !platformMatches(s.host, &o.Config.Platform) {
			continue
		}
		v, err := winversion.Parse(o.Config.OSVersion)
		if err != nil || !t.accepts(s.host, v) {
			continue
		}
		if best == nil || v.Build > bestV.Build || v.Build == bestV.Build && v.Revision > bestV.Revision {
			best, bestV = o, v
		}
	}
	return best, nil
}

// indexRef is "repository@digest" of the index img came from; "" when it
// came from a single manifest.
func (img *Image) indexRef() string {
	if len(img.Offered) == 0 || len(img.RepoDigests) == 0 {
		return ""
	}
	return img.RepoDigests[0]
}

func descriptorsOf(platforms []ocispec.Platform) []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, len(platforms))
	for i := range platforms {
		out[i] = ocispec.Descriptor{Platform: &platforms[i]}
	}
	return out
}

// platformString formats p as os/arch[/variant][ os.version].
func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	if p.OSVersion != "" {
		s += " " + p.OSVersion
	}
	return s
}
