package network

import (
	"net"
	"net/netip"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ipConf(_ *testing.T, cidr string, iface *int) *current.IPConfig {
	return ipConfNoT(cidr, iface)
}

// ipConfNoT builds an address from a test literal.
func ipConfNoT(cidr string, iface *int) *current.IPConfig {
	p := netip.MustParsePrefix(cidr)
	n := net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	return &current.IPConfig{Address: n, Interface: iface}
}

func TestPodIPs(t *testing.T) {
	idx := func(i int) *int { return &i }
	bridgeIfaces := []*current.Interface{
		{Name: "cni0"},
		{Name: "veth1"},
		{Name: "eth0", Sandbox: "/run/netns/p"},
	}
	tests := []struct {
		name    string
		result  *current.Result
		want    []string
		wantErr bool
	}{
		{
			name: "addresses on the pod interface only",
			result: &current.Result{CNIVersion: "1.0.0", Interfaces: bridgeIfaces, IPs: []*current.IPConfig{
				ipConf(t, "10.88.0.1/16", idx(0)),
				ipConf(t, "10.88.0.5/16", idx(2)),
			}},
			want: []string{"10.88.0.5"},
		},
		{
			name: "ipv4 first on dual stack",
			result: &current.Result{CNIVersion: "1.0.0", Interfaces: bridgeIfaces, IPs: []*current.IPConfig{
				ipConf(t, "fd00::5/64", idx(2)),
				ipConf(t, "10.88.0.5/16", idx(2)),
			}},
			want: []string{"10.88.0.5", "fd00::5"},
		},
		{
			name: "no interface index: every address",
			result: &current.Result{CNIVersion: "1.0.0", IPs: []*current.IPConfig{
				ipConf(t, "192.168.1.4/24", nil),
				ipConf(t, "192.168.1.4/24", nil),
			}},
			want: []string{"192.168.1.4"},
		},
		{
			name: "index out of range is ignored",
			result: &current.Result{CNIVersion: "1.0.0", IPs: []*current.IPConfig{
				ipConf(t, "192.168.1.4/24", idx(7)),
			}},
			want: []string{"192.168.1.4"},
		},
		{name: "no address", result: &current.Result{CNIVersion: "1.0.0"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podIPs(tt.result)
			if tt.wantErr {
				require.Error(t, err)
				assert.True(t, errdefs.IsUnavailable(err))
				return
			}
			require.NoError(t, err)
			var s []string
			for _, a := range got {
				s = append(s, a.String())
			}
			assert.Equal(t, tt.want, s)
		})
	}
}

func TestPodIPsFromOlderResult(t *testing.T) {
	// A 0.4.0 result, as older plugins return it, converts too.
	res, err := current.NewResultFromResult(&current.Result{CNIVersion: "1.0.0", IPs: []*current.IPConfig{ipConf(t, "10.1.0.2/24", nil)}})
	require.NoError(t, err)
	old, err := res.GetAsVersion("0.4.0")
	require.NoError(t, err)
	got, err := podIPs(old)
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("10.1.0.2")}, got)
	var _ types.Result = old
}
