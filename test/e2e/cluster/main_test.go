//go:build linux

// Package cluster runs a real one-node Kubernetes cluster (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kubelet of
// the version hack/kube.sh builds) with wincri as the node's runtime,
// entirely inside network namespaces the tests make.
//
// WINCRI_KUBE_BIN names the directory holding the Kubernetes binaries
// (hack/test.sh sets it from hack/kube.sh). Without it, or without root,
// the tests skip, except under CI, where they fail.
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wincri/wincri/internal/testutil"
)

// Images the tests run, served by hack/testimages inside each node's
// network namespace (wincri mirrors their registry hosts to it).
const (
	busyboxImage = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	nginxImage   = "registry.k8s.io/e2e-test-images/nginx:1.14-2"
)

// bins are the programs the suite runs, built or found once.
type bins struct {
	dir        string // wincri, wincri-logger, testimages, helper
	kube       string // etcd, kube-apiserver, ..., kubelet, kubectl
	busybox    string
	prereqMiss string
}

var suiteBins bins

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if home, err := os.UserHomeDir(); err == nil {
		os.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Join(home, "go", "bin"))
	}
	suiteBins.prereqMiss = missingPrerequisite()
	if suiteBins.prereqMiss != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "wincri-cluster-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := buildBinaries(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	suiteBins.dir = dir
	// Links an interrupted run left to nodes that are gone.
	stale := filepath.Join(os.TempDir(), "wkc-")
	removeLegacyLogLinks(func(target string) bool { return strings.HasPrefix(target, stale) && !fileExists(target) })
	code := m.Run()
	stopSharedCluster()
	return code
}

// missingPrerequisite names what this machine lacks, "" when nothing.
func missingPrerequisite() string {
	if os.Geteuid() != 0 {
		return "needs root"
	}
	suiteBins.kube = os.Getenv("WINCRI_KUBE_BIN")
	if suiteBins.kube == "" {
		return "needs WINCRI_KUBE_BIN, the directory hack/kube.sh prints"
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl"} {
		if _, err := os.Stat(filepath.Join(suiteBins.kube, b)); err != nil {
			return "needs " + b + " in WINCRI_KUBE_BIN (hack/kube.sh builds it)"
		}
	}
	for _, b := range []string{"runc", "containerd-shim-runc-v2", "nsenter", "unshare", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			return "needs " + b + " in PATH (hack/setup.sh installs it)"
		}
	}
	suiteBins.busybox = "/bin/busybox"
	if home, err := os.UserHomeDir(); err == nil {
		if p := filepath.Join(home, "go", "bin", "busybox-dynamic.d", "bin", "busybox"); fileExists(p) {
			suiteBins.busybox = p
		}
	}
	for _, p := range []string{suiteBins.busybox, "/opt/cni/bin/bridge", "/opt/cni/bin/host-local", "/opt/cni/bin/loopback", "/opt/cni/bin/portmap"} {
		if !fileExists(p) {
			return "needs " + p + " (hack/setup.sh installs it)"
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// requireSuite skips (fails in CI) a test the machine cannot run.
func requireSuite(t *testing.T) {
	t.Helper()
	if suiteBins.prereqMiss == "" {
		return
	}
	if testutil.InCI() {
		t.Fatalf("cluster prerequisite missing in CI: %s", suiteBins.prereqMiss)
	}
	t.Skip(suiteBins.prereqMiss)
}

// buildBinaries builds wincri, wincri-logger (static: the pause process
// runs in an empty root), the test image server and its helper.
func buildBinaries(ctx context.Context, dir string) error {
	for out, pkg := range map[string]string{
		"wincri":        "github.com/wincri/wincri/cmd/wincri",
		"wincri-logger": "github.com/wincri/wincri/cmd/wincri-logger",
		"testimages":    "github.com/wincri/wincri/hack/testimages",
		"helper":        "github.com/wincri/wincri/hack/testimages/helper",
	} {
		if err := testutil.Build(ctx, filepath.Join(dir, out), pkg); err != nil {
			return err
		}
	}
	return nil
}
