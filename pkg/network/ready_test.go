package network

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeHNS is the HNS as the Windows CNI plugins see it: networks by name.
type fakeHNS struct {
	networks map[string]bool
	err      error
	calls    int
}

func (f *fakeHNS) NetworkExists(name string) (bool, error) {
	f.calls++
	return f.networks[name], f.err
}

// On Windows a CNI configuration is not enough: the HNS network it names
// must exist, which after a reboot it does not until the network's agent
// creates it. Until then the node is not NetworkReady, with the network
// named, and pods fail at once with the same reason instead of a cryptic
// HCN error from inside a plugin.
func TestNotReadyUntilTheHNSNetworkExists(t *testing.T) {
	tests := []struct {
		name    string
		hns     *fakeHNS
		wantErr string
	}{
		{name: "network missing", hns: &fakeHNS{}, wantErr: `the HNS network "p2p" does not exist yet`},
		{name: "HNS failing", hns: &fakeHNS{err: errors.New("HNS is not running")}, wantErr: "looking up its HNS network: HNS is not running"},
		{name: "network present", hns: &fakeHNS{networks: map[string]bool{"p2p": true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, "ptp")
			m.hns = tt.hns
			writeFiles(t, m.confDir, map[string]string{"10-p.conf": sprintf(validConf, "p2p")})

			statusErr := m.Status()
			_, setupErr := m.Setup(context.Background(), testPod("p"))
			if tt.wantErr == "" {
				require.NoError(t, statusErr)
				require.NoError(t, setupErr)
				return
			}
			var nr *NotReadyError
			require.ErrorAs(t, statusErr, &nr)
			assert.Contains(t, nr.Message, tt.wantErr)
			assert.True(t, errdefs.IsFailedPrecondition(setupErr), "%v", setupErr)
			assert.Contains(t, setupErr.Error(), tt.wantErr)
			assert.Empty(t, m.cni.calls, "no plugin ran")
			assert.Empty(t, m.ns.pods, "no namespace was made")
		})
	}
}

// The built-in network (Linux) has no HNS network to wait for.
func TestBuiltinNetworkIgnoresHNS(t *testing.T) {
	m := newTestManager(t)
	hns := &fakeHNS{}
	m.hns = hns
	require.NoError(t, m.Status())
	assert.Zero(t, hns.calls)
}

// A missing plugin binary fails Setup as it fails Status, before any
// namespace exists (it used to surface as the plugin's exec error).
func TestSetupNeedsThePluginBinaries(t *testing.T) {
	m := newTestManager(t, "bridge")
	_, err := m.Setup(context.Background(), testPod("p"))
	assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
	assert.Contains(t, err.Error(), "plugin binaries portmap, loopback not found")
	assert.Empty(t, m.ns.pods)
}

// A network found is remembered for a while; a missing one is asked for
// again every time, so that it is seen as soon as it exists.
func TestCachedHNS(t *testing.T) {
	hns := &fakeHNS{networks: map[string]bool{"up": true}}
	c := newCachedHNS(hns)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }

	for range 3 {
		ok, err := c.NetworkExists("up")
		require.NoError(t, err)
		assert.True(t, ok)
	}
	assert.Equal(t, 1, hns.calls)
	now = now.Add(hnsExistsTTL)
	_, _ = c.NetworkExists("up")
	assert.Equal(t, 2, hns.calls, "asked again after the TTL")

	for range 2 {
		ok, err := c.NetworkExists("down")
		require.NoError(t, err)
		assert.False(t, ok)
	}
	assert.Equal(t, 4, hns.calls, "a missing network is not cached")
}

// conf_dir is read again only when it changed, and looked at no more
// than every recheck: Status, which kubelet calls every few seconds, and
// Setup, on every pod, do not parse the files each time.
func TestConfCacheReadsOnChange(t *testing.T) {
	dir := t.TempDir()
	c := newConfCache(dir)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	write := func(name, network string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(sprintf(validConf, network)), 0o644))
	}
	name := func() string {
		n, err := c.get()
		require.NoError(t, err)
		if n == nil {
			return ""
		}
		return n.List.Name
	}

	assert.Equal(t, "", name(), "empty conf_dir")
	write("10-a.conf", "a")
	assert.Equal(t, "", name(), "within recheck nothing is looked at")
	now = now.Add(confRecheck)
	assert.Equal(t, "a", name(), "a new file is seen after recheck")
	assert.Equal(t, 2, c.loads)

	now = now.Add(confRecheck)
	assert.Equal(t, "a", name())
	assert.Equal(t, 2, c.loads, "unchanged: not read again")

	write("10-a.conf", "a-renamed-network")
	now = now.Add(confRecheck)
	assert.Equal(t, "a-renamed-network", name(), "a rewritten file is read again")
	write("05-b.conf", "b")
	now = now.Add(confRecheck)
	assert.Equal(t, "b", name(), "a file sorting first wins")
	require.NoError(t, os.Remove(filepath.Join(dir, "05-b.conf")))
	now = now.Add(confRecheck)
	assert.Equal(t, "a-renamed-network", name(), "a removed file is gone")
	assert.Equal(t, 5, c.loads)
}
