// Package network gives each pod sandbox its network: a network namespace
// per pod (a bind-mounted named netns on Linux, an HCN namespace on
// Windows) joined to a CNI network through libcni.
//
// The network is the first conflist (or conf) in [cni] conf_dir by
// lexical file name; on Linux, when conf_dir holds no configuration
// file at all, a built-in default network is used: bridge (isGateway,
// ipMasq) + host-local + portmap + loopback. Configuration is re-read on
// every Setup and Status, so a CNI daemonset that writes its file after
// wincri started is picked up without a restart.
//
// State, all under the directory given to New (under --state, a tmpfs
// on Linux by default, so a reboot, which ends every pod, clears it):
//
//	netns/<podID>   the pod's netns bind mount (Linux) or HCN namespace id (Windows)
//	cni-cache/      libcni's cache of each ADD, which DEL replays
//	ipam/           host-local allocations of the built-in network
//
// Errors wrap github.com/containerd/errdefs sentinels:
//   - ErrInvalidArgument: a bad pod ID, port mapping, bandwidth annotation
//     or pod CIDR.
//   - ErrFailedPrecondition: no usable CNI network (see NotReadyError).
//   - ErrAlreadyExists: the pod already has a network namespace.
//   - ErrUnavailable: a CNI plugin failed, or the OS refused to create a
//     namespace. Both are worth a retry by kubelet, which is what it does
//     with RunPodSandbox and StopPodSandbox.
//   - ErrNotImplemented: pod networks on an OS other than Linux and Windows.
//
// Manager serialises nothing per pod: the sandbox code must not run Setup
// and Teardown of the same pod at the same time.
package network
