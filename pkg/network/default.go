package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/containerd/errdefs"
)

// DefaultNetwork parameterises the built-in network used when conf_dir
// holds no configuration. Tests give it their own bridge and subnet so
// that they disturb neither the host nor each other.
type DefaultNetwork struct {
	// Name is the CNI network name; it prefixes the cache entries and
	// names the host-local allocation directory.
	Name string
	// Bridge is the Linux bridge device (at most 15 characters).
	Bridge string
	// Subnet is the pod range when UpdateRuntimeConfig set no pod CIDR.
	Subnet netip.Prefix
	// IPAMDir is host-local's allocation directory; the manager puts it
	// under its state directory so that a reboot frees every address,
	// just as it ends every pod.
	IPAMDir string
}

// Defaults of the built-in network.
const (
	DefaultNetworkName = "wincri"
	DefaultBridge      = "wincri0"
	DefaultSubnet      = "10.88.0.0/16"
)

// ParsePodCIDRs parses CRI's pod_cidr: one CIDR, or a comma-separated
// IPv4,IPv6 pair for dual-stack. "" yields nil.
func ParsePodCIDRs(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("pod CIDR %q: %v: %w", s, err, errdefs.ErrInvalidArgument)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// defaultConfList renders the built-in conflist of a CNI version.
// podCIDRs, when given, replace the subnet: one host-local range set per
// CIDR, so a dual-stack pod gets one address of each family.
func defaultConfList(d DefaultNetwork, cniVersion string, podCIDRs []netip.Prefix) ([]byte, error) {
	subnets := podCIDRs
	if len(subnets) == 0 {
		subnets = []netip.Prefix{d.Subnet}
	}
	type rng struct {
		Subnet string `json:"subnet"`
	}
	type route struct {
		Dst string `json:"dst"`
	}
	ranges := make([][]rng, 0, len(subnets))
	routes := make([]route, 0, len(subnets))
	for _, s := range subnets {
		if !s.IsValid() {
			return nil, fmt.Errorf("default network subnet is not set: %w", errdefs.ErrInvalidArgument)
		}
		ranges = append(ranges, []rng{{Subnet: s.Masked().String()}})
		if s.Addr().Is4() {
			routes = append(routes, route{Dst: "0.0.0.0/0"})
		} else {
			routes = append(routes, route{Dst: "::/0"})
		}
	}
	list := map[string]any{
		"cniVersion": cniVersion,
		"name":       d.Name,
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      d.Bridge,
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  ranges,
					"routes":  routes,
					"dataDir": d.IPAMDir,
				},
			},
			map[string]any{
				"type":         "portmap",
				"capabilities": map[string]bool{"portMappings": true},
			},
			// Chained after bridge, loopback passes the result on and
			// keeps lo up; the namespace brings lo up too, for
			// conflists that lack this plugin.
			map[string]any{"type": "loopback"},
		},
	}
	return json.MarshalIndent(list, "", "  ")
}
