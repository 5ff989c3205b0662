package network

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePodCIDRs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "empty", in: ""},
		{name: "blank", in: "  "},
		{name: "ipv4", in: "10.244.1.0/24", want: []string{"10.244.1.0/24"}},
		{name: "host bits masked", in: "10.244.1.7/24", want: []string{"10.244.1.0/24"}},
		{name: "dual stack", in: "10.244.1.0/24, fd00:1::/64", want: []string{"10.244.1.0/24", "fd00:1::/64"}},
		{name: "not a cidr", in: "10.244.1.0", wantErr: true},
		{name: "garbage in pair", in: "10.244.1.0/24,x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePodCIDRs(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
				return
			}
			require.NoError(t, err)
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			assert.Equal(t, tt.want, s)
		})
	}
}

// confJSON is the part of the built-in conflist the tests look at.
type confJSON struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []struct {
		Type         string          `json:"type"`
		Bridge       string          `json:"bridge"`
		IsGateway    bool            `json:"isGateway"`
		IPMasq       bool            `json:"ipMasq"`
		Capabilities map[string]bool `json:"capabilities"`
		IPAM         struct {
			Type    string `json:"type"`
			DataDir string `json:"dataDir"`
			Ranges  [][]struct {
				Subnet string `json:"subnet"`
			} `json:"ranges"`
			Routes []struct {
				Dst string `json:"dst"`
			} `json:"routes"`
		} `json:"ipam"`
	} `json:"plugins"`
}

func TestDefaultConfList(t *testing.T) {
	def := DefaultNetwork{Name: "net0", Bridge: "br-test", Subnet: netip.MustParsePrefix("10.88.0.0/16"), IPAMDir: "/state/ipam"}
	tests := []struct {
		name       string
		podCIDRs   string
		wantRanges []string
		wantRoutes []string
	}{
		{name: "no pod CIDR uses the subnet", wantRanges: []string{"10.88.0.0/16"}, wantRoutes: []string{"0.0.0.0/0"}},
		{name: "pod CIDR replaces the subnet", podCIDRs: "10.244.3.0/24", wantRanges: []string{"10.244.3.0/24"}, wantRoutes: []string{"0.0.0.0/0"}},
		{name: "dual stack", podCIDRs: "10.244.3.0/24,fd00:3::/64", wantRanges: []string{"10.244.3.0/24", "fd00:3::/64"}, wantRoutes: []string{"0.0.0.0/0", "::/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cidrs, err := ParsePodCIDRs(tt.podCIDRs)
			require.NoError(t, err)
			b, err := defaultConfList(def, "1.1.0", cidrs)
			require.NoError(t, err)

			// libcni must accept it as it is.
			list, err := libcni.NetworkConfFromBytes(b)
			require.NoError(t, err)
			assert.Equal(t, []string{"bridge", "portmap", "loopback"}, pluginTypes(list))

			var c confJSON
			require.NoError(t, json.Unmarshal(b, &c))
			assert.Equal(t, "1.1.0", c.CNIVersion)
			assert.Equal(t, "net0", c.Name)
			br := c.Plugins[0]
			assert.Equal(t, "br-test", br.Bridge)
			assert.True(t, br.IsGateway)
			assert.True(t, br.IPMasq)
			assert.Equal(t, "host-local", br.IPAM.Type)
			assert.Equal(t, "/state/ipam", br.IPAM.DataDir)
			var ranges, routes []string
			for _, set := range br.IPAM.Ranges {
				require.Len(t, set, 1)
				ranges = append(ranges, set[0].Subnet)
			}
			for _, r := range br.IPAM.Routes {
				routes = append(routes, r.Dst)
			}
			assert.Equal(t, tt.wantRanges, ranges)
			assert.Equal(t, tt.wantRoutes, routes)
			assert.Equal(t, map[string]bool{"portMappings": true}, c.Plugins[1].Capabilities)
		})
	}
}

func TestDefaultConfListWithoutSubnet(t *testing.T) {
	_, err := defaultConfList(DefaultNetwork{Name: "n", Bridge: "b"}, "1.0.0", nil)
	require.Error(t, err)
	assert.True(t, errdefs.IsInvalidArgument(err))
}
