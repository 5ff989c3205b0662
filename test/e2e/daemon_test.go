//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/density"
	"github.com/wincri/wincri/pkg/faultpoint"
)

// daemon is one wincri process with its own root, state, socket, CNI
// network and debug port, driven over CRI like kubelet drives it.
type daemon struct {
	t *testing.T
	// dir holds everything of this daemon; it is short because unix
	// socket paths under it must stay below 108 bytes.
	dir, root, state, sock, logDir, confDir string
	// bridge is the Linux bridge of this daemon's CNI network.
	bridge    string
	debugAddr string
	logPath   string

	cmd  *exec.Cmd
	done chan struct{}
	// exit is the process's exit status, valid once done is closed.
	exit *os.ProcessState

	conn *grpc.ClientConn
	rt   runtime.RuntimeServiceClient
	img  runtime.ImageServiceClient
}

// newDaemon prepares a daemon's directories and configuration; Start
// runs it. Everything it starts is cleaned up when the test ends.
func newDaemon(t *testing.T) *daemon {
	t.Helper()
	requireSuite(t)
	dir, err := os.MkdirTemp("", "we2e-")
	require.NoError(t, err)
	var b [3]byte
	_, _ = rand.Read(b[:])
	d := &daemon{
		t:       t,
		dir:     dir,
		root:    filepath.Join(dir, "root"),
		state:   filepath.Join(dir, "state"),
		sock:    filepath.Join(dir, "cri.sock"),
		logDir:  filepath.Join(dir, "logs"),
		confDir: filepath.Join(dir, "cni"),
		bridge:  "we" + hex.EncodeToString(b[:]),
		logPath: filepath.Join(dir, "wincri.log"),
	}
	for _, p := range []string{d.logDir, d.confDir} {
		require.NoError(t, os.MkdirAll(p, 0o755))
	}
	d.debugAddr = freeLoopbackAddr(t)
	require.NoError(t, os.WriteFile(filepath.Join(d.confDir, "10-e2e.conflist"), []byte(d.conflist()), 0o644))
	cfg := fmt.Sprintf("[cni]\nconf_dir = %q\n\n[debug]\naddress = %q\n", d.confDir, d.debugAddr)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644))
	t.Cleanup(d.cleanup)
	return d
}

// conflist is a bridge network of this daemon alone. The bridge is no
// gateway and masquerades nothing, so that the tests add no host route,
// touch no forwarding setting and leave no iptables rule.
func (d *daemon) conflist() string {
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "%s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "%s",
      "isGateway": false,
      "ipMasq": false,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]], "dataDir": "%s"}
    },
    {"type": "loopback"}
  ]
}
`, d.bridge, d.bridge, filepath.Join(d.state, "e2e-ipam"))
}

// freeLoopbackAddr picks a free port on 127.0.0.1 for the debug server:
// wincri does not report the port it got for port 0.
func freeLoopbackAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// start runs wincri, with the fault point armed when fault is not "",
// and waits until it serves CRI.
func (d *daemon) start(fault string) {
	d.t.Helper()
	require.NoError(d.t, d.startProcess(fault))
	require.NoError(d.t, d.waitReady(90*time.Second), "wincri did not become ready; log:\n%s", d.logTail(60))
}

func (d *daemon) startProcess(fault string) error {
	if d.running() {
		return errors.New("wincri is already running")
	}
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "===== start %s fault=%q\n", time.Now().Format(time.RFC3339Nano), fault)
	cmd := exec.Command(suite.wincri,
		"--root", d.root, "--state", d.state, "--listen", "unix://"+d.sock,
		"--config", filepath.Join(d.dir, "config.toml"), "-v", "2")
	cmd.Env = append(os.Environ(), faultpoint.EnvVar+"="+fault)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	d.cmd, d.done, d.exit = cmd, make(chan struct{}), nil
	go func(done chan struct{}) {
		_ = cmd.Wait()
		d.exit = cmd.ProcessState
		close(done)
	}(d.done)
	conn, err := grpc.NewClient("unix://"+d.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	d.conn, d.rt, d.img = conn, runtime.NewRuntimeServiceClient(conn), runtime.NewImageServiceClient(conn)
	return nil
}

// waitReady waits until wincri answers Status, that is, has recovered.
func (d *daemon) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := d.rt.Status(ctx, &runtime.StatusRequest{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("wincri exited (%v) before it was ready", d.exit)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *daemon) running() bool {
	if d.done == nil {
		return false
	}
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// stop shuts wincri down gracefully; its containers keep running.
func (d *daemon) stop() {
	d.t.Helper()
	require.NoError(d.t, d.signal(syscall.SIGTERM, 30*time.Second))
}

// kill ends wincri with SIGKILL, as a crash would.
func (d *daemon) kill() {
	d.t.Helper()
	require.NoError(d.t, d.signal(syscall.SIGKILL, 30*time.Second))
}

func (d *daemon) signal(sig syscall.Signal, timeout time.Duration) error {
	if !d.running() {
		d.closeConn()
		return nil
	}
	_ = d.cmd.Process.Signal(sig)
	err := d.waitExit(timeout)
	if err != nil {
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	return err
}

// waitExit waits for the process to end by itself (a fault point).
func (d *daemon) waitExit(timeout time.Duration) error {
	select {
	case <-d.done:
		d.closeConn()
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("wincri still runs after %s", timeout)
	}
}

// killedBySIGKILL reports whether the process ended by SIGKILL.
func (d *daemon) killedBySIGKILL() bool {
	if d.exit == nil {
		return false
	}
	ws, ok := d.exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func (d *daemon) closeConn() {
	if d.conn != nil {
		_ = d.conn.Close()
		d.conn = nil
	}
}

// logTail returns the last n lines of wincri's log.
func (d *daemon) logTail(n int) string {
	b, _ := os.ReadFile(d.logPath)
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// ctx is a bounded context for one RPC.
func (d *daemon) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	d.t.Cleanup(cancel)
	return ctx
}

// cleanup removes everything the daemon started: its pods through wincri
// itself (a crashed daemon is started again for that), then whatever a
// failure left behind.
func (d *daemon) cleanup() {
	t := d.t
	if t.Failed() {
		t.Logf("wincri log (%s), last lines:\n%s", d.logPath, d.logTail(80))
	}
	if !d.running() && d.cmd != nil {
		if err := d.startProcess(""); err == nil {
			if err := d.waitReady(60 * time.Second); err != nil {
				t.Logf("cleanup: wincri did not restart: %v", err)
			}
		}
	}
	if d.running() {
		d.removeAllPods()
		if err := d.signal(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Logf("cleanup: stopping wincri: %v", err)
		}
	}
	d.forceCleanup()
	d.checkErrorLog()
}

func (d *daemon) removeAllPods() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pods, err := d.rt.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		d.t.Logf("cleanup: listing pods: %v", err)
		return
	}
	for _, p := range pods.GetItems() {
		if _, err := d.rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: p.GetId()}); err != nil {
			d.t.Logf("cleanup: stopping pod %s: %v", p.GetId(), err)
		}
		if _, err := d.rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: p.GetId()}); err != nil {
			d.t.Logf("cleanup: removing pod %s: %v", p.GetId(), err)
		}
	}
}

// forceCleanup removes what wincri could not: runc containers whose
// bundle is under the daemon's directory, its processes (shims, loggers),
// mounts, the bridge and the directory.
func (d *daemon) forceCleanup() {
	t := d.t
	for _, c := range runcContainers(t) {
		if strings.HasPrefix(c.Bundle, d.dir+"/") {
			t.Logf("cleanup: deleting leftover runc container %s", c.ID)
			_ = exec.Command("runc", "--root", runcRoot, "delete", "-f", c.ID).Run()
		}
	}
	for _, pid := range processesMentioning(d.dir) {
		t.Logf("cleanup: killing leftover process %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	mounts := mountsUnder(d.dir)
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
	_ = exec.Command("ip", "link", "delete", d.bridge).Run()
	if err := os.RemoveAll(d.dir); err != nil {
		t.Logf("cleanup: %v", err)
	}
}

// debugGoroutines counts wincri's goroutines through its pprof endpoint.
func (d *daemon) debugGoroutines() (int, error) {
	out, err := httpGet("http://" + d.debugAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	return density.GoroutineCount(out)
}
