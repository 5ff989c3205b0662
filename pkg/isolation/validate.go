package isolation

import (
	"fmt"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Windows containers isolate processes, IPC objects and the object
// namespace per container (ARCHITECTURE.md). A request to cross that
// boundary fails here, naming the feature, instead of being ignored.
//
// kubelet sends namespace options in LinuxPodSandboxConfig and
// LinuxContainerConfig for Windows pods too; NamespaceMode's zero value
// is POD, so only options that are present count as a request. IPC mode
// POD is what kubelet sends for every pod (Kubernetes has no way to ask
// for anything else), so it is the default, not a request to share.

// HostProcessPod reports whether pod asks to run as a Windows HostProcess
// pod (processes on the host, in a job object, on the host network).
func HostProcessPod(pod *runtimeapi.PodSandboxConfig) bool {
	return pod.GetWindows().GetSecurityContext().GetHostProcess()
}

// HostNetwork reports whether a pod on an os (OSWindows, OSLinux) runs
// on the node's network instead of a pod network of its own. On Windows
// only HostProcess pods do: a pod that asks for the host network without
// being one gets a pod network, as under containerd
// (internal/cri/server/helpers.go, hostNetwork), so that pods that run
// there run here; HostNetworkIgnored tells when to warn about it.
func HostNetwork(pod *runtimeapi.PodSandboxConfig, os string) bool {
	if HostProcessPod(pod) {
		return true
	}
	return os != OSWindows && askedHostNetwork(pod)
}

// HostNetworkIgnored reports whether a pod's request for the host network
// is not honoured (see HostNetwork).
func HostNetworkIgnored(pod *runtimeapi.PodSandboxConfig, os string) bool {
	return askedHostNetwork(pod) && !HostNetwork(pod, os)
}

func askedHostNetwork(pod *runtimeapi.PodSandboxConfig) bool {
	return pod.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE
}

// ValidateWindowsPod checks a pod sandbox config against what Windows
// isolation under h can honour, and for a hyperv handler its utility VM
// sizing. Errors wrap errdefs.ErrInvalidArgument and name the
// unsupported feature or the invalid annotation.
func ValidateWindowsPod(pod *runtimeapi.PodSandboxConfig, h Handler) error {
	if pod == nil {
		return fmt.Errorf("pod sandbox config is missing: %w", errdefs.ErrInvalidArgument)
	}
	hostProcess := HostProcessPod(pod)
	if hostProcess && h.HyperV() {
		// runhcs runs a HostProcess container inside a utility VM only
		// as a container of a pod that is not itself HostProcess, when
		// the VM supports it (cmd/containerd-shim-runhcs-v1/pod.go,
		// updateConfigForHostProcessContainer); Kubernetes requires a
		// HostProcess pod for HostProcess containers, whose sandbox is a
		// job object on the host.
		return invalidArg("HostProcess pods cannot run with Hyper-V isolation (runtime handler %q): a HostProcess pod's sandbox is a process on the host, not in a utility VM; use a process-isolated handler", h.Name)
	}
	if h.HyperV() {
		// Bad sizing annotations fail here, before any network is set up.
		if _, err := SizeUVM(pod, h); err != nil {
			return err
		}
	}
	ns := pod.GetLinux().GetSecurityContext().GetNamespaceOptions()
	if ns == nil {
		return nil
	}
	if err := checkNamespaces(ns, hostProcess); err != nil {
		return err
	}
	switch {
	case hostProcess && ns.GetNetwork() != runtimeapi.NamespaceMode_NODE:
		return invalidArg("HostProcess pods run on the host network: network namespace mode %s was requested", ns.GetNetwork())
	case ns.GetNetwork() == runtimeapi.NamespaceMode_TARGET:
		return invalidArg("Windows containers do not support sharing another container's network namespace")
	}
	return nil
}

// ValidateWindowsContainer checks a container config, for a container of
// pod under h, against what Windows isolation can honour. Errors wrap
// errdefs.ErrInvalidArgument and name the unsupported feature.
func ValidateWindowsContainer(pod *runtimeapi.PodSandboxConfig, c *runtimeapi.ContainerConfig, h Handler) error {
	if c == nil {
		return fmt.Errorf("container config is missing: %w", errdefs.ErrInvalidArgument)
	}
	podHostProcess := HostProcessPod(pod)
	hostProcess := c.GetWindows().GetSecurityContext().GetHostProcess()
	switch {
	case podHostProcess && !hostProcess:
		return invalidArg("a HostProcess pod holds only HostProcess containers; container %q is not one", c.GetMetadata().GetName())
	case !podHostProcess && hostProcess:
		return invalidArg("HostProcess container %q needs a HostProcess pod", c.GetMetadata().GetName())
	case hostProcess && h.HyperV():
		return invalidArg("HostProcess containers cannot run with Hyper-V isolation (runtime handler %q): they need a HostProcess pod, which runs on the host; use a process-isolated handler", h.Name)
	}
	sc := c.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() {
		return invalidArg("Windows containers do not support privileged mode; run the container as a HostProcess container instead")
	}
	if ns := sc.GetNamespaceOptions(); ns != nil {
		return checkNamespaces(ns, hostProcess)
	}
	return nil
}

// checkNamespaces rejects the PID and IPC namespace modes Windows cannot
// provide. HostProcess containers are host processes, so they do see the
// host's processes and objects: NODE is what they get anyway. pid POD is
// the protobuf zero value (what a request that leaves pid unset sends)
// and is accepted as containerd does: the API server refuses
// shareProcessNamespace for Windows pods, so kubelet never means "share"
// by it.
func checkNamespaces(ns *runtimeapi.NamespaceOption, hostProcess bool) error {
	switch ns.GetPid() {
	case runtimeapi.NamespaceMode_TARGET:
		return invalidArg("Windows containers do not support a shared process namespace (pid namespace mode TARGET %q)", ns.GetTargetId())
	case runtimeapi.NamespaceMode_NODE:
		if !hostProcess {
			return invalidArg("Windows containers do not support the host process namespace (hostPID)")
		}
	}
	switch ns.GetIpc() {
	case runtimeapi.NamespaceMode_TARGET:
		return invalidArg("Windows containers do not support a shared IPC namespace (ipc namespace mode TARGET %q)", ns.GetTargetId())
	case runtimeapi.NamespaceMode_NODE:
		if !hostProcess {
			return invalidArg("Windows containers do not support the host IPC namespace (hostIPC)")
		}
	}
	return nil
}

// invalidArg is an errdefs.ErrInvalidArgument error with a formatted
// message.
func invalidArg(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}
