package image

import (
	"slices"
	"sync"

	"github.com/wincri/wincri/pkg/store"
)

// listCache holds the images decoded at one version of the state store.
// Any write to the store (an image's or not) invalidates it, so it never
// answers with records older than the store's.
type listCache struct {
	mu      sync.Mutex
	valid   bool
	version int
	imgs    []Image
}

// get returns the images of the store as tx sees it: the cached ones
// when tx is at the version they were decoded at, else load's, which
// are kept. Each caller gets its own copy of the list and of each
// image's slices.
func (c *listCache) get(tx *store.Tx, load func() ([]Image, error)) ([]Image, error) {
	v := tx.Version()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.version != v {
		imgs, err := load()
		if err != nil {
			c.valid = false
			return nil, err
		}
		c.valid, c.version, c.imgs = true, v, imgs
	}
	out := make([]Image, len(c.imgs))
	for i, img := range c.imgs {
		img.RepoTags = slices.Clone(img.RepoTags)
		img.RepoDigests = slices.Clone(img.RepoDigests)
		img.ChainIDs = slices.Clone(img.ChainIDs)
		img.LayerPaths = slices.Clone(img.LayerPaths)
		out[i] = img
	}
	return out, nil
}
