package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/network"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/shim/shimtest"
	"github.com/wincri/wincri/pkg/store"
)

// fakeNetwork records setups and teardowns.
type fakeNetwork struct {
	mu       sync.Mutex
	setupErr error
	// addErr fails Setup after the namespace exists, as a plugin's ADD
	// does; addHold, when set, holds the ADD until it is closed.
	addErr    error
	addHold   chan struct{}
	active    map[string]bool
	teardowns int
	// teardownErr, when set, is what Teardown answers.
	teardownErr error
	// gcs counts GC runs.
	gcs int
	// checkErr is what Check answers for a pod with a network; checks
	// counts the calls.
	checkErr error
	checks   int
}

func (f *fakeNetwork) Setup(ctx context.Context, pod network.PodNetwork) (network.Result, error) {
	if err := ctx.Err(); err != nil {
		return network.Result{}, err
	}
	f.mu.Lock()
	setupErr, addErr, hold := f.setupErr, f.addErr, f.addHold
	f.mu.Unlock()
	if setupErr != nil {
		return network.Result{}, setupErr
	}
	// The namespace exists; the plugins run.
	if pod.NamespaceReady != nil {
		pod.NamespaceReady("/run/netns/" + pod.ID)
	}
	if hold != nil {
		<-hold
	}
	if addErr != nil {
		return network.Result{}, addErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active[pod.ID] = true
	return network.Result{NamespacePath: "/run/netns/" + pod.ID, IPs: []netip.Addr{netip.MustParseAddr("10.88.0.7")}}, nil
}

func (f *fakeNetwork) Teardown(_ context.Context, pod network.PodNetwork) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.teardowns++
	if f.teardownErr != nil {
		return f.teardownErr
	}
	delete(f.active, pod.ID)
	return nil
}

// GC drops the networks of pods valid does not list.
func (f *fakeNetwork) GC(_ context.Context, valid func() (map[string]bool, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	pods, err := valid()
	if err != nil {
		return err
	}
	f.gcs++
	for id := range f.active {
		if !pods[id] {
			delete(f.active, id)
		}
	}
	return nil
}

// Check answers checkErr for a pod with a network.
func (f *fakeNetwork) Check(_ context.Context, pod network.PodNetwork) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	if !f.active[pod.ID] {
		return errors.New("the pod's network namespace is gone")
	}
	return f.checkErr
}

// ids lists the pods with a network, sorted.
func (f *fakeNetwork) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.active {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (f *fakeNetwork) isActive(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active[id]
}

// fakeImages knows one image.
type fakeImages struct{}

const testImage = "docker.io/library/busybox:latest"

func (fakeImages) Resolve(_ context.Context, ref string) (*image.Image, error) {
	if ref != testImage && ref != "busybox" {
		return nil, fmt.Errorf("image %q: %w", ref, errdefs.ErrNotFound)
	}
	return &image.Image{
		ID:       "sha256:1111",
		RepoTags: []string{testImage},
		Config:   ocispec.Image{Config: ocispec.ImageConfig{Cmd: []string{"sh"}}},
	}, nil
}

func (f fakeImages) ResolveFor(ctx context.Context, ref string, _ image.Target, _ []image.Target) (*image.Image, error) {
	return f.Resolve(ctx, ref)
}

func (f fakeImages) TargetsFor(_ context.Context, cfg *config.Config, name string) (image.Target, []image.Target, error) {
	t, err := image.TargetFor(f.Host(), name, cfg.Runtimes[name], nil)
	return t, image.Targets(cfg, f.Host(), nil), err
}

func (fakeImages) Host() image.Host { return image.Host{OS: "linux", Architecture: "amd64"} }

func (fakeImages) Pull(context.Context, string, image.PullOptions) (string, error) {
	return "", errdefs.ErrNotImplemented
}

// gate holds a build in progress until the test opens it.
type gate struct {
	entered chan struct{}
	open    chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 16), open: make(chan struct{})} }

// pass reports the arrival and waits for the gate to open.
func (g *gate) pass() {
	if g == nil {
		return
	}
	g.entered <- struct{}{}
	<-g.open
}

// fakePlatform builds trivial specs and records cleanups.
type fakePlatform struct {
	mu            sync.Mutex
	podCleanups   map[string]int
	ctrCleanups   map[string]int
	containerErr  error
	updatedMemory int64
	// podGate and ctrGate, when set, hold PodSpec and ContainerSpec.
	podGate, ctrGate *gate
}

func (f *fakePlatform) gates() (pod, ctr *gate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.podGate, f.ctrGate
}

func (f *fakePlatform) PodSpec(_ context.Context, in PodInput) (*specs.Spec, []shim.Mount, error) {
	g, _ := f.gates()
	g.pass()
	return &specs.Spec{Process: &specs.Process{Args: []string{"/pause"}}}, nil, nil
}

func (f *fakePlatform) CleanupPod(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.podCleanups[id]++
	return nil
}

func (f *fakePlatform) ContainerSpec(_ context.Context, in ContainerInput) (*specs.Spec, []shim.Mount, error) {
	_, g := f.gates()
	g.pass()
	if f.containerErr != nil {
		return nil, nil, f.containerErr
	}
	return &specs.Spec{Process: &specs.Process{Args: in.Config.GetCommand()}, Linux: &specs.Linux{}}, nil, nil
}

func (f *fakePlatform) CleanupContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctrCleanups[id]++
	return nil
}

func (f *fakePlatform) UpdateResources(ctx context.Context, spec *specs.Spec, r *runtime.ContainerResources) (typeurl.Any, error) {
	f.mu.Lock()
	f.updatedMemory = r.GetLinux().GetMemoryLimitInBytes()
	f.mu.Unlock()
	return shim.LinuxResources(&specs.LinuxResources{})
}

// env is a Manager over fakes, sharing its store and fake shims with the
// Managers that restart() makes.
type env struct {
	t     *testing.T
	m     *Manager
	shims *shimtest.Manager
	net   *fakeNetwork
	plat  *fakePlatform
	db    *store.Store
	root  string
	// events forwards the fake shims' events to the current Manager.
	mu     sync.Mutex
	target func(shim.Event)
	// log fails the test for an error the Manager logs unexpectedly.
	log *testlog.Log
	// cfg is the configuration the next Manager gets.
	cfg *config.Config
}

// ctx is a request context carrying the test's checked logger.
func (e *env) ctx() context.Context { return e.log.Context() }

func newEnv(t *testing.T) *env {
	t.Helper()
	// Short: unix socket paths under the state directory hold at most
	// 107 bytes, and t.TempDir() paths are long.
	root, err := os.MkdirTemp("", "wsb")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	db, err := store.Open(root + "/state.db")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	e := &env{
		t:    t,
		log:  testlog.New(t),
		cfg:  config.Default(),
		net:  &fakeNetwork{active: map[string]bool{}},
		plat: &fakePlatform{podCleanups: map[string]int{}, ctrCleanups: map[string]int{}},
		db:   db,
		root: root,
	}
	e.shims = shimtest.NewManager(func(ev shim.Event) {
		e.mu.Lock()
		fn := e.target
		e.mu.Unlock()
		if fn != nil {
			fn(ev)
		}
	})
	e.m = e.newManager()
	return e
}

func (e *env) newManager() *Manager {
	e.t.Helper()
	m, err := New(Options{
		Config:     e.cfg,
		Root:       e.root + "/root",
		State:      e.root + "/state",
		Store:      e.db,
		Network:    e.net,
		Images:     fakeImages{},
		Platform:   e.plat,
		LoggerPath: "/usr/local/bin/wincri-logger",
		Logger:     e.log.Logger(),
		NewShims: func(on func(shim.Event)) (shim.Manager, error) {
			e.mu.Lock()
			e.target = on
			e.mu.Unlock()
			return e.shims, nil
		},
	})
	require.NoError(e.t, err)
	return m
}

// restart replaces the Manager as a restarted wincri would and recovers.
func (e *env) restart() {
	e.t.Helper()
	e.m = e.newManager()
	require.NoError(e.t, e.m.Recover(e.ctx()))
}

func podConfig(name string) *runtime.PodSandboxConfig {
	return &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "default", Uid: name + "-uid"},
		LogDirectory: "/var/log/pods/" + name,
		Labels:       map[string]string{"app": name},
	}
}

func containerConfig(name string) *runtime.ContainerConfig {
	return &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: name},
		Image:    &runtime.ImageSpec{Image: testImage},
		Command:  []string{"sleep", "1000"},
		LogPath:  name + ".log",
		Labels:   map[string]string{"c": name},
	}
}

// runPod runs a pod and returns its id.
func (e *env) runPod(name string) string {
	e.t.Helper()
	id, err := e.m.RunPod(e.ctx(), podConfig(name), "")
	require.NoError(e.t, err)
	return id
}

// createContainer creates a container and returns its id.
func (e *env) createContainer(podID, name string) string {
	e.t.Helper()
	id, err := e.m.CreateContainer(e.ctx(), podID, containerConfig(name))
	require.NoError(e.t, err)
	return id
}

// runContainer creates and starts a container in pod.
func (e *env) runContainer(podID, name string) string {
	e.t.Helper()
	id, err := e.m.CreateContainer(e.ctx(), podID, containerConfig(name))
	require.NoError(e.t, err)
	require.NoError(e.t, e.m.StartContainer(e.ctx(), id))
	return id
}

// containerState syncs the fake's events and reads a container.
func (e *env) container(id string) Container {
	e.t.Helper()
	e.shims.Sync()
	c, err := e.m.ContainerStatus(id)
	require.NoError(e.t, err)
	return c
}
