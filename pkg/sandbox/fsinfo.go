package sandbox

import (
	"time"
)

// LayersUsage is the disk use of every container's writable layer.
type LayersUsage struct {
	// Dir is the directory that holds the writable layers.
	Dir        string
	At         time.Time
	UsedBytes  uint64
	InodesUsed uint64
}

// WritableLayers sums the writable layers of all containers from the
// stats cache's disk measurements (a layer not measured yet counts as
// empty until the cache's background walk reaches it).
func (m *Manager) WritableLayers(cache *StatsCache) LayersUsage {
	u := LayersUsage{Dir: m.dirs.containerLayer(""), At: time.Now()}
	for _, c := range m.ListContainers(ContainerFilter{}) {
		if fs, ok := cache.disk.Get(m.dirs.containerLayer(c.ID)); ok {
			u.UsedBytes += fs.UsedBytes
			u.InodesUsed += fs.InodesUsed
		}
	}
	return u
}
