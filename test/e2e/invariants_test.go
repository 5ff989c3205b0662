//go:build linux

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// assertNothingLeft checks that a daemon with no pods left nothing on the
// host: no mounts, network namespaces, shims, runc containers, bundles
// or writable layers.
func (d *daemon) assertNothingLeft(t *testing.T) {
	t.Helper()
	pods, err := d.rt.ListPodSandbox(d.ctx(), &runtime.ListPodSandboxRequest{})
	require.NoError(t, err)
	assert.Empty(t, pods.GetItems(), "pods")
	d.assertConsistent(t)
	assert.Empty(t, mountsUnder(d.dir), "mounts")
	assert.Empty(t, dirNames(d.netnsDir()), "network namespaces")
	assert.Empty(t, d.shims(), "shim processes")
	assert.Empty(t, dirNames(filepath.Join(d.state, "pods")), "pod bundles")
	assert.Empty(t, dirNames(filepath.Join(d.state, "containers")), "container bundles")
	assert.Empty(t, dirNames(filepath.Join(d.root, "containers")), "container layers")
	// What was removed is deleted in the background.
	assert.Eventually(t, func() bool {
		return len(dirNames(filepath.Join(d.root, "trash"))) == 0 && len(dirNames(filepath.Join(d.state, "trash"))) == 0
	}, 30*time.Second, 20*time.Millisecond, "removed directories are deleted")
	assert.Empty(t, d.ipAllocations(), "CNI address allocations")
	assert.Empty(t, dirNames(filepath.Join("/sys/class/net", d.bridge, "brif")), "veth interfaces on the bridge")
	var leftovers []int
	for _, pid := range processesMentioning(d.dir) {
		if pid != d.pid() && alive(pid) {
			leftovers = append(leftovers, pid)
		}
	}
	assert.Empty(t, leftovers, "processes other than wincri started under %s", d.dir)
}

// ipAllocations lists the addresses host-local holds for this daemon's
// network: one file per address, beside its lock and its cursor.
func (d *daemon) ipAllocations() []string {
	var out []string
	for _, name := range dirNames(filepath.Join(d.state, "e2e-ipam", d.bridge)) {
		if name != "lock" && !strings.HasPrefix(name, "last_reserved_ip") {
			out = append(out, name)
		}
	}
	return out
}

// assertConsistent checks that what wincri reports matches what runs and
// what is on disk: every pod and container it lists has its bundle,
// every bundle, layer, mount, namespace, shim and runc container belongs
// to one it lists, every ready pod has its shim and namespace, every
// running container runs.
func (d *daemon) assertConsistent(t *testing.T) {
	t.Helper()
	pods, err := d.rt.ListPodSandbox(d.ctx(), &runtime.ListPodSandboxRequest{})
	require.NoError(t, err)
	ctrs, err := d.rt.ListContainers(d.ctx(), &runtime.ListContainersRequest{})
	require.NoError(t, err)
	podIDs := map[string]bool{}
	readyPods := map[string]bool{}
	for _, p := range pods.GetItems() {
		podIDs[p.GetId()] = true
		if p.GetState() == runtime.PodSandboxState_SANDBOX_READY {
			readyPods[p.GetId()] = true
		}
	}
	ctrIDs := map[string]runtime.ContainerState{}
	for _, c := range ctrs.GetContainers() {
		ctrIDs[c.GetId()] = c.GetState()
		assert.True(t, podIDs[c.GetPodSandboxId()], "container %s belongs to unlisted pod %s", c.GetId(), c.GetPodSandboxId())
	}

	podBundles := dirNames(filepath.Join(d.state, "pods"))
	for id := range podIDs {
		assert.Contains(t, podBundles, id, "bundle of listed pod")
	}
	for _, id := range podBundles {
		assert.True(t, podIDs[id], "orphaned pod bundle %s", id)
	}
	ctrBundles := dirNames(filepath.Join(d.state, "containers"))
	for id := range ctrIDs {
		assert.Contains(t, ctrBundles, id, "bundle of listed container")
	}
	for _, id := range ctrBundles {
		_, ok := ctrIDs[id]
		assert.True(t, ok, "orphaned container bundle %s", id)
	}
	for _, id := range dirNames(filepath.Join(d.root, "containers")) {
		_, ok := ctrIDs[id]
		assert.True(t, ok, "orphaned container layer %s", id)
	}

	netns := dirNames(d.netnsDir())
	for _, id := range netns {
		assert.True(t, podIDs[id], "orphaned network namespace %s", id)
	}
	for id := range readyPods {
		assert.Contains(t, netns, id, "network namespace of ready pod")
	}
	assert.LessOrEqual(t, len(d.ipAllocations()), len(netns), "CNI address allocations without a network namespace")

	shimsByPod := map[string]int{}
	for _, s := range d.shims() {
		shimsByPod[s.ID]++
		assert.True(t, podIDs[s.ID], "orphaned shim process %d for %s", s.Pid, s.ID)
	}
	for id := range readyPods {
		assert.Equal(t, 1, shimsByPod[id], "shim processes of ready pod %s", id)
	}

	runc := map[string]runcContainer{}
	for _, c := range runcContainers(t) {
		if strings.HasPrefix(c.Bundle, d.dir+"/") {
			runc[c.ID] = c
			_, isCtr := ctrIDs[c.ID]
			assert.True(t, isCtr || podIDs[c.ID], "orphaned runc container %s (%s)", c.ID, c.Status)
		}
	}
	for id, state := range ctrIDs {
		if state == runtime.ContainerState_CONTAINER_RUNNING {
			c, ok := runc[id]
			if assert.True(t, ok, "running container %s unknown to runc", id) {
				assert.Equal(t, "running", c.Status, "runc state of running container %s", id)
				assert.True(t, alive(c.Pid), "process of running container %s", id)
			}
		}
	}

	for _, m := range mountsUnder(d.dir) {
		owner := mountOwner(d, m)
		_, isCtr := ctrIDs[owner]
		assert.True(t, isCtr || podIDs[owner], "orphaned mount %s", m)
	}
}

// mountOwner is the pod or container id a mount under the daemon's
// directories belongs to, from its path.
func mountOwner(d *daemon, mount string) string {
	for _, base := range []string{filepath.Join(d.state, "pods"), filepath.Join(d.state, "containers"), d.netnsDir()} {
		if rest, ok := strings.CutPrefix(mount, base+"/"); ok {
			id, _, _ := strings.Cut(rest, "/")
			return id
		}
	}
	return ""
}

// netnsDir holds the pods' network namespace bind mounts.
func (d *daemon) netnsDir() string { return filepath.Join(d.state, "network", "netns") }

// skipOnLeftoverShim skips a test whose pods are all removed but whose
// shim still runs: a known gap, seen about once in six runs after a
// restart. The runc shim answers Shutdown without exiting while it
// still holds a task, and wincri does not check that it exited.
func (d *daemon) skipOnLeftoverShim(t *testing.T) {
	t.Helper()
	pods, err := d.rt.ListPodSandbox(d.ctx(), &runtime.ListPodSandboxRequest{})
	require.NoError(t, err)
	if len(pods.GetItems()) > 0 {
		return
	}
	if shims := d.shims(); len(shims) > 0 {
		t.Errorf("shim %d of removed pod %s still runs after RemovePodSandbox", shims[0].Pid, shims[0].ID)
	}
}
