package sandbox

import (
	"time"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/shim"
)

// Store buckets.
const (
	bucketPods       = "pods"
	bucketContainers = "containers"
)

// PodState is a pod sandbox's lifecycle state.
type PodState string

const (
	PodCreating PodState = "creating"
	PodReady    PodState = "ready"
	PodNotReady PodState = "notready"
)

// PodRecord is everything wincri keeps about a pod sandbox.
type PodRecord struct {
	ID string `json:"id"`
	// Config is the CRI PodSandboxConfig, protobuf-encoded.
	Config    []byte           `json:"config"`
	Handler   string           `json:"handler"`
	Isolation config.Isolation `json:"isolation"`
	ShimBin   string           `json:"shimBinary"`
	State     PodState         `json:"state"`
	CreatedAt time.Time        `json:"createdAt"`
	// NetNS is the pod's network namespace path (Linux) or HCN namespace
	// id (Windows); "" for host-network pods.
	NetNS string   `json:"netns,omitempty"`
	IPs   []string `json:"ips,omitempty"`
	// Shim is where the pod's shim serves; zero until it is launched.
	Shim     shim.Address `json:"shim"`
	ShimPid  int          `json:"shimPid,omitempty"`
	Pid      uint32       `json:"pid,omitempty"`
	ExitCode int32        `json:"exitCode,omitempty"`
	ExitedAt time.Time    `json:"exitedAt,omitempty"`
	// UVMID is the utility VM of a hyperv pod.
	UVMID string `json:"uvmID,omitempty"`
	// UVMOSVersion is the Windows build a hyperv pod's utility VM runs:
	// the os.version of the sandbox image variant it boots, which the
	// pod's images must suit.
	UVMOSVersion string `json:"uvmOSVersion,omitempty"`
}

// ContainerState is a container's lifecycle state.
type ContainerState string

const (
	ContainerCreating ContainerState = "creating"
	ContainerCreated  ContainerState = "created"
	ContainerRunning  ContainerState = "running"
	ContainerExited   ContainerState = "exited"
	ContainerUnknown  ContainerState = "unknown"
)

// Exit reasons reported in ContainerStatus.
const (
	ReasonCompleted = "Completed"
	ReasonError     = "Error"
	ReasonOOMKilled = "OOMKilled"
	ReasonShimDied  = "ShimDied"
)

// ContainerRecord is everything wincri keeps about a container.
type ContainerRecord struct {
	ID    string `json:"id"`
	PodID string `json:"podID"`
	// Config is the CRI ContainerConfig, protobuf-encoded.
	Config     []byte         `json:"config"`
	State      ContainerState `json:"state"`
	CreatedAt  time.Time      `json:"createdAt"`
	StartedAt  time.Time      `json:"startedAt,omitempty"`
	FinishedAt time.Time      `json:"finishedAt,omitempty"`
	ExitCode   int32          `json:"exitCode,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Message    string         `json:"message,omitempty"`
	Pid        uint32         `json:"pid,omitempty"`
	// ImageRef is what the user asked for; ImageID the resolved config
	// digest; ImageName the image's first repo tag, else ImageRef.
	ImageRef  string `json:"imageRef"`
	ImageID   string `json:"imageID"`
	ImageName string `json:"imageName"`
	// RepoDigest is the image's first repo digest, if any.
	RepoDigest string `json:"repoDigest,omitempty"`
	// LogPath is the absolute log file path; "" when logs are discarded.
	LogPath string `json:"logPath,omitempty"`
	// StopSignal is the image's stop signal, "" for SIGTERM.
	StopSignal string `json:"stopSignal,omitempty"`
	// OOMKilled records that the kernel killed the container for memory.
	OOMKilled bool `json:"oomKilled,omitempty"`
	// Spec is the container's OCI runtime spec, JSON, for verbose status.
	Spec []byte `json:"spec,omitempty"`
	// ImageVolumes are the image ids of the container's image mounts,
	// by container path.
	ImageVolumes map[string]string `json:"imageVolumes,omitempty"`
	// Rootfs are the mounts handed to the shim at task creation.
	Rootfs []shim.Mount `json:"rootfs,omitempty"`
	// UpdatedResources are the CRI resources last applied by
	// UpdateContainerResources, protobuf-encoded; nil before any update.
	UpdatedResources []byte `json:"resources,omitempty"`
}
