package network

import (
	"fmt"
	"net/netip"
	"regexp"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
)

// podIfName is the pod's interface, as every CRI runtime names it.
const podIfName = "eth0"

// validID is what libcni accepts as a container ID; checking it first
// turns a bad ID into InvalidArgument before anything is created, and
// keeps it a safe file name.
var validID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

func validatePodID(id string) error {
	if !validID.MatchString(id) {
		return fmt.Errorf("pod ID %q must match %s: %w", id, validID, errdefs.ErrInvalidArgument)
	}
	return nil
}

// cniArgs are the CNI_ARGS kubelet's dockershim and containerd pass;
// plugins such as Calico and Cilium find the pod by them.
func cniArgs(pod PodNetwork) [][2]string {
	return [][2]string{
		{"IgnoreUnknown", "1"},
		{"K8S_POD_NAMESPACE", pod.Namespace},
		{"K8S_POD_NAME", pod.Name},
		{"K8S_POD_INFRA_CONTAINER_ID", pod.ID},
		{"K8S_POD_UID", pod.UID},
	}
}

// portMapEntry is one entry of the "portMappings" capability.
type portMapEntry struct {
	HostPort      int32    `json:"hostPort"`
	ContainerPort int32    `json:"containerPort"`
	Protocol      Protocol `json:"protocol"`
	HostIP        string   `json:"hostIP,omitempty"`
}

// portMappings converts CRI port mappings for the portmap plugin.
// Mappings without a host port are dropped: kubelet sends one for every
// declared container port, and only host ports need plumbing.
func portMappings(in []PortMapping) ([]portMapEntry, error) {
	var out []portMapEntry
	for _, pm := range in {
		if pm.HostPort == 0 {
			continue
		}
		if pm.HostPort < 0 || pm.HostPort > 65535 || pm.ContainerPort <= 0 || pm.ContainerPort > 65535 {
			return nil, fmt.Errorf("port mapping %d->%d: ports must be in 1-65535: %w", pm.HostPort, pm.ContainerPort, errdefs.ErrInvalidArgument)
		}
		proto := pm.Protocol
		if proto == "" {
			proto = ProtocolTCP
		}
		switch proto {
		case ProtocolTCP, ProtocolUDP, ProtocolSCTP:
		default:
			return nil, fmt.Errorf("port mapping %d->%d: unknown protocol %q: %w", pm.HostPort, pm.ContainerPort, pm.Protocol, errdefs.ErrInvalidArgument)
		}
		if pm.HostIP != "" {
			if _, err := netip.ParseAddr(pm.HostIP); err != nil {
				return nil, fmt.Errorf("port mapping %d->%d: host IP %q: %w", pm.HostPort, pm.ContainerPort, pm.HostIP, errdefs.ErrInvalidArgument)
			}
		}
		out = append(out, portMapEntry{HostPort: pm.HostPort, ContainerPort: pm.ContainerPort, Protocol: proto, HostIP: pm.HostIP})
	}
	return out, nil
}

// dnsEntry is the "dns" capability.
type dnsEntry struct {
	Servers  []string `json:"servers,omitempty"`
	Searches []string `json:"searches,omitempty"`
	Options  []string `json:"options,omitempty"`
}

// capabilityArgs builds the runtimeConfig libcni hands to the plugins
// that declare each capability.
func capabilityArgs(pod PodNetwork) (map[string]any, error) {
	caps := map[string]any{}
	pms, err := portMappings(pod.PortMappings)
	if err != nil {
		return nil, err
	}
	if len(pms) > 0 {
		caps["portMappings"] = pms
	}
	if d := pod.DNS; d != nil && (len(d.Servers) > 0 || len(d.Searches) > 0 || len(d.Options) > 0) {
		caps["dns"] = dnsEntry{Servers: d.Servers, Searches: d.Searches, Options: d.Options}
	}
	bw, err := podBandwidth(pod.Annotations)
	if err != nil {
		return nil, err
	}
	if bw != nil {
		caps["bandwidth"] = bw
	}
	return caps, nil
}

// runtimeConf is the libcni request for pod in namespace netns.
func runtimeConf(pod PodNetwork, netns string) (*libcni.RuntimeConf, error) {
	caps, err := capabilityArgs(pod)
	if err != nil {
		return nil, err
	}
	return &libcni.RuntimeConf{
		ContainerID:    pod.ID,
		NetNS:          netns,
		IfName:         podIfName,
		Args:           cniArgs(pod),
		CapabilityArgs: caps,
	}, nil
}
