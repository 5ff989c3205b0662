// Package image is wincri's image service: it pulls images through
// go-containerregistry (mirrors, credentials, plain HTTP only where
// allowed), picks the manifest for the host and the pod's isolation
// (Windows os.version rules), verifies every blob, unpacks layers once
// into a layer store keyed by chain id (overlay lower directories on
// Linux, Windows container layers on Windows) and keeps image records in
// the state store. Resolve is the seam CreateContainer uses. Import
// installs the images of an archive (OCI image layout, docker save) by
// the pull's own steps, with an archive in the registry's place; Export
// writes images out as an OCI image layout archive.
package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/limit"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/store"
)

// InUseFunc returns the containers that use an image id; Remove refuses
// to remove an image while it returns any.
type InUseFunc func(ctx context.Context, imageID string) ([]string, error)

// Options configure a Service.
type Options struct {
	Config config.Image
	// Root is the image service's own directory, e.g. <--root>/images.
	Root  string
	Store *store.Store
	// Host is the platform images are chosen for; zero means this host.
	Host Host
	// InUse may also be set later with SetInUse.
	InUse InUseFunc
	// Transport reaches registries; nil is a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// UnpackLimiter bounds how many layers are unpacked (imported, on
	// Windows) at once, across pulls; nil is no bound.
	UnpackLimiter *limit.Limiter
	// Registerer receives the pull metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Service is the image service.
type Service struct {
	root            string
	store           *store.Store
	host            Host
	registry        *registry
	content         *contentStore
	layers          *layerStore
	pulls           flight
	maxDownloads    int
	progressTimeout time.Duration
	sandboxImage    string
	// unpackFn is unpackLayer; tests replace it to stall an unpack.
	unpackFn func(ctx context.Context, dir string, parents []string, r io.Reader) (layerUsage, error)
	// unpacks bounds the unpacks running at once.
	unpacks *limit.Limiter
	metrics *metrics
	// listCache keeps the decoded image records between List calls
	// while the store does not change: kubelet lists every few seconds.
	listCache listCache

	// mu serialises removals and garbage collection.
	mu    sync.Mutex
	inUse InUseFunc
}

// New opens the image service under opts.Root, removing what a crash
// left behind: partial downloads and layers that were never recorded.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil || opts.Root == "" {
		return nil, fmt.Errorf("image service needs a store and a root directory: %w", errdefs.ErrInvalidArgument)
	}
	rt := opts.Transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	reg, err := newRegistry(opts.Config, rt)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	host := opts.Host
	if host.OS == "" {
		host = HostPlatform()
	}
	s := &Service{
		root:            opts.Root,
		store:           opts.Store,
		host:            host,
		registry:        reg,
		maxDownloads:    max(opts.Config.MaxConcurrentDownloads, 1),
		progressTimeout: opts.Config.PullProgressTimeout.Duration,
		inUse:           opts.InUse,
		unpackFn:        unpackLayer,
		unpacks:         opts.UnpackLimiter,
		metrics:         m,
	}
	if s.progressTimeout <= 0 {
		s.progressTimeout = 5 * time.Minute
	}
	if opts.Config.SandboxImage != "" {
		if ref, err := ParseReference(opts.Config.SandboxImage); err == nil {
			s.sandboxImage = ref.String()
		}
	}
	if s.content, err = openContentStore(filepath.Join(opts.Root, "content")); err != nil {
		return nil, err
	}
	if s.layers, err = newLayerStore(filepath.Join(opts.Root, "layers")); err != nil {
		return nil, err
	}
	if err := s.setAsideUnreadable(ctx); err != nil {
		return nil, err
	}
	if err := s.layers.removeOrphans(ctx, s.store); err != nil {
		return nil, fmt.Errorf("removing unfinished layers: %w", err)
	}
	// A crash between unpacking a layer and recording its image leaves
	// a layer that nothing uses.
	if _, err := s.layers.collect(ctx, s.store); err != nil {
		return nil, err
	}
	if err := s.removeUnpackedBlobs(); err != nil {
		return nil, err
	}
	return s, nil
}

// setAsideUnreadable moves image and layer records that do not decode
// to the store's quarantine, so that one damaged record never fails every
// later listing. The layer such a record described is then unowned and
// removed like any other; the image is pulled again when next needed.
func (s *Service) setAsideUnreadable(ctx context.Context) error {
	_, badImages, err := store.Load[Image](s.store, bucketImages)
	if err != nil {
		return err
	}
	_, badLayers, err := store.Load[layerRecord](s.store, bucketLayers)
	if err != nil {
		return err
	}
	for _, q := range append(badImages, badLayers...) {
		klog.FromContext(ctx).Error(errors.New(q.Reason), "A state record is unusable; it was moved to the quarantine bucket and the rest recovered", "bucket", q.Bucket, "key", q.Key)
	}
	return nil
}

// removeUnpackedBlobs deletes layer archives whose layer is unpacked: a
// crash came between recording the layer and deleting its archive. The
// other complete archives stay, so that the retried pull resumes.
func (s *Service) removeUnpackedBlobs() error {
	blobs, err := s.content.List()
	if err != nil || len(blobs) == 0 {
		return err
	}
	unpacked := map[string]bool{}
	err = s.store.View(func(tx *store.Tx) error {
		recs, err := store.List[layerRecord](tx, bucketLayers)
		for _, r := range recs {
			unpacked[r.Blob] = true
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, b := range blobs {
		if unpacked[b.String()] {
			if err := s.content.Delete(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetInUse sets the check Remove consults; the sandbox service, which is
// built after the image service, provides it.
func (s *Service) SetInUse(fn InUseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inUse = fn
}

// Host is the platform images are chosen for.
func (s *Service) Host() Host { return s.host }

// Resolve returns the image that ref (a reference or an image id) names,
// with its config and LayerPaths (topmost first, base last) for the
// container's root filesystem. A missing image is ErrNotFound.
func (s *Service) Resolve(ctx context.Context, ref string) (*Image, error) {
	return s.Status(ctx, ref)
}

// Status returns the image that ref names; ErrNotFound when absent.
func (s *Service) Status(_ context.Context, ref string) (*Image, error) {
	var img Image
	err := s.store.View(func(tx *store.Tx) error {
		id, err := lookupID(tx, ref)
		if err != nil {
			return err
		}
		return tx.Get(bucketImages, id, &img)
	})
	if err != nil {
		return nil, err
	}
	s.complete(&img)
	return &img, nil
}

// List returns every image, in id order.
func (s *Service) List(_ context.Context) ([]Image, error) {
	var imgs []Image
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		imgs, err = s.listCache.get(tx, func() ([]Image, error) {
			imgs, err := store.List[Image](tx, bucketImages)
			for i := range imgs {
				s.complete(&imgs[i])
			}
			return imgs, err
		})
		return err
	})
	return imgs, err
}

func (s *Service) complete(img *Image) {
	img.LayerPaths = s.layers.paths(img.ChainIDs)
	sort.Strings(img.RepoTags)
	sort.Strings(img.RepoDigests)
}

// Pinned reports whether img is the sandbox image, which kubelet's
// image garbage collection must keep.
func (s *Service) Pinned(img *Image) bool {
	return s.sandboxImage != "" && slices.Contains(img.RepoTags, s.sandboxImage)
}

// Remove deletes the image that ref names, with all its tags and digests,
// and then the layers no other image uses. An unknown image is no error.
// An image that containers use is refused with ErrFailedPrecondition
// naming them.
func (s *Service) Remove(ctx context.Context, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, err := s.Status(ctx, ref)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.inUse != nil {
		users, err := s.inUse(ctx, img.ID)
		if err != nil {
			return fmt.Errorf("checking containers of image %s: %w", img.ID, err)
		}
		if len(users) > 0 {
			return fmt.Errorf("image %s is used by containers %s: %w", img.ID, strings.Join(users, ", "), errdefs.ErrFailedPrecondition)
		}
	}
	err = s.store.Update(func(tx *store.Tx) error {
		_, err := deleteImage(tx, img)
		return err
	})
	if err != nil {
		return fmt.Errorf("removing image %s: %w", img.ID, err)
	}
	n, err := s.layers.collect(ctx, s.store)
	klog.FromContext(ctx).Info("Removed image", logkeys.ImageID, img.ID, "tags", img.RepoTags, "layersRemoved", n)
	return err
}

// FsUsage is the disk use of the image store.
type FsUsage struct {
	// Mountpoint is the directory images live under.
	Mountpoint string
	UsedBytes  int64
	InodesUsed int64
	Timestamp  time.Time
}

// FsInfo reports the space the unpacked layers and the content store
// take. Layer sizes come from their records, so that kubelet's frequent
// calls do not walk gigabytes of Windows layers.
func (s *Service) FsInfo(_ context.Context) (FsUsage, error) {
	u := FsUsage{Mountpoint: s.root, Timestamp: time.Now()}
	err := s.store.View(func(tx *store.Tx) error {
		recs, err := store.List[layerRecord](tx, bucketLayers)
		for _, r := range recs {
			u.UsedBytes += r.Usage.Bytes
			u.InodesUsed += r.Usage.Inodes
		}
		return err
	})
	if err != nil {
		return u, err
	}
	err = filepath.WalkDir(s.content.root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		u.InodesUsed++
		if info, ierr := d.Info(); ierr == nil && d.Type().IsRegular() {
			u.UsedBytes += info.Size()
		}
		return nil
	})
	return u, err
}
