package sandbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// sandboxShmSize matches the /dev/shm every container runtime gives a pod
// by default.
const sandboxShmSize = "size=65536k"

// mountPodShm mounts the pod's shared /dev/shm, a tmpfs at path
// (isolation.SandboxFiles.ShmPath), so that the containers of a pod, which share its
// IPC namespace, also share its POSIX shared memory. Mounting an already
// mounted path is not an error, so a retried RunPodSandbox succeeds.
func mountPodShm(path string) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	if mounted, err := isMountPoint(path); err != nil {
		return err
	} else if mounted {
		return nil
	}
	if err := unix.Mount("shm", path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,"+sandboxShmSize); err != nil {
		return fmt.Errorf("mounting the pod's shm at %s: %w", path, err)
	}
	return nil
}

// unmountPodShm undoes mountPodShm; a path that is not mounted
// (or gone) is not an error, so StopPodSandbox stays idempotent.
func unmountPodShm(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return fmt.Errorf("unmounting the pod's shm at %s: %w", path, err)
}

// isMountPoint compares the device of path with its parent's.
func isMountPoint(path string) (bool, error) {
	var st, parent unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return false, err
	}
	if err := unix.Lstat(path+"/..", &parent); err != nil {
		return false, err
	}
	return st.Dev != parent.Dev || st.Ino == parent.Ino, nil
}
