package sandbox

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/network"
)

// A pod whose network breaks is reported so (PodStatus's NetworkCheck,
// an error in the log once) instead of being kept silently, and its
// recovery is reported too.
func TestCheckPodNetwork(t *testing.T) {
	e := newEnv(t)
	id := e.runPod("web")
	ctx := e.ctx()

	chk, err := e.m.CheckPodNetwork(ctx, id)
	require.NoError(t, err)
	assert.True(t, chk.Supported)
	assert.True(t, chk.Healthy)
	assert.False(t, chk.At.IsZero())

	e.log.Expect(`^The pod's network is broken: CNI CHECK of network "wincri": bridge: eth0 has no address`)
	e.net.checkErr = errors.New(`CNI CHECK of network "wincri": bridge: eth0 has no address`)
	for range 2 {
		chk, err = e.m.CheckPodNetwork(ctx, id)
		require.NoError(t, err)
		assert.False(t, chk.Healthy)
		assert.Contains(t, chk.Message, "eth0 has no address")
	}
	p, err := e.m.PodStatus(id)
	require.NoError(t, err)
	assert.Equal(t, chk, p.NetworkCheck, "PodStatus reports the last check")

	e.net.checkErr = nil
	chk, err = e.m.CheckPodNetwork(ctx, id)
	require.NoError(t, err)
	assert.True(t, chk.Healthy)
	assert.True(t, e.log.Logged("The pod's network is healthy again"))
}

func TestCheckPodNetworkNotChecked(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()

	host := podConfig("host")
	host.Linux = &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE},
	}}
	hostID, err := e.m.RunPod(ctx, host, "")
	require.NoError(t, err)
	chk, err := e.m.CheckPodNetwork(ctx, hostID)
	require.NoError(t, err)
	assert.False(t, chk.Supported)
	assert.True(t, chk.Healthy)
	assert.Equal(t, "the pod uses the node's network", chk.Message)

	old := e.runPod("old")
	e.net.checkErr = fmt.Errorf("pod %s: %w", old, network.ErrCheckUnsupported)
	chk, err = e.m.CheckPodNetwork(ctx, old)
	require.NoError(t, err)
	assert.False(t, chk.Supported)
	assert.True(t, chk.Healthy, "a network that cannot be checked is not called broken")

	e.net.checkErr = nil
	stopped := e.runPod("stopped")
	require.NoError(t, e.m.StopPod(ctx, stopped))
	chk, err = e.m.CheckPodNetwork(ctx, stopped)
	require.NoError(t, err)
	assert.True(t, chk.At.IsZero(), "a stopped pod has no network to check")
}

// The periodic check finds a broken network without anyone asking.
func TestRunNetworkChecks(t *testing.T) {
	e := newEnv(t)
	id := e.runPod("web")
	e.log.Expect(`^The pod's network is broken: the pod's network namespace is gone`)
	e.net.mu.Lock()
	delete(e.net.active, id)
	e.net.mu.Unlock()

	ctx, cancel := context.WithCancel(e.ctx())
	done := make(chan struct{})
	go func() {
		e.m.RunNetworkChecks(ctx, 10*time.Millisecond)
		close(done)
	}()
	require.Eventually(t, func() bool {
		p, err := e.m.PodStatus(id)
		return err == nil && !p.NetworkCheck.At.IsZero() && !p.NetworkCheck.Healthy
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
}

// A pod's first check runs in the background once asked for; asking
// again while it runs or after it ran starts no other.
func TestCheckPodNetworkSoon(t *testing.T) {
	e := newEnv(t)
	id := e.runPod("web")

	e.net.mu.Lock() // holds the check in the plugin
	e.m.CheckPodNetworkSoon(id)
	e.m.CheckPodNetworkSoon(id)
	p, err := e.m.PodStatus(id)
	require.NoError(t, err)
	assert.True(t, p.NetworkCheck.At.IsZero(), "not checked before the plugin answers")
	e.net.mu.Unlock()

	require.Eventually(t, func() bool {
		p, err := e.m.PodStatus(id)
		return err == nil && !p.NetworkCheck.At.IsZero()
	}, 10*time.Second, 10*time.Millisecond)
	p, err = e.m.PodStatus(id)
	require.NoError(t, err)
	assert.True(t, p.NetworkCheck.Healthy)
	e.m.CheckPodNetworkSoon(id)
	e.m.CheckPodNetworkSoon("unknown")
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	assert.Equal(t, 1, e.net.checks)
}
