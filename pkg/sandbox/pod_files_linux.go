package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/isolation"
)

// nodeFiles are the node's own name-resolution files, copied into a pod
// when it asks for nothing else.
type nodeFiles struct {
	hosts      string
	resolvConf string
	// hostname is the node's host name, for host-network pods.
	hostname func() (string, error)
}

// theNode is the node wincri runs on.
func theNode() nodeFiles {
	return nodeFiles{hosts: "/etc/hosts", resolvConf: "/etc/resolv.conf", hostname: os.Hostname}
}

// The pod files writePodFiles writes into a pod's bundle,
// which its containers bind-mount.
const (
	hostnameFile   = "hostname"
	hostsFile      = "hosts"
	resolvConfFile = "resolv.conf"
	shmDir         = "shm"
)

// podFiles are the paths writePodFiles writes for a pod.
func podFiles(bundle string) isolation.SandboxFiles {
	return isolation.SandboxFiles{
		HostnamePath:   filepath.Join(bundle, hostnameFile),
		HostsPath:      filepath.Join(bundle, hostsFile),
		ResolvConfPath: filepath.Join(bundle, resolvConfFile),
		ShmPath:        filepath.Join(bundle, shmDir),
	}
}

// writePodFiles writes a Linux pod's hostname, hosts and resolv.conf
// into its bundle and creates the empty shm directory mountPodShm mounts:
//
//   - hostname: isolation.PodHostname;
//   - hosts: a copy of the node's (kubelet bind-mounts its own managed
//     file over it for pods on the pod network);
//   - resolv.conf: from the pod's DNSConfig when it has any value, else a
//     copy of the node's.
func writePodFiles(bundle string, cfg *runtime.PodSandboxConfig, node nodeFiles) (isolation.SandboxFiles, error) {
	files := podFiles(bundle)
	hostname, err := isolation.PodHostname(cfg, node.hostname)
	if err != nil {
		return isolation.SandboxFiles{}, err
	}
	resolv, err := isolation.ResolvConf(cfg.GetDnsConfig())
	if err != nil {
		return isolation.SandboxFiles{}, err
	}
	if err := os.MkdirAll(files.ShmPath, 0o700); err != nil {
		return isolation.SandboxFiles{}, err
	}
	if err := os.WriteFile(files.HostnamePath, []byte(hostname+"\n"), 0o644); err != nil {
		return isolation.SandboxFiles{}, err
	}
	if err := copyNodeFile(node.hosts, files.HostsPath); err != nil {
		return isolation.SandboxFiles{}, err
	}
	if resolv == nil {
		err = copyNodeFile(node.resolvConf, files.ResolvConfPath)
	} else {
		err = os.WriteFile(files.ResolvConfPath, resolv, 0o644)
	}
	if err != nil {
		return isolation.SandboxFiles{}, err
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
