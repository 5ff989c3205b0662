//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCrictlStreaming drives issue 6's operator commands through crictl
// against the built daemon: exec with stdin, attach, port-forward to a
// web server in the pod, stats and statsp.
func TestCrictlStreaming(t *testing.T) {
	d, c, ref, podJSON := crictlPod(t, "streams")
	shellJSON := writeJSON(t, filepath.Join(d.dir, "shell.json"), map[string]any{
		"metadata": map[string]string{"name": "shell"},
		"image":    map[string]string{"image": ref},
		"command":  []string{"/bin/sh"},
		"stdin":    true,
		"log_path": "shell.log",
		"linux":    map[string]any{},
	})
	webJSON := writeJSON(t, filepath.Join(d.dir, "web.json"), map[string]any{
		"metadata": map[string]string{"name": "web"},
		"image":    map[string]string{"image": ref},
		"command":  []string{"/bin/sh", "-c", "mkdir -p /www && echo served-by-pod > /www/index.html && exec httpd -f -p 8080 -h /www"},
		"log_path": "web.log",
		"linux":    map[string]any{},
	})
	podID := c.run("runp", podJSON)
	shellID := c.run("create", podID, shellJSON, podJSON)
	c.run("start", shellID)
	webID := c.run("create", podID, webJSON, podJSON)
	c.run("start", webID)

	t.Run("exec with stdin", func(t *testing.T) {
		out := c.withInput(t, "echo via-exec\nexit 3\n", "via-exec", "exec", "-i", shellID, "/bin/sh")
		assert.Contains(t, out, "via-exec")
	})

	t.Run("attach", func(t *testing.T) {
		// The shell reads the attached input; its output comes back
		// through the logging process.
		out := c.withInput(t, "echo via-attach\n", "via-attach", "attach", "-i", shellID)
		assert.Contains(t, out, "via-attach")
	})

	t.Run("port-forward", func(t *testing.T) {
		port := freePort(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pf := exec.CommandContext(ctx, c.bin, "--config", c.config, "port-forward", podID, fmt.Sprintf("%d:8080", port))
		var pfOut safeBuffer
		pf.Stdout, pf.Stderr = &pfOut, &pfOut
		require.NoError(t, pf.Start())
		defer func() {
			cancel()
			_ = pf.Wait()
		}()
		defer func() {
			if t.Failed() {
				t.Logf("crictl port-forward said: %s", pfOut.String())
			}
		}()
		var body string
		require.Eventually(t, func() bool {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
			return resp.StatusCode == http.StatusOK
		}, 30*time.Second, 200*time.Millisecond, "nothing answered through the port-forward")
		assert.Equal(t, "served-by-pod", strings.TrimSpace(body))
	})

	t.Run("stats and statsp", func(t *testing.T) {
		var cs struct {
			Stats []struct {
				Attributes struct {
					ID string `json:"id"`
				} `json:"attributes"`
				Memory struct {
					WorkingSetBytes struct {
						Value string `json:"value"`
					} `json:"workingSetBytes"`
				} `json:"memory"`
			} `json:"stats"`
		}
		require.NoError(t, json.Unmarshal([]byte(c.run("stats", "-o", "json")), &cs))
		ids := map[string]bool{}
		for _, s := range cs.Stats {
			ids[s.Attributes.ID] = true
			assert.NotEmpty(t, s.Memory.WorkingSetBytes.Value, "container %s has a working set", s.Attributes.ID)
		}
		assert.True(t, ids[shellID] && ids[webID], "crictl stats lists both containers: %v", ids)

		var ps struct {
			Stats []struct {
				Attributes struct {
					ID string `json:"id"`
				} `json:"attributes"`
			} `json:"stats"`
		}
		require.NoError(t, json.Unmarshal([]byte(c.run("statsp", "-o", "json")), &ps))
		require.Len(t, ps.Stats, 1)
		assert.Equal(t, podID, ps.Stats[0].Attributes.ID)
	})

	c.run("rmp", "-f", podID)
	d.assertNothingLeft(t)
}

// withInput runs crictl with input on its stdin until its output holds
// want (or it ends, or 30 s pass), and returns its output. stdin stays
// open until then: closing it early could end the session before the
// output is back. Input written before the session connects waits in
// the pipe, as a terminal's would.
func (c *crictl) withInput(t *testing.T, input, want string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--config", c.config}, args...)...)
	pr, pw := io.Pipe()
	var out safeBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pr, &out, &out
	require.NoError(t, cmd.Start())
	// Wait returns once stdin's copy ends too, which needs pw closed.
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	go func() { _, _ = io.WriteString(pw, input) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(out.String(), want) && ctx.Err() == nil {
		<-tick.C
	}
	_ = pw.Close()
	cancel()
	<-exited
	return out.String()
}

// safeBuffer collects a command's output for a failure message.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
