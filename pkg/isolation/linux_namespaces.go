package isolation

import (
	"fmt"
	"strconv"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// sandboxNamespaces lists the namespaces of a pod's sandbox (pause)
// process. The pod's containers later join them by the pause pid.
func sandboxNamespaces(opts *runtimeapi.NamespaceOption, netnsPath string) ([]specs.LinuxNamespace, error) {
	if err := checkUserNamespace(opts.GetUsernsOptions()); err != nil {
		return nil, err
	}
	if opts.GetPid() == runtimeapi.NamespaceMode_TARGET {
		return nil, fmt.Errorf("pid namespace mode TARGET is for containers, not pod sandboxes: %w", errdefs.ErrInvalidArgument)
	}
	nss := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	if opts.GetNetwork() != runtimeapi.NamespaceMode_NODE {
		if netnsPath == "" {
			return nil, fmt.Errorf("pod without host network needs a network namespace path: %w", errdefs.ErrInvalidArgument)
		}
		// A host-network pod also keeps the host's UTS namespace, so its
		// hostname is the node's, as kubelet expects.
		nss = append(nss,
			specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath},
			specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	if opts.GetIpc() != runtimeapi.NamespaceMode_NODE {
		nss = append(nss, specs.LinuxNamespace{Type: specs.IPCNamespace})
	}
	if opts.GetPid() != runtimeapi.NamespaceMode_NODE {
		nss = append(nss, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	return nss, nil
}

// ContainerNamespaces says where a container's namespaces come from.
type ContainerNamespaces struct {
	// SandboxPid is the pod's pause process; the container joins its
	// network, IPC, UTS (and for pid POD, pid) namespaces through /proc.
	SandboxPid uint32
	// TargetPid is the init process of the container named by
	// NamespaceOption.target_id, for pid mode TARGET.
	TargetPid uint32
}

// containerNamespaces lists the namespaces of a container: its own mount
// namespace, the pod's network/IPC/UTS, and the pid namespace its mode
// asks for.
func containerNamespaces(opts *runtimeapi.NamespaceOption, src ContainerNamespaces) ([]specs.LinuxNamespace, error) {
	if err := checkUserNamespace(opts.GetUsernsOptions()); err != nil {
		return nil, err
	}
	needSandbox := opts.GetNetwork() != runtimeapi.NamespaceMode_NODE ||
		opts.GetIpc() != runtimeapi.NamespaceMode_NODE ||
		opts.GetPid() == runtimeapi.NamespaceMode_POD
	if needSandbox && src.SandboxPid == 0 {
		return nil, fmt.Errorf("the pod sandbox has no running process whose namespaces the container could join: %w", errdefs.ErrFailedPrecondition)
	}
	nsPath := func(pid uint32, kind string) string {
		return "/proc/" + strconv.FormatUint(uint64(pid), 10) + "/ns/" + kind
	}
	nss := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	if opts.GetNetwork() != runtimeapi.NamespaceMode_NODE {
		nss = append(nss,
			specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: nsPath(src.SandboxPid, "net")},
			specs.LinuxNamespace{Type: specs.UTSNamespace, Path: nsPath(src.SandboxPid, "uts")})
	}
	if opts.GetIpc() != runtimeapi.NamespaceMode_NODE {
		nss = append(nss, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: nsPath(src.SandboxPid, "ipc")})
	}
	switch opts.GetPid() {
	case runtimeapi.NamespaceMode_NODE:
	case runtimeapi.NamespaceMode_POD:
		nss = append(nss, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: nsPath(src.SandboxPid, "pid")})
	case runtimeapi.NamespaceMode_CONTAINER:
		nss = append(nss, specs.LinuxNamespace{Type: specs.PIDNamespace})
	case runtimeapi.NamespaceMode_TARGET:
		if opts.GetTargetId() == "" || src.TargetPid == 0 {
			return nil, fmt.Errorf("pid namespace mode TARGET needs a running target container (target_id %q): %w", opts.GetTargetId(), errdefs.ErrInvalidArgument)
		}
		nss = append(nss, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: nsPath(src.TargetPid, "pid")})
	default:
		return nil, fmt.Errorf("unknown pid namespace mode %v: %w", opts.GetPid(), errdefs.ErrInvalidArgument)
	}
	return nss, nil
}

// checkUserNamespace accepts the host user namespace only. A pod user
// namespace needs ID-mapped mounts of the rootfs and volumes, which
// wincri does not do yet; kubelet asks for one only when the runtime
// reports the feature, so it never should. The request is still
// validated the way kubelet's conformance tests expect.
func checkUserNamespace(u *runtimeapi.UserNamespace) error {
	if u == nil { // absent means the host's; the mode's zero value is POD
		return nil
	}
	switch u.GetMode() {
	case runtimeapi.NamespaceMode_NODE:
		return nil
	case runtimeapi.NamespaceMode_POD:
		if len(u.GetUids()) != 1 || len(u.GetGids()) != 1 {
			return fmt.Errorf("user namespace: exactly one uid and one gid mapping are supported, got %d and %d: %w", len(u.GetUids()), len(u.GetGids()), errdefs.ErrInvalidArgument)
		}
		for _, m := range []*runtimeapi.IDMapping{u.GetUids()[0], u.GetGids()[0]} {
			if m.GetContainerId() != 0 || m.GetLength() == 0 {
				return fmt.Errorf("user namespace: the mapping must start at container id 0 and not be empty: %w", errdefs.ErrInvalidArgument)
			}
		}
		return fmt.Errorf("user namespaces for pods: %w", errdefs.ErrNotImplemented)
	default:
		return fmt.Errorf("user namespace mode %v is not supported (only NODE and POD are defined for user namespaces): %w", u.GetMode(), errdefs.ErrInvalidArgument)
	}
}
