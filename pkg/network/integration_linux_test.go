package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
)

const cniBinDir = "/opt/cni/bin"

// requireCNI skips (or fails in CI) unless the real plugins can run.
func requireCNI(t testing.TB) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "iptables")
	testutil.RequireBinary(t, "ip")
	for _, p := range []string{"bridge", "host-local", "portmap", "loopback"} {
		testutil.RequireBinary(t, filepath.Join(cniBinDir, p))
	}
}

// uniqueSuffix keeps parallel runs on different bridges and subnets.
func uniqueSuffix(t testing.TB) (string, byte) {
	t.Helper()
	b := make([]byte, 3)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b), b[0]
}

// podState is what a test checks is gone after teardown.
type podState struct {
	stateDir, ipamDir, bridge string
}

func (s podState) assertClean(t *testing.T, podIDs ...string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(s.stateDir, "netns"))
	assert.Empty(t, entries, "no network namespace is left")
	results, _ := os.ReadDir(filepath.Join(s.stateDir, "cni-cache", "results"))
	assert.Empty(t, results, "no cached CNI result is left")
	assert.Empty(t, allocatedIPs(t, s.ipamDir), "no address stays allocated")
	ports, _ := os.ReadDir(filepath.Join("/sys/class/net", s.bridge, "brif"))
	assert.Empty(t, ports, "no veth stays on the bridge")
	rules := iptablesSave(t)
	for _, id := range podIDs {
		assert.NotContains(t, rules, id, "no iptables rule names the pod")
	}
}

// allocatedIPs lists host-local's allocation files (named by address).
func allocatedIPs(t testing.TB, dir string) []string {
	t.Helper()
	var ips []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, perr := netip.ParseAddr(d.Name()); perr == nil {
				ips = append(ips, d.Name())
			}
		}
		return nil
	})
	return ips
}

// readFrom dials addr and reads until the server closes.
func readFrom(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

func iptablesSave(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save").Output()
	require.NoError(t, err)
	return string(out)
}

func TestIntegrationDefaultNetwork(t *testing.T) {
	requireCNI(t)
	suffix, octet := uniqueSuffix(t)
	bridge := "wincri-t" + suffix
	subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 250, octet, 0}), 24)
	newHostGuard(t, []string{"wincri-test"}, bridge)

	stateDir := t.TempDir()
	m, err := New(config.CNI{BinDirs: []string{cniBinDir}, ConfDir: t.TempDir()}, stateDir,
		WithDefaultNetwork(DefaultNetwork{Name: "wincri-test", Bridge: bridge, Subnet: subnet}))
	require.NoError(t, err)
	require.NoError(t, m.Status())
	ctx := testlog.New(t).Context()

	pod1 := PodNetwork{ID: "wincritest1" + suffix, Name: "server", Namespace: "test", UID: "u1",
		PortMappings: []PortMapping{{Protocol: ProtocolTCP, ContainerPort: 8080, HostPort: 30000 + int32(octet)}}}
	pod2 := PodNetwork{ID: "wincritest2" + suffix, Name: "client", Namespace: "test", UID: "u2"}
	res1, err := m.Setup(ctx, pod1)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Teardown(context.Background(), pod1) })
	res2, err := m.Setup(ctx, pod2)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Teardown(context.Background(), pod2) })

	for _, res := range []Result{res1, res2} {
		require.Len(t, res.IPs, 1)
		assert.True(t, subnet.Contains(res.IPs[0]), "%s in %s", res.IPs[0], subnet)
		assert.FileExists(t, res.NamespacePath)
	}
	assert.NotEqual(t, res1.IPs[0], res2.IPs[0])
	assert.Len(t, allocatedIPs(t, filepath.Join(stateDir, "ipam")), 2)
	assert.Contains(t, iptablesSave(t), pod1.ID, "portmap got the pod's port mapping")

	// Pod 2 reaches a server on pod 1's address.
	ns1, err := ns.GetNS(res1.NamespacePath)
	require.NoError(t, err)
	defer ns1.Close()
	ns2, err := ns.GetNS(res2.NamespacePath)
	require.NoError(t, err)
	defer ns2.Close()

	server := netip.AddrPortFrom(res1.IPs[0], 8080).String()
	var l net.Listener
	require.NoError(t, ns1.Do(func(ns.NetNS) error {
		var err error
		l, err = net.Listen("tcp", server)
		return err
	}))
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "hello from pod1")
			_ = c.Close()
		}
	}()
	var got string
	require.NoError(t, ns2.Do(func(ns.NetNS) error {
		var err error
		got, err = readFrom(server)
		return err
	}))
	assert.Equal(t, "hello from pod1", got)

	// The host port reaches pod 1 too: portmap got the mapping. The
	// bridge's address is a local one, so the host's own connection
	// passes portmap's DNAT in OUTPUT.
	hostPort := netip.AddrPortFrom(subnet.Addr().Next(), uint16(pod1.PortMappings[0].HostPort)).String()
	got, err = readFrom(hostPort)
	require.NoError(t, err)
	assert.Equal(t, "hello from pod1", got)

	// The namespace's loopback is up.
	require.NoError(t, ns2.Do(func(ns.NetNS) error {
		ll, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ll.Close()
		c, err := net.DialTimeout("tcp", ll.Addr().String(), 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}))

	ids, err := m.ListNamespaces()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{pod1.ID, pod2.ID}, ids)

	for i := 0; i < 2; i++ {
		require.NoError(t, m.Teardown(ctx, pod1), "teardown %d", i)
		require.NoError(t, m.Teardown(ctx, PodNetwork{ID: pod2.ID}), "teardown %d by ID only", i)
	}
	podState{stateDir: stateDir, ipamDir: filepath.Join(stateDir, "ipam"), bridge: bridge}.assertClean(t, pod1.ID, pod2.ID)

	// Half set up, as a crash between namespace and ADD leaves it: the
	// real plugins accept the DEL and the namespace goes.
	half := "wincrihalf" + suffix
	_, err = m.ns.Create(ctx, half)
	require.NoError(t, err)
	require.NoError(t, m.Teardown(ctx, PodNetwork{ID: half}))
	podState{stateDir: stateDir, ipamDir: filepath.Join(stateDir, "ipam"), bridge: bridge}.assertClean(t, half)

	// A crash between reserving the entry and mounting the namespace
	// leaves an empty file: no DEL can use it, but Teardown removes it.
	require.NoError(t, os.WriteFile(filepath.Join(stateDir, "netns", half), nil, 0o444))
	_, err = m.ns.Path(half)
	assert.True(t, errdefs.IsNotFound(err), "%v", err)
	require.NoError(t, m.Teardown(ctx, PodNetwork{ID: half}))
	podState{stateDir: stateDir, ipamDir: filepath.Join(stateDir, "ipam"), bridge: bridge}.assertClean(t, half)

	// A leftover that recovery finds: RemoveNamespace frees everything.
	orphan := PodNetwork{ID: "wincriorphan" + suffix, Name: "o", Namespace: "test", UID: "u3",
		PortMappings: []PortMapping{{Protocol: ProtocolUDP, ContainerPort: 53, HostPort: 30300 + int32(octet)}}}
	_, err = m.Setup(ctx, orphan)
	require.NoError(t, err)
	ids, err = m.ListNamespaces()
	require.NoError(t, err)
	assert.Equal(t, []string{orphan.ID}, ids)
	require.NoError(t, m.RemoveNamespace(ctx, orphan.ID))
	podState{stateDir: stateDir, ipamDir: filepath.Join(stateDir, "ipam"), bridge: bridge}.assertClean(t, orphan.ID)
}

func TestIntegrationConcurrentPods(t *testing.T) {
	requireCNI(t)
	suffix, octet := uniqueSuffix(t)
	bridge := "wincri-c" + suffix
	newHostGuard(t, []string{"wincri-conc"}, bridge)
	stateDir := t.TempDir()
	subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 253, octet, 0}), 24)
	m, err := New(config.CNI{BinDirs: []string{cniBinDir}, ConfDir: t.TempDir()}, stateDir,
		WithDefaultNetwork(DefaultNetwork{Name: "wincri-conc", Bridge: bridge, Subnet: subnet}))
	require.NoError(t, err)
	ctx := testlog.New(t).Context()

	const n = 4
	pods := make([]PodNetwork, n)
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range pods {
		pods[i] = PodNetwork{ID: "wincriconc" + suffix + strconv.Itoa(i), Name: "p", Namespace: "test", UID: strconv.Itoa(i)}
		t.Cleanup(func() { _ = m.Teardown(context.Background(), pods[i]) })
		wg.Go(func() { results[i], errs[i] = m.Setup(ctx, pods[i]) })
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	for i := range pods {
		require.NoError(t, errs[i])
		require.Len(t, results[i].IPs, 1)
		assert.True(t, subnet.Contains(results[i].IPs[0]))
		assert.False(t, seen[results[i].IPs[0]], "addresses are unique")
		seen[results[i].IPs[0]] = true
	}
	for i := range pods {
		wg.Go(func() { errs[i] = m.Teardown(ctx, pods[i]) })
	}
	wg.Wait()
	var ids []string
	for i := range pods {
		require.NoError(t, errs[i])
		ids = append(ids, pods[i].ID)
	}
	podState{stateDir: stateDir, ipamDir: filepath.Join(stateDir, "ipam"), bridge: bridge}.assertClean(t, ids...)
}

// failPlugin is a CNI plugin that fails every ADD with a CNI error and
// accepts every DEL, as the CNI spec asks of plugins.
const failPlugin = `#!/bin/sh
cat >/dev/null
if [ "$CNI_COMMAND" = ADD ]; then
	echo '{"cniVersion":"1.0.0","code":999,"msg":"wincri test: injected failure"}'
	exit 1
fi
exit 0
`

func TestIntegrationFailedAddLeavesNothing(t *testing.T) {
	requireCNI(t)
	suffix, octet := uniqueSuffix(t)
	bridge := "wincri-f" + suffix
	newHostGuard(t, []string{"wincri-fail"}, bridge)

	binDir, confDir, stateDir := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(binDir, "wincri-fail"), []byte(failPlugin), 0o755))
	ipamDir := filepath.Join(stateDir, "ipam-fail")
	conflist := `{"cniVersion":"1.0.0","name":"wincri-fail","plugins":[
		{"type":"bridge","bridge":"` + bridge + `","isGateway":true,
		 "ipam":{"type":"host-local","dataDir":"` + ipamDir + `","ranges":[[{"subnet":"10.251.` + strconv.Itoa(int(octet)) + `.0/24"}]]}},
		{"type":"wincri-fail"}]}`
	writeFiles(t, confDir, map[string]string{"10-fail.conflist": conflist})

	m, err := New(config.CNI{BinDirs: []string{binDir, cniBinDir}, ConfDir: confDir}, stateDir)
	require.NoError(t, err)
	require.NoError(t, m.Status())
	ctx := testlog.New(t).Context()

	pod := PodNetwork{ID: "wincrifail" + suffix, Name: "f", Namespace: "test", UID: "u"}
	_, err = m.Setup(ctx, pod)
	require.Error(t, err)
	assert.True(t, errdefs.IsUnavailable(err), "%v", err)
	assert.Contains(t, err.Error(), "injected failure")
	t.Logf("Setup error: %v", err)
	_, statErr := os.Stat(filepath.Join("/sys/class/net", bridge))
	require.NoError(t, statErr, "bridge ran before the failing plugin")

	podState{stateDir: stateDir, ipamDir: ipamDir, bridge: bridge}.assertClean(t, pod.ID)
	require.NoError(t, m.Teardown(ctx, pod))
	require.NoError(t, m.Teardown(ctx, pod))
}

// BenchmarkIntegrationSetupTeardown measures one pod's network round
// trip on the built-in network with the real plugins: namespace, CNI ADD
// of bridge + host-local + portmap + loopback, DEL, namespace removal.
func BenchmarkIntegrationSetupTeardown(b *testing.B) {
	requireCNI(b)
	suffix, octet := uniqueSuffix(b)
	bridge := "wincri-b" + suffix
	newHostGuard(b, []string{"wincri-bench"}, bridge)
	m, err := New(config.CNI{BinDirs: []string{cniBinDir}, ConfDir: b.TempDir()}, b.TempDir(),
		WithDefaultNetwork(DefaultNetwork{Name: "wincri-bench", Bridge: bridge, Subnet: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 252, octet, 0}), 24)}))
	require.NoError(b, err)
	ctx := klog.NewContext(context.Background(), logr.Discard())
	pod := PodNetwork{Name: "bench", Namespace: "test", UID: "u",
		PortMappings: []PortMapping{{Protocol: ProtocolTCP, ContainerPort: 80, HostPort: 31000 + int32(octet)}}}
	var setup, teardown time.Duration
	n := 0
	for ; b.Loop(); n++ {
		pod.ID = "wincribench" + suffix + strconv.Itoa(n)
		start := time.Now()
		if _, err := m.Setup(ctx, pod); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := m.Teardown(ctx, pod); err != nil {
			b.Fatal(err)
		}
		setup += mid.Sub(start)
		teardown += time.Since(mid)
	}
	b.ReportMetric(float64(setup.Milliseconds())/float64(n), "setup-ms/op")
	b.ReportMetric(float64(teardown.Milliseconds())/float64(n), "teardown-ms/op")
}
