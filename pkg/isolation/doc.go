// Package isolation maps a RuntimeClass handler to an isolation mode and
// builds what a shim needs to run a pod in that mode: the shim binary and
// its runtime options, and the OCI runtime specs of sandboxes and
// containers.
//
// Windows (handler*.go, validate*.go, uvm*.go, runhcs*.go, windows*.go):
// the "process" handler runs each container as a silo on the host kernel,
// the "hyperv" handler runs the whole pod in one Hyper-V utility VM, both
// through containerd-shim-runhcs-v1. The Windows builders are plain Go so
// that Linux tests cover them; only the host probe is Windows-specific.
//
// Linux (linux*.go, user*.go): the "process" handler runs runc containers
// through containerd-shim-runc-v2.
//
// The package only reads the host (user*.go, linux_host.go,
// handler_host*.go); what a spec needs on disk (a pod's hostname, hosts,
// resolv.conf and shm) the sandbox's platform code writes. OS-version
// rules live in pkg/winversion, a leaf that pkg/image shares.
//
// Errors wrap the github.com/containerd/errdefs sentinels; a request that
// Windows isolation cannot honour is errdefs.ErrInvalidArgument naming the
// feature.
package isolation
