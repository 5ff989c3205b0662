package network

import (
	"sync"
	"time"
)

// hnsNetworks answers whether a host network of the given name exists:
// on Windows, the HNS network a CNI configuration names, which the
// network's agent (flanneld, calico-node...) creates some time after a
// reboot. Until it does, pods cannot get a network.
type hnsNetworks interface {
	NetworkExists(name string) (bool, error)
}

// hnsExistsTTL is how long a network found stays known to exist: HNS
// calls are not free, and a network that goes away fails pods anyway.
// A missing one is asked about again on every call.
const hnsExistsTTL = 10 * time.Second

// cachedHNS remembers networks found for hnsExistsTTL.
type cachedHNS struct {
	hns hnsNetworks
	now func() time.Time

	mu    sync.Mutex
	found map[string]time.Time
}

func newCachedHNS(h hnsNetworks) *cachedHNS {
	return &cachedHNS{hns: h, now: time.Now, found: map[string]time.Time{}}
}

func (c *cachedHNS) NetworkExists(name string) (bool, error) {
	c.mu.Lock()
	at, ok := c.found[name]
	c.mu.Unlock()
	if ok && c.now().Sub(at) < hnsExistsTTL {
		return true, nil
	}
	exists, err := c.hns.NetworkExists(name)
	if err != nil || !exists {
		return exists, err
	}
	c.mu.Lock()
	c.found[name] = c.now()
	c.mu.Unlock()
	return true, nil
}
