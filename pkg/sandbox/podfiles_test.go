package sandbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestResolvConf(t *testing.T) {
	tests := []struct {
		name string
		dns  *runtime.DNSConfig
		want string
	}{
		{"empty", &runtime.DNSConfig{}, ""},
		{"full", &runtime.DNSConfig{
			Servers:  []string{"10.96.0.10", "fd00::a"},
			Searches: []string{"default.svc.cluster.local", "svc.cluster.local"},
			Options:  []string{"ndots:5"},
		}, "search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver fd00::a\noptions ndots:5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, resolvConf(tt.dns))
		})
	}
}

func TestWritePodFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := &runtime.PodSandboxConfig{Hostname: "web-0", DnsConfig: &runtime.DNSConfig{Servers: []string{"10.96.0.10"}}}
	require.NoError(t, writePodFiles(dir, cfg, false))
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "web-0\n", read(hostnameFile))
	assert.Contains(t, read(hostsFile), "127.0.0.1\tlocalhost")
	assert.Equal(t, "nameserver 10.96.0.10\n", read(resolvConfFile))

	host, err := os.Hostname()
	require.NoError(t, err)
	require.NoError(t, writePodFiles(dir, cfg, true))
	assert.Equal(t, host+"\n", read(hostnameFile), "a host-network pod has the host's name")
}
