//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// leftovers counts what a node's pods hold on the host: shims, mounts
// under the node's directory, pod network namespaces and pod IPs.
type leftovers struct {
	shims, mounts, netns, ips int
}

func (n *node) leftovers() leftovers {
	var l leftovers
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(data), "containerd-shim-runc-v2\x00") && strings.Contains(string(data), n.dir) {
			l.shims++
		}
	}
	for _, m := range mountsUnder(n.dir) {
		// The node's own namespace and kubelet's plugin directories are
		// the node's, not a pod's.
		if m != n.ns.path {
			l.mounts++
		}
	}
	netns, _ := filepath.Glob(filepath.Join(n.path("state"), "netns", "*"))
	l.netns = len(netns)
	ips, _ := filepath.Glob(filepath.Join(n.path("state"), "ipam", "*", "10.*"))
	l.ips = len(ips)
	return l
}

// TestChurn: 30 pods created and deleted through the API; afterwards the
// runtime holds no sandbox, shim, mount or network namespace of them.
func TestChurn(t *testing.T) {
	const pods = 30
	n := sharedCluster(t)
	ns := n.namespace(t)
	before := n.leftovers()
	var manifest strings.Builder
	for i := 0; i < pods; i++ {
		fmt.Fprintf(&manifest, `---
apiVersion: v1
kind: Pod
metadata: {name: churn-%d, labels: {churn: "yes"}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: %s, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}
`, i, busyboxImage)
	}
	start := time.Now()
	ns.apply("%s", manifest.String())
	_, err := ns.kubectl("wait", "--for=condition=Ready", "pod", "-l", "churn=yes", "--timeout=240s")
	require.NoError(t, err, n.componentTails())
	up := time.Since(start)
	_, err = ns.kubectl("delete", "pod", "-l", "churn=yes", "--timeout=240s")
	require.NoError(t, err)
	t.Logf("churn: %d pods Ready in %s, all deleted %s later", pods, up.Round(time.Millisecond), (time.Since(start) - up).Round(time.Millisecond))

	require.NoError(t, waitFor(time.Minute, "the runtime to let go of the pods", func() error {
		out, err := n.crictl(context.Background(), "pods", "--namespace", ns.name, "-q")
		if err != nil {
			return err
		}
		if s := strings.Fields(out); len(s) > 0 {
			return fmt.Errorf("%d sandboxes left", len(s))
		}
		// Less than before is fine: an earlier test's pod may have gone
		// meanwhile.
		if l := n.leftovers(); l.shims > before.shims || l.mounts > before.mounts || l.netns > before.netns || l.ips > before.ips {
			return fmt.Errorf("left behind: %+v, before: %+v", l, before)
		}
		return nil
	}))
}
