package cri

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
)

func TestVersion(t *testing.T) {
	env := newTestEnv(t, Options{}, true)
	resp, err := env.runtime.Version(ctx(t), &runtime.VersionRequest{})
	require.NoError(t, err)
	// kubelet's runtime manager refuses any other version and exits
	// (k8s.io/kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go,
	// kubeRuntimeAPIVersion "0.1.0").
	assert.Equal(t, "0.1.0", resp.Version)
	assert.Equal(t, "wincri", resp.RuntimeName)
	assert.Equal(t, "v1", resp.RuntimeApiVersion)
	assert.NotEmpty(t, resp.RuntimeVersion)
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name        string
		netErr      error
		wantNetOK   bool
		wantMessage string
	}{
		{"network ready", nil, true, ""},
		{"no cni plugin", errors.New("no CNI plugin binaries in /opt/cni/bin"), false, "no CNI plugin binaries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, Options{Network: &fakeNetwork{status: tt.netErr}}, true)
			resp, err := env.runtime.Status(ctx(t), &runtime.StatusRequest{Verbose: true})
			require.NoError(t, err)
			conds := map[string]*runtime.RuntimeCondition{}
			for _, c := range resp.Status.Conditions {
				conds[c.Type] = c
			}
			require.Contains(t, conds, runtime.RuntimeReady)
			assert.True(t, conds[runtime.RuntimeReady].Status)
			require.Contains(t, conds, runtime.NetworkReady)
			net := conds[runtime.NetworkReady]
			assert.Equal(t, tt.wantNetOK, net.Status)
			if !tt.wantNetOK {
				assert.Equal(t, networkNotReadyReason, net.Reason)
				assert.Contains(t, net.Message, tt.wantMessage)
			}
			var cfg config.Config
			require.NoError(t, json.Unmarshal([]byte(resp.Info["config"]), &cfg))
			assert.Equal(t, config.Default().DefaultRuntime, cfg.DefaultRuntime)
			names := []string{}
			for _, h := range resp.RuntimeHandlers {
				names = append(names, h.Name)
			}
			assert.Contains(t, names, "process")
			assert.Contains(t, names, "", "the default handler is also listed under the empty name")
		})
	}
}

func TestRuntimeConfig(t *testing.T) {
	assert.Equal(t, runtime.CgroupDriver_CGROUPFS, runtimeConfigFor("cgroupfs").GetLinux().GetCgroupDriver())
	assert.Equal(t, runtime.CgroupDriver_SYSTEMD, runtimeConfigFor("systemd").GetLinux().GetCgroupDriver())
	assert.Nil(t, runtimeConfigFor("").GetLinux(), "Windows has no cgroups")
}

func TestUpdateRuntimeConfig(t *testing.T) {
	tests := []struct {
		name     string
		cidr     string
		wantCode codes.Code
		wantSet  string
	}{
		{"ipv4", "10.244.1.0/24", codes.OK, "10.244.1.0/24"},
		{"dual stack", "10.244.1.0/24,fd00::/64", codes.OK, "10.244.1.0/24,fd00::/64"},
		{"empty is a no-op", "", codes.OK, ""},
		{"garbage", "10.244.1.0/99", codes.InvalidArgument, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw := &fakeNetwork{}
			env := newTestEnv(t, Options{Network: nw}, true)
			_, err := env.runtime.UpdateRuntimeConfig(ctx(t), &runtime.UpdateRuntimeConfigRequest{
				RuntimeConfig: &runtime.RuntimeConfig{NetworkConfig: &runtime.NetworkConfig{PodCidr: tt.cidr}},
			})
			assert.Equal(t, tt.wantCode, status.Code(err), "%v", err)
			assert.Equal(t, tt.wantSet, nw.podCIDR)
			if tt.wantCode == codes.InvalidArgument {
				assert.Contains(t, status.Convert(err).Message(), "pod_cidr")
			}
		})
	}
}
