package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/network"
	"github.com/wincri/wincri/pkg/shim"
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
	// The shim starts beside the network setup; the failed pod stops it.
	for _, l := range e.shims.Launches() {
		assert.False(t, e.shims.Running(l.ID), "the shim of a pod without a network is stopped")
	}
	assertNoRecords(t, e.db)
}

// The shim is launched while the network is set up, from a bundle whose
// spec carries the sandbox annotations a shim reads at its start
// (containerd's cmd/containerd-shim-runc-v2/manager/manager_linux.go,
// readSpec and groupLabels; hcsshim's cmd/containerd-shim-runhcs-v1
// start.go, getSpecAnnotations); the task is created from the platform's
// full spec.
func TestRunPodLaunchesTheShimBesideTheNetwork(t *testing.T) {
	e := newEnv(t)
	var specAtLaunch map[string]string
	e.shims.BeforeLaunch(func(opts shim.LaunchOpts) {
		var spec struct {
			Annotations map[string]string `json:"annotations"`
		}
		data, err := os.ReadFile(filepath.Join(opts.Bundle, "config.json"))
		if assert.NoError(t, err) && assert.NoError(t, json.Unmarshal(data, &spec)) {
			specAtLaunch = spec.Annotations
		}
	})
	id := e.runPod("web")
	assert.Equal(t, map[string]string{shim.AnnotationContainerType: shim.ContainerTypeSandbox, shim.AnnotationSandboxID: id}, specAtLaunch)
	task, ok := e.shims.Task(id)
	require.True(t, ok)
	p, err := e.m.PodStatus(id)
	require.NoError(t, err)
	assert.Equal(t, PodReady, p.State)
	assert.NotEmpty(t, p.NetNS)
	data, err := os.ReadFile(filepath.Join(task.Create.Bundle, "config.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"args":["/pause"]`, "the task is created from the platform's full spec")
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

// A Linux sandbox task starts as soon as its network namespace exists,
// while the plugins still set it up; the pod is ready only once both are
// done. A plugin that fails then fails the pod, whose task is stopped.
func TestRunPodStartsTheTaskWhileTheNetworkIsSetUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		addErr error
	}{{"plugins succeed", nil}, {"plugins fail", errors.New("bridge: no IPs left")}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			hold := make(chan struct{})
			e.net.addHold, e.net.addErr = hold, tc.addErr
			type result struct {
				id  string
				err error
			}
			done := make(chan result, 1)
			go func() {
				id, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
				done <- result{id, err}
			}()
			require.Eventually(t, func() bool {
				for _, l := range e.shims.Launches() {
					if info, ok := e.shims.Task(l.ID); ok && info.State.Status == shim.StatusRunning {
						return true
					}
				}
				return false
			}, 10*time.Second, 5*time.Millisecond, "the sandbox task runs while the plugins work")
			select {
			case r := <-done:
				t.Fatalf("RunPod returned before the network was set up: %+v", r)
			default:
			}
			close(hold)
			r := <-done
			if tc.addErr != nil {
				require.ErrorContains(t, r.err, "no IPs left")
				for _, l := range e.shims.Launches() {
					assert.False(t, e.shims.Running(l.ID), "the failed pod's shim is stopped")
				}
				assertNoRecords(t, e.db)
				return
			}
			require.NoError(t, r.err)
			p, err := e.m.PodStatus(r.id)
			require.NoError(t, err)
			assert.Equal(t, PodReady, p.State)
			assert.Equal(t, []string{"10.88.0.7"}, p.IPs)
		})
	}
}

func TestTaskBeforeNetwork(t *testing.T) {
	linux := isolation.Handler{OS: isolation.OSLinux}
	for _, tc := range []struct {
		name    string
		h       isolation.Handler
		sysctls map[string]string
		want    bool
	}{
		{"linux", linux, nil, true},
		{"namespace-wide sysctls", linux, map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.conf.all.forwarding": "1", "net.ipv6.conf.default.accept_ra": "0"}, true},
		{"a sysctl of eth0", linux, map[string]string{"net.ipv4.conf.eth0.arp_ignore": "1"}, false},
		{"a neighbour sysctl of eth0", linux, map[string]string{"net.ipv6.neigh.eth0.retrans_time_ms": "100"}, false},
		{"windows", isolation.Handler{OS: isolation.OSWindows}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &runtime.PodSandboxConfig{Linux: &runtime.LinuxPodSandboxConfig{Sysctls: tc.sysctls}}
			assert.Equal(t, tc.want, taskBeforeNetwork(tc.h, cfg))
		})
	}
}
