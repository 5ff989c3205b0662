package cri

import (
	"context"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// Runtime runs pods and containers; *sandbox.Manager implements it.
// Errors wrap the errdefs sentinels.
type Runtime interface {
	RunPod(ctx context.Context, cfg *runtime.PodSandboxConfig, handler string) (string, error)
	StopPod(ctx context.Context, id string) error
	RemovePod(ctx context.Context, id string) error
	PodStatus(id string) (sandbox.Pod, error)
	ListPods(f sandbox.PodFilter) []sandbox.Pod
	// CheckPodNetworkSoon starts the first CNI CHECK of a ready pod's
	// network in the background; PodStatus reports the last one.
	CheckPodNetworkSoon(id string)

	CreateContainer(ctx context.Context, podID string, cfg *runtime.ContainerConfig) (string, error)
	StartContainer(ctx context.Context, id string) error
	StopContainer(ctx context.Context, id string, timeout int64) error
	RemoveContainer(ctx context.Context, id string) error
	ContainerStatus(id string) (sandbox.Container, error)
	ListContainers(f sandbox.ContainerFilter) []sandbox.Container
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (sandbox.ExecResult, error)
	UpdateContainerResources(ctx context.Context, id string, r *runtime.ContainerResources, annotations map[string]string) error
	ReopenContainerLog(ctx context.Context, id string) error
	// UVMWorkerPid is the host PID of the worker process of a hyperv
	// pod's utility VM.
	UVMWorkerPid(uvmID string) (uint32, error)
}

// EventRuntime publishes the lifecycle events GetContainerEvents streams
// (*sandbox.Manager implements it).
type EventRuntime interface {
	// Subscribe streams lifecycle events until cancel; the channel is
	// closed when the subscriber falls too far behind.
	Subscribe() (events <-chan sandbox.Event, cancel func())
}
