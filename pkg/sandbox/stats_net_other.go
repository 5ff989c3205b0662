//go:build !windows

package sandbox

import (
	"context"
	"os"

	"github.com/containernetworking/plugins/pkg/ns"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/stats"
)

// podInterfaces reads the interface counters inside the pod's network
// namespace: /proc/thread-self is the calling thread's view, and the
// thread is the one ns moved into the namespace.
func podInterfaces(_ context.Context, rec PodRecord, _ *runtime.PodSandboxConfig) ([]stats.Interface, error) {
	var ifaces []stats.Interface
	err := ns.WithNetNSPath(rec.NetNS, func(ns.NetNS) error {
		f, err := os.Open("/proc/thread-self/net/dev")
		if err != nil {
			return err
		}
		defer f.Close()
		ifaces, err = stats.ParseNetDev(f)
		return err
	})
	return defaultFirst(ifaces), err
}
