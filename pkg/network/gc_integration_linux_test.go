package network

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
)

// debianCNIBinDir holds Debian's containernetworking-plugins 1.1.1,
// which predate CNI GC.
const debianCNIBinDir = "/usr/lib/cni"

// The built-in network is CNI 1.1, with GC, on plugins that understand
// it (go.mod's v1.10.0, which hack/setup.sh installs), and 1.0 on
// Debian's; a missing plugin leaves it at 1.0 (Status names it).
func TestIntegrationBuiltinNetworkVersion(t *testing.T) {
	requireCNI(t)
	testutil.RequireBinary(t, filepath.Join(debianCNIBinDir, "bridge"))
	tests := []struct {
		name string
		dirs []string
		want string
	}{
		{"plugins with GC", []string{cniBinDir}, builtinVersionGC},
		{"Debian's plugins", []string{debianCNIBinDir}, builtinVersionOld},
		{"a plugin missing", []string{t.TempDir()}, builtinVersionOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pluginVersions{exec: pluginExec()}
			assert.Equal(t, tt.want, p.builtinVersion(context.Background(), tt.dirs))
			assert.Equal(t, tt.want, p.builtinVersion(context.Background(), tt.dirs), "remembered")
		})
	}
}

// A pod whose network wincri lost track of (its namespace record and
// its cached CNI result gone, as a crash in the middle of ADD can leave
// it) keeps its address in host-local's store until a CNI GC, which
// plugins with GC answer by freeing every address not held for a valid
// attachment. With Debian's plugins the GC is skipped, without error.
func TestIntegrationGCFreesLeakedAddresses(t *testing.T) {
	requireCNI(t)
	testutil.RequireBinary(t, filepath.Join(debianCNIBinDir, "bridge"))
	tests := []struct {
		name      string
		binDir    string
		wantFreed bool
	}{
		{"plugins with GC", cniBinDir, true},
		{"Debian's plugins", debianCNIBinDir, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			suffix, octet := uniqueSuffix(t)
			bridge := "wincri-g" + suffix
			network := "wincri-gc" + string(rune('a'+i))
			newHostGuard(t, []string{network}, bridge)
			stateDir := t.TempDir()
			subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 249, octet, 0}), 24)
			m, err := New(config.CNI{BinDirs: []string{tt.binDir}, ConfDir: t.TempDir()}, stateDir,
				WithDefaultNetwork(DefaultNetwork{Name: network, Bridge: bridge, Subnet: subnet}))
			require.NoError(t, err)
			ctx := context.Background()
			keep := PodNetwork{ID: "wincrigckeep" + suffix, Name: "k", Namespace: "test", UID: "k"}
			lost := PodNetwork{ID: "wincrigclost" + suffix, Name: "l", Namespace: "test", UID: "l"}
			kept, err := m.Setup(ctx, keep)
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Teardown(context.Background(), keep) })
			leaked, err := m.Setup(ctx, lost)
			require.NoError(t, err)
			ipamDir := filepath.Join(stateDir, "ipam")
			require.ElementsMatch(t, []string{kept.IPs[0].String(), leaked.IPs[0].String()}, allocatedIPs(t, ipamDir))

			// What a crash in ADD leaves: the address, nothing else.
			require.NoError(t, m.ns.Remove(ctx, lost.ID))
			cached, err := filepath.Glob(filepath.Join(stateDir, "cni-cache", "results", "*"+lost.ID+"*"))
			require.NoError(t, err)
			require.NotEmpty(t, cached)
			for _, f := range cached {
				require.NoError(t, os.Remove(f))
			}

			require.NoError(t, m.GC(ctx, validPods(keep.ID)))
			want := []string{kept.IPs[0].String()}
			if !tt.wantFreed {
				want = append(want, leaked.IPs[0].String())
			}
			assert.ElementsMatch(t, want, allocatedIPs(t, ipamDir))
		})
	}
}

// CHECK with the real plugins: a pod set up is healthy; once its
// interface is gone from its namespace (something on the node deleted
// it), CHECK says so.
func TestIntegrationCheck(t *testing.T) {
	requireCNI(t)
	suffix, octet := uniqueSuffix(t)
	bridge := "wincri-k" + suffix
	newHostGuard(t, []string{"wincri-check"}, bridge)
	stateDir := t.TempDir()
	subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 248, octet, 0}), 24)
	m, err := New(config.CNI{BinDirs: []string{cniBinDir}, ConfDir: t.TempDir()}, stateDir,
		WithDefaultNetwork(DefaultNetwork{Name: "wincri-check", Bridge: bridge, Subnet: subnet}))
	require.NoError(t, err)
	ctx := context.Background()
	pod := PodNetwork{ID: "wincricheck" + suffix, Name: "c", Namespace: "test", UID: "c"}
	res, err := m.Setup(ctx, pod)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Teardown(context.Background(), pod) })

	require.NoError(t, m.Check(ctx, pod))

	out, err := exec.Command("nsenter", "--net="+res.NamespacePath, "ip", "link", "del", "eth0").CombinedOutput()
	require.NoError(t, err, "%s", out)
	err = m.Check(ctx, pod)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrCheckUnsupported)
	t.Logf("CHECK after the interface went: %v", err)
}
