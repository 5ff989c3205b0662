package daemon

import (
	"context"
	"errors"
	"sync"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/cri"
	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/streaming"
)

// servingRuntime is the sandbox manager with what the CRI server needs
// beside it: the streaming server's session URLs and the stats cache
// that CPU rates and disk usage need between requests.
type servingRuntime struct {
	*sandbox.Manager
	*streaming.Server
	stats *sandbox.StatsCache
}

var (
	_ cri.Runtime       = servingRuntime{}
	_ cri.StreamServer  = servingRuntime{}
	_ cri.StatsRuntime  = servingRuntime{}
	_ cri.LayersRuntime = servingRuntime{}
)

func (r servingRuntime) PodStats(ctx context.Context, f sandbox.PodFilter) []sandbox.PodStats {
	return r.Manager.PodStats(ctx, r.stats, f)
}

func (r servingRuntime) WritableLayers() sandbox.LayersUsage {
	return r.Manager.WritableLayers(r.stats)
}

func (r servingRuntime) ContainerStats(ctx context.Context, f sandbox.ContainerFilter) []sandbox.ContainerStats {
	return r.Manager.ContainerStats(ctx, r.stats, f)
}

// startStreaming starts the streaming server on the configured address
// and the stats cache's background work, and returns the runtime to
// hand to cri.New with a stop function that ends both.
func startStreaming(ctx context.Context, cfg *config.Config, m *sandbox.Manager) (cri.Runtime, func(), error) {
	logger := klog.FromContext(ctx)
	srv, err := streaming.New(ctx, cfg.Stream, m)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	cache := sandbox.NewStatsCache(0)
	var wg sync.WaitGroup
	wg.Go(func() { cache.Run(ctx) })
	wg.Go(func() {
		if err := srv.Serve(); err != nil {
			logger.Error(err, "Streaming server stopped")
		}
	})
	logger.Info("Serving exec, attach and port-forward sessions", "address", srv.Addr())
	stop := func() {
		cancel()
		if err := srv.Close(); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error(err, "Closing the streaming server")
		}
		wg.Wait()
	}
	return servingRuntime{Manager: m, Server: srv, stats: cache}, stop, nil
}
