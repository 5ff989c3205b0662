//go:build !linux && !windows

package sandbox

import (
	"context"
	"fmt"
	"runtime"

	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/shim"
)

// unsupportedPlatform lets the package build everywhere (crictl and
// kubelet developers build on macOS); it runs no pods or containers.
type unsupportedPlatform struct{}

// NewPlatform returns a platform whose spec builders fail with
// errdefs.ErrNotImplemented: pods run on Linux and Windows only.
func NewPlatform(dirs) Platform { return unsupportedPlatform{} }

func errPlatform(what string) error {
	return fmt.Errorf("%s on %s: pods and containers run on Linux and Windows only: %w", what, runtime.GOOS, errdefs.ErrNotImplemented)
}

func (unsupportedPlatform) PodSpec(context.Context, PodInput) (*specs.Spec, []shim.Mount, error) {
	return nil, nil, errPlatform("creating a pod sandbox")
}

// CleanupPod has nothing to release: PodSpec never prepared anything.
func (unsupportedPlatform) CleanupPod(context.Context, string) error { return nil }

func (unsupportedPlatform) ContainerSpec(context.Context, ContainerInput) (*specs.Spec, []shim.Mount, error) {
	return nil, nil, errPlatform("creating a container")
}

// CleanupContainer has nothing to release: ContainerSpec never prepared
// anything.
func (unsupportedPlatform) CleanupContainer(context.Context, string) error { return nil }

func (unsupportedPlatform) UpdateResources(context.Context, *specs.Spec, *cri.ContainerResources) (typeurl.Any, error) {
	return nil, errPlatform("updating container resources")
}
