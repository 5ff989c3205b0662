package isolation

import (
	"fmt"
	"path"
	"strings"

	"github.com/containerd/errdefs"
)

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true,
	"kernel.sem": true, "kernel.shmall": true, "kernel.shmmax": true,
	"kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// normalizeSysctlName turns the slash form kubelet accepts
// ("net/ipv4/ip_forward", where a dot belongs to a name such as an
// interface "eth0.100") into the dotted form runc validates.
func normalizeSysctlName(name string) string {
	i := strings.IndexAny(name, "./")
	if i < 0 || name[i] == '.' {
		return name
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, name)
}

// podSysctls validates a pod's sysctls and returns them in dotted form.
// Only namespaced sysctls may be set, and only for a namespace the pod
// owns: setting a net.* sysctl in a host-network pod, or an IPC one with
// host IPC, would change the node.
func podSysctls(in map[string]string, hostNetwork, hostIPC bool) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for name, value := range in {
		n := normalizeSysctlName(name)
		switch {
		case strings.HasPrefix(n, "net."):
			if hostNetwork {
				return nil, fmt.Errorf("sysctl %q: a pod on the host network may not set net.* sysctls: %w", name, errdefs.ErrInvalidArgument)
			}
		case ipcSysctls[n] || strings.HasPrefix(n, "fs.mqueue."):
			if hostIPC {
				return nil, fmt.Errorf("sysctl %q: a pod in the host IPC namespace may not set IPC sysctls: %w", name, errdefs.ErrInvalidArgument)
			}
		case n == "kernel.domainname":
			if hostNetwork { // host network also means the host's UTS namespace
				return nil, fmt.Errorf("sysctl %q: a pod on the host network shares the node's UTS namespace: %w", name, errdefs.ErrInvalidArgument)
			}
		default:
			return nil, fmt.Errorf("sysctl %q is not namespaced and cannot be set for a pod: %w", name, errdefs.ErrInvalidArgument)
		}
		if strings.Contains(n, "..") || path.Clean("/"+strings.ReplaceAll(n, ".", "/")) != "/"+strings.ReplaceAll(n, ".", "/") {
			return nil, fmt.Errorf("sysctl %q: malformed name: %w", name, errdefs.ErrInvalidArgument)
		}
		out[n] = value
	}
	return out, nil
}
