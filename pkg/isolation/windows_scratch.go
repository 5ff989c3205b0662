package isolation

import runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

// ScratchSize is the size in bytes to expand a Windows container's
// scratch disk (the sandbox.vhdx copied from the image's base layer) to:
// the request's rootfs_size_in_bytes, 0 to keep the image's size. runhcs
// never reads the spec's Storage.SandboxSize, so the disk itself must
// grow before the task is created, as containerd's Windows snapshotters
// grow it (plugins/snapshots/windows/cimfs.go, createScratchLayer:
// hcsshim.ExpandSandboxSize) from the label its CRI code sets from the
// same field (internal/cri/server/container_create_windows.go,
// snapshotterOpts). WindowsResources has checked the value's range.
func ScratchSize(c *runtimeapi.ContainerConfig) uint64 {
	if v := c.GetWindows().GetResources().GetRootfsSizeInBytes(); v > 0 {
		return uint64(v)
	}
	return 0
}
