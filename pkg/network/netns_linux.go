package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// builtinDefaultNetwork: the bridge network of the built-in default is
// Linux-only; Windows networks come from conf_dir.
const builtinDefaultNetwork = true

// linuxNamespaces keeps each pod's netns alive as a bind mount of the
// namespace on <dir>/<podID>, as `ip netns add` does.
type linuxNamespaces struct {
	nsDir
}

var _ namespaces = linuxNamespaces{}

func newNamespaces(dir string) namespaces { return linuxNamespaces{nsDir{dir: dir}} }

func (n linuxNamespaces) Create(ctx context.Context, podID string) (string, error) {
	f, err := n.reserve(podID, 0o444)
	if err != nil {
		return "", err
	}
	_ = f.Close()

	path := n.entry(podID)
	errc := make(chan error, 1)
	go func() {
		// The thread is left locked on purpose: it switched namespaces,
		// and a locked thread is destroyed when its goroutine ends, so
		// no other goroutine can ever run in the pod's namespace.
		runtime.LockOSThread()
		errc <- bindNewNetNS(path)
	}()
	if err := <-errc; err != nil {
		_ = n.Remove(ctx, podID)
		return "", fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return path, nil
}

// bindNewNetNS moves the calling, locked thread into a new network
// namespace, brings its loopback up and bind-mounts it on path.
func bindNewNetNS(path string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
	if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}

// loopbackUp sets lo up in the calling thread's network namespace. Every
// pod needs it, also on networks whose conflist has no loopback plugin.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// Path returns the entry only when a namespace is mounted on it: an
// entry left empty by a crash before the mount is no namespace, and CNI
// plugins fail a DEL that names a file that is none.
func (n linuxNamespaces) Path(podID string) (string, error) {
	path := n.entry(podID)
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	if errors.Is(err, unix.ENOENT) || (err == nil && st.Type != unix.NSFS_MAGIC) {
		return "", fmt.Errorf("network namespace of pod %s: %w", podID, errdefs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return path, nil
}

func (n linuxNamespaces) Remove(_ context.Context, podID string) error {
	// MNT_DETACH: a process that still has the namespace open keeps it
	// alive, but the name goes now. EINVAL: not mounted (a crash between
	// creating the file and mounting it).
	if err := unix.Unmount(n.entry(podID), unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return n.removeEntry(podID)
}
