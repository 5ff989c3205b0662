package sandbox

import (
	"slices"

	"github.com/wincri/wincri/pkg/stats"
)

// defaultInterface is the interface CNI plugins create in a Linux pod,
// which kubelet reports as the pod's default.
const defaultInterface = "eth0"

// defaultFirst moves the default interface to the front.
func defaultFirst(ifaces []stats.Interface) []stats.Interface {
	i := slices.IndexFunc(ifaces, func(x stats.Interface) bool { return x.Name == defaultInterface })
	if i > 0 {
		ifaces[0], ifaces[i] = ifaces[i], ifaces[0]
	}
	return ifaces
}
