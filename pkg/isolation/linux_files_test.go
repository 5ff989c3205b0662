package isolation

import (
	"errors"
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

func TestPodHostname(t *testing.T) {
	hostNet := &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
	}}
	node := func() (string, error) { return "node-1", nil }
	broken := func() (string, error) { return "", errors.New("uname failed") }
	tests := []struct {
		name    string
		cfg     *runtimeapi.PodSandboxConfig
		node    func() (string, error)
		want    string
		wantErr error
	}{
		{name: "pod network names one", cfg: &runtimeapi.PodSandboxConfig{Hostname: "web"}, node: broken, want: "web"},
		{name: "pod network names none", cfg: &runtimeapi.PodSandboxConfig{}, node: broken, want: ""},
		{name: "host network names none", cfg: &runtimeapi.PodSandboxConfig{Linux: hostNet}, node: node, want: "node-1"},
		{name: "host network names one", cfg: &runtimeapi.PodSandboxConfig{Hostname: "web", Linux: hostNet}, node: broken, want: "web"},
		{name: "node name unreadable", cfg: &runtimeapi.PodSandboxConfig{Linux: hostNet}, node: broken, wantErr: errors.New("uname failed")},
		{name: "line break", cfg: &runtimeapi.PodSandboxConfig{Hostname: "a\nb"}, node: node, wantErr: errdefs.ErrInvalidArgument},
		{name: "NUL", cfg: &runtimeapi.PodSandboxConfig{Hostname: "a\x00b"}, node: node, wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PodHostname(tt.cfg, tt.node)
			if tt.wantErr != nil {
				require.Error(t, err)
				if errdefs.IsInvalidArgument(tt.wantErr) {
					require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				} else {
					assert.ErrorContains(t, err, tt.wantErr.Error())
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
