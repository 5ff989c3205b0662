package sandbox

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/wincri/wincri/pkg/network"
	"github.com/wincri/wincri/pkg/store"
)

func TestPodLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	id := e.runPod("web")

	p, err := e.m.PodStatus(id[:12])
	require.NoError(t, err, "a unique id prefix finds the pod")
	assert.Equal(t, PodReady, p.State)
	assert.Equal(t, []string{"10.88.0.7"}, p.IPs)
	assert.Equal(t, "process", p.Handler)
	assert.True(t, e.net.isActive(id))
	assert.True(t, e.shims.Running(id), "the pod's shim runs")
	assert.Len(t, e.m.ListPods(PodFilter{}), 1)
	assert.Len(t, e.m.ListPods(PodFilter{Labels: map[string]string{"app": "web"}}), 1)
	assert.Empty(t, e.m.ListPods(PodFilter{Labels: map[string]string{"app": "db"}}))
	assert.Empty(t, e.m.ListPods(PodFilter{State: PodNotReady}))

	require.NoError(t, e.m.StopPod(ctx, id))
	p, err = e.m.PodStatus(id)
	require.NoError(t, err)
	assert.Equal(t, PodNotReady, p.State)
	assert.False(t, e.net.isActive(id), "stop releases the network")
	assert.False(t, e.shims.Running(id), "stop ends the shim")
	require.NoError(t, e.m.StopPod(ctx, id), "stopping twice succeeds")

	require.NoError(t, e.m.RemovePod(ctx, id))
	_, err = e.m.PodStatus(id)
	assert.True(t, errdefs.IsNotFound(err))
	require.NoError(t, e.m.RemovePod(ctx, id), "removing twice succeeds")
	require.NoError(t, e.m.StopPod(ctx, "unknown"), "stopping an unknown pod succeeds")
	assertNoRecords(t, e.db)
}

func TestRunPodNameReservation(t *testing.T) {
	e := newEnv(t)
	id := e.runPod("web")

	again, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
	require.NoError(t, err, "a retry of the same request")
	assert.Equal(t, id, again, "gets the pod the first request built")

	other := podConfig("web")
	other.Hostname = "different"
	_, err = e.m.RunPod(e.ctx(), other, "")
	assert.True(t, errdefs.IsAlreadyExists(err), "%v", err)
	assert.Contains(t, err.Error(), id, "the error names the holder")

	_, err = e.m.RunPod(e.ctx(), podConfig("db"), "gvisor")
	assert.True(t, errdefs.IsInvalidArgument(err), "unknown handler: %v", err)
	assert.Contains(t, err.Error(), "process", "the error lists the configured handlers")
}

func TestRunPodFailureUndoesEverything(t *testing.T) {
	for _, method := range []string{"Launch", "Create", "Start"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t)
			boom := errors.New("boom")
			e.shims.FailNext(method, boom)
			_, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
			require.ErrorIs(t, err, boom)
			assert.Empty(t, e.m.ListPods(PodFilter{}))
			assert.Empty(t, e.net.ids(), "the network is released")
			assertNoRecords(t, e.db)
			// The name is free again.
			e.runPod("web")
		})
	}
}

func TestRunPodNetworkFailure(t *testing.T) {
	e := newEnv(t)
	e.net.setupErr = errors.New("cni: no IPs left")
	_, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no IPs left")
	assert.Empty(t, e.shims.Launches(), "no shim is started without a network")
	assertNoRecords(t, e.db)
}

func TestSandboxExitMakesPodNotReady(t *testing.T) {
	e := newEnv(t)
	id := e.runPod("web")
	require.NoError(t, e.shims.Exit(id, "", 2))
	e.shims.Sync()
	p, err := e.m.PodStatus(id)
	require.NoError(t, err)
	assert.Equal(t, PodNotReady, p.State)
	assert.Equal(t, int32(2), p.ExitCode)
}

func assertNoRecords(t *testing.T, db *store.Store) {
	t.Helper()
	require.NoError(t, db.View(func(tx *store.Tx) error {
		pods, err := store.List[PodRecord](tx, bucketPods)
		require.NoError(t, err)
		assert.Empty(t, pods, "pod records")
		ctrs, err := store.List[ContainerRecord](tx, bucketContainers)
		require.NoError(t, err)
		assert.Empty(t, ctrs, "container records")
		return nil
	}))
}

func TestRunPodOutlivesItsCaller(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(e.ctx())
	cancel() // kubelet's deadline passed while the request was queued
	id, err := e.m.RunPod(ctx, podConfig("web"), "")
	require.NoError(t, err, "the pod is built for the caller's retry")
	again, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
	require.NoError(t, err)
	assert.Equal(t, id, again)
}

// TestRemovePodTeardownErrorsKeepTheirClass: a teardown step's error keeps
// its class through RemovePod (so the gRPC code is right), and a step that
// finds its object already gone counts as done.
func TestRemovePodTeardownErrorsKeepTheirClass(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		check   func(error) bool
		removed bool
	}{
		{name: "already gone is success", err: fmt.Errorf("network namespace: %w", errdefs.ErrNotFound), removed: true},
		{name: "unavailable stays unavailable", err: fmt.Errorf("CNI plugin: %w", errdefs.ErrUnavailable), check: errdefs.IsUnavailable},
		{name: "a precondition stays a precondition", err: fmt.Errorf("network in use: %w", errdefs.ErrFailedPrecondition), check: errdefs.IsFailedPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.runPod("web")
			require.NoError(t, e.m.StopPod(e.ctx(), id))
			e.net.mu.Lock()
			e.net.teardownErr = tc.err
			e.net.mu.Unlock()
			err := e.m.RemovePod(e.ctx(), id)
			if tc.removed {
				require.NoError(t, err)
				_, err = e.m.PodStatus(id)
				assert.True(t, errdefs.IsNotFound(err), "the pod is forgotten: %v", err)
				return
			}
			require.Error(t, err)
			assert.True(t, tc.check(err), "%v", err)
			assert.Contains(t, err.Error(), id)
			_, err = e.m.PodStatus(id)
			assert.NoError(t, err, "the record stays for a retry")
		})
	}
}

// TestPodNetwork: what the CNI plugins get from a pod's config, port
// mappings by protocol and DNS.
func TestPodNetwork(t *testing.T) {
	cfg := podConfig("web")
	cfg.Annotations = map[string]string{"a": "b"}
	cfg.DnsConfig = &runtime.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"svc.cluster.local"}, Options: []string{"ndots:5"}}
	cfg.PortMappings = []*runtime.PortMapping{
		{Protocol: runtime.Protocol_TCP, ContainerPort: 80, HostPort: 8080},
		{Protocol: runtime.Protocol_UDP, ContainerPort: 53, HostPort: 5353, HostIp: "127.0.0.1"},
		{Protocol: runtime.Protocol_SCTP, ContainerPort: 9, HostPort: 9009},
	}
	got := podNetwork("id1", cfg, "/run/netns/id1")
	assert.Equal(t, network.PodNetwork{
		ID: "id1", Name: "web", Namespace: "default", UID: "web-uid", Annotations: cfg.Annotations, NamespacePath: "/run/netns/id1",
		PortMappings: []network.PortMapping{
			{Protocol: network.ProtocolTCP, ContainerPort: 80, HostPort: 8080},
			{Protocol: network.ProtocolUDP, ContainerPort: 53, HostPort: 5353, HostIP: "127.0.0.1"},
			{Protocol: network.ProtocolSCTP, ContainerPort: 9, HostPort: 9009},
		},
		DNS: &network.DNS{Servers: []string{"10.96.0.10"}, Searches: []string{"svc.cluster.local"}, Options: []string{"ndots:5"}},
	}, got)
}

func TestVerbosity(t *testing.T) {
	for _, v := range []int{0, 2, 4, 7} {
		logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(v)))
		assert.Equal(t, v, verbosity(logger))
	}
}

// While the pod network is not ready (no CNI configuration yet, or on
// Windows no HNS network yet), a pod on it fails at once with
// FailedPrecondition and the network's reason; a pod on the node's
// network (hostNetwork, or HostProcess on Windows), such as the CNI
// DaemonSet that makes the network ready, runs.
func TestPodsWhileTheNetworkIsNotReady(t *testing.T) {
	e := newEnv(t)
	e.net.setupErr = fmt.Errorf("pod network: %w", &network.NotReadyError{Message: `CNI network "vxlan0": the HNS network "vxlan0" does not exist yet`})
	_, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
	require.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
	assert.Contains(t, err.Error(), `the HNS network "vxlan0" does not exist yet`)
	assertNoRecords(t, e.db)

	cni := podConfig("cni-daemonset")
	cni.Linux = &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE},
	}}
	_, err = e.m.RunPod(e.ctx(), cni, "")
	require.NoError(t, err)
}
