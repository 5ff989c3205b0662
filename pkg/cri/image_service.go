package cri

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/containerd/errdefs"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/sandbox"
)

// ImageService is the image store as the ImageService RPCs need it.
// *image.Service implements it; errors are errdefs sentinels.
type ImageService interface {
	// Pull returns the image id.
	Pull(ctx context.Context, ref string, opts image.PullOptions) (string, error)
	List(ctx context.Context) ([]image.Image, error)
	// Status returns ErrNotFound for an unknown image.
	Status(ctx context.Context, ref string) (*image.Image, error)
	// Remove succeeds for an unknown image and returns
	// ErrFailedPrecondition for one that containers use.
	Remove(ctx context.Context, ref string) error
	FsInfo(ctx context.Context) (image.FsUsage, error)
	// TargetsFor is the pod platform of a handler, and every handler's.
	TargetsFor(ctx context.Context, cfg *config.Config, handler string) (image.Target, []image.Target, error)
	// Pinned reports whether kubelet's image GC must keep the image.
	Pinned(img *image.Image) bool
}

var _ ImageService = (*image.Service)(nil)

// imageTarget is the pod platform a pull for the runtime handler picks
// the image's variant for (the default handler's when handler is ""),
// with every handler's for errors to name those that can run it.
func (s *Server) imageTarget(ctx context.Context, handler string) (image.Target, []image.Target, error) {
	name, _, err := s.cfg.Runtime(handler)
	if err != nil {
		return image.Target{}, nil, invalidImageField("image.runtime_handler", err.Error())
	}
	return s.images.TargetsFor(ctx, s.cfg, name)
}

// podHandler is the runtime handler of the ready pod that a pull's
// sandbox_config describes; "" when there is none. PodSandboxConfig does
// not name its handler, and kubelet sends ImageSpec.runtime_handler only
// behind its RuntimeClassInImageCriApi feature gate, but kubelet pulls a
// pod's images after it ran the pod.
func (s *Server) podHandler(cfg *runtime.PodSandboxConfig) string {
	md := cfg.GetMetadata()
	if s.runtime == nil || md == nil {
		return ""
	}
	handler := ""
	for _, p := range s.runtime.ListPods(sandbox.PodFilter{State: sandbox.PodReady}) {
		pm := p.Config.GetMetadata()
		if pm.GetUid() == md.GetUid() && pm.GetName() == md.GetName() && pm.GetNamespace() == md.GetNamespace() && pm.GetAttempt() == md.GetAttempt() {
			handler = p.Handler // pods are listed oldest first
		}
	}
	return handler
}

// invalidImageField is an InvalidArgument error that names the field.
func invalidImageField(field, why string) error {
	return fmt.Errorf("%s: %s: %w", field, why, errdefs.ErrInvalidArgument)
}

// checkImageRef checks an image reference or id field of a request.
func checkImageRef(field, ref string) (string, error) {
	if ref == "" {
		return "", invalidImageField(field, "must be set")
	}
	if len(ref) > 4096 || !utf8.ValidString(ref) || strings.ContainsAny(ref, "\x00\n") {
		return "", invalidImageField(field, "is not a printable reference of at most 4096 bytes")
	}
	return ref, nil
}

// toCRIImage converts an image record, with the user the image runs as
// split into a numeric uid or a user name as kubelet expects.
func (s *Server) toCRIImage(img *image.Image) *runtime.Image {
	out := &runtime.Image{
		Id:          img.ID,
		RepoTags:    img.RepoTags,
		RepoDigests: img.RepoDigests,
		Size:        uint64(max(img.Size, 0)),
		Spec:        &runtime.ImageSpec{Image: img.ID},
		Pinned:      s.images.Pinned(img),
	}
	uid, name := imageUser(img.Config.Config.User)
	if uid != nil {
		out.Uid = &runtime.Int64Value{Value: *uid}
	} else {
		out.Username = name
	}
	return out
}

// imageUser splits a config User ("uid", "uid:gid", "name", "name:group")
// into a uid or a name; the group part is not CRI's concern here.
func imageUser(user string) (*int64, string) {
	u, _, _ := strings.Cut(user, ":")
	if u == "" {
		return nil, ""
	}
	if n, err := strconv.ParseInt(u, 10, 64); err == nil && n >= 0 {
		return &n, ""
	}
	return nil, u
}

// imagePlatform is the platform of an image's variant, in the OCI
// index's names.
type imagePlatform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	OSVersion    string `json:"os.version,omitempty"`
}

// imageInfo is ImageStatus's verbose information.
func imageInfo(img *image.Image) (map[string]string, error) {
	p := img.Config.Platform
	info, err := json.Marshal(struct {
		ImageSpec      any      `json:"imageSpec"`
		ManifestDigest string   `json:"manifestDigest"`
		ChainIDs       []string `json:"chainIDs"`
		LayerPaths     []string `json:"layerPaths"`
		// Platform is the variant that was chosen and unpacked.
		Platform imagePlatform `json:"platform"`
	}{img.Config, img.ManifestDigest, img.ChainIDs, img.LayerPaths, imagePlatform{p.OS, p.Architecture, p.Variant, p.OSVersion}})
	if err != nil {
		return nil, fmt.Errorf("encoding image info: %w", err)
	}
	return map[string]string{"info": string(info)}, nil
}
