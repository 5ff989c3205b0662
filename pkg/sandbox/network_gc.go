package sandbox

import (
	"context"
	"time"

	"k8s.io/klog/v2"
)

// NetworkGCInterval is how often the network state of gone pods is
// collected while wincri runs, besides at every start: a teardown that
// failed and that no kubelet retries (the pod was force-deleted) leaves
// addresses and, on Windows, HNS endpoints until then.
const NetworkGCInterval = 5 * time.Minute

// podIDs are the pods wincri knows, in every state: a pod being set up
// is one, since its record comes before its network.
func (m *Manager) podIDs() (map[string]bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := make(map[string]bool, len(m.pods))
	for id := range m.pods {
		ids[id] = true
	}
	return ids, nil
}

// RunNetworkGC collects the network state of gone pods every interval
// until ctx ends. Failures are logged; the next round tries again.
func (m *Manager) RunNetworkGC(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		if err := m.network.GC(ctx, m.podIDs); err != nil {
			klog.FromContext(ctx).Error(err, "Removing the network state of gone pods")
		}
	})
}
