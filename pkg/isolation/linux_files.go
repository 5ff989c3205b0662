package isolation

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodHostname is a Linux pod's host name: the one it asks for, or the
// node's (from nodeHostname) for a host-network pod that names none. A
// name holding a line break or NUL is an InvalidArgument: it is written
// into the pod's /etc/hostname.
func PodHostname(cfg *runtimeapi.PodSandboxConfig, nodeHostname func() (string, error)) (string, error) {
	hostname := cfg.GetHostname()
	if hostname == "" && cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE {
		var err error
		if hostname, err = nodeHostname(); err != nil {
			return "", fmt.Errorf("reading the node's host name: %w", err)
		}
	}
	if strings.ContainsAny(hostname, "\n\x00") {
		return "", fmt.Errorf("hostname %q holds a line break or NUL: %w", hostname, errdefs.ErrInvalidArgument)
	}
	return hostname, nil
}

// ResolvConf renders a pod's DNS config as resolv.conf, or returns nil
// when the config holds nothing (the node's file is used then).
func ResolvConf(dns *runtimeapi.DNSConfig) ([]byte, error) {
	if len(dns.GetServers()) == 0 && len(dns.GetSearches()) == 0 && len(dns.GetOptions()) == 0 {
		return nil, nil
	}
	for _, list := range [][]string{dns.GetServers(), dns.GetSearches(), dns.GetOptions()} {
		for _, v := range list {
			if v == "" || strings.ContainsAny(v, " \t\n\x00") {
				return nil, fmt.Errorf("dns_config: %q is empty or holds white space: %w", v, errdefs.ErrInvalidArgument)
			}
		}
	}
	var b strings.Builder
	for _, s := range dns.GetServers() {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(dns.GetSearches()) > 0 {
		b.WriteString("search " + strings.Join(dns.GetSearches(), " ") + "\n")
	}
	if len(dns.GetOptions()) > 0 {
		b.WriteString("options " + strings.Join(dns.GetOptions(), " ") + "\n")
	}
	return []byte(b.String()), nil
}
