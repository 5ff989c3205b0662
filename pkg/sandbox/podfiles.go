package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Pod files shared by a pod's containers, inside its bundle.
const (
	hostnameFile   = "hostname"
	hostsFile      = "hosts"
	resolvConfFile = "resolv.conf"
	shmDir         = "shm"
)

const defaultHosts = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`

// resolvConf renders a pod's DNS config; nil means the host's file.
func resolvConf(dns *runtime.DNSConfig) string {
	var b strings.Builder
	if len(dns.GetSearches()) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(dns.GetSearches(), " "))
	}
	for _, s := range dns.GetServers() {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(dns.GetOptions()) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(dns.GetOptions(), " "))
	}
	return b.String()
}

// hostnameOf is the pod's hostname: the host's for host-network pods,
// else the configured one.
func hostnameOf(cfg *runtime.PodSandboxConfig, hostNetwork bool) (string, error) {
	if hostNetwork || cfg.GetHostname() == "" {
		return os.Hostname()
	}
	return cfg.GetHostname(), nil
}

// writePodFiles writes the pod's hostname, hosts and resolv.conf into its
// bundle. Host-network pods see the host's hosts file; pods without DNS
// config get the host's resolv.conf.
func writePodFiles(bundle string, cfg *runtime.PodSandboxConfig, hostNetwork bool) error {
	hostname, err := hostnameOf(cfg, hostNetwork)
	if err != nil {
		return fmt.Errorf("pod hostname: %w", err)
	}
	hosts := defaultHosts
	if hostNetwork {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
	}
	resolv := resolvConf(cfg.GetDnsConfig())
	if cfg.GetDnsConfig() == nil {
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			resolv = string(b)
		}
	}
	for name, content := range map[string]string{
		hostnameFile:   hostname + "\n",
		hostsFile:      hosts,
		resolvConfFile: resolv,
	} {
		if err := os.WriteFile(filepath.Join(bundle, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
