package sandbox

import (
	"bytes"
	"context"
	"sync"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/stats"
)

// specCache keeps the resources read from containers' runtime specs:
// a spec changes only when UpdateContainerResources replaces it, and
// decoding every container's spec on every stats request cost a fifth
// of a ListPodSandboxStats. It is safe for concurrent use.
type specCache struct {
	mu      sync.Mutex
	entries map[string]specEntry
}

type specEntry struct {
	// raw is the spec the entry was read from; a record's spec is
	// replaced, never changed in place, so comparing finds updates.
	raw  []byte
	spec stats.Spec
}

// get returns the resources of container id's spec raw, nil when it
// has none or it cannot be read.
func (c *specCache) get(ctx context.Context, id string, raw []byte) *stats.Spec {
	if len(raw) == 0 {
		return nil
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) {
		return &e.spec
	}
	spec, err := stats.ParseSpec(raw)
	if err != nil {
		klog.FromContext(ctx).V(4).Info("Reading the container's resources failed", logkeys.ContainerID, id, "err", err)
		return nil
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]specEntry{}
	}
	c.entries[id] = specEntry{raw: raw, spec: spec}
	c.mu.Unlock()
	return &spec
}

// forget drops the entries of containers for which keep is false.
func (c *specCache) forget(keep func(id string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.entries {
		if !keep(id) {
			delete(c.entries, id)
		}
	}
}

// layersCapacity sizes the filesystem that holds the containers'
// writable layers, once per request: they are all directories under
// one root. nil when it cannot be sized.
func (m *Manager) layersCapacity(ctx context.Context, cache *StatsCache) *stats.Capacity {
	c, err := cache.capacity(m.dirs.containerLayer(""))
	if err != nil {
		klog.FromContext(ctx).V(5).Info("Sizing the writable layers' filesystem failed", "err", err)
		return nil
	}
	return &c
}
