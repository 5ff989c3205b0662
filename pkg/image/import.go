package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/image/archive"
	"github.com/wincri/wincri/pkg/logkeys"
)

// ImportOptions say which variant of a multi-platform image an import
// keeps, as PullOptions do for a pull.
type ImportOptions struct {
	Target   Target
	Handlers []Target
}

// Imported is an image an import recorded.
type Imported struct {
	ID string `json:"id"`
	// Names are the tags and repository digests the archive gave it
	// (the image keeps those it had before too); none when the archive
	// named it by nothing.
	Names []string `json:"names"`
}

// Import reads an image archive from r, once: an OCI image layout (as
// `ctr images export`, crane, skopeo and docker write it) or a docker
// save tarball, plain or compressed. Its images go the way of a pull:
// the host's manifest is chosen from an index by the pull's rules and
// the same platform errors, every blob is verified by digest, layers are
// unpacked by the same code and checked against their diff ids, and the
// records are the same, so the CRI image service lists them at once.
// Names come from index.json's io.containerd.image.name annotations (or
// an org.opencontainers.image.ref.name that is a full reference) and
// manifest.json's RepoTags; an image without any is imported by id.
//
// Either every image is recorded or none: records are written in one
// transaction after every layer is unpacked, and a failed import removes
// the blobs it stored and the layers no image uses. Errors:
// ErrInvalidArgument for an archive that is malformed or lacks a blob;
// ErrDataLoss for content that fails verification; ErrNotFound or
// ErrFailedPrecondition, as a pull's, for an image without a variant for
// this host or target; ErrNotImplemented for an unknown manifest type.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (imported []Imported, err error) {
	log := klog.FromContext(ctx)
	start := time.Now()
	// The spool lives under the content store's ingest directory, which
	// a restart empties: a crashed import leaves nothing behind, and its
	// blobs enter the content store by hard link.
	spool, err := os.MkdirTemp(s.content.ingestDir(), "import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(spool)
	contents, err := archive.Read(ctx, r, spool)
	if err != nil {
		return nil, fmt.Errorf("reading the archive: %w", err)
	}
	read := time.Since(start)
	plans, err := s.planImport(contents, opts)
	if err != nil {
		return nil, err
	}

	src := &archiveSource{contents: contents}
	var chain []string
	for _, p := range plans {
		p.res.source = src
		chain = append(chain, p.res.chainIDs()...)
	}
	s.layers.lease(chain...)
	ctx, wd, stop := s.startWatchdog(ctx, "archive import")
	defer stop(nil)
	var started []*call
	defer func() {
		if err != nil {
			// The layers still being unpacked stop before their blobs
			// and directories are taken back.
			stop(errImportFailed)
			for _, c := range started {
				<-c.done
			}
		}
		s.layers.unlease(chain...)
		if err != nil {
			s.undoImport(ctx, src)
		}
	}()
	imgs := make([]*Image, 0, len(plans))
	for _, p := range plans {
		owned, _, err := s.unpackLayers(ctx, wd, p.res)
		started = append(started, owned...)
		if err != nil {
			return nil, pullError(ctx, fmt.Errorf("image %s: %w", p.name, err))
		}
		img := p.res.image()
		img.RepoTags, img.RepoDigests = p.tags, p.digests
		imgs = append(imgs, img)
		imported = append(imported, Imported{ID: img.ID, Names: union(p.tags, p.digests)})
	}
	if err := s.record(imgs...); err != nil {
		return nil, fmt.Errorf("recording the imported images: %w", err)
	}
	for _, img := range imgs {
		log.Info("Imported image", logkeys.ImageID, img.ID, "tags", img.RepoTags, "platform", platformString(img.Config.Platform),
			"layers", len(img.ChainIDs), "bytes", img.Size)
	}
	log.Info("Imported an image archive", "images", len(imgs), "archiveBytes", contents.Bytes,
		"readDuration", read.Round(time.Millisecond), "duration", time.Since(start).Round(time.Millisecond))
	return imported, nil
}

// errImportFailed stops the layer unpacks of an import that failed.
var errImportFailed = errors.New("the import failed")

// undoImport takes back what a failed import stored: the blobs it put
// into the content store and did not unpack, and the layers it unpacked,
// which no image uses since nothing was recorded. Cleanup runs on a
// fresh context: the import's may be what ended. What cannot be removed
// is logged; the next start's clean-up retries.
func (s *Service) undoImport(ctx context.Context, src *archiveSource) {
	log := klog.FromContext(ctx)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, d := range src.storedBlobs() {
		if err := s.content.Delete(d); err != nil {
			log.Error(err, "Removing a blob of a failed import", "blob", d)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.layers.collect(ctx, s.store); err != nil {
		log.Error(err, "Removing the layers of a failed import")
	}
}
