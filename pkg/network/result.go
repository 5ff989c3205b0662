package network

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// podIPs picks the pod's addresses from a CNI result: those on the
// interface inside the pod's namespace (bridge also reports its host-side
// devices), or every address when the plugin names no interface, as
// Windows plugins do. IPv4 comes first because CRI's first IP is the
// pod's primary one and kubelet expects the IPv4 one there on dual-stack.
func podIPs(res types.Result) ([]netip.Addr, error) {
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("cannot read CNI result: %v: %w", err, errdefs.ErrUnavailable)
	}
	var inPod, all []netip.Addr
	for _, ipc := range r.IPs {
		addr, ok := netip.AddrFromSlice(ipc.Address.IP)
		if !ok {
			continue
		}
		addr = addr.Unmap()
		all = append(all, addr)
		if ipc.Interface != nil && *ipc.Interface >= 0 && *ipc.Interface < len(r.Interfaces) && r.Interfaces[*ipc.Interface].Sandbox != "" {
			inPod = append(inPod, addr)
		}
	}
	ips := inPod
	if len(ips) == 0 {
		ips = all
	}
	ips = dedupe(ips)
	sort.SliceStable(ips, func(i, j int) bool { return ips[i].Is4() && !ips[j].Is4() })
	if len(ips) == 0 {
		return nil, fmt.Errorf("CNI result has no IP address for the pod: %w", errdefs.ErrUnavailable)
	}
	return ips, nil
}

func dedupe(in []netip.Addr) []netip.Addr {
	seen := make(map[netip.Addr]bool, len(in))
	out := in[:0:0]
	for _, a := range in {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
