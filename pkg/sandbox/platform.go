package sandbox

import (
	"context"

	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/shim"
)

// Platform builds what differs between Linux and Windows pods: the task
// specs, root filesystems and the pod's own files. Each method is
// idempotent where it cleans up.
type Platform interface {
	// PodSpec prepares the sandbox's files and returns its task spec and
	// rootfs mounts (none when the spec names its root).
	PodSpec(ctx context.Context, in PodInput) (*specs.Spec, []shim.Mount, error)
	// CleanupPod releases what PodSpec prepared.
	CleanupPod(ctx context.Context, podID string) error
	// ContainerSpec creates the container's writable layer over its image
	// and returns its task spec and rootfs mounts.
	ContainerSpec(ctx context.Context, in ContainerInput) (*specs.Spec, []shim.Mount, error)
	// CleanupContainer releases the container's mounts, which only its
	// task used: the manager calls it once the task is deleted, and
	// again before it removes the writable layer.
	CleanupContainer(ctx context.Context, containerID string) error
	// UpdateResources applies CRI resources to a container's spec and
	// returns them marshalled for the shim's Update of a running task.
	UpdateResources(ctx context.Context, spec *specs.Spec, r *runtime.ContainerResources) (typeurl.Any, error)
}

// PodInput is what a sandbox spec is built from.
type PodInput struct {
	ID      string
	Config  *runtime.PodSandboxConfig
	Handler isolation.Handler
	// NetNS is the network namespace path (Linux) or HCN namespace id.
	NetNS  string
	Bundle string
	// SandboxImage is the configured pause image, nil when none is
	// configured (Linux then runs wincri's own pause process).
	SandboxImage *image.Image
}

// ContainerInput is what a container spec is built from.
type ContainerInput struct {
	ID        string
	Config    *runtime.ContainerConfig
	Pod       PodRecord
	PodConfig *runtime.PodSandboxConfig
	Handler   isolation.Handler
	Image     *image.Image
	Bundle    string
	// ImageVolumes are the images of the container's image mounts, by
	// container path.
	ImageVolumes map[string]*image.Image
	// TargetPid is the init process of the container whose pid namespace
	// this one joins (pid mode TARGET, as kubectl debug --target asks).
	TargetPid uint32
}
