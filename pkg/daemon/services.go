package daemon

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wincri/wincri/pkg/cri"
	"github.com/wincri/wincri/pkg/network"
	"github.com/wincri/wincri/pkg/store"
)

// services are the domain services the CRI server translates to.
type services struct {
	network *network.Manager
	images  cri.ImageService
}

func newServices(ctx context.Context, opts Options, db *store.Store, reg prometheus.Registerer) (*services, error) {
	nw, err := network.New(opts.Config.CNI, filepath.Join(opts.State, "network"))
	if err != nil {
		return nil, fmt.Errorf("pod network: %w", err)
	}
	return &services{network: nw}, nil
}

// recover reconciles the stored state with what runs before RPCs are
// let through.
func (s *services) recover(ctx context.Context) error { return nil }

func (s *services) close(ctx context.Context) {}
