package isolation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// NodeFiles are the node's own name-resolution files, copied into a pod
// when it asks for nothing else.
type NodeFiles struct {
	HostsPath      string // "" means /etc/hosts
	ResolvConfPath string // "" means /etc/resolv.conf
}

// WriteSandboxFiles writes a Linux pod's hostname, hosts and resolv.conf
// into dir (the pod's state directory) and returns their paths, with
// ShmPath set to dir/shm, created empty, for MountSandboxShm.
//
//   - hostname: the pod's hostname, or the node's for a host-network pod
//     that names none;
//   - hosts: a copy of the node's (kubelet bind-mounts its own managed
//     file over it for pods on the pod network);
//   - resolv.conf: from the pod's DNSConfig when it has any value, else a
//     copy of the node's.
func WriteSandboxFiles(dir string, cfg *runtimeapi.PodSandboxConfig, node NodeFiles, host LinuxHost) (SandboxFiles, error) {
	if host == nil {
		host = NodeHost{}
	}
	if node.HostsPath == "" {
		node.HostsPath = "/etc/hosts"
	}
	if node.ResolvConfPath == "" {
		node.ResolvConfPath = "/etc/resolv.conf"
	}
	files := SandboxFiles{
		HostnamePath:   filepath.Join(dir, "hostname"),
		HostsPath:      filepath.Join(dir, "hosts"),
		ResolvConfPath: filepath.Join(dir, "resolv.conf"),
		ShmPath:        filepath.Join(dir, "shm"),
	}
	hostname := cfg.GetHostname()
	if hostname == "" && cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE {
		var err error
		if hostname, err = host.Hostname(); err != nil {
			return SandboxFiles{}, fmt.Errorf("reading the node's host name: %w", err)
		}
	}
	if strings.ContainsAny(hostname, "\n\x00") {
		return SandboxFiles{}, fmt.Errorf("hostname %q holds a line break or NUL: %w", hostname, errdefs.ErrInvalidArgument)
	}
	if err := os.MkdirAll(files.ShmPath, 0o700); err != nil {
		return SandboxFiles{}, err
	}
	if err := os.WriteFile(files.HostnamePath, []byte(hostname+"\n"), 0o644); err != nil {
		return SandboxFiles{}, err
	}
	if err := copyNodeFile(node.HostsPath, files.HostsPath); err != nil {
		return SandboxFiles{}, err
	}
	resolv, err := ResolvConf(cfg.GetDnsConfig())
	if err != nil {
		return SandboxFiles{}, err
	}
	if resolv == nil {
		err = copyNodeFile(node.ResolvConfPath, files.ResolvConfPath)
	} else {
		err = os.WriteFile(files.ResolvConfPath, resolv, 0o644)
	}
	if err != nil {
		return SandboxFiles{}, err
	}
	return files, nil
}

// copyNodeFile copies a node file; a node without one gives an empty file
// so the bind mount still has a source.
func copyNodeFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading the node's %s: %w", src, err)
	}
	return os.WriteFile(dst, data, 0o644)
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
