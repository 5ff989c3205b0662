package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/faultpoint"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/store"
)

// PullOptions say how to pull an image.
type PullOptions struct {
	// Auth are the registry credentials; nil pulls anonymously.
	Auth *Auth
	// Target is the pod platform the image is for: it picks the Windows
	// variant of a multi-platform image. The zero Target is process
	// isolation on the host.
	Target Target
	// Handlers are every configured handler's targets, for an error to
	// name those that can run an image the Target cannot.
	Handlers []Target
}

// Pull fetches and unpacks ref for this host and returns the image id.
// Identical pulls in flight share one download and unpack. The pull
// goes on when ctx ends, so that kubelet's retry finds it done or joins
// it; it fails on its own only after pull_progress_timeout without
// progress, with an error wrapping context.DeadlineExceeded that names
// the stalled phase. Errors: ErrInvalidArgument for a bad reference,
// ErrNotFound, ErrUnauthenticated, ErrPermissionDenied, ErrUnavailable
// for registry trouble, ErrDataLoss for content that fails verification.
func (s *Service) Pull(ctx context.Context, ref string, opts PullOptions) (string, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	key := pullKey(r, opts)
	c, owner := s.pulls.join(key)
	log := klog.FromContext(ctx).WithValues(logkeys.ImageRef, r.String())
	if owner {
		// Detached from the caller, but keeping its logger.
		pctx := klog.NewContext(context.WithoutCancel(ctx), log)
		go func() {
			id, err := s.pull(pctx, r, opts)
			s.pulls.finish(key, c, id, err)
		}()
	} else {
		log.V(2).Info("Joining a pull in progress")
	}
	return c.wait(ctx)
}

// pullKey identifies identical pulls. Credentials are part of it, hashed,
// so that a pull without valid credentials never answers for one with
// them.
func pullKey(r Reference, opts PullOptions) string {
	h := sha256.New()
	if a := opts.Auth; !a.empty() {
		for _, f := range []string{a.Username, a.Password, a.Auth, a.IdentityToken, a.RegistryToken, a.ServerAddress} {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
	}
	t := opts.Target
	return r.String() + "|" + t.Handler + "|" + string(t.Isolation) + "|" + t.UVM.String() + "|" + hex.EncodeToString(h.Sum(nil))
}

func (s *Service) pull(ctx context.Context, ref Reference, opts PullOptions) (string, error) {
	log := klog.FromContext(ctx)
	start := time.Now()
	ctx, wd, stop := s.startWatchdog(ctx, ref.String())
	defer stop(nil)

	resolving := &transferProgress{}
	wd.track(resolving)
	done := resolving.phase(false)
	res, err := s.resolve(ctx, ref, opts)
	done()
	if err != nil {
		return "", pullError(ctx, err)
	}
	chain := res.chainIDs()
	s.layers.lease(chain...)
	defer s.layers.unlease(chain...)
	_, downloaded, err := s.unpackLayers(ctx, wd, res)
	if err != nil {
		return "", pullError(ctx, err)
	}
	img := res.image()
	img.RepoDigests = []string{ref.Repository() + "@" + res.top.String()}
	if ref.Digest == "" {
		img.RepoTags = []string{ref.String()}
	}
	faultpoint.Hit(ctx, faultpoint.PullBeforeRecord)
	if err := s.record(img); err != nil {
		return "", fmt.Errorf("recording image %s: %w", ref, err)
	}
	elapsed := time.Since(start)
	s.metrics.pulled(downloaded, img.Size, elapsed)
	log.Info("Pulled image", logkeys.ImageID, img.ID, "from", res.endpoint.String(), "platform", platformString(res.config.Platform),
		logkeys.Handler, opts.Target.Handler, "layers", len(chain), "bytes", img.Size, "duration", elapsed.Round(time.Millisecond))
	return img.ID, nil
}

// startWatchdog watches the progress of a pull or an import, named name,
// and cancels the context it returns after pull_progress_timeout without
// any. stop ends it.
func (s *Service) startWatchdog(ctx context.Context, name string) (context.Context, *watchdog, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	wd := &watchdog{ref: name, timeout: s.progressTimeout, cancel: cancel}
	go wd.run(ctx, klog.FromContext(ctx))
	return ctx, wd, cancel
}

// unpackLayers makes every layer of res present, in order, sharing the
// work with other pulls and imports of the same layers, and returns the
// calls it started and the bytes its blob source moved. The caller holds
// a lease on the layers' chain ids until it has recorded the image. On
// an error the calls it started go on until they end or ctx does.
func (s *Service) unpackLayers(ctx context.Context, wd *watchdog, res *resolved) (owned []*call, moved int64, err error) {
	diffIDs := res.config.RootFS.DiffIDs
	chain := res.chainIDs()
	calls := make([]*call, len(chain))
	sem := make(chan struct{}, s.maxDownloads)
	for i := range chain {
		c, owner := s.layers.flight.join(chain[i])
		calls[i] = c
		wd.track(c.progress)
		if !owner {
			continue
		}
		owned = append(owned, c)
		job := layerJob{
			chainID: chain[i],
			diffID:  diffIDs[i],
			blob:    res.layers[i],
			parents: s.layers.paths(chain[:i]),
			source:  res.source,
			sem:     sem,
		}
		if i > 0 {
			job.parent = calls[i-1]
		}
		go func() {
			err := s.ensureLayer(ctx, job, c.progress)
			s.layers.flight.finish(job.chainID, c, "", err)
		}()
	}
	for i, c := range calls {
		if _, err := c.wait(ctx); err != nil {
			return owned, 0, fmt.Errorf("layer %d (%s): %w", i+1, res.layers[i].Digest, err)
		}
		moved += c.progress.downloaded.Load()
	}
	return owned, moved, nil
}

// record stores images in one transaction, all or none, each with its
// size: the space its unpacked layers and its config take, which a
// layerless image has alone (kubelet's CRI client refuses an image
// status of size 0: k8s.io/cri-client pkg/remote_image.go, ImageStatus).
func (s *Service) record(imgs ...*Image) error {
	return s.store.Update(func(tx *store.Tx) error {
		for _, img := range imgs {
			for _, c := range img.ChainIDs {
				var l layerRecord
				if err := tx.Get(bucketLayers, c, &l); err != nil {
					return err
				}
				img.Size += l.Usage.Bytes
			}
			if err := putImage(tx, img); err != nil {
				return err
			}
		}
		return nil
	})
}

// pullError prefers the watchdog's cause over the plain cancellation it
// produced.
func pullError(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return err
}

// layerJob is the work for one layer of a pull.
type layerJob struct {
	chainID string
	diffID  digest.Digest
	blob    ocispec.Descriptor
	// parents are the layer directories below, immediate parent first.
	parents []string
	// parent is the call of the layer below, nil for a base layer.
	parent *call
	source blobSource
	sem    chan struct{}
	// downloaded, when set, gives the download slot back once the
	// layer's data is all in: the sync that follows needs no slot.
	downloaded func()
}

// ensureLayer makes one layer present: nothing to do if it is recorded,
// else unpack it as it downloads (streamLayer) and record it. A layer
// that must wait for its parent (Windows) or whose blob a crashed pull
// left verified in the content store goes through the store instead:
// downloaded there while its parent is imported, then unpacked from it.
func (s *Service) ensureLayer(ctx context.Context, job layerJob, p *transferProgress) error {
	var rec layerRecord
	err := s.store.View(func(tx *store.Tx) error { return tx.Get(bucketLayers, job.chainID, &rec) })
	if err == nil {
		return nil
	}
	if !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}
	select {
	case job.sem <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	held := true
	release := func() {
		if held {
			<-job.sem
			held = false
		}
	}
	defer release()
	job.downloaded = release
	var usage layerUsage
	streamer, canStream := job.source.(blobStreamer)
	streamed := canStream && !s.content.Has(job.blob.Digest) && (!unpackNeedsParents || job.parent == nil)
	if streamed {
		// Downloaded, decompressed and unpacked in one pass: the blob
		// never touches the disk.
		if usage, err = s.streamLayer(ctx, job, streamer, p); err != nil {
			return err
		}
		// The layer's content is on disk, its record is not.
		faultpoint.Hit(ctx, faultpoint.PullAfterContent)
	} else {
		if !s.content.Has(job.blob.Digest) {
			if err := s.download(ctx, job, p); err != nil {
				return err
			}
			faultpoint.Hit(ctx, faultpoint.PullAfterContent)
		}
		if unpackNeedsParents && job.parent != nil {
			// Windows imports a layer on top of its parents, so it
			// waits, its blob downloaded meanwhile; the slot goes to
			// another download.
			release()
			if _, err := job.parent.wait(ctx); err != nil {
				return fmt.Errorf("parent layer: %w", err)
			}
		}
		if usage, err = s.unpack(ctx, job, p); err != nil {
			return err
		}
	}
	rec = layerRecord{ChainID: job.chainID, DiffID: job.diffID.String(), Blob: job.blob.Digest.String(), Usage: usage, Images: []string{}}
	if err := s.store.Update(func(tx *store.Tx) error { return tx.Put(bucketLayers, job.chainID, &rec) }); err != nil {
		return err
	}
	if streamed {
		return nil
	}
	// The unpacked layer is what is kept; its archive is no longer needed.
	return s.content.Delete(job.blob.Digest)
}

func (s *Service) download(ctx context.Context, job layerJob, p *transferProgress) error {
	defer p.phase(false)()
	return job.source.storeBlob(ctx, s.content, job.blob, &p.downloaded)
}

// unpack extracts the verified blob of the content store into the
// layer's directory.
func (s *Service) unpack(ctx context.Context, job layerJob, p *transferProgress) (layerUsage, error) {
	defer p.phase(true)()
	f, err := s.content.Open(job.blob.Digest)
	if err != nil {
		return layerUsage{}, err
	}
	defer f.Close()
	usage, err := s.unpackFrom(ctx, job, &progressReader{ctx: ctx, r: f, n: &p.unpacked}, nil)
	if errdefs.IsDataLoss(err) {
		// The blob matched its digest but not the config: drop it so a
		// retry fetches it again.
		_ = s.content.Delete(job.blob.Digest)
	}
	return usage, err
}

// unpackFrom extracts the compressed layer read from r into the layer's
// directory, checks the uncompressed stream against the config's diff
// id, then calls verify, when not nil, with the rest of r for a last
// check of the compressed stream, and makes the layer durable: a layer
// is recorded only once its files are on disk. Whatever fails, nothing
// is left in the layer's directory.
func (s *Service) unpackFrom(ctx context.Context, job layerJob, r io.Reader, verify func(rest io.Reader) error) (layerUsage, error) {
	dir := s.layers.dir(job.chainID)
	// A directory without a record is a crashed unpack of this layer;
	// this call owns the chain id, so nobody else uses it.
	if err := s.layers.discard(ctx, s.store, dir); err != nil {
		return layerUsage{}, err
	}
	usage, err := s.extract(ctx, job, dir, r)
	if err == nil && verify != nil {
		err = verify(r)
	}
	if err == nil {
		if job.downloaded != nil {
			job.downloaded()
		}
		err = s.layers.sync(dir)
	}
	if err != nil {
		// The unpack's error is the one reported; what is left of its
		// directory is removed or set aside, and a failure to do either
		// is logged.
		if derr := s.layers.discard(context.WithoutCancel(ctx), s.store, dir); derr != nil {
			klog.FromContext(ctx).Error(derr, "Discarding the directory of a failed unpack", "path", dir)
		}
		return layerUsage{}, fmt.Errorf("unpacking: %w", err)
	}
	return usage, nil
}

// extract decompresses r into dir and checks the diff id.
func (s *Service) extract(ctx context.Context, job layerJob, dir string, r io.Reader) (layerUsage, error) {
	tarStream, err := decompress(r)
	if err != nil {
		return layerUsage{}, err
	}
	defer tarStream.Close()
	verifier := job.diffID.Algorithm().Hash()
	release, err := s.unpacks.Acquire(ctx)
	if err != nil {
		return layerUsage{}, err
	}
	unpackStart := time.Now()
	usage, err := s.unpackFn(ctx, dir, job.parents, io.TeeReader(tarStream, verifier))
	release()
	if err != nil {
		return layerUsage{}, err
	}
	s.metrics.unpack.Observe(time.Since(unpackStart).Seconds())
	// The tar reader stops at the end marker; the diff id covers the
	// padding after it.
	if _, err := io.Copy(verifier, tarStream); err != nil {
		return layerUsage{}, err
	}
	if got := digest.NewDigest(job.diffID.Algorithm(), verifier); got != job.diffID {
		return layerUsage{}, fmt.Errorf("uncompressed layer hashes to %s, config says %s: %w", got, job.diffID, errdefs.ErrDataLoss)
	}
	return usage, nil
}
