//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/crilog"
)

// pullTestImage pulls the busybox test image and returns its reference.
func (d *daemon) pullTestImage() string {
	d.t.Helper()
	ref := suite.registry.imageRef()
	_, err := d.img.PullImage(d.ctx(), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	require.NoError(d.t, err)
	return ref
}

func randomUID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// podConfig is a pod as kubelet describes one, logging under the
// daemon's log directory.
func (d *daemon) podConfig(name string) *runtime.PodSandboxConfig {
	uid := randomUID()
	return &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "e2e", Uid: uid},
		Hostname:     name,
		LogDirectory: filepath.Join(d.logDir, "e2e_"+name+"_"+uid),
		Labels:       map[string]string{"e2e": "true"},
		Linux:        &runtime.LinuxPodSandboxConfig{},
	}
}

// runPod runs a pod sandbox and returns its id.
func (d *daemon) runPod(cfg *runtime.PodSandboxConfig) string {
	d.t.Helper()
	resp, err := d.rt.RunPodSandbox(d.ctx(), &runtime.RunPodSandboxRequest{Config: cfg})
	require.NoError(d.t, err)
	return resp.GetPodSandboxId()
}

// containerConfig runs cmd from the test image, logging to <name>.log.
func containerConfig(name string, cmd ...string) *runtime.ContainerConfig {
	return &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: name},
		Image:    &runtime.ImageSpec{Image: suite.registry.imageRef()},
		Command:  cmd,
		LogPath:  name + ".log",
		Linux:    &runtime.LinuxContainerConfig{},
	}
}

// shellContainer runs a shell script.
func shellContainer(name, script string) *runtime.ContainerConfig {
	return containerConfig(name, "/bin/sh", "-c", script)
}

// counterScript prints 0, 1, 2, ... every 100ms, for checking that no log
// line is lost or duplicated.
const counterScript = `i=0; while true; do echo "$i"; i=$((i+1)); sleep 0.1; done`

func (d *daemon) createContainer(podID string, pod *runtime.PodSandboxConfig, cfg *runtime.ContainerConfig) string {
	d.t.Helper()
	resp, err := d.rt.CreateContainer(d.ctx(), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
	require.NoError(d.t, err)
	return resp.GetContainerId()
}

func (d *daemon) startContainer(id string) {
	d.t.Helper()
	_, err := d.rt.StartContainer(d.ctx(), &runtime.StartContainerRequest{ContainerId: id})
	require.NoError(d.t, err)
}

// runContainer creates and starts a container.
func (d *daemon) runContainer(podID string, pod *runtime.PodSandboxConfig, cfg *runtime.ContainerConfig) string {
	d.t.Helper()
	id := d.createContainer(podID, pod, cfg)
	d.startContainer(id)
	return id
}

func (d *daemon) containerStatus(id string) *runtime.ContainerStatus {
	d.t.Helper()
	resp, err := d.rt.ContainerStatus(d.ctx(), &runtime.ContainerStatusRequest{ContainerId: id})
	require.NoError(d.t, err)
	return resp.GetStatus()
}

func (d *daemon) podStatus(id string) *runtime.PodSandboxStatus {
	d.t.Helper()
	resp, err := d.rt.PodSandboxStatus(d.ctx(), &runtime.PodSandboxStatusRequest{PodSandboxId: id})
	require.NoError(d.t, err)
	return resp.GetStatus()
}

// waitContainerState polls until the container reaches state.
func (d *daemon) waitContainerState(id string, state runtime.ContainerState, timeout time.Duration) *runtime.ContainerStatus {
	d.t.Helper()
	var st *runtime.ContainerStatus
	require.Eventually(d.t, func() bool {
		st = d.containerStatus(id)
		return st.GetState() == state
	}, timeout, 100*time.Millisecond, "container %s never became %s", id, state)
	return st
}

func (d *daemon) waitPodState(id string, state runtime.PodSandboxState, timeout time.Duration) {
	d.t.Helper()
	require.Eventually(d.t, func() bool { return d.podStatus(id).GetState() == state },
		timeout, 100*time.Millisecond, "pod %s never became %s", id, state)
}

// execSync runs cmd in a container.
func (d *daemon) execSync(id string, timeout int64, cmd ...string) (*runtime.ExecSyncResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+time.Duration(timeout)*time.Second)
	defer cancel()
	return d.rt.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: timeout})
}

// removePod stops and removes a pod as kubelet does.
func (d *daemon) removePod(id string) {
	d.t.Helper()
	_, err := d.rt.StopPodSandbox(d.ctx(), &runtime.StopPodSandboxRequest{PodSandboxId: id})
	require.NoError(d.t, err)
	_, err = d.rt.RemovePodSandbox(d.ctx(), &runtime.RemovePodSandboxRequest{PodSandboxId: id})
	require.NoError(d.t, err)
}

// readLog parses a container's CRI log, leaving out a last line still
// being written; a missing file has no records.
func readLog(t *testing.T, path string) []crilog.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		return nil
	}
	recs, err := crilog.ReadRecords(bytes.NewReader(b))
	require.NoError(t, err, "log %s", path)
	return recs
}

// logLines are the full lines of a log's given stream ("" for both).
func logLines(t *testing.T, path, stream string) []string {
	var out []string
	for _, m := range crilog.Assemble(readLog(t, path)) {
		if m.Complete && (stream == "" || string(m.Stream) == stream) {
			out = append(out, strings.TrimRight(m.Text, "\n"))
		}
	}
	return out
}

// waitLogLine waits until the log holds line on stream.
func waitLogLine(t *testing.T, path, stream, line string, timeout time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, l := range logLines(t, path, stream) {
			if l == line {
				return true
			}
		}
		return false
	}, timeout, 100*time.Millisecond, "log %s never had %q on %s", path, line, stream)
}

// checkCounter asserts the log of a counterScript container holds 0..n
// with nothing lost or repeated, and returns n+1.
func checkCounter(t *testing.T, path string) int {
	t.Helper()
	lines := logLines(t, path, "stdout")
	for i, l := range lines {
		require.Equal(t, fmt.Sprint(i), l, "log %s line %d: a line was lost or duplicated", path, i)
	}
	return len(lines)
}
