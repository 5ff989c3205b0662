//go:build linux

package wine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// daemon is a wincri.exe serving under Wine.
type daemon struct {
	e    *env
	name string // pipe name and directory under C:\
	cmd  *exec.Cmd
	// logPath is the Linux path of its --log-file.
	logPath string
}

// daemonDir is the Linux path of the daemon's data directory.
func (e *env) daemonDir(name string) string { return e.driveC("wincri-" + name) }

// startDaemon starts wincri.exe with the release's config.toml, a root
// and state under C:\wincri-NAME and the pipe \\.\pipe\wincri-NAME, and
// waits until it serves.
func (e *env) startDaemon(t *testing.T, name string, extraArgs ...string) *daemon {
	t.Helper()
	dir := e.daemonDir(name)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	cfg := filepath.Join(dir, "config.toml")
	if _, err := os.Stat(cfg); os.IsNotExist(err) {
		require.NoError(t, copyFile(filepath.Join(e.bin, "config.toml"), cfg))
	}
	d := &daemon{e: e, name: name, logPath: filepath.Join(dir, "wincri.log")}
	_ = os.Remove(d.logPath)
	win := `C:\wincri-` + name
	args := append([]string{e.exe("wincri.exe"),
		"--config", win + `\config.toml`, "--root", win + `\root`, "--state", win + `\state`,
		"--listen", "npipe:////./pipe/wincri-" + name, "--log-file", win + `\wincri.log`, "-v", "2"}, extraArgs...)
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	require.NoError(t, err)
	defer out.Close()
	d.cmd = exec.Command("wine", args...)
	d.cmd.Env = append(os.Environ(), e.environ()...)
	d.cmd.Stdout, d.cmd.Stderr = out, out
	require.NoError(t, d.cmd.Start())
	t.Cleanup(d.kill)
	d.waitLog(t, `"Ready"`, 60*time.Second)
	d.prime(t)
	return d
}

// pipe is the daemon's CRI endpoint.
func (d *daemon) pipe() string { return `\\.\pipe\wincri-` + d.name }

// prime makes the one connection that Wine, unlike Windows, gives to
// go-winio's placeholder pipe instance: go-winio creates its first
// instance without read or write access, which on Windows refuses
// clients until the next instance listens, while Wine connects the first
// client to it and nothing ever answers. Later clients reach listening
// instances.
func (d *daemon) prime(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := d.e.run(ctx, d.e.probe, "prime", d.pipe())
	require.NoError(t, err)
}

// waitLog waits until the daemon's log has a line containing s.
func (d *daemon) waitLog(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		data, _ := os.ReadFile(d.logPath)
		if strings.Contains(string(data), s) {
			return
		}
		if (d.cmd != nil && d.cmd.ProcessState != nil) || time.Now().After(deadline) {
			stdout, _ := os.ReadFile(filepath.Join(filepath.Dir(d.logPath), "stdout.log"))
			t.Fatalf("wincri.exe did not log %s within %s\nlog:\n%s\nstdout:\n%s", s, timeout, data, stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// log returns the daemon's log so far.
func (d *daemon) log(t *testing.T) string {
	data, err := os.ReadFile(d.logPath)
	require.NoError(t, err)
	return string(data)
}

// kill ends the daemon as a crash would, and waits for it.
func (d *daemon) kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	_ = d.cmd.Wait()
	d.cmd = nil
	// The Windows process is gone once wineserver has reaped it; give
	// it the moment it needs, so the next start finds the root unlocked.
	time.Sleep(500 * time.Millisecond)
}

// crictl runs the release's crictl.exe against the daemon.
func (d *daemon) crictl(ctx context.Context, args ...string) (string, error) {
	ep := "npipe:////./pipe/wincri-" + d.name
	all := append([]string{"--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"}, args...)
	out, err := d.e.run(ctx, d.e.exe("crictl.exe"), all...)
	return dropCrictlConfigWarning(out), err
}

// dropCrictlConfigWarning removes crictl's warning about its missing
// config file, which every command without one prints.
func dropCrictlConfigWarning(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "crictl.yaml") && strings.Contains(l, "does not exist") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func (d *daemon) String() string { return fmt.Sprintf("wincri.exe on %s", d.pipe()) }
