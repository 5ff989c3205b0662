//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clusterNodeIP is the cluster node's address, on a device inside the
// node's own network namespace.
const clusterNodeIP = "10.231.0.2"

// shared is the one cluster the cluster tests share: bringing one up
// takes about half a minute, so it is started by the first test that
// needs it and stopped after the last.
var shared struct {
	once sync.Once
	n    *node
	err  error
}

// sharedCluster returns the running cluster, starting it if needed.
func sharedCluster(t *testing.T) *node {
	t.Helper()
	requireSuite(t)
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		shared.n, shared.err = startCluster(ctx)
		if shared.err == nil {
			fmt.Printf("cluster: up in %s\n", time.Since(start).Round(time.Second))
		}
	})
	require.NoError(t, shared.err)
	return shared.n
}

func stopSharedCluster() {
	if shared.n != nil {
		shared.n.teardown()
	}
}

// startCluster brings up etcd, the control plane and a kubelet on wincri,
// with certificates and Node+RBAC authorization, and waits until the node
// is Ready.
func startCluster(ctx context.Context) (n *node, err error) {
	n, err = newNode(ctx, clusterNodeIP)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, n.componentTails())
			n.teardown()
		}
	}()
	if err := n.startRuntime(ctx); err != nil {
		return n, err
	}
	if err := n.makePKI(); err != nil {
		return n, err
	}
	if err := n.startControlPlane(ctx); err != nil {
		return n, err
	}
	if err := n.startKubelet(n.path("kubelet.kubeconfig")); err != nil {
		return n, err
	}
	if err := waitFor(3*time.Minute, "the node to be Ready", func() error {
		if !n.kubelet.running() {
			return errors.New("kubelet exited")
		}
		out, err := n.kubectl(ctx, "", "get", "node", nodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err == nil && out != "True" {
			err = fmt.Errorf("Ready is %q", out)
		}
		return err
	}); err != nil {
		return n, err
	}
	// kubelet hands the pod CIDR the controller manager allocated to
	// wincri (UpdateRuntimeConfig), before any test pod starts.
	if err := waitFor(time.Minute, "wincri to get the node's pod CIDR", func() error {
		cidr, err := n.kubectl(ctx, "", "get", "node", nodeName, "-o", "jsonpath={.spec.podCIDR}")
		if err != nil || cidr == "" {
			return fmt.Errorf("node has no pod CIDR yet (%v)", err)
		}
		n.podCIDR = cidr
		if !strings.Contains(n.wincri.tail(1000), "Pod CIDR updated") {
			return fmt.Errorf("kubelet has not sent the pod CIDR %s", cidr)
		}
		return nil
	}); err != nil {
		return n, err
	}
	if err := waitFor(time.Minute, "the default service account", func() error {
		_, err := n.kubectl(ctx, "", "get", "serviceaccount", "default")
		return err
	}); err != nil {
		return n, err
	}
	// One RuntimeClass per handler wincri configures on Linux.
	_, err = n.kubectl(ctx, "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: process}\nhandler: process\n", "apply", "-f", "-")
	return n, err
}

// makePKI writes the CA, the certificates of every component and the
// kubeconfigs, as kubeadm would.
func (n *node) makePKI() error {
	p, err := newPKI(n.path("pki"))
	if err != nil {
		return err
	}
	n.pki = p
	server := "https://" + n.ip + ":6443"
	steps := []func() error{
		func() error {
			return p.issue("apiserver", "kube-apiserver", nil, n.ip, "127.0.0.1", "10.96.0.1", "localhost",
				"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")
		},
		func() error { return p.issue("admin", "admin", []string{"system:masters"}) },
		func() error {
			return p.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"})
		},
		func() error { return p.issue("kubelet", "system:node:"+nodeName, []string{"system:nodes"}) },
		func() error {
			return p.issue("kubelet-serving", "system:node:"+nodeName, []string{"system:nodes"}, n.ip, nodeName)
		},
		p.serviceAccountKey,
		func() error { return p.kubeconfig(n.path("admin.kubeconfig"), server, "admin") },
		func() error { return p.kubeconfig(n.path("kubelet.kubeconfig"), server, "kubelet") },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	n.admin = n.path("admin.kubeconfig")
	return nil
}

// startControlPlane starts etcd, the API server, the controller manager
// and the scheduler, and waits until the API server is ready.
func (n *node) startControlPlane(ctx context.Context) error {
	kube := func(b string) string { return filepath.Join(suiteBins.kube, b) }
	p := n.pki
	etcd := newComponent(n.ns, n.dir, "etcd", kube("etcd"),
		"--name", "e2e", "--data-dir", n.path("etcd"),
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "e2e=http://127.0.0.1:2380", "--unsafe-no-fsync", "--log-level", "warn")
	apiserver := newComponent(n.ns, n.dir, "kube-apiserver", kube("kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:2379",
		"--advertise-address", n.ip, "--secure-port", "6443", "--cert-dir", n.path("apiserver-certs"),
		"--tls-cert-file", p.certFile("apiserver"), "--tls-private-key-file", p.keyFile("apiserver"),
		"--client-ca-file", p.caFile(),
		"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
		"--service-account-key-file", p.keyFile("sa"), "--service-account-signing-key-file", p.keyFile("sa"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range", "10.96.0.0/24",
		"--kubelet-client-certificate", p.certFile("apiserver-kubelet-client"),
		"--kubelet-client-key", p.keyFile("apiserver-kubelet-client"),
		"--kubelet-certificate-authority", p.caFile(),
		"--kubelet-preferred-address-types", "InternalIP",
		"--allow-privileged", "--v", "1")
	controllers := newComponent(n.ns, n.dir, "kube-controller-manager", kube("kube-controller-manager"),
		"--kubeconfig", n.admin, "--authentication-kubeconfig", n.admin, "--authorization-kubeconfig", n.admin,
		"--leader-elect=false", "--bind-address", "127.0.0.1",
		"--service-account-private-key-file", p.keyFile("sa"), "--root-ca-file", p.caFile(),
		"--allocate-node-cidrs", "--cluster-cidr", clusterCIDR, "--node-cidr-mask-size", "24", "--v", "1")
	scheduler := newComponent(n.ns, n.dir, "kube-scheduler", kube("kube-scheduler"),
		"--kubeconfig", n.admin, "--authentication-kubeconfig", n.admin, "--authorization-kubeconfig", n.admin,
		"--leader-elect=false", "--bind-address", "127.0.0.1", "--v", "1")
	for _, c := range []*component{etcd, apiserver} {
		if err := c.start(); err != nil {
			return err
		}
		n.controlPlane = append(n.controlPlane, c)
	}
	if err := waitFor(2*time.Minute, "the API server to be ready", func() error {
		if !apiserver.running() {
			return errors.New("kube-apiserver exited")
		}
		_, err := n.kubectl(ctx, "", "get", "--raw", "/readyz")
		return err
	}); err != nil {
		return err
	}
	for _, c := range []*component{controllers, scheduler} {
		if err := c.start(); err != nil {
			return err
		}
		n.controlPlane = append(n.controlPlane, c)
	}
	return nil
}

// kubectl runs kubectl as the cluster admin inside the node's network
// namespace, with stdin when it is not "", and returns its standard
// output; an error carries standard error.
func (n *node) kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := n.kubectlCmd(ctx, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// kubectlCmd is kubectl as the cluster admin inside the node's network
// namespace, for a test that drives its streams itself.
func (n *node) kubectlCmd(ctx context.Context, args ...string) *exec.Cmd {
	return n.ns.command(ctx, filepath.Join(suiteBins.kube, "kubectl"), append([]string{"--kubeconfig", n.admin}, args...)...)
}

// componentTails is the end of every component's log, for a failure.
func (n *node) componentTails() string {
	var b strings.Builder
	for _, c := range append([]*component{n.registry, n.wincri, n.kubelet}, n.controlPlane...) {
		if c != nil {
			fmt.Fprintf(&b, "---- %s (%s):\n%s\n", c.name, c.log, c.tail(25))
		}
	}
	return b.String()
}
