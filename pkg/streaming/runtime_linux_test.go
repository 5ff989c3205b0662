package streaming_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/network"
	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/store"
	"github.com/wincri/wincri/pkg/streaming"
)

// env is a real runtime: the sandbox manager on containerd-shim-runc-v2
// and runc, a CNI bridge network of its own, images from a loopback
// registry, and the streaming server in front of it.
type env struct {
	m      *sandbox.Manager
	srv    *streaming.Server
	reg    string
	logDir string
	ctx    context.Context
}

func requireRealRuntime(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if home, err := os.UserHomeDir(); err == nil {
		t.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Join(home, "go", "bin"))
	}
	testutil.RequireBinary(t, "runc")
	testutil.RequireBinary(t, "containerd-shim-runc-v2")
	for _, p := range []string{"/bin/busybox", "/opt/cni/bin/bridge", "/opt/cni/bin/host-local", "/opt/cni/bin/loopback"} {
		if _, err := os.Stat(p); err != nil {
			testutil.RequireBinary(t, p)
		}
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	requireRealRuntime(t)
	logger := testlog.New(t).Logger()
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logger))
	t.Cleanup(cancel)

	// Short: unix socket paths below it must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "wst")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bin := filepath.Join(dir, "bin")
	loggerPath := filepath.Join(bin, "wincri-logger")
	testutil.GoBuild(t, loggerPath, "github.com/wincri/wincri/cmd/wincri-logger")
	reg := testutil.StartTestImages(t, bin)

	root, state := filepath.Join(dir, "root"), filepath.Join(dir, "state")
	cniDir := filepath.Join(dir, "cni")
	require.NoError(t, os.MkdirAll(cniDir, 0o755))
	bridge := fmt.Sprintf("wst%d", os.Getpid()%100000)
	// No gateway and no masquerade: the test adds no route and no
	// iptables rule; the loopback plugin brings lo up for port-forward.
	conflist := fmt.Sprintf(`{"cniVersion":"1.0.0","name":%q,"plugins":[
 {"type":"bridge","bridge":%q,"isGateway":false,"ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.89.0.0/16"}]],"dataDir":%q}},
 {"type":"loopback"}]}`, bridge, bridge, filepath.Join(state, "ipam"))
	require.NoError(t, os.WriteFile(filepath.Join(cniDir, "10-wst.conflist"), []byte(conflist), 0o644))
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", bridge).Run() })

	cfg := config.Default()
	cfg.CNI.ConfDir = cniDir
	require.NoError(t, os.MkdirAll(root, 0o700))
	db, err := store.Open(filepath.Join(root, "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	nw, err := network.New(cfg.CNI, filepath.Join(state, "network"))
	require.NoError(t, err)
	images, err := image.New(ctx, image.Options{Config: cfg.Image, Root: filepath.Join(root, "images"), Store: db})
	require.NoError(t, err)
	var shims shim.Manager
	m, err := sandbox.New(sandbox.Options{
		Config: cfg, Root: root, State: state, Store: db, Network: nw, Images: images, LoggerPath: loggerPath, Logger: logger,
		NewShims: func(onEvent func(shim.Event)) (shim.Manager, error) {
			s, err := shim.NewManager(shim.ManagerOpts{StateDir: filepath.Join(state, "shim"), OnEvent: onEvent, Logger: logger})
			shims = s
			return s, err
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = shims.Close() })
	require.NoError(t, m.Recover(ctx))
	_, err = images.Pull(ctx, reg+"/"+testutil.TestImage, image.PullOptions{})
	require.NoError(t, err)

	srv, err := streaming.New(ctx, config.Streaming{Address: "127.0.0.1"}, m)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() { _ = srv.Close(); <-served })
	return &env{m: m, srv: srv, reg: reg, logDir: filepath.Join(dir, "logs"), ctx: ctx}
}

func (e *env) runPod(t *testing.T, name string) string {
	t.Helper()
	id, err := e.m.RunPod(e.ctx, &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "streaming-test", Uid: name + "-uid"},
		LogDirectory: filepath.Join(e.logDir, name),
		Linux:        &runtime.LinuxPodSandboxConfig{},
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

// container creates and starts a busybox container running script.
func (e *env) container(t *testing.T, podID, name, script string, mod func(*runtime.ContainerConfig)) string {
	t.Helper()
	cfg := &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: name},
		Image:    &runtime.ImageSpec{Image: e.reg + "/" + testutil.TestImage},
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

// readUntil reads r until the text read so far contains want.
func readUntil(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	var got strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(r)
		buf := make([]byte, 4096)
		for !strings.Contains(got.String(), want) {
			n, err := br.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %q; read %q", want, got.String())
	}
	require.Contains(t, got.String(), want)
	return got.String()
}

func TestStreamingWithRuncShim(t *testing.T) {
	e := newEnv(t)
	events, cancelEvents := e.m.Subscribe()
	defer cancelEvents()
	var (
		evMu sync.Mutex
		seen []sandbox.Event
	)
	go func() {
		for ev := range events {
			evMu.Lock()
			seen = append(seen, ev)
			evMu.Unlock()
		}
	}()

	podID := e.runPod(t, "streams")
	shellID := e.container(t, podID, "shell", "sleep 100000", nil)

	t.Run("exec without a terminal, stdin and exit code", func(t *testing.T) {
		resp, err := e.srv.GetExec(&runtime.ExecRequest{ContainerId: shellID, Cmd: []string{"sh", "-c", "cat; echo to-stderr >&2; exit 7"}, Stdin: true, Stdout: true, Stderr: true})
		require.NoError(t, err)
		s := openSession(t, resp.Url, true, true, true, false)
		_, err = io.WriteString(s.stdin, "hello through stdin\n")
		require.NoError(t, err)
		require.NoError(t, s.stdin.Close())
		var stderr strings.Builder
		errDone := make(chan struct{})
		go func() { _, _ = io.Copy(&stderr, s.stderr); close(errDone) }()
		out, err := io.ReadAll(s.stdout)
		require.NoError(t, err)
		<-errDone
		code, msg := s.wait(t)
		assert.Equal(t, "hello through stdin\n", string(out))
		assert.Equal(t, "to-stderr\n", stderr.String())
		assert.Equal(t, 7, code, msg)
	})

	t.Run("exec with a terminal, stdin and resize", func(t *testing.T) {
		resp, err := e.srv.GetExec(&runtime.ExecRequest{ContainerId: shellID, Cmd: []string{"sh"}, Stdin: true, Stdout: true, Tty: true})
		require.NoError(t, err)
		s := openSession(t, resp.Url, true, true, false, true)
		s.sendResize(t, 123, 45)
		_, err = io.WriteString(s.stdin, "tty; echo product=$((6*7))\n")
		require.NoError(t, err)
		out := readUntil(t, s.stdout, "product=42")
		assert.Contains(t, out, "/dev/pts/", "the process has a terminal")
		_, err = io.WriteString(s.stdin, "stty size\n")
		require.NoError(t, err)
		readUntil(t, s.stdout, "45 123")
		_, err = io.WriteString(s.stdin, "exit 3\n")
		require.NoError(t, err)
		go func() { _, _ = io.Copy(io.Discard, s.stdout) }()
		code, msg := s.wait(t)
		assert.Equal(t, 3, code, msg)
	})

	t.Run("exec whose client goes away is killed", func(t *testing.T) {
		resp, err := e.srv.GetExec(&runtime.ExecRequest{ContainerId: shellID, Cmd: []string{"yes", "client-gone-marker"}, Stdout: true, Stderr: true})
		require.NoError(t, err)
		proxy, through := newCutProxy(t, resp.Url)
		s := openSession(t, through, false, true, true, false)
		readUntil(t, s.stdout, "client-gone-marker")
		// The client stops reading, then its connection drops.
		proxy.cut()
		require.Eventually(t, func() bool {
			res, err := e.m.ExecSync(e.ctx, shellID, []string{"ps"}, 10*time.Second)
			require.NoError(t, err)
			return !strings.Contains(string(res.Stdout), "client-gone-marker")
		}, 20*time.Second, 200*time.Millisecond, "the exec process outlived its client's connection")
	})

	t.Run("port-forward to a closed port reports an error", func(t *testing.T) {
		resp, err := e.srv.GetPortForward(&runtime.PortForwardRequest{PodSandboxId: podID, Port: []int32{9}})
		require.NoError(t, err)
		data, errStream := forward(t, resp.Url, 9)
		msg, _ := io.ReadAll(errStream)
		_ = data.Close()
		assert.Contains(t, string(msg), "connection refused")
	})

	t.Run("attach to a container's stdin and output", func(t *testing.T) {
		id := e.container(t, podID, "reader", `while read l; do echo "got: $l"; done; echo "stdin ended"`, func(c *runtime.ContainerConfig) {
			c.Stdin = true
		})
		for _, line := range []string{"first", "second"} {
			resp, err := e.srv.GetAttach(&runtime.AttachRequest{ContainerId: id, Stdin: true, Stdout: true, Stderr: true})
			require.NoError(t, err)
			s := openSession(t, resp.Url, true, true, true, false)
			go func() { _, _ = io.Copy(io.Discard, s.stderr) }()
			_, err = io.WriteString(s.stdin, line+"\n")
			require.NoError(t, err)
			readUntil(t, s.stdout, "got: "+line)
			// Detaching ends the session, not the container's stdin.
			require.NoError(t, s.stdin.Close())
			code, msg := s.wait(t)
			assert.Zero(t, code, msg)
		}
		st, err := e.m.ContainerStatus(id)
		require.NoError(t, err)
		assert.Equal(t, sandbox.ContainerRunning, st.State, "stdin stays open between attaches")
	})

	t.Run("attach to a stdin_once container closes its stdin", func(t *testing.T) {
		id := e.container(t, podID, "once", `cat; echo "stdin ended"`, func(c *runtime.ContainerConfig) {
			c.Stdin, c.StdinOnce = true, true
		})
		resp, err := e.srv.GetAttach(&runtime.AttachRequest{ContainerId: id, Stdin: true, Stdout: true})
		require.NoError(t, err)
		s := openSession(t, resp.Url, true, true, false, false)
		_, err = io.WriteString(s.stdin, "only line\n")
		require.NoError(t, err)
		readUntil(t, s.stdout, "only line")
		require.NoError(t, s.stdin.Close())
		s.wait(t)
		require.Eventually(t, func() bool {
			st, err := e.m.ContainerStatus(id)
			return err == nil && st.State == sandbox.ContainerExited
		}, 20*time.Second, 100*time.Millisecond, "the container saw the end of its stdin")
	})

	t.Run("port-forward to a web server in the pod", func(t *testing.T) {
		e.container(t, podID, "web", "mkdir -p /www && echo hello-from-the-pod > /www/index.html && exec httpd -f -p 8080 -h /www", nil)
		var body string
		require.Eventually(t, func() bool {
			resp, err := e.srv.GetPortForward(&runtime.PortForwardRequest{PodSandboxId: podID, Port: []int32{8080}})
			require.NoError(t, err)
			data, errStream := forward(t, resp.Url, 8080)
			if _, err := io.WriteString(data, httpGet("/index.html")); err != nil {
				return false
			}
			b, _ := io.ReadAll(data)
			msg, _ := io.ReadAll(errStream)
			body = string(b) + string(msg)
			return strings.Contains(body, "hello-from-the-pod")
		}, 30*time.Second, 500*time.Millisecond, "last answer: %q", body)
		assert.Contains(t, body, "200 OK")
	})

	t.Run("stats follow CPU and memory use", func(t *testing.T) {
		burnID := e.container(t, podID, "burn", `x=$(head -c 50000000 /dev/zero | tr '\0' a); while :; do :; done`, nil)
		cache := sandbox.NewStatsCache(time.Second)
		cctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		go cache.Run(cctx)
		burn := func() sandbox.ContainerStats {
			list := e.m.ContainerStats(e.ctx, cache, sandbox.ContainerFilter{ID: burnID}, sandbox.StatsOptions{})
			require.Len(t, list, 1)
			return list[0]
		}
		first := burn()
		require.NotNil(t, first.CPU)
		require.Eventually(t, func() bool {
			s := burn()
			return s.Memory != nil && s.Memory.WorkingSet > 45<<20 && s.CPU.UsageNanoCores > 3e8 && s.WritableLayer != nil
		}, 30*time.Second, 500*time.Millisecond, "a busy container holding 50 MB")
		last := burn()
		assert.Greater(t, last.CPU.UsageCoreNanoSeconds, first.CPU.UsageCoreNanoSeconds)
		assert.NotNil(t, last.Process)

		pods := e.m.PodStats(e.ctx, cache, sandbox.PodFilter{ID: podID}, sandbox.StatsOptions{})
		require.Len(t, pods, 1)
		p := pods[0]
		require.NotNil(t, p.Memory)
		// Compare within one sample: memory moves between two calls.
		var sum uint64
		for _, c := range p.Containers {
			if c.Memory != nil {
				sum += c.Memory.WorkingSet
			}
		}
		assert.GreaterOrEqual(t, p.Memory.WorkingSet, sum, "the pod sums its containers")
		require.NotEmpty(t, p.Network)
		assert.Equal(t, "eth0", p.Network[0].Name)
		assert.NotZero(t, p.Network[0].RxBytes, "port-forward and CNI traffic went through eth0")
		assert.GreaterOrEqual(t, len(p.Containers), 3)
	})

	t.Run("events of a lifecycle arrive in order", func(t *testing.T) {
		id := e.container(t, podID, "short", "exit 0", nil)
		require.Eventually(t, func() bool {
			st, err := e.m.ContainerStatus(id)
			return err == nil && st.State == sandbox.ContainerExited
		}, 20*time.Second, 50*time.Millisecond)
		require.NoError(t, e.m.RemoveContainer(e.ctx, id))
		var types []sandbox.EventType
		require.Eventually(t, func() bool {
			evMu.Lock()
			defer evMu.Unlock()
			types = types[:0]
			for _, ev := range seen {
				if ev.ContainerID == id {
					types = append(types, ev.Type)
				}
			}
			return len(types) >= 4
		}, 10*time.Second, 50*time.Millisecond)
		assert.Equal(t, []sandbox.EventType{sandbox.EventCreated, sandbox.EventStarted, sandbox.EventStopped, sandbox.EventDeleted}, types)
	})
}

func httpGet(path string) string {
	return fmt.Sprintf("GET %s HTTP/1.0\r\nHost: pod\r\n\r\n", path)
}
