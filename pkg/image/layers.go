package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/store"
)

// layerStore keeps unpacked layers in root/<chain id hex>, one directory
// per chain id, shared by every image with that chain. A directory is
// complete exactly when the state store has its layer record: the record
// is written after the unpack and removed before the directory, so
// directories without a record are leftovers of a crash.
type layerStore struct {
	root string
	// remove deletes a layer directory: removeLayerDir; tests replace it.
	remove func(ctx context.Context, dir string) error

	// flight deduplicates layer downloads and unpacks across pulls.
	flight flight

	mu sync.Mutex
	// leases are the chain ids and blobs of pulls not yet recorded in an
	// image; garbage collection keeps them.
	leases map[string]int

	// syncs makes unpacked layers durable, one file system sync serving
	// every layer finished before it started.
	syncs groupSync
}

// sync makes the layer unpacked in dir durable (syncLayer).
func (l *layerStore) sync(dir string) error {
	return l.syncs.do(func() error { return syncLayer(dir) })
}

func newLayerStore(root string) (*layerStore, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	return &layerStore{root: root, remove: removeLayerDir, leases: map[string]int{}}, nil
}

func (l *layerStore) dir(chainID string) string {
	return filepath.Join(l.root, digest.Digest(chainID).Encoded())
}

// paths are the directories of chain ids given base first, returned
// topmost first.
func (l *layerStore) paths(chainIDs []string) []string {
	out := make([]string, len(chainIDs))
	for i, c := range chainIDs {
		out[len(chainIDs)-1-i] = l.dir(c)
	}
	return out
}

func (l *layerStore) lease(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.leases[k]++
	}
}

func (l *layerStore) unlease(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if l.leases[k]--; l.leases[k] <= 0 {
			delete(l.leases, k)
		}
	}
}

// collect deletes the layers that no image uses and no pull holds, and
// returns how many it removed. Directories first would leave a record
// that points at nothing, so records go first. The lease lock is held
// throughout, so a pull that leases a layer either sees its record
// before collection or finds it gone and unpacks it again.
func (l *layerStore) collect(ctx context.Context, st *store.Store) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var unused []string
	err := st.View(func(tx *store.Tx) error {
		recs, err := store.List[layerRecord](tx, bucketLayers)
		for _, r := range recs {
			if len(r.Images) == 0 && l.leases[r.ChainID] == 0 {
				unused = append(unused, r.ChainID)
			}
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	if len(unused) == 0 {
		return 0, nil
	}
	err = st.Update(func(tx *store.Tx) error {
		for _, c := range unused {
			if err := tx.Delete(bucketLayers, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, c := range unused {
		if err := l.removeLeftover(ctx, st, l.dir(c)); err != nil {
			errs = append(errs, err)
		}
	}
	return len(unused), errors.Join(errs...)
}

// removeLeftover removes a layer directory that no record owns any more.
// One that cannot be removed (Windows holds a file of it open, a broken
// import left it unremovable) is logged and quarantined, and the next
// start tries again: one bad directory never stops the image service.
// Only a failure of the state store is returned.
func (l *layerStore) removeLeftover(ctx context.Context, st *store.Store, dir string) error {
	if err := l.remove(ctx, dir); err != nil {
		klog.FromContext(ctx).Error(err, "A leftover layer directory cannot be removed; it is quarantined and retried at the next start", "path", dir)
		return st.QuarantineLeftover("layer", dir, err.Error())
	}
	return st.ReleaseLeftover("layer", dir)
}

// discard removes the directory of a layer being unpacked, which no
// record owns: what an interrupted or failed unpack of the chain id
// left. One that cannot be removed is moved aside, to a name no chain id
// has, and quarantined, so that the chain id is free for the unpack at
// once and one stuck directory never fails every later pull of the
// layer; the next start retries its removal. An error only when it can
// be neither removed nor moved.
func (l *layerStore) discard(ctx context.Context, st *store.Store, dir string) error {
	err := l.remove(ctx, dir)
	if err == nil {
		return nil
	}
	aside := fmt.Sprintf("%s.leftover-%d", dir, time.Now().UnixNano())
	if rerr := os.Rename(dir, aside); rerr != nil {
		return fmt.Errorf("removing partial layer %s: %w (moving it aside: %w)", dir, err, rerr)
	}
	klog.FromContext(ctx).Error(err, "A partial layer directory cannot be removed; it is moved aside, quarantined and retried at the next start", "path", dir, "movedTo", aside)
	return st.QuarantineLeftover("layer", aside, err.Error())
}

// removeOrphans deletes layer directories that have no record: unpacks
// that a crash interrupted. Only safe before any pull starts.
func (l *layerStore) removeOrphans(ctx context.Context, st *store.Store) error {
	entries, err := os.ReadDir(l.root)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		chainID := "sha256:" + e.Name()
		err := st.View(func(tx *store.Tx) error {
			var r layerRecord
			return tx.Get(bucketLayers, chainID, &r)
		})
		if errors.Is(err, errdefs.ErrNotFound) {
			if err := l.removeLeftover(ctx, st, filepath.Join(l.root, e.Name())); err != nil {
				errs = append(errs, err)
			}
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// chainIDs computes the OCI chain ids of a list of diff ids, base first.
func chainIDs(diffIDs []digest.Digest) []string {
	out := make([]string, len(diffIDs))
	var prev digest.Digest
	for i, d := range diffIDs {
		if i == 0 {
			prev = d
		} else {
			prev = digest.FromString(prev.String() + " " + d.String())
		}
		out[i] = prev.String()
	}
	return out
}
