package sandbox

import (
	"context"
	"os"
	"slices"

	"github.com/containernetworking/plugins/pkg/ns"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/stats"
)

// defaultInterface is the interface CNI plugins create in a Linux pod,
// which kubelet reports as the pod's default.
const defaultInterface = "eth0"

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

// defaultFirst moves the default interface to the front.
func defaultFirst(ifaces []stats.Interface) []stats.Interface {
	i := slices.IndexFunc(ifaces, func(x stats.Interface) bool { return x.Name == defaultInterface })
	if i > 0 {
		ifaces[0], ifaces[i] = ifaces[i], ifaces[0]
	}
	return ifaces
}
