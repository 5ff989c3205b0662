//go:build linux

package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKubectlStreaming drives every streaming path as production does:
// kubectl -> API server -> kubelet (authenticated) -> wincri's streaming
// server.
func TestKubectlStreaming(t *testing.T) {
	n := sharedCluster(t)
	ns := n.namespace(t)
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]
  - name: reader
    image: %s
    stdin: true
    command: ["sh", "-c", "while read l; do echo got:$l; done"]
  - name: web
    image: %s
`, busyboxImage, busyboxImage, nginxImage)
	ns.waitReady("ticker")

	t.Run("logs", func(t *testing.T) {
		out, err := ns.kubectl("logs", "ticker", "-c", "app")
		require.NoError(t, err)
		assert.Contains(t, out, "tick 0")
	})
	t.Run("logs -f", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		out, _ := ns.kubectlCtx(ctx, "logs", "-f", "--tail=1", "ticker", "-c", "app")
		assert.GreaterOrEqual(t, strings.Count(out, "tick"), 2, "follow printed %q in 4s", out)
	})
	t.Run("exec", func(t *testing.T) {
		cmd := n.kubectlCmd(context.Background(), "-n", ns.name, "exec", "ticker", "-c", "app", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 3, exit.ExitCode())
		assert.Equal(t, "out\n", stdout.String())
		// kubectl adds its own line about the exit code.
		assert.Equal(t, "err\ncommand terminated with exit code 3\n", stderr.String())
	})
	t.Run("exec -i", func(t *testing.T) {
		out, err := n.kubectl(context.Background(), "hello stdin\n", "-n", ns.name, "exec", "-i", "ticker", "-c", "app", "--", "cat")
		require.NoError(t, err)
		assert.Equal(t, "hello stdin", out)
	})
	t.Run("exec -it with a resize", func(t *testing.T) {
		// script gives kubectl a terminal of 45 rows and 123 columns; the
		// container's terminal must report the same size.
		kubectl := fmt.Sprintf("stty rows 45 cols 123; %s --kubeconfig %s -n %s exec -it ticker -c app -- sh -c 'tty; stty size'",
			filepath.Join(suiteBins.kube, "kubectl"), n.admin, ns.name)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := n.ns.command(ctx, "script", "-qec", kubectl, "/dev/null").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "/dev/pts/")
		assert.Contains(t, string(out), "45 123")
	})
	t.Run("attach", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := n.kubectlCmd(ctx, "-n", ns.name, "attach", "-i", "ticker", "-c", "reader")
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		lines := bufio.NewScanner(stdout)
		// kubectl may attach after the first line is sent: send until one
		// comes back.
		got := make(chan string, 1)
		go func() {
			for lines.Scan() {
				if strings.HasPrefix(lines.Text(), "got:") {
					got <- lines.Text()
					return
				}
			}
		}()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case l := <-got:
				assert.Equal(t, "got:ping", l)
				return
			case <-tick.C:
				_, _ = io.WriteString(stdin, "ping\n")
			case <-ctx.Done():
				t.Fatal("attach: no echo of what was sent to the container's stdin")
			}
		}
	})
	t.Run("port-forward", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := n.kubectlCmd(ctx, "-n", ns.name, "port-forward", "pod/ticker", "18080:80")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		client := n.ns.httpClient(10 * time.Second)
		var body string
		err := waitFor(30*time.Second, "a response through port-forward", func() error {
			resp, err := client.Get("http://127.0.0.1:18080/")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			body = string(b)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
			return err
		})
		require.NoError(t, err, "kubectl port-forward said: %s", out.String())
		assert.NotEmpty(t, body)
	})
	t.Run("cp both ways", func(t *testing.T) {
		local := filepath.Join(t.TempDir(), "in.txt")
		data := strings.Repeat("wincri copies files\n", 1000)
		require.NoError(t, os.WriteFile(local, []byte(data), 0o644))
		_, err := ns.kubectl("cp", "-c", "app", local, "ticker:/tmp/copied.txt")
		require.NoError(t, err)
		back := filepath.Join(t.TempDir(), "out.txt")
		_, err = ns.kubectl("cp", "-c", "app", "ticker:/tmp/copied.txt", back)
		require.NoError(t, err)
		got, err := os.ReadFile(back)
		require.NoError(t, err)
		assert.Equal(t, data, string(got))
	})
}
