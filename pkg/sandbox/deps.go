package sandbox

import (
	"context"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/network"
)

// Network sets up and tears down pod networks; *network.Manager
// implements it.
type Network interface {
	Setup(ctx context.Context, pod network.PodNetwork) (network.Result, error)
	Teardown(ctx context.Context, pod network.PodNetwork) error
	// GC removes the network state of every pod valid does not list:
	// what a request that a crash interrupted left, and what the
	// plugins still hold for pods that are gone.
	GC(ctx context.Context, valid func() (map[string]bool, error)) error
	// Check runs the CNI CHECK of a pod's network: nil when healthy,
	// network.ErrCheckUnsupported (wrapped) when it cannot be checked.
	Check(ctx context.Context, pod network.PodNetwork) error
}

// Images resolves the images containers run; *image.Service implements
// it.
type Images interface {
	Resolve(ctx context.Context, ref string) (*image.Image, error)
	// ResolveFor resolves ref in the variant a pod of the target runs,
	// pulling that variant from the image's index when only another is
	// present; ErrFailedPrecondition when none suits.
	ResolveFor(ctx context.Context, ref string, t image.Target, handlers []image.Target) (*image.Image, error)
	// TargetsFor is the pod platform of a handler, and every handler's.
	TargetsFor(ctx context.Context, cfg *config.Config, handler string) (image.Target, []image.Target, error)
	// Pull fetches the sandbox image when it is missing.
	Pull(ctx context.Context, ref string, opts image.PullOptions) (string, error)
	// Host is the platform images are checked against.
	Host() image.Host
}

var (
	_ Network = (*network.Manager)(nil)
	_ Images  = (*image.Service)(nil)
)
