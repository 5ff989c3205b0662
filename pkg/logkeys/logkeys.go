// Package logkeys names the keys of wincri's structured log lines, so
// that one kind of object is logged under one key everywhere and log
// queries stay stable (hcsshim's internal/logfields has the same shape).
// It is a leaf: every package may import it.
package logkeys

// Objects.
const (
	// PodSandboxID is a pod sandbox's id; the sandbox task and a pod's
	// network namespace are logged under it too.
	PodSandboxID = "podSandboxID"
	// Pod is a pod's namespace/name (klog.KRef).
	Pod = "pod"
	// ContainerID is a container's id.
	ContainerID = "containerID"
	// ContainerName is a container's CRI metadata name.
	ContainerName = "container"
	// TaskID is a shim task's id where it may be either: a container's
	// id, or a pod sandbox's id for its sandbox task.
	TaskID = "taskID"
	// ExecID is an exec process's id.
	ExecID = "execID"
	// ImageID is an image's config digest; ImageRef the reference asked
	// for.
	ImageID  = "imageID"
	ImageRef = "image"
	// Handler is a RuntimeClass handler name.
	Handler = "handler"
)

// Shims.
const (
	ShimID  = "shimID"
	ShimPid = "shimPid"
	// Topic is a shim event's topic.
	Topic = "topic"
)

// Requests and sessions.
const (
	RPC       = "rpc"
	RequestID = "requestID"
	// Session is a streaming session's kind: exec, attach, port-forward.
	Session = "session"
	Port    = "port"
)

// Networking.
const (
	NetNS   = "netns"
	Network = "network"
	Source  = "source"
	IPs     = "ips"
)
