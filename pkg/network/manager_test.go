package network

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/config"
)

type testManager struct {
	*Manager
	cni     *fakeCNI
	ns      *fakeNamespaces
	confDir string
	binDir  string
}

// builtinPlugins are the plugin binaries the built-in network needs.
var builtinPlugins = []string{"bridge", "host-local", "portmap", "loopback"}

// newTestManager returns a manager on fakes, with an empty conf_dir and a
// bin dir that holds the given (empty, executable) plugin files, the
// built-in network's when none are given. conf_dir is looked at on every
// call, so that a test's changes show at once.
func newTestManager(t testing.TB, plugins ...string) testManager {
	t.Helper()
	confDir, binDir := t.TempDir(), t.TempDir()
	if len(plugins) == 0 {
		plugins = builtinPlugins
	}
	for _, p := range plugins {
		require.NoError(t, os.WriteFile(filepath.Join(binDir, p), nil, 0o755))
	}
	m, err := New(config.CNI{BinDirs: []string{binDir}, ConfDir: confDir}, t.TempDir())
	require.NoError(t, err)
	tm := testManager{Manager: m, cni: newFakeCNI(), ns: newFakeNamespaces(), confDir: confDir, binDir: binDir}
	m.cni, m.ns = tm.cni, tm.ns
	m.conf.recheck = 0
	return tm
}

func testPod(id string) PodNetwork {
	return PodNetwork{ID: id, Name: "web", Namespace: "default", UID: "uid-" + id,
		PortMappings: []PortMapping{{Protocol: ProtocolTCP, ContainerPort: 80, HostPort: 8080}}}
}

func TestNew(t *testing.T) {
	_, err := New(config.CNI{ConfDir: "/x"}, "/state")
	assert.True(t, errdefs.IsInvalidArgument(err))
	_, err = New(config.CNI{BinDirs: []string{"/b"}, ConfDir: "/x"}, "")
	assert.True(t, errdefs.IsInvalidArgument(err))
}

func TestSetupAndTeardown(t *testing.T) {
	m := newTestManager(t)
	ctx := context.Background()

	res, err := m.Setup(ctx, testPod("pod1"))
	require.NoError(t, err)
	assert.Equal(t, "/fake/netns/pod1", res.NamespacePath)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("10.88.0.2")}, res.IPs)
	require.Len(t, m.cni.calls, 1)
	add := m.cni.calls[0]
	assert.Equal(t, DefaultNetworkName, add.Network, "an empty conf_dir means the built-in network")
	assert.Equal(t, "/fake/netns/pod1", add.NetNS)
	assert.Contains(t, add.Args, [2]string{"K8S_POD_INFRA_CONTAINER_ID", "pod1"})
	assert.Contains(t, add.Caps, "portMappings")

	_, err = m.Setup(ctx, testPod("pod1"))
	assert.True(t, errdefs.IsAlreadyExists(err), "%v", err)

	ids, err := m.ListNamespaces()
	require.NoError(t, err)
	assert.Equal(t, []string{"pod1"}, ids)

	// Teardown finds the namespace by ID and runs DEL from the cache.
	require.NoError(t, m.Teardown(ctx, PodNetwork{ID: "pod1"}))
	assert.Equal(t, []string{"ADD pod1", "DEL pod1"}, m.cni.ops(), "the second Setup stopped before ADD")
	require.Len(t, m.cni.calls, 2)
	del := m.cni.calls[1]
	assert.Equal(t, "/fake/netns/pod1", del.NetNS)
	assert.Equal(t, add.Args, del.Args, "DEL gets the arguments of ADD, not the sparse teardown request")
	assert.Equal(t, add.Caps, del.Caps)
	ids, err = m.ListNamespaces()
	require.NoError(t, err)
	assert.Empty(t, ids)

	// Again, and for a pod never seen: nothing to do, no CNI call.
	again := testPod("pod1")
	again.NamespacePath = res.NamespacePath
	require.NoError(t, m.Teardown(ctx, again))
	require.NoError(t, m.Teardown(ctx, testPod("unknown")))
	assert.Len(t, m.cni.calls, 2)
}

func TestSetupFailureIsUndone(t *testing.T) {
	m := newTestManager(t)
	m.cni.addErr = errors.New("plugin bridge failed: no such device")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	_, err := m.Setup(ctx, testPod("pod1"))
	require.Error(t, err)
	assert.True(t, errdefs.IsUnavailable(err), "%v", err)
	assert.Contains(t, err.Error(), "no such device")
	assert.Equal(t, []string{"ADD pod1", "DEL pod1"}, m.cni.ops())
	ids, err := m.ListNamespaces()
	require.NoError(t, err)
	assert.Empty(t, ids, "the namespace is gone")

	// The undo's own failures do not hide the cause.
	m.cni.delErr = errors.New("del failed too")
	_, err = m.Setup(ctx, testPod("pod2"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such device")
	ids, err = m.ListNamespaces()
	require.NoError(t, err)
	assert.Empty(t, ids, "the namespace goes even when DEL fails")
}

func TestSetupRejectsBadInputBeforeCreating(t *testing.T) {
	m := newTestManager(t)
	for name, pod := range map[string]PodNetwork{
		"id":        {ID: "../x"},
		"port":      {ID: "p", PortMappings: []PortMapping{{Protocol: "x", ContainerPort: 1, HostPort: 1}}},
		"bandwidth": {ID: "p", Annotations: map[string]string{AnnotationIngressBandwidth: "1"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := m.Setup(context.Background(), pod)
			assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
		})
	}
	assert.Empty(t, m.cni.calls)
	assert.Empty(t, m.ns.pods)
}

func TestSetupNamespaceFailure(t *testing.T) {
	m := newTestManager(t)
	m.ns.createErr = errdefs.ErrUnavailable
	_, err := m.Setup(context.Background(), testPod("p"))
	assert.True(t, errdefs.IsUnavailable(err))
	assert.Empty(t, m.cni.calls)
}

func TestHostNetwork(t *testing.T) {
	m := newTestManager(t)
	pod := testPod("host")
	pod.HostNetwork = true
	res, err := m.Setup(context.Background(), pod)
	require.NoError(t, err)
	assert.Equal(t, Result{}, res)
	require.NoError(t, m.Teardown(context.Background(), pod))
	assert.Empty(t, m.cni.calls)
	assert.Empty(t, m.ns.pods)
}

func TestTeardownHalfSetUp(t *testing.T) {
	// A crash after the namespace was made but before ADD finished: no
	// cached result, so DEL runs with the current network.
	m := newTestManager(t)
	ctx := context.Background()
	_, err := m.ns.Create(ctx, "pod1")
	require.NoError(t, err)
	require.NoError(t, m.Teardown(ctx, PodNetwork{ID: "pod1"}))
	assert.Equal(t, []string{"DEL pod1"}, m.cni.ops())
	assert.Empty(t, m.ns.pods)
}

func TestTeardownDelFailureKeepsNamespace(t *testing.T) {
	m := newTestManager(t)
	ctx := context.Background()
	_, err := m.Setup(ctx, testPod("pod1"))
	require.NoError(t, err)
	m.cni.delErr = errors.New("plugin unreachable")
	err = m.Teardown(ctx, PodNetwork{ID: "pod1"})
	require.Error(t, err)
	assert.True(t, errdefs.IsUnavailable(err), "%v", err)
	assert.Contains(t, m.ns.pods, "pod1", "kept so that a retry runs DEL again")

	m.cni.delErr = nil
	require.NoError(t, m.Teardown(ctx, PodNetwork{ID: "pod1"}))
	assert.Empty(t, m.ns.pods)
}

func TestListNamespacesIncludesCacheOnlyPods(t *testing.T) {
	m := newTestManager(t)
	ctx := context.Background()
	_, err := m.Setup(ctx, testPod("b"))
	require.NoError(t, err)
	_, err = m.Setup(ctx, testPod("a"))
	require.NoError(t, err)
	require.NoError(t, m.ns.Remove(ctx, "b"))
	ids, err := m.ListNamespaces()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ids, "b still has a cached attachment to DEL")
}

func TestRemoveNamespace(t *testing.T) {
	m := newTestManager(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		_, err := m.Setup(ctx, testPod(id))
		require.NoError(t, err)
	}

	require.NoError(t, m.RemoveNamespace(ctx, "a"))
	assert.Equal(t, []string{"ADD a", "ADD b", "DEL a"}, m.cni.ops(), "DEL from the cache frees the leftover's addresses")
	assert.Equal(t, add(m, "a").Args, m.cni.calls[2].Args)

	// A failing DEL does not keep the namespace, but keeps the pod
	// listed through its cache entry.
	m.cni.delErr = errors.New("plugin gone")
	err := m.RemoveNamespace(ctx, "b")
	assert.True(t, errdefs.IsUnavailable(err), "%v", err)
	assert.NotContains(t, m.ns.pods, "b")
	ids, err := m.ListNamespaces()
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, ids)

	m.cni.delErr = nil
	require.NoError(t, m.RemoveNamespace(ctx, "b"))
	require.NoError(t, m.RemoveNamespace(ctx, "b"), "nothing left is fine")
	ids, err = m.ListNamespaces()
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.True(t, errdefs.IsInvalidArgument(m.RemoveNamespace(ctx, "")))
}

// add returns the ADD call the fake saw for pod id.
func add(m testManager, id string) cniCall {
	for _, c := range m.cni.calls {
		if c.Op == "ADD" && c.Pod == id {
			return c
		}
	}
	return cniCall{}
}

func TestStatus(t *testing.T) {
	t.Run("built-in network with its plugins", func(t *testing.T) {
		m := newTestManager(t, "bridge", "host-local", "portmap", "loopback")
		assert.NoError(t, m.Status())
	})
	t.Run("plugins missing", func(t *testing.T) {
		m := newTestManager(t, "bridge")
		err := m.Status()
		require.Error(t, err)
		var nr *NotReadyError
		require.True(t, errors.As(err, &nr))
		assert.True(t, errdefs.IsFailedPrecondition(err))
		assert.Contains(t, err.Error(), "portmap, loopback")
		assert.Contains(t, err.Error(), m.binDir)
		assert.NotContains(t, err.Error(), "failed precondition", "the text is the NetworkReady message")
	})
	t.Run("conf_dir network", func(t *testing.T) {
		m := newTestManager(t, "ptp")
		writeFiles(t, m.confDir, map[string]string{"10-p.conf": sprintf(validConf, "p2p")})
		assert.NoError(t, m.Status())
		_, err := m.Setup(context.Background(), testPod("p"))
		require.NoError(t, err)
		assert.Equal(t, "p2p", m.cni.calls[0].Network)
	})
	t.Run("invalid conf_dir", func(t *testing.T) {
		m := newTestManager(t, "bridge", "host-local", "portmap", "loopback")
		writeFiles(t, m.confDir, map[string]string{"10-p.conflist": "{"})
		err := m.Status()
		assert.True(t, errdefs.IsFailedPrecondition(err))
		_, err = m.Setup(context.Background(), testPod("p"))
		assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
		assert.Empty(t, m.ns.pods)
	})
}

func TestSetPodCIDR(t *testing.T) {
	m := newTestManager(t)
	assert.True(t, errdefs.IsInvalidArgument(m.SetPodCIDR("10.0.0.0")))
	require.NoError(t, m.SetPodCIDR("10.244.7.0/24"))
	n, err := m.network()
	require.NoError(t, err)
	assert.Contains(t, string(n.List.Bytes), `"10.244.7.0/24"`)
	assert.NotContains(t, string(n.List.Bytes), DefaultSubnet)

	require.NoError(t, m.SetPodCIDR(""))
	n, err = m.network()
	require.NoError(t, err)
	assert.Contains(t, string(n.List.Bytes), DefaultSubnet)
}

// kubelet sends the pod CIDR once, when it learns it, and not again to a
// restarted runtime (kubelet_network.go, updatePodCIDR returns early for
// an unchanged CIDR): a restarted wincri must keep it, or new pods get the
// default subnet on a bridge that carries the pod CIDR's gateway
// ("wincri0 already has an IP address different from 10.88.0.1/16").
// containerd keeps it in the CNI config it writes from its template.
func TestPodCIDRSurvivesRestart(t *testing.T) {
	cfg := config.CNI{BinDirs: []string{"/b"}, ConfDir: t.TempDir()}
	state := t.TempDir()
	m, err := New(cfg, state)
	require.NoError(t, err)
	require.NoError(t, m.SetPodCIDR("10.244.7.0/24"))

	restarted, err := New(cfg, state)
	require.NoError(t, err)
	n, err := restarted.network()
	require.NoError(t, err)
	assert.Contains(t, string(n.List.Bytes), `"10.244.7.0/24"`)

	require.NoError(t, restarted.SetPodCIDR(""))
	again, err := New(cfg, state)
	require.NoError(t, err)
	n, err = again.network()
	require.NoError(t, err)
	assert.Contains(t, string(n.List.Bytes), DefaultSubnet)
}

func TestCorruptPodCIDRFile(t *testing.T) {
	state := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(state, podCIDRFile), []byte("not a cidr"), 0o600))
	_, err := New(config.CNI{BinDirs: []string{"/b"}, ConfDir: t.TempDir()}, state)
	require.Error(t, err)
	assert.Contains(t, err.Error(), podCIDRFile)
}

func TestWithDefaultNetwork(t *testing.T) {
	m, err := New(config.CNI{BinDirs: []string{"/b"}, ConfDir: t.TempDir()}, "/state",
		WithDefaultNetwork(DefaultNetwork{Bridge: "wincri-t1", Subnet: netip.MustParsePrefix("10.250.0.9/24")}))
	require.NoError(t, err)
	n, err := m.network()
	require.NoError(t, err)
	assert.Equal(t, DefaultNetworkName, n.List.Name, "zero fields keep their default")
	assert.Contains(t, string(n.List.Bytes), `"wincri-t1"`)
	assert.Contains(t, string(n.List.Bytes), `"10.250.0.0/24"`)
	assert.Contains(t, string(n.List.Bytes), `"/state/ipam"`)
}

func TestNetworkInfo(t *testing.T) {
	m := newTestManager(t)
	info, err := m.Network()
	require.NoError(t, err)
	assert.Equal(t, DefaultNetworkName, info.Name)
	assert.Equal(t, SourceBuiltin, info.Source)
	assert.Equal(t, []string{"bridge", "portmap", "loopback"}, info.Plugins)
	assert.Contains(t, string(info.Config), DefaultSubnet)

	writeFiles(t, m.confDir, map[string]string{"05-bad.conf": "{", "10-p.conf": sprintf(validConf, "p2p")})
	info, err = m.Network()
	require.NoError(t, err)
	assert.Equal(t, "p2p", info.Name)
	assert.Equal(t, filepath.Join(m.confDir, "10-p.conf"), info.Source)
	require.Len(t, info.Skipped, 1)
	assert.Contains(t, info.Skipped[0], "05-bad.conf: ")

	require.NoError(t, os.Remove(filepath.Join(m.confDir, "10-p.conf")))
	_, err = m.Network()
	assert.True(t, errdefs.IsFailedPrecondition(err))
}
