package network

import "net/netip"

// Protocol is a port mapping's transport protocol, as CNI's portmap
// plugin spells it.
type Protocol string

// Protocols a CRI PortMapping can carry.
const (
	ProtocolTCP  Protocol = "tcp"
	ProtocolUDP  Protocol = "udp"
	ProtocolSCTP Protocol = "sctp"
)

// PortMapping is one CRI port mapping of a pod.
type PortMapping struct {
	Protocol      Protocol
	ContainerPort int32
	// HostPort 0 means no host port: the mapping is informational only
	// and is not passed to CNI (kubelet sends those for every port).
	HostPort int32
	// HostIP "" means every host address.
	HostIP string
}

// DNS is the pod's DNS configuration, passed to plugins that declare the
// "dns" capability (Windows plugins apply it to the pod's endpoint).
type DNS struct {
	Servers  []string
	Searches []string
	Options  []string
}

// Annotations of a pod that shape its traffic (bandwidth plugin), as
// kubelet sets them.
const (
	AnnotationIngressBandwidth = "kubernetes.io/ingress-bandwidth"
	AnnotationEgressBandwidth  = "kubernetes.io/egress-bandwidth"
)

// PodNetwork is what Setup and Teardown need to know about a pod.
type PodNetwork struct {
	// ID is the pod sandbox id; it names the namespace and the CNI
	// attachment.
	ID        string
	Name      string
	Namespace string
	UID       string
	// HostNetwork pods share the host's network: no namespace, no CNI.
	HostNetwork  bool
	PortMappings []PortMapping
	// DNS is nil when the pod has no DNS configuration.
	DNS *DNS
	// Annotations are the pod's annotations; the bandwidth ones are used.
	Annotations map[string]string
	// NamespacePath is where Setup put the pod's namespace
	// (Result.NamespacePath), for the sandbox's records and specs. Setup
	// and Teardown ignore it: the manager finds a pod's namespace by ID,
	// so a Teardown with only ID set cleans up a leftover.
	NamespacePath string
	// NamespaceReady, when set, is called by Setup with the namespace's
	// path once it exists, before the plugins run: a Linux sandbox task
	// joins it by path and can start meanwhile.
	NamespaceReady func(path string)
}

// Result is the outcome of Setup.
type Result struct {
	// NamespacePath is the pod's network namespace: a netns file path on
	// Linux, an HCN namespace GUID on Windows; "" for host-network pods.
	NamespacePath string
	// IPs are the pod's addresses, IPv4 first; empty for host-network pods.
	IPs []netip.Addr
}
