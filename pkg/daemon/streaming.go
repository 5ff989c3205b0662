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

// cachedStats binds the sandbox manager to the stats cache that CPU
// rates and disk usage need between requests.
type cachedStats struct {
	m     *sandbox.Manager
	cache *sandbox.StatsCache
}

var (
	_ cri.Runtime       = (*sandbox.Manager)(nil)
	_ cri.EventRuntime  = (*sandbox.Manager)(nil)
	_ cri.StreamServer  = (*streaming.Server)(nil)
	_ cri.StatsRuntime  = cachedStats{}
	_ cri.LayersRuntime = cachedStats{}
)

func (r cachedStats) PodStats(ctx context.Context, f sandbox.PodFilter, opts sandbox.StatsOptions) []sandbox.PodStats {
	return r.m.PodStats(ctx, r.cache, f, opts)
}

func (r cachedStats) ContainerStats(ctx context.Context, f sandbox.ContainerFilter, opts sandbox.StatsOptions) []sandbox.ContainerStats {
	return r.m.ContainerStats(ctx, r.cache, f, opts)
}

func (r cachedStats) WritableLayers() sandbox.LayersUsage {
	return r.m.WritableLayers(r.cache)
}

// startStreaming starts the streaming server on the configured address
// and the stats cache's background work, and returns the CRI server's
// options for the runtime and its capabilities, with a stop function that
// ends both.
func startStreaming(ctx context.Context, cfg *config.Config, m *sandbox.Manager) (cri.Options, func(), error) {
	logger := klog.FromContext(ctx)
	srv, err := streaming.New(ctx, cfg.Stream, m)
	if err != nil {
		return cri.Options{}, nil, err
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
	stats := cachedStats{m: m, cache: cache}
	return cri.Options{Runtime: m, Events: m, Streams: srv, Stats: stats, Layers: stats}, stop, nil
}
