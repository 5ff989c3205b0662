//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
)

// crictl runs crictl against the daemon with a configuration of its own,
// never the machine's.
type crictl struct {
	t      *testing.T
	bin    string
	config string
}

func newCrictl(t *testing.T, d *daemon) *crictl {
	bin := testutil.RequireBinary(t, "crictl")
	cfg := filepath.Join(d.dir, "crictl.yaml")
	ep := "unix://" + d.sock
	require.NoError(t, os.WriteFile(cfg, []byte("runtime-endpoint: "+ep+"\nimage-endpoint: "+ep+"\ntimeout: 60\n"), 0o644))
	return &crictl{t: t, bin: bin, config: cfg}
}

func (c *crictl) run(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.bin, append([]string{"--config", c.config}, args...)...)
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(c.t, err, "crictl %s: %s", strings.Join(args, " "), stderr)
	return strings.TrimSpace(string(out))
}

// crictlPod starts a daemon, pulls the test image through crictl and
// writes a pod config named name; it returns the daemon, crictl, the
// image reference and the pod config's path.
func crictlPod(t *testing.T, name string) (*daemon, *crictl, string, string) {
	t.Helper()
	d := newDaemon(t)
	d.start("")
	c := newCrictl(t, d)
	ref := suite.registry.imageRef()
	c.run("pull", ref)
	podJSON := writeJSON(t, filepath.Join(d.dir, "pod.json"), map[string]any{
		"metadata":      map[string]string{"name": name, "namespace": "e2e", "uid": randomUID()},
		"log_directory": filepath.Join(d.logDir, name),
		"linux":         map[string]any{},
	})
	return d, c, ref, podJSON
}

func writeJSON(t *testing.T, path string, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// TestCrictl runs issue 5's flow once through crictl, as an operator
// would: runp, create, start, ps, inspect, logs, exec -s, stop, rm.
func TestCrictl(t *testing.T) {
	d, c, ref, podJSON := crictlPod(t, "crictl")
	ctrJSON := writeJSON(t, filepath.Join(d.dir, "ctr.json"), map[string]any{
		"metadata": map[string]string{"name": "talker"},
		"image":    map[string]string{"image": ref},
		"command":  []string{"/bin/sh", "-c", "echo hello-from-crictl; echo warn-from-crictl >&2; exec sleep 1000"},
		"log_path": "talker.log",
		"linux":    map[string]any{},
	})

	podID := c.run("runp", podJSON)
	require.Len(t, podID, 64)
	ctrID := c.run("create", podID, ctrJSON, podJSON)
	require.Len(t, ctrID, 64)
	c.run("start", ctrID)

	assert.Contains(t, strings.Fields(c.run("ps", "-q")), ctrID)
	var inspect struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.run("inspect", ctrID)), &inspect))
	assert.Equal(t, "CONTAINER_RUNNING", inspect.Status.State)
	assert.NotZero(t, inspect.Info.Pid)

	require.Eventually(t, func() bool {
		out, _ := exec.Command(c.bin, "--config", c.config, "logs", ctrID).CombinedOutput()
		return strings.Contains(string(out), "hello-from-crictl") && strings.Contains(string(out), "warn-from-crictl")
	}, 20*time.Second, 200*time.Millisecond, "crictl logs never showed the container's output")

	assert.Equal(t, "in-container", c.run("exec", "-s", ctrID, "/bin/echo", "in-container"))

	c.run("stop", "--timeout", "2", ctrID)
	require.NoError(t, json.Unmarshal([]byte(c.run("inspect", ctrID)), &inspect))
	assert.Equal(t, "CONTAINER_EXITED", inspect.Status.State)
	c.run("rm", ctrID)
	assert.NotContains(t, strings.Fields(c.run("ps", "-a", "-q")), ctrID)
	c.run("stopp", podID)
	c.run("rmp", podID)
	assert.Empty(t, c.run("pods", "-q"))
	d.assertNothingLeft(t)
}
