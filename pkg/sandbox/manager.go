package sandbox

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/limit"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/store"
)

// Options are a Manager's dependencies.
type Options struct {
	Config *config.Config
	// Root and State are wincri's --root and --state directories.
	Root, State string
	Store       *store.Store
	// NewShims builds the shim driver, which delivers the shims' task
	// events to the handler the Manager passes it.
	NewShims func(onEvent func(shim.Event)) (shim.Manager, error)
	Network  Network
	Images   Images
	// LoggerPath is the absolute path of the wincri-logger executable
	// that writes container logs.
	LoggerPath string
	// Platform builds what differs by OS; NewPlatform's when nil.
	Platform Platform
	// CleanupTimeout bounds the undo of a failed request, which runs on a
	// fresh context because the caller's may have expired.
	CleanupTimeout time.Duration
	// BuildTimeout bounds RunPodSandbox and CreateContainer, which go on
	// when their caller's deadline passes.
	BuildTimeout time.Duration
	// Logger logs what happens outside any request: task exits, dead
	// shims. klog.Background() when unset.
	Logger klog.Logger
	// TaskLimiter bounds how many task creations (the Host Compute
	// Service's compute systems on Windows) run at once; nil is no bound.
	TaskLimiter *limit.Limiter
}

// Manager runs pods and containers.
type Manager struct {
	cfg     *config.Config
	dirs    dirs
	db      *store.Store
	shims   shim.Manager
	network Network
	images  Images
	plat    Platform
	cleanup time.Duration
	// buildTimeout bounds a pod's or container's creation.
	buildTimeout time.Duration
	// loggerPath is the wincri-logger executable.
	loggerPath string
	// logger is for work no request carries: events, dead shims.
	logger klog.Logger
	events *broadcaster
	host   isolation.Host
	// tasks bounds the task creations running at once.
	tasks *limit.Limiter
	// trash deletes removed containers' writable layers and bundles.
	trash *trash

	mu       sync.RWMutex
	pods     map[string]*pod
	podNames map[string]string // podNameKey -> id
	ctrs     map[string]*container
	ctrNames map[string]string // containerNameKey -> id
}

// New returns a Manager; call Recover before serving requests.
func New(opts Options) (*Manager, error) {
	if opts.Config == nil || opts.Store == nil || opts.NewShims == nil || opts.Network == nil || opts.Images == nil {
		return nil, fmt.Errorf("sandbox manager: missing dependency: %w", errdefs.ErrInvalidArgument)
	}
	if opts.CleanupTimeout == 0 {
		opts.CleanupTimeout = 2 * time.Minute
	}
	if opts.BuildTimeout == 0 {
		opts.BuildTimeout = 4 * time.Minute
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = klog.Background()
	}
	m := &Manager{
		cfg:          opts.Config,
		dirs:         dirs{root: opts.Root, state: opts.State},
		db:           opts.Store,
		network:      opts.Network,
		images:       opts.Images,
		plat:         opts.Platform,
		cleanup:      opts.CleanupTimeout,
		buildTimeout: opts.BuildTimeout,
		loggerPath:   opts.LoggerPath,
		logger:       opts.Logger,
		events:       newBroadcaster(),
		tasks:        opts.TaskLimiter,
		pods:         map[string]*pod{},
		podNames:     map[string]string{},
		ctrs:         map[string]*container{},
		ctrNames:     map[string]string{},
	}
	m.trash = newTrash(m.logger, m.dirs.root, m.dirs.state)
	m.host = isolation.ProbeHost()
	m.host.ShimLogLevel = isolation.ShimLogLevel(verbosity(m.logger))
	shims, err := opts.NewShims(m.handleEvent)
	if err != nil {
		return nil, err
	}
	m.shims = shims
	if m.plat == nil {
		m.plat = NewPlatform(m.dirs)
	}
	for _, d := range []string{m.dirs.podBundle(""), m.dirs.containerBundle(""), m.dirs.containerLayer("")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// detach returns a context that keeps ctx's values but not its deadline
// or cancellation, bounded by timeout instead: a request that builds an
// object finishes it even when its caller gave up, so that the caller's
// retry finds it.
func detach(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}

// cleanupContext is a fresh, bounded context for undoing a failed
// request: the caller's context may be the reason it failed.
func (m *Manager) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), m.cleanup)
}

// ImagesInUse lists the containers that use an image id, for the image
// service's RemoveImage check.
func (m *Manager) ImagesInUse(_ context.Context, imageID string) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []string
	for id, c := range m.ctrs {
		if c.snapshot().ImageID == imageID {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// verbosity is the highest klog verbosity logger logs at, up to 10.
func verbosity(logger klog.Logger) int {
	for v := 10; v > 0; v-- {
		if logger.V(v).Enabled() {
			return v
		}
	}
	return 0
}

// createTask creates a task in its turn among the task creations.
func (m *Manager) createTask(ctx context.Context, s shim.Shim, opts shim.CreateOpts) error {
	release, err := m.tasks.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.Create(ctx, opts)
	return err
}
