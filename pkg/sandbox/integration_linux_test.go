package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/store"
)

// runcEnv is a Manager over the real runc shim, the real Linux platform
// (overlay root file systems, wincri's pause process, pod files and shm)
// and the real image service fed by hack/testimages. Its pods use the
// host's network, so the test needs no CNI set-up.
type runcEnv struct {
	m      *Manager
	ctx    context.Context
	image  string
	logDir string
}

func newRuncEnv(t *testing.T) *runcEnv {
	t.Helper()
	shimBin, _ := testutil.RuncShimEnv(t)
	log := testlog.New(t)
	ctx := log.Context()
	// Short: unix socket paths below it must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "wsr")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bin := filepath.Join(dir, "bin")
	pause := filepath.Join(bin, "wincri")
	testutil.GoBuild(t, pause, "github.com/wincri/wincri/cmd/wincri")
	loggerPath := filepath.Join(bin, "wincri-logger")
	testutil.GoBuild(t, loggerPath, "github.com/wincri/wincri/cmd/wincri-logger")
	reg := testutil.StartTestImages(t, bin)

	cfg := config.Default()
	cfg.Runtimes[cfg.DefaultRuntime] = func() config.Runtime {
		rt := cfg.Runtimes[cfg.DefaultRuntime]
		rt.Shim = shimBin
		return rt
	}()
	root, state := filepath.Join(dir, "root"), filepath.Join(dir, "state")
	require.NoError(t, os.MkdirAll(root, 0o700))
	db, err := store.Open(filepath.Join(root, "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	images, err := image.New(ctx, image.Options{Config: cfg.Image, Root: filepath.Join(root, "images"), Store: db})
	require.NoError(t, err)
	var shims shim.Manager
	m, err := New(Options{
		Config: cfg, Root: root, State: state, Store: db, Images: images, LoggerPath: loggerPath, Logger: log.Logger(),
		Network:  &fakeNetwork{active: map[string]bool{}},
		Platform: &linuxPlatform{dirs: dirs{root: root, state: state}, node: theNode(), pauseExe: pause},
		NewShims: func(onEvent func(shim.Event)) (shim.Manager, error) {
			s, err := shim.NewManager(shim.ManagerOpts{StateDir: filepath.Join(state, "shim"), OnEvent: onEvent, Logger: log.Logger()})
			shims = s
			return s, err
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = shims.Close() })
	require.NoError(t, m.Recover(ctx))
	ref := reg + "/" + testutil.TestImage
	_, err = images.Pull(ctx, ref, image.PullOptions{})
	require.NoError(t, err)
	return &runcEnv{m: m, ctx: ctx, image: ref, logDir: filepath.Join(dir, "logs")}
}

func (e *runcEnv) runPod(t *testing.T, name string) string {
	t.Helper()
	id, err := e.m.RunPod(e.ctx, &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "sandbox-test", Uid: name + "-uid"},
		Hostname:     name,
		LogDirectory: filepath.Join(e.logDir, name),
		Linux: &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE},
		}},
	}, "")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = e.m.StopPod(ctx, id)
		_ = e.m.RemovePod(ctx, id)
	})
	return id
}

func (e *runcEnv) container(t *testing.T, podID, name, script string, mod func(*runtime.ContainerConfig)) string {
	t.Helper()
	cfg := &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: name},
		Image:    &runtime.ImageSpec{Image: e.image},
		Command:  []string{"sh", "-c", script},
		LogPath:  name + ".log",
		Linux:    &runtime.LinuxContainerConfig{},
	}
	if mod != nil {
		mod(cfg)
	}
	id, err := e.m.CreateContainer(e.ctx, podID, cfg)
	require.NoError(t, err)
	require.NoError(t, e.m.StartContainer(e.ctx, id))
	return id
}

// freeLoopbackPort returns a TCP port nothing listens on at the moment.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// pipeConn is one end of a port-forward stream.
type pipeConn struct {
	io.Reader
	io.WriteCloser
}

// TestLifecycleWithRuncShim drives pods and containers through the real
// runc shim: the pod's files and shm, overlay root file systems, exec,
// attach, port-forward, resource updates, log reopening, stats, and the
// cleanup of everything at removal.
func TestLifecycleWithRuncShim(t *testing.T) {
	e := newRuncEnv(t)
	podID := e.runPod(t, "runc")
	port := freeLoopbackPort(t)
	web := e.container(t, podID, "web", fmt.Sprintf("echo started; hostname; exec nc -ll -p %d -e echo hello-from-pod", port), nil)

	t.Run("the pod's files and the container's rootfs", func(t *testing.T) {
		var out bytes.Buffer
		code, err := e.m.Exec(e.ctx, web, []string{"sh", "-c", "cat /etc/hostname; test -d /dev/shm && echo shm; touch /probe && echo writable"}, nil, &out, io.Discard, false, nil)
		require.NoError(t, err)
		assert.Zero(t, code)
		assert.Equal(t, "runc\nshm\nwritable\n", out.String())
	})

	t.Run("exec with stdin, a terminal and resizes", func(t *testing.T) {
		resize := make(chan TerminalSize, 1)
		resize <- TerminalSize{Width: 100, Height: 30}
		var out bytes.Buffer
		// Stdin stays open, as a client's does, until the process is done.
		inR, inW := io.Pipe()
		defer inW.Close()
		go func() { _, _ = inW.Write([]byte("x\n")) }()
		code, err := e.m.Exec(e.ctx, web, []string{"sh", "-c", "read line; echo got-$line; exit 3"}, inR, &out, nil, true, resize)
		require.NoError(t, err)
		assert.Equal(t, int32(3), code)
		assert.Contains(t, out.String(), "got-x")
	})

	t.Run("exec sync", func(t *testing.T) {
		res, err := e.m.ExecSync(e.ctx, web, []string{"sh", "-c", "echo out; echo err >&2; exit 4"}, 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, ExecResult{Stdout: []byte("out\n"), Stderr: []byte("err\n"), ExitCode: 4}, res)

		big, err := e.m.ExecSync(e.ctx, web, []string{"head", "-c", fmt.Sprint(MaxExecOutput + 1), "/dev/zero"}, 30*time.Second)
		assert.True(t, errdefs.IsResourceExhausted(err), "output over the limit: %v (got %d bytes, code %d, stderr %q)", err, len(big.Stdout), big.ExitCode, big.Stderr)
	})

	t.Run("port-forward", func(t *testing.T) {
		require.Eventually(t, func() bool {
			c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		}, 30*time.Second, 100*time.Millisecond, "the container's server did not listen")
		inR, inW := io.Pipe()
		var out bytes.Buffer
		err := e.m.PortForward(e.ctx, podID, int32(port), pipeConn{Reader: inR, WriteCloser: nopWriteCloser{&out}})
		_ = inW.Close()
		require.NoError(t, err)
		assert.Contains(t, out.String(), "hello-from-pod")
	})

	t.Run("attach to a container's stdin", func(t *testing.T) {
		id := e.container(t, podID, "cat", "cat", func(c *runtime.ContainerConfig) { c.Stdin = true })
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
		defer cancel()
		outR, outW := io.Pipe()
		inR, inW := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- e.m.Attach(ctx, id, inR, outW, io.Discard, nil) }()
		_, err := inW.Write([]byte("ping\n"))
		require.NoError(t, err)
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(outR, buf, 5)
		require.NoError(t, err)
		assert.Equal(t, "ping\n", string(buf[:n]))
		cancel()
		<-done
	})

	t.Run("an image volume and the target's pid namespace", func(t *testing.T) {
		id := e.container(t, podID, "sidecar", "sleep 600", func(c *runtime.ContainerConfig) {
			c.Mounts = []*runtime.Mount{{ContainerPath: "/img", Image: &runtime.ImageSpec{Image: e.image}, Readonly: true}}
			c.Linux.SecurityContext = &runtime.LinuxContainerSecurityContext{NamespaceOptions: &runtime.NamespaceOption{
				Pid: runtime.NamespaceMode_TARGET, TargetId: web,
			}}
		})
		res, err := e.m.ExecSync(e.ctx, id, []string{"sh", "-c", "test -x /img/bin/sh && echo image; touch /img/x 2>/dev/null || echo read-only; ps -o args | grep -c '[n]c -ll'"}, 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, "image\nread-only\n1\n", string(res.Stdout), "stderr: %s", res.Stderr)
	})

	t.Run("resources, logs and stats", func(t *testing.T) {
		require.NoError(t, e.m.UpdateContainerResources(e.ctx, web, &runtime.ContainerResources{Linux: &runtime.LinuxContainerResources{CpuShares: 512}}, nil))
		require.NoError(t, e.m.ReopenContainerLog(e.ctx, web))
		cache := NewStatsCache(time.Hour)
		stats := e.m.ContainerStats(e.ctx, cache, ContainerFilter{ID: web}, StatsOptions{})
		require.Len(t, stats, 1)
		require.NotNil(t, stats[0].Sample.Memory, "%+v", stats[0])
		require.NotNil(t, stats[0].Sample.CPU, "%+v", stats[0])
		assert.NotEmpty(t, e.m.WritableLayers(cache).Dir)
		inUse, err := e.m.ImagesInUse(e.ctx, e.m.ListContainers(ContainerFilter{ID: web})[0].ImageID)
		require.NoError(t, err)
		assert.Contains(t, inUse, web)
	})

	t.Run("stop and remove leave nothing mounted", func(t *testing.T) {
		require.NoError(t, e.m.StopPod(e.ctx, podID))
		require.NoError(t, e.m.RemovePod(e.ctx, podID))
		mounts, err := os.ReadFile("/proc/self/mountinfo")
		require.NoError(t, err)
		assert.NotContains(t, string(mounts), podID, "a mount of the pod outlived it")
		assert.NotContains(t, string(mounts), web, "a mount of the container outlived it")
	})
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
