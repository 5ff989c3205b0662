package cri

import (
	"context"
	"fmt"
	goruntime "runtime"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/sandbox"
)

// StatsRuntime reports resource usage (the daemon binds the sandbox
// manager to its stats cache).
type StatsRuntime interface {
	PodStats(ctx context.Context, f sandbox.PodFilter, opts sandbox.StatsOptions) []sandbox.PodStats
	ContainerStats(ctx context.Context, f sandbox.ContainerFilter, opts sandbox.StatsOptions) []sandbox.ContainerStats
}

// windowsStats says which shape of stats this host reports: a Windows
// host runs only Windows pods, a Linux host only Linux ones.
const windowsStats = goruntime.GOOS == "windows"

func (s *Server) statsRuntime() (StatsRuntime, error) {
	if s.stats == nil {
		return nil, fmt.Errorf("this runtime does not report stats: %w", errdefs.ErrNotImplemented)
	}
	return s.stats, nil
}
