// Package daemon wires wincri together: it takes the root lock, opens the
// state store, builds the domain services, serves CRI on the endpoint and
// shuts down gracefully. cmd/wincri only parses flags and signals.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/cri"
	"github.com/wincri/wincri/pkg/endpoint"
	"github.com/wincri/wincri/pkg/faultpoint"
	"github.com/wincri/wincri/pkg/rootlock"
	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/store"
)

// Options are the daemon's command-line settings.
type Options struct {
	Config   *config.Config
	Root     string
	State    string
	Endpoint endpoint.Endpoint
	// ShutdownTimeout bounds how long in-flight RPCs may finish.
	ShutdownTimeout time.Duration
	// Ready, when set, is called once the daemon serves requests.
	Ready func()
}

// Run serves CRI, and wincri's image Archive service beside it, until
// ctx is cancelled, then shuts down gracefully.
// Containers keep running: they belong to their shims.
func Run(ctx context.Context, opts Options) (err error) {
	logger := klog.FromContext(ctx)
	if point := faultpoint.Armed(); point != "" {
		logger.Info("WARNING: a test fault point is armed; wincri will kill itself there", "faultPoint", point, "envVar", faultpoint.EnvVar)
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if err := os.MkdirAll(opts.Root, 0o700); err != nil {
		return fmt.Errorf("creating root %s: %w", opts.Root, err)
	}
	lock, err := rootlock.Acquire(opts.Root)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release() }()
	if err := os.MkdirAll(opts.State, 0o700); err != nil {
		return fmt.Errorf("creating state %s: %w", opts.State, err)
	}

	db, err := store.Open(filepath.Join(opts.Root, "state.db"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing state database: %w", cerr)
		}
	}()

	// wincri's own metrics; /metrics serves them beside the library's
	// default registry, which holds the Go and process collectors that
	// client_golang registers at init. A second pair here cost 65 KB of
	// allocations at start for the same series.
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wincri_state_quarantined_records",
			Help: "State records set aside because they did not decode; see the state database's quarantine bucket.",
		}, func() float64 { return float64(db.QuarantinedCount()) }))

	svc, err := newServices(ctx, opts, db, reg)
	if err != nil {
		return err
	}
	defer svc.close(ctx)

	criOpts, stopStreaming, err := startStreaming(ctx, opts.Config, svc.runtime)
	if err != nil {
		return err
	}
	defer stopStreaming()

	lis, err := endpoint.Listen(opts.Endpoint)
	if err != nil {
		return err
	}
	criOpts.Config, criOpts.Network, criOpts.Images = opts.Config, svc.network, svc.images
	// `wincri image import|export` go through the daemon, so that an
	// imported image is in the store CRI answers from at once.
	criOpts.Archive = svc.images
	criOpts.Registerer, criOpts.Logger = reg, logger
	srv, err := cri.New(criOpts)
	if err != nil {
		_ = lis.Close()
		return err
	}
	g := srv.NewGRPCServer()
	serveErr := make(chan error, 1)
	go func() { serveErr <- g.Serve(lis) }()
	logger.Info("Serving CRI", "endpoint", opts.Endpoint.String(), "root", opts.Root, "state", opts.State)

	stopDebug, err := startDebugServer(ctx, opts.Config.Debug.Address, reg)
	if err != nil {
		g.Stop()
		return err
	}
	defer stopDebug()

	if err := svc.recover(ctx); err != nil {
		g.Stop()
		return fmt.Errorf("recovering state: %w", err)
	}
	srv.SetReady()
	go svc.runtime.RunNetworkGC(ctx, sandbox.NetworkGCInterval)
	go svc.runtime.RunNetworkChecks(ctx, sandbox.NetworkCheckInterval)
	logger.Info("Ready")
	if opts.Ready != nil {
		opts.Ready()
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("serving CRI: %w", err)
		}
	}
	logger.Info("Shutting down; containers keep running")
	gracefulStop(g, opts.ShutdownTimeout)
	return nil
}

// gracefulStop lets in-flight RPCs finish for at most timeout.
func gracefulStop(g *grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		g.Stop()
	}
}
