//go:build !linux && !windows

package sandbox

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/stats"
)

// podInterfaces fails: reading counters inside a pod's network
// namespace needs Linux network namespaces or Windows HCN namespaces.
func podInterfaces(_ context.Context, rec PodRecord, _ *runtime.PodSandboxConfig) ([]stats.Interface, error) {
	return nil, fmt.Errorf("network counters of pod %s: reading a pod's network namespace is supported on Linux and Windows only: %w", rec.ID, errdefs.ErrNotImplemented)
}
