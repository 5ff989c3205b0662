//go:build linux

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const (
	nodeName    = "wincri-node"
	clusterCIDR = "10.232.0.0/16"
	dnsIP       = "10.96.0.10"
	// registryAddr is the test image registry inside the node's network
	// namespace; nothing outside the namespace can reach it.
	registryAddr = "127.0.0.1:5000"
)

// node is one Kubernetes node running wincri: its network namespace, the
// test image registry, wincri and kubelet, and, for a cluster, the control
// plane beside them. Every file of it lives under dir.
type node struct {
	dir string
	ns  *nodeNetns
	ip  string

	sock       string // wincri's CRI socket
	kubeletDir string
	podLogs    string
	staticPods string

	registry, wincri, kubelet *component
	controlPlane              []*component // etcd, API server, controller manager, scheduler
	pki                       *pki
	admin                     string // the admin kubeconfig
	// podCIDR is the pod range the controller manager gave the node.
	podCIDR string
	// featureGates are kubelet's feature gates beyond its defaults.
	featureGates map[string]bool
}

// newNode makes the node's directories and network namespace.
func newNode(ctx context.Context, ip string) (*node, error) {
	// Short: the shims' sockets live under the state directory.
	dir, err := os.MkdirTemp("", "wkc-")
	if err != nil {
		return nil, err
	}
	n := &node{
		dir: dir, ip: ip,
		sock:       filepath.Join(dir, "cri.sock"),
		kubeletDir: filepath.Join(dir, "kubelet"),
		podLogs:    filepath.Join(dir, "pods"),
		staticPods: filepath.Join(dir, "manifests"),
	}
	for _, d := range []string{n.kubeletDir, n.podLogs, n.staticPods, filepath.Join(dir, "cni")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	n.ns, err = newNodeNetns(ctx, filepath.Join(dir, "netns"), ip)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return n, nil
}

func (n *node) path(name string) string { return filepath.Join(n.dir, name) }

// startRuntime starts the test image registry and wincri, configured to
// pull every test image from that registry.
func (n *node) startRuntime(ctx context.Context) error {
	addrFile := n.path("registry.addr")
	n.registry = newComponent(n.ns, n.dir, "testimages", filepath.Join(suiteBins.dir, "testimages"),
		"--addr", registryAddr, "--addr-file", addrFile, "--busybox", suiteBins.busybox,
		"--helper", filepath.Join(suiteBins.dir, "helper"))
	if err := n.registry.start(); err != nil {
		return err
	}
	if err := waitFor(2*time.Minute, "the test image registry", func() error {
		if !n.registry.running() {
			return errors.New("it exited:\n" + n.registry.tail(20))
		}
		_, err := os.Stat(addrFile)
		return err
	}); err != nil {
		return err
	}
	hosts, err := exec.CommandContext(ctx, filepath.Join(suiteBins.dir, "testimages"), "--hosts").Output()
	if err != nil {
		return fmt.Errorf("listing the test image hosts: %w", err)
	}
	var cfg strings.Builder
	cfg.WriteString("[image.mirrors]\n")
	for _, h := range strings.Fields(string(hosts)) {
		fmt.Fprintf(&cfg, "%q = [\"http://%s\"]\n", h, registryAddr)
	}
	// An empty conf_dir: pods get wincri's built-in network, a bridge
	// that is their gateway (kubelet's probes reach pod IPs from the node)
	// on the pod CIDR kubelet sends. Everything it sets up, iptables rules
	// included, lives in the node's namespace and goes with it.
	fmt.Fprintf(&cfg, "[cni]\nconf_dir = %q\n", n.path("cni"))
	if err := os.WriteFile(n.path("wincri.toml"), []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	n.wincri = newComponent(n.ns, n.dir, "wincri", filepath.Join(suiteBins.dir, "wincri"),
		"--config", n.path("wincri.toml"), "--root", n.path("root"), "--state", n.path("state"),
		"--listen", "unix://"+n.sock, "-v", "4")
	return n.startWincri(ctx)
}

// startWincri (re)starts wincri and waits until it serves CRI.
func (n *node) startWincri(ctx context.Context) error {
	if err := n.wincri.start(); err != nil {
		return err
	}
	return waitFor(time.Minute, "wincri to serve CRI", func() error {
		if !n.wincri.running() {
			return errors.New("it exited:\n" + n.wincri.tail(30))
		}
		_, err := n.crictl(ctx, "version")
		return err
	})
}

// crictl runs crictl against the node's wincri and returns its standard
// output; an error carries standard error.
func (n *node) crictl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cfg := n.path("crictl.yaml")
	if !fileExists(cfg) {
		data := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\n", n.sock, n.sock)
		if err := os.WriteFile(cfg, []byte(data), 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(ctx, "crictl", append([]string{"--config", cfg}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("crictl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// kubeletConfig is the KubeletConfiguration of this node. On these
// machines (cgroup v1, no systemd as PID 1) kubelet v1.37 starts only with
// failCgroupV1 false, the cgroupfs driver, no QoS cgroups and no node
// allocatable enforcement. A cluster node authenticates the API server by
// client certificate and authorizes by webhook, as kubeadm sets it up.
func (n *node) kubeletConfig() string {
	auth := `authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
`
	if n.pki != nil {
		auth = fmt.Sprintf(`authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %q}
authorization: {mode: Webhook}
tlsCertFile: %q
tlsPrivateKeyFile: %q
`, n.pki.caFile(), n.pki.certFile("kubelet-serving"), n.pki.keyFile("kubelet-serving"))
	}
	gates, _ := json.Marshal(n.featureGates)
	if n.featureGates == nil {
		gates = []byte("{}")
	}
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
%scgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://%s
imageServiceEndpoint: unix://%s
staticPodPath: %s
fileCheckFrequency: 2s
syncFrequency: 10s
podLogsDir: %s
clusterDomain: cluster.local
clusterDNS: [%s]
resolvConf: %s
serializeImagePulls: false
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", imagefs.available: "1%%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
featureGates: %s
`, n.ip, auth, n.sock, n.sock, n.staticPods, n.podLogs, dnsIP, n.path("resolv.conf"), gates)
}

// startKubelet starts kubelet against wincri; kubeconfig "" runs it
// standalone (static pods only).
func (n *node) startKubelet(kubeconfig string) error {
	if err := os.WriteFile(n.path("resolv.conf"), []byte("nameserver "+dnsIP+"\nsearch example.test\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(n.path("kubelet.yaml"), []byte(n.kubeletConfig()), 0o644); err != nil {
		return err
	}
	args := []string{
		"--config", n.path("kubelet.yaml"), "--root-dir", n.kubeletDir, "--cert-dir", n.path("kubelet-pki"),
		"--hostname-override", nodeName, "--node-ip", n.ip, "--v", "2",
	}
	if kubeconfig != "" {
		args = append(args, "--kubeconfig", kubeconfig)
	}
	n.kubelet = newComponent(n.ns, n.dir, "kubelet", filepath.Join(suiteBins.kube, "kubelet"), args...)
	return n.kubelet.start()
}

// restartKubelet restarts kubelet with the given feature gates and waits
// until it is healthy.
func (n *node) restartKubelet(ctx context.Context, gates map[string]bool) error {
	n.kubelet.stop()
	n.featureGates = gates
	if err := os.WriteFile(n.path("kubelet.yaml"), []byte(n.kubeletConfig()), 0o644); err != nil {
		return err
	}
	if err := n.kubelet.start(); err != nil {
		return err
	}
	client := n.ns.httpClient(5 * time.Second)
	return waitFor(2*time.Minute, "kubelet to be healthy", func() error {
		if !n.kubelet.running() {
			return errors.New("kubelet exited:\n" + n.kubelet.tail(30))
		}
		resp, err := client.Get("http://127.0.0.1:10248/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	})
}

// teardown stops everything, removes every pod wincri still has, and
// leaves no mount, namespace or file behind.
func (n *node) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if n.kubelet != nil {
		n.kubelet.stop()
	}
	if n.wincri != nil && n.wincri.running() {
		_, _ = n.crictl(ctx, "rmp", "--all", "--force")
		n.wincri.stop()
	}
	for i := len(n.controlPlane) - 1; i >= 0; i-- {
		n.controlPlane[i].stop()
	}
	if n.registry != nil {
		n.registry.stop()
	}
	unmountUnder(n.dir)
	removeLegacyLogLinks(func(target string) bool { return strings.HasPrefix(target, n.dir+"/") })
	n.ns.remove()
	if os.Getenv("WINCRI_KEEP_CLUSTER") == "" {
		_ = os.RemoveAll(n.dir)
	}
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append(out, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

func unmountUnder(dir string) {
	for _, m := range mountsUnder(dir) {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
}

// legacyLogDir is where kubelet links every container's log (a fixed
// path, kuberuntime's legacyContainerLogsDir). kubelet removes a link with
// its container; a node torn down under it leaves them, and a dangling
// one makes the next kubelet ask the runtime for a container it never had.
const legacyLogDir = "/var/log/containers"

// removeLegacyLogLinks removes the links in legacyLogDir whose target
// matches.
func removeLegacyLogLinks(match func(target string) bool) {
	entries, _ := os.ReadDir(legacyLogDir)
	for _, e := range entries {
		p := filepath.Join(legacyLogDir, e.Name())
		if target, err := os.Readlink(p); err == nil && match(target) {
			_ = os.Remove(p)
		}
	}
}
