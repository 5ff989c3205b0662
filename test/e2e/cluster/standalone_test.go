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

// TestStandaloneKubelet is the quick inner-loop check: a kubelet without
// an API server runs a static pod on wincri. kubelet v1.37 exited at once
// on wincri's old Version answer, and runc failed every container on the
// hugepage limits kubelet sends, so this fails on both.
func TestStandaloneKubelet(t *testing.T) {
	requireSuite(t)
	ctx := context.Background()
	n, err := newNode(ctx, "10.231.1.2")
	require.NoError(t, err)
	t.Cleanup(n.teardown)
	require.NoError(t, n.startRuntime(ctx))

	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: static-web, namespace: default}
spec:
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "echo hello from a static pod; exec sleep 3600"]
    resources:
      limits: {memory: 64Mi, cpu: 200m}
`, busyboxImage)
	require.NoError(t, os.WriteFile(filepath.Join(n.staticPods, "static-web.yaml"), []byte(manifest), 0o644))
	require.NoError(t, n.startKubelet(""))

	var id string
	err = waitFor(3*time.Minute, "the static pod's container to run", func() error {
		if !n.kubelet.running() {
			return fmt.Errorf("kubelet exited:\n%s", n.kubelet.tail(40))
		}
		out, err := n.crictl(ctx, "ps", "--name", "app", "--state", "running", "-q")
		if err != nil {
			return err
		}
		if id = strings.TrimSpace(out); id == "" {
			return fmt.Errorf("no running container yet")
		}
		return nil
	})
	require.NoError(t, err, "kubelet log:\n%s\nwincri log:\n%s", n.kubelet.tail(60), n.wincri.tail(40))
	require.NoError(t, waitFor(30*time.Second, "the container's log", func() error {
		out, err := n.crictl(ctx, "logs", id)
		if err == nil && !strings.Contains(out, "hello from a static pod") {
			err = fmt.Errorf("log so far: %q", out)
		}
		return err
	}))

	// Removing the manifest makes kubelet stop and remove the pod.
	require.NoError(t, os.Remove(filepath.Join(n.staticPods, "static-web.yaml")))
	require.NoError(t, waitFor(2*time.Minute, "kubelet to remove the static pod", func() error {
		out, err := n.crictl(ctx, "pods", "--state", "ready", "-q")
		if err == nil && strings.TrimSpace(out) != "" {
			err = fmt.Errorf("ready pods left: %s", out)
		}
		return err
	}))
	assertNoRuntimeComplaints(t, n.kubelet)
}
