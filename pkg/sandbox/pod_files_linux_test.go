package sandbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestWritePodFiles(t *testing.T) {
	nodeDir := t.TempDir()
	node := nodeFiles{hosts: filepath.Join(nodeDir, "hosts"), resolvConf: filepath.Join(nodeDir, "resolv.conf"), hostname: func() (string, error) { return "node-1", nil }}
	require.NoError(t, os.WriteFile(node.hosts, []byte("127.0.0.1 localhost node-1\n"), 0o644))
	require.NoError(t, os.WriteFile(node.resolvConf, []byte("nameserver 192.0.2.53\n"), 0o644))
	hostNet := &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE},
	}}
	tests := []struct {
		name                    string
		cfg                     *runtime.PodSandboxConfig
		node                    nodeFiles
		hostname, hosts, resolv string
		wantErr                 error
	}{
		{
			name:     "pod network with DNS config",
			cfg:      &runtime.PodSandboxConfig{Hostname: "web", DnsConfig: &runtime.DNSConfig{Servers: []string{"10.96.0.10"}}},
			node:     node,
			hostname: "web\n", hosts: "127.0.0.1 localhost node-1\n", resolv: "nameserver 10.96.0.10\n",
		},
		{
			name:     "host network without hostname or DNS",
			cfg:      &runtime.PodSandboxConfig{Linux: hostNet},
			node:     node,
			hostname: "node-1\n", hosts: "127.0.0.1 localhost node-1\n", resolv: "nameserver 192.0.2.53\n",
		},
		{
			name:     "node without the files",
			cfg:      &runtime.PodSandboxConfig{Hostname: "web"},
			node:     nodeFiles{hosts: filepath.Join(nodeDir, "none"), resolvConf: filepath.Join(nodeDir, "none"), hostname: node.hostname},
			hostname: "web\n",
		},
		{name: "bad hostname", cfg: &runtime.PodSandboxConfig{Hostname: "a\nb"}, node: node, wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := writePodFiles(dir, tt.cfg, tt.node)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			read := func(p string) string {
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				return string(data)
			}
			assert.Equal(t, tt.hostname, read(files.HostnamePath))
			assert.Equal(t, tt.hosts, read(files.HostsPath))
			assert.Equal(t, tt.resolv, read(files.ResolvConfPath))
			assert.DirExists(t, files.ShmPath)
			assert.Equal(t, podFiles(dir), files, "the paths the containers mount are the ones written")
		})
	}
}
