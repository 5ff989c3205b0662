package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/limit"
	"github.com/wincri/wincri/pkg/network"
	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/store"
)

// loggerBinary is the logging process the shims start for each
// container; it is installed next to wincri.
const loggerBinary = "wincri-logger"

// services are the domain services the CRI server translates to.
type services struct {
	network *network.Manager
	images  *image.Service
	runtime *sandbox.Manager
	shims   shim.Manager
}

func newServices(ctx context.Context, opts Options, db *store.Store, reg prometheus.Registerer) (*services, error) {
	queues, err := limit.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	lim := opts.Config.Limits
	// One queue for the Host Compute Service's heavy work: layer imports
	// and task creations.
	hcs := limit.New("hcs", lim.HCSOps, queues)
	nw, err := network.New(opts.Config.CNI, filepath.Join(opts.State, "network"),
		network.WithLimiter(limit.New("cni", lim.NetworkOps, queues)))
	if err != nil {
		return nil, fmt.Errorf("pod network: %w", err)
	}
	images, err := image.New(ctx, image.Options{Config: opts.Config.Image, Root: filepath.Join(opts.Root, "images"), Store: db, UnpackLimiter: hcs, Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("image service: %w", err)
	}
	loggerPath, err := findLogger()
	if err != nil {
		return nil, err
	}
	svc := &services{network: nw, images: images}
	rt, err := sandbox.New(sandbox.Options{
		Config:      opts.Config,
		Root:        opts.Root,
		State:       opts.State,
		Store:       db,
		Network:     nw,
		Images:      images,
		LoggerPath:  loggerPath,
		Logger:      klog.FromContext(ctx),
		TaskLimiter: hcs,
		NewShims: func(onEvent func(shim.Event)) (shim.Manager, error) {
			// Config.Validate has checked the name.
			priority, _ := config.PriorityClassValue(opts.Config.PriorityClass)
			s, err := shim.NewManager(shim.ManagerOpts{
				StateDir:      filepath.Join(opts.State, "shim"),
				OnEvent:       onEvent,
				Logger:        klog.FromContext(ctx).WithName("shim"),
				PriorityClass: priority,
				LaunchLimiter: limit.New("shim_launch", lim.ShimLaunches, queues),
			})
			if err != nil {
				return nil, fmt.Errorf("shim driver: %w", err)
			}
			svc.shims = s
			return s, nil
		},
	})
	if err != nil {
		return nil, err
	}
	images.SetInUse(rt.ImagesInUse)
	svc.runtime = rt
	return svc, nil
}

// findLogger locates wincri-logger next to the wincri executable, else
// in PATH.
func findLogger() (string, error) {
	name := loggerBinary
	if goruntime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s must be installed next to wincri or in PATH: %w", name, err)
	}
	return filepath.Abs(p)
}

// recover reconciles the stored state with what runs before RPCs are
// let through.
func (s *services) recover(ctx context.Context) error { return s.runtime.Recover(ctx) }

func (s *services) close(ctx context.Context) {
	if s.shims != nil {
		if err := s.shims.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			klog.FromContext(ctx).Error(err, "Closing the shim driver")
		}
	}
}
