package network

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gcConf is a network of CNI 1.1, whose plugins have GC.
const gcConf = `{"cniVersion":"1.1.0","name":"%s","type":"ptp"}`

func validPods(ids ...string) func() (map[string]bool, error) {
	return func() (map[string]bool, error) {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m, nil
	}
}

func TestGC(t *testing.T) {
	tests := []struct {
		name    string
		conf    string
		wantOps []string
		wantGC  []string
	}{
		{
			// Debian's plugins (CNI 1.0): no plugin GC, the cache alone.
			name:    "network without GC",
			wantOps: []string{"ADD a", "ADD b", "ADD c", "DEL b", "DEL c"},
		},
		{
			name:    "network with GC",
			conf:    gcConf,
			wantOps: []string{"ADD a", "ADD b", "ADD c", "DEL b", "DEL c", "GC p2p"},
			wantGC:  []string{"a/eth0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, "ptp", "bridge", "host-local", "portmap", "loopback")
			if tt.conf != "" {
				writeFiles(t, m.confDir, map[string]string{"10-p.conf": sprintf(tt.conf, "p2p")})
			}
			ctx := context.Background()
			for _, id := range []string{"a", "b", "c"} {
				_, err := m.Setup(ctx, testPod(id))
				require.NoError(t, err)
			}
			require.NoError(t, m.GC(ctx, validPods("a")))
			var ops []string
			for _, c := range m.cni.calls {
				ops = append(ops, c.Op+" "+map[bool]string{true: c.Network, false: c.Pod}[c.Op == "GC"])
				if c.Op == "GC" {
					assert.Equal(t, tt.wantGC, c.Valid)
				}
			}
			assert.Equal(t, tt.wantOps, ops)
			assert.Equal(t, []string{"a"}, m.ns.ids(), "only the valid pod keeps its namespace")
		})
	}
}

func TestGCReportsWhatItCouldNotRemove(t *testing.T) {
	m := newTestManager(t)
	ctx := context.Background()
	_, err := m.Setup(ctx, testPod("gone"))
	require.NoError(t, err)
	m.cni.delErr = errors.New("plugin failed")
	err = m.GC(ctx, validPods())
	require.ErrorContains(t, err, "plugin failed")
	assert.Empty(t, m.ns.ids(), "the namespace goes even when DEL fails")
	_, err = m.cni.GetCachedAttachments("gone")
	require.NoError(t, err)

	m.cni.delErr = nil
	require.NoError(t, m.GC(ctx, validPods()), "the cached attachment is offered again")
	atts, err := m.cni.GetCachedAttachments("")
	require.NoError(t, err)
	assert.Empty(t, atts)
}

// GC lists the valid pods only when no Setup is in flight: a pod set up
// between that listing and the collection would lose its network.
func TestGCWaitsForSetups(t *testing.T) {
	m := newTestManager(t)
	ctx := context.Background()
	m.cni.addBlock = make(chan struct{})
	setupDone := make(chan error, 1)
	go func() {
		_, err := m.Setup(ctx, testPod("new"))
		setupDone <- err
	}()
	require.Eventually(t, func() bool { return len(m.ns.ids()) == 1 }, 5*time.Second, time.Millisecond, "Setup is in its ADD")

	listed := make(chan struct{})
	gcDone := make(chan error, 1)
	go func() {
		gcDone <- m.GC(ctx, func() (map[string]bool, error) {
			close(listed)
			return map[string]bool{"new": true}, nil
		})
	}()
	select {
	case <-listed:
		t.Fatal("GC listed the valid pods while a Setup was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(m.cni.addBlock)
	require.NoError(t, <-setupDone)
	require.NoError(t, <-gcDone)
	assert.Equal(t, []string{"new"}, m.ns.ids())
}
