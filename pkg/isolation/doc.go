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
// OS-version compatibility of Windows images (osversion*.go) decides
// whether an image can run process-isolated on this host.
//
// Errors wrap the github.com/containerd/errdefs sentinels; a request that
// Windows isolation cannot honour is errdefs.ErrInvalidArgument naming the
// feature.
package isolation
