package isolation

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestResolvConf(t *testing.T) {
	tests := []struct {
		name    string
		dns     *runtimeapi.DNSConfig
		want    string
		wantNil bool
		wantErr bool
	}{
		{name: "nil", wantNil: true},
		{name: "empty", dns: &runtimeapi.DNSConfig{}, wantNil: true},
		{
			name: "cluster first",
			dns: &runtimeapi.DNSConfig{
				Servers:  []string{"10.96.0.10"},
				Searches: []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"},
				Options:  []string{"ndots:5"},
			},
			want: "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
		},
		{name: "servers only", dns: &runtimeapi.DNSConfig{Servers: []string{"1.1.1.1", "::1"}}, want: "nameserver 1.1.1.1\nnameserver ::1\n"},
		{name: "injection", dns: &runtimeapi.DNSConfig{Searches: []string{"a\nnameserver 6.6.6.6"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolvConf(tt.dns)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			if tt.wantNil {
				assert.Nil(t, got)
				return
			}
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestWriteSandboxFiles(t *testing.T) {
	nodeDir := t.TempDir()
	node := NodeFiles{HostsPath: filepath.Join(nodeDir, "hosts"), ResolvConfPath: filepath.Join(nodeDir, "resolv.conf")}
	require.NoError(t, os.WriteFile(node.HostsPath, []byte("127.0.0.1 localhost node-1\n"), 0o644))
	require.NoError(t, os.WriteFile(node.ResolvConfPath, []byte("nameserver 192.0.2.53\n"), 0o644))
	hostNet := &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
	}}
	tests := []struct {
		name                    string
		cfg                     *runtimeapi.PodSandboxConfig
		node                    NodeFiles
		hostname, hosts, resolv string
		wantErr                 error
	}{
		{
			name:     "pod network with DNS config",
			cfg:      &runtimeapi.PodSandboxConfig{Hostname: "web", DnsConfig: &runtimeapi.DNSConfig{Servers: []string{"10.96.0.10"}}},
			node:     node,
			hostname: "web\n", hosts: "127.0.0.1 localhost node-1\n", resolv: "nameserver 10.96.0.10\n",
		},
		{
			name:     "host network without hostname or DNS",
			cfg:      &runtimeapi.PodSandboxConfig{Linux: hostNet},
			node:     node,
			hostname: "node-1\n", hosts: "127.0.0.1 localhost node-1\n", resolv: "nameserver 192.0.2.53\n",
		},
		{
			name:     "node without the files",
			cfg:      &runtimeapi.PodSandboxConfig{Hostname: "web"},
			node:     NodeFiles{HostsPath: filepath.Join(nodeDir, "none"), ResolvConfPath: filepath.Join(nodeDir, "none")},
			hostname: "web\n",
		},
		{name: "bad hostname", cfg: &runtimeapi.PodSandboxConfig{Hostname: "a\nb"}, node: node, wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := WriteSandboxFiles(dir, tt.cfg, tt.node, newFakeHost())
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
			assert.Equal(t, dir, filepath.Dir(files.ShmPath))
		})
	}
}
