package image

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wincri/wincri/pkg/image/archive"
)

// blobSource is the one step in which a pull and an import differ: it
// puts a layer's blob, verified against its digest, into the content
// store. What comes before (choosing the manifest, checking the config)
// and after (unpacking, checking the diff id, recording) is shared.
type blobSource interface {
	// storeBlob stores blob, counting the bytes it moves into n.
	storeBlob(ctx context.Context, c *contentStore, blob ocispec.Descriptor, n *atomic.Int64) error
}

// blobStreamer is a source that can also hand over a blob as a stream,
// for a pull to unpack it as it arrives instead of storing it first.
type blobStreamer interface {
	// openBlob opens blob for reading. The reader verifies: its last
	// Read fails when the content does not match blob's digest or size.
	openBlob(ctx context.Context, blob ocispec.Descriptor) (io.ReadCloser, error)
}

var (
	_ blobSource   = registrySource{}
	_ blobStreamer = registrySource{}
	_ blobSource   = (*archiveSource)(nil)
)

// registrySource downloads blobs from the endpoints of a pull.
type registrySource struct {
	open func(ctx context.Context, d digest.Digest) (io.ReadCloser, error)
}

func (r registrySource) storeBlob(ctx context.Context, c *contentStore, blob ocispec.Descriptor, n *atomic.Int64) error {
	rc, err := r.open(ctx, blob.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = c.Write(blob.Digest, blob.Size, &progressReader{ctx: ctx, r: rc, n: n, download: true})
	if err != nil && ctx.Err() == nil && !errdefs.IsDataLoss(err) {
		err = registryError(endpoint{host: "layer download"}, err)
	}
	return err
}

// openBlob returns go-containerregistry's remote layer reader, which
// verifies the digest as it reads and fails at the end on a mismatch.
func (r registrySource) openBlob(ctx context.Context, blob ocispec.Descriptor) (io.ReadCloser, error) {
	return r.open(ctx, blob.Digest)
}

// archiveSource hands over the blobs of an archive being imported,
// which archive.Read spooled and verified under the content store's
// ingest directory: a hard link, no second copy of a multi-GB layer.
type archiveSource struct {
	contents *archive.Contents

	mu sync.Mutex
	// stored are the blobs it put into the content store, for an
	// import that fails to take back.
	stored []digest.Digest
}

func (a *archiveSource) storeBlob(_ context.Context, c *contentStore, blob ocispec.Descriptor, n *atomic.Int64) error {
	f, ok := a.contents.Blob(blob.Digest)
	if !ok {
		// The plan checked every layer; this is a bug, not bad input.
		return fmt.Errorf("layer blob %s is not in the archive", blob.Digest)
	}
	if err := c.Adopt(blob.Digest, f.Path); err != nil {
		return err
	}
	n.Add(f.Size)
	a.mu.Lock()
	a.stored = append(a.stored, blob.Digest)
	a.mu.Unlock()
	return nil
}

// storedBlobs are the blobs the source put into the content store.
func (a *archiveSource) storedBlobs() []digest.Digest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.stored)
}
