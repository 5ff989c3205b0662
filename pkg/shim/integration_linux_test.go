package shim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/shim"
)

const runcShim = testutil.RuncShim

// shortTempDir returns a directory with a short path: runc-v2's socket
// paths under it must stay within 107 bytes, which t.TempDir() (named
// after the test) does not guarantee.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wsh")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// writeBundle creates <root>/<id> with a busybox rootfs and a minimal
// config.json running args.
func writeBundle(t testing.TB, root, busybox, id string, annotations map[string]string, args ...string) string {
	t.Helper()
	bundle := filepath.Join(root, id)
	bin := filepath.Join(bundle, "rootfs", "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	data, err := os.ReadFile(busybox)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bin, "busybox"), data, 0o755))
	for _, applet := range []string{"sh", "sleep", "echo", "cat"} {
		require.NoError(t, os.Link(filepath.Join(bin, "busybox"), filepath.Join(bin, applet)))
	}
	spec := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: id,
		Process: &specs.Process{
			Args: args,
			Cwd:  "/",
			Env:  []string{"PATH=/bin"},
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755", "size=1024k"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace},
			},
		},
		Annotations: annotations,
	}
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644))
	return bundle
}

// eventLog collects events from OnEvent.
type eventLog struct {
	mu     sync.Mutex
	events []shim.Event
}

func (l *eventLog) add(ev shim.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// waitFor returns the first event matching match, waiting up to 10s.
func (l *eventLog) waitFor(t *testing.T, match func(shim.Event) bool) shim.Event {
	t.Helper()
	var found shim.Event
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, ev := range l.events {
			if match(ev) {
				found = ev
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond)
	return found
}

// fifo creates a FIFO and opens it read-write, as a CRI runtime does for
// a process's stdout, so the shim's open for writing never blocks.
func fifo(t *testing.T, path string) *os.File {
	t.Helper()
	require.NoError(t, unix.Mkfifo(path, 0o600))
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// readUntil reads f until the text read contains want.
func readUntil(t *testing.T, f *os.File, want string) string {
	t.Helper()
	require.NoError(t, f.SetReadDeadline(time.Now().Add(10*time.Second)))
	var got strings.Builder
	buf := make([]byte, 256)
	for !strings.Contains(got.String(), want) {
		n, err := f.Read(buf)
		got.Write(buf[:n])
		if err != nil && !errors.Is(err, io.EOF) {
			require.NoError(t, err, "read so far: %q", got.String())
		}
	}
	return got.String()
}

func newDriver(t testing.TB, ns string, events *eventLog) (*shim.Driver, string) {
	t.Helper()
	state := shortTempDir(t)
	d, err := shim.NewManager(shim.ManagerOpts{
		StateDir:  filepath.Join(state, "state"),
		Namespace: ns,
		OnEvent:   events.add,
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join("/run/containerd/runc", ns)) })
	return d, state
}

// cleanupTask makes sure a task's runc container and shim are gone
// whatever the test did: the delete subcommand force-deletes the
// container and unmounts its rootfs.
func cleanupTask(t *testing.T, d *shim.Driver, shimBin, bundle, id string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = d.Cleanup(ctx, shimBin, bundle, id)
	})
}

// killShimOnCleanup kills a shim a failed test left running. It checks
// the process is still that shim, since its pid may have been reused.
func killShimOnCleanup(t testing.TB, pid int) {
	t.Cleanup(func() {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), runcShim) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func TestRuncShimPodLifecycle(t *testing.T) {
	shimBin, busybox := testutil.RuncShimEnv(t)
	ctx := testlog.New(t).Context()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	events := &eventLog{}
	d, root := newDriver(t, "wincri-test-pod", events)
	const podID, ctrID = "pod1", "ctr1"
	podBundle := writeBundle(t, root, busybox, podID, map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeSandbox,
		shim.AnnotationSandboxID:     podID,
	}, "/bin/busybox", "sleep", "1000")
	ctrBundle := writeBundle(t, root, busybox, ctrID, map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeContainer,
		shim.AnnotationSandboxID:     podID,
	}, "/bin/busybox", "sleep", "1000")
	cleanupTask(t, d, shimBin, ctrBundle, ctrID)
	cleanupTask(t, d, shimBin, podBundle, podID)

	// The pod's shim.
	podShim, err := d.Launch(ctx, shim.LaunchOpts{ID: podID, PodID: podID, Binary: shimBin, Bundle: podBundle})
	require.NoError(t, err)
	defer podShim.Close()
	killShimOnCleanup(t, podShim.Pid())
	assert.Equal(t, 3, podShim.Address().Version, "runc-v2 speaks task API v3")
	assert.Equal(t, podID, podShim.Address().ShimID)
	assert.Positive(t, podShim.Pid())
	fi, err := os.Stat(filepath.Join(podBundle, "log"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeNamedPipe, fi.Mode().Type(), "the shim log is a FIFO")

	podPid, err := podShim.Create(ctx, shim.CreateOpts{ID: podID, Bundle: podBundle})
	require.NoError(t, err)
	assert.Positive(t, podPid)
	_, err = podShim.Start(ctx, podID, "")
	require.NoError(t, err)
	st, err := podShim.State(ctx, podID, "")
	require.NoError(t, err)
	assert.Equal(t, shim.StatusRunning, st.Status)
	events.waitFor(t, func(ev shim.Event) bool { return ev.Topic == shim.TopicTaskStart && ev.ContainerID == podID })

	// A container of the pod is served by the pod's shim.
	ctrShim, err := d.Launch(ctx, shim.LaunchOpts{ID: ctrID, PodID: podID, Binary: shimBin, Bundle: ctrBundle})
	require.NoError(t, err)
	defer ctrShim.Close()
	assert.Equal(t, podShim.Address().Address, ctrShim.Address().Address)
	assert.Equal(t, podShim.Pid(), ctrShim.Pid())

	_, err = ctrShim.Create(ctx, shim.CreateOpts{ID: ctrID, Bundle: ctrBundle})
	require.NoError(t, err)
	_, err = ctrShim.Start(ctx, ctrID, "")
	require.NoError(t, err)
	pids, err := ctrShim.Pids(ctx, ctrID)
	require.NoError(t, err)
	assert.Len(t, pids, 1)

	// Exec with its output in a FIFO.
	// runc-v2 opens stdout and stderr together: both or neither.
	stdout := fifo(t, filepath.Join(root, "exec1.out"))
	stderr := fifo(t, filepath.Join(root, "exec1.err"))
	spec, err := shim.ProcessSpec(&specs.Process{Args: []string{"/bin/busybox", "echo", "hello from exec"}, Cwd: "/", Env: []string{"PATH=/bin"}})
	require.NoError(t, err)
	require.NoError(t, ctrShim.Exec(ctx, shim.ExecOpts{ID: ctrID, ExecID: "exec1", Spec: spec, Stdout: stdout.Name(), Stderr: stderr.Name()}))
	_, err = ctrShim.Start(ctx, ctrID, "exec1")
	require.NoError(t, err)
	assert.Contains(t, readUntil(t, stdout, "hello from exec"), "hello from exec")
	exit, err := ctrShim.Wait(ctx, ctrID, "exec1")
	require.NoError(t, err)
	assert.Zero(t, exit.ExitStatus)
	_, err = ctrShim.Delete(ctx, ctrID, "exec1")
	require.NoError(t, err)

	// An exec's exit code reaches OnEvent.
	spec, err = shim.ProcessSpec(&specs.Process{Args: []string{"/bin/busybox", "sh", "-c", "exit 7"}, Cwd: "/"})
	require.NoError(t, err)
	require.NoError(t, ctrShim.Exec(ctx, shim.ExecOpts{ID: ctrID, ExecID: "exec2", Spec: spec}))
	_, err = ctrShim.Start(ctx, ctrID, "exec2")
	require.NoError(t, err)
	exit, err = ctrShim.Wait(ctx, ctrID, "exec2")
	require.NoError(t, err)
	assert.EqualValues(t, 7, exit.ExitStatus)
	ev := events.waitFor(t, func(ev shim.Event) bool { return ev.Topic == shim.TopicTaskExit && ev.ExecID == "exec2" })
	assert.Equal(t, ctrID, ev.ContainerID)
	assert.EqualValues(t, 7, ev.ExitStatus)
	assert.Equal(t, "wincri-test-pod", ev.Namespace)
	_, err = ctrShim.Delete(ctx, ctrID, "exec2")
	require.NoError(t, err)

	// Unknown processes are NotFound.
	_, err = ctrShim.State(ctx, ctrID, "no-such-exec")
	assert.True(t, errdefs.IsNotFound(err), "got %v", err)

	// Kill the container, then the pod.
	require.NoError(t, ctrShim.Kill(ctx, ctrID, "", uint32(syscall.SIGKILL), false))
	exit, err = ctrShim.Wait(ctx, ctrID, "")
	require.NoError(t, err)
	assert.EqualValues(t, 128+9, exit.ExitStatus)
	ev = events.waitFor(t, func(ev shim.Event) bool {
		return ev.Topic == shim.TopicTaskExit && ev.ContainerID == ctrID && ev.ExecID == ""
	})
	assert.EqualValues(t, 137, ev.ExitStatus)
	_, err = ctrShim.Delete(ctx, ctrID, "")
	require.NoError(t, err)
	require.NoError(t, ctrShim.Close())

	require.NoError(t, podShim.Kill(ctx, podID, "", uint32(syscall.SIGKILL), false))
	_, err = podShim.Wait(ctx, podID, "")
	require.NoError(t, err)
	_, err = podShim.Delete(ctx, podID, "")
	require.NoError(t, err)
	require.NoError(t, podShim.Shutdown(ctx))
	select {
	case <-podShim.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the shim did not exit after Shutdown")
	}
	_, err = podShim.State(ctx, podID, "")
	assert.True(t, errdefs.IsUnavailable(err), "got %v", err)
}

func TestRuncShimDeathAndCleanup(t *testing.T) {
	shimBin, busybox := testutil.RuncShimEnv(t)
	ctx := testlog.New(t).Context()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	d, root := newDriver(t, "wincri-test-death", &eventLog{})
	const podID = "pod2"
	bundle := writeBundle(t, root, busybox, podID, map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeSandbox,
		shim.AnnotationSandboxID:     podID,
	}, "/bin/busybox", "sleep", "1000")
	cleanupTask(t, d, shimBin, bundle, podID)

	s, err := d.Launch(ctx, shim.LaunchOpts{ID: podID, PodID: podID, Binary: shimBin, Bundle: bundle})
	require.NoError(t, err)
	defer s.Close()
	killShimOnCleanup(t, s.Pid())
	taskPid, err := s.Create(ctx, shim.CreateOpts{ID: podID, Bundle: bundle})
	require.NoError(t, err)
	_, err = s.Start(ctx, podID, "")
	require.NoError(t, err)

	// A second connection to the same shim after a "restart" of wincri.
	again, err := d.Connect(ctx, s.Address())
	require.NoError(t, err)
	assert.Equal(t, s.Pid(), again.Pid())
	require.NoError(t, again.Close())

	require.NoError(t, syscall.Kill(s.Pid(), syscall.SIGKILL))
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done did not close when the shim died")
	}
	_, err = s.State(ctx, podID, "")
	assert.True(t, errdefs.IsUnavailable(err), "got %v", err)
	_, err = d.Connect(ctx, s.Address())
	assert.True(t, errdefs.IsNotFound(err), "got %v", err)

	exit, err := d.Cleanup(ctx, shimBin, bundle, podID)
	require.NoError(t, err)
	assert.NotZero(t, exit.ExitStatus)
	// The container process is gone with the cleanup.
	require.Eventually(t, func() bool {
		return syscall.Kill(int(taskPid), 0) != nil
	}, 10*time.Second, 50*time.Millisecond)
	assert.NoDirExists(t, filepath.Join("/run/containerd/runc", "wincri-test-death", podID))
}

// BenchmarkRuncShimLaunch measures launching a pod's runc shim (start
// subcommand, connect, Connect call) and shutting it down again, without
// a task: the fixed cost the shim adds to every RunPodSandbox.
func BenchmarkRuncShimLaunch(b *testing.B) {
	shimBin, busybox := testutil.RuncShimEnv(b)
	ctx := testlog.New(b).Context()
	d, root := newDriver(b, "wincri-bench", &eventLog{})
	bundle := writeBundle(b, root, busybox, "pod1", map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeSandbox,
		shim.AnnotationSandboxID:     "pod1",
	}, "/bin/busybox", "sleep", "1000")
	b.ReportAllocs()
	for b.Loop() {
		s, err := d.Launch(ctx, shim.LaunchOpts{ID: "pod1", PodID: "pod1", Binary: shimBin, Bundle: bundle})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			b.Fatal("shim did not exit")
		}
		_ = s.Close()
	}
}

// TestRuncShimSurvivesRestart stops the Driver while a pod runs and
// starts a new one on the same state dir, as a restart of wincri does:
// the recorded address reconnects, the pod's next container finds the
// same shim, and the shim's events reach the new Driver.
func TestRuncShimSurvivesRestart(t *testing.T) {
	shimBin, busybox := testutil.RuncShimEnv(t)
	ctx := testlog.New(t).Context()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	const ns, podID, ctrID = "wincri-test-restart", "pod3", "ctr3"
	root := shortTempDir(t)
	state := filepath.Join(root, "state")
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join("/run/containerd/runc", ns)) })
	podBundle := writeBundle(t, root, busybox, podID, map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeSandbox,
		shim.AnnotationSandboxID:     podID,
	}, "/bin/busybox", "sleep", "1000")
	ctrBundle := writeBundle(t, root, busybox, ctrID, map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeContainer,
		shim.AnnotationSandboxID:     podID,
	}, "/bin/busybox", "sleep", "1000")

	first, err := shim.NewManager(shim.ManagerOpts{StateDir: state, Namespace: ns})
	require.NoError(t, err)
	cleanupTask(t, first, shimBin, ctrBundle, ctrID)
	cleanupTask(t, first, shimBin, podBundle, podID)
	s, err := first.Launch(ctx, shim.LaunchOpts{ID: podID, PodID: podID, Binary: shimBin, Bundle: podBundle})
	require.NoError(t, err)
	killShimOnCleanup(t, s.Pid())
	_, err = s.Create(ctx, shim.CreateOpts{ID: podID, Bundle: podBundle})
	require.NoError(t, err)
	_, err = s.Start(ctx, podID, "")
	require.NoError(t, err)
	recorded, pid := s.Address(), s.Pid()
	require.NoError(t, s.Close())
	require.NoError(t, first.Close())

	events := &eventLog{}
	second, err := shim.NewManager(shim.ManagerOpts{StateDir: state, Namespace: ns, OnEvent: events.add})
	require.NoError(t, err)
	defer second.Close()
	again, err := second.Connect(ctx, recorded)
	require.NoError(t, err)
	defer again.Close()
	assert.Equal(t, pid, again.Pid())
	st, err := again.State(ctx, podID, "")
	require.NoError(t, err)
	assert.Equal(t, shim.StatusRunning, st.Status)

	ctr, err := second.Launch(ctx, shim.LaunchOpts{ID: ctrID, PodID: podID, Binary: shimBin, Bundle: ctrBundle})
	require.NoError(t, err)
	defer ctr.Close()
	assert.Equal(t, recorded.Address, ctr.Address().Address, "the -address, namespace and pod id hash to the same socket")

	require.NoError(t, again.Kill(ctx, podID, "", uint32(syscall.SIGKILL), false))
	ev := events.waitFor(t, func(ev shim.Event) bool { return ev.Topic == shim.TopicTaskExit && ev.ContainerID == podID })
	assert.EqualValues(t, 137, ev.ExitStatus)
	_, err = again.Delete(ctx, podID, "")
	require.NoError(t, err)
	require.NoError(t, again.Shutdown(ctx))
	select {
	case <-again.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the shim did not exit after Shutdown")
	}
}
