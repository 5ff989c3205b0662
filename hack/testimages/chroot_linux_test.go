package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
)

// TestImagesRunInChroot unpacks served images and runs their shell in a
// chroot, as a container would: busybox, its applets and, for a dynamic
// busybox, its loader and libraries must all be in the image.
func TestImagesRunInChroot(t *testing.T) {
	testutil.RequireRoot(t)
	addr := servedRegistry(t)
	for _, tc := range []struct {
		image string
		cmd   string
		uid   uint32
		want  string
	}{
		// Set-uid root works unless no_new_privs is set.
		{image: e2eImages + "nonewprivs:1.3", cmd: "/usr/local/bin/nnp", uid: 1000, want: "Effective uid: 0\n"},
		{image: e2eImages + "busybox:1.29-2", cmd: "echo -n hello", want: "hello"},
		{image: criTools + "test-image-predefined-group:latest", cmd: "id -G default-user", want: "1000 50000\n"},
		{image: criTools + "test-image-user-username:latest", cmd: "id -u www-data", want: "33\n"},
		// The child is "sleep" only once it has exec'd: retry until then.
		{image: e2eImages + "busybox:1.29-2", cmd: "sleep 30 & p=$!; for i in 1 2 3 4 5 6 7 8 9 10; do pgrep sleep | grep -qx $p && { echo found; break; }; sleep 1; done; kill $p", want: "found\n"},
		{image: e2eImages + "busybox:1.29-2", cmd: "pgrep no-such-process || echo none", want: "none\n"},
		{image: e2eImages + "busybox:1.29-2", cmd: "ipcs -m | head -n 3", want: "\n------ Shared Memory Segments --------\nkey        shmid      owner      perms      bytes      nattch\n"},
		{image: e2eImages + "nginx:1.14-2", cmd: "sed -n 's/^[[:space:]]*listen[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p' /etc/nginx/conf.d/default.conf", want: "80\n"},
	} {
		t.Run(tc.image, func(t *testing.T) {
			root := unpack(t, addr, tc.image)
			mountProc(t, root)
			cmd := exec.Command("/bin/sh", "-c", tc.cmd)
			// Its own IPC namespace, as in a container: ipcs sees nothing.
			cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Cloneflags: syscall.CLONE_NEWIPC, Credential: &syscall.Credential{Uid: tc.uid, Gid: tc.uid}}
			cmd.Dir = "/"
			cmd.Env = []string{defaultPath}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Equal(t, tc.want, string(out))
		})
	}
}

// mountProc gives root a /proc (the host's, enough for pgrep to find a
// child) and a /dev/null, as a runtime would, for the test's duration.
func mountProc(t *testing.T, root string) {
	t.Helper()
	proc := filepath.Join(root, "proc")
	require.NoError(t, os.MkdirAll(proc, 0o555))
	require.NoError(t, syscall.Mount("proc", proc, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""))
	t.Cleanup(func() { assert.NoError(t, syscall.Unmount(proc, syscall.MNT_DETACH)) })
	require.NoError(t, os.MkdirAll(filepath.Join(root, "dev"), 0o755))
	require.NoError(t, syscall.Mknod(filepath.Join(root, "dev/null"), syscall.S_IFCHR|0o666, int(unixMkdev(1, 3))))
}

func TestCollectLibsOfDynamicBinary(t *testing.T) {
	bin := testutil.RequireBinary(t, "ls")
	libs := map[string][]byte{}
	require.NoError(t, collectLibs(bin, libs))
	if len(libs) == 0 {
		t.Skip(bin + " is statically linked here")
	}
	var names []string
	for p := range libs {
		names = append(names, filepath.Base(p))
	}
	assert.Contains(t, strings.Join(names, " "), "libc.so")
	assert.Contains(t, strings.Join(names, " "), "ld-linux")
}

// unpack writes the flattened file system of a served image to a temporary
// directory, keeping hard links and modes.
func unpack(t *testing.T, addr, upstream string) string {
	t.Helper()
	_, local, err := localRef(upstream)
	require.NoError(t, err)
	ref, err := name.ParseReference(addr+"/"+local, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	require.NoError(t, err)
	root := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return root
		}
		require.NoError(t, err)
		p := filepath.Join(root, filepath.Clean("/"+hdr.Name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		switch hdr.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, os.FileMode(hdr.Mode)&os.ModePerm))
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(hdr.Mode)&os.ModePerm)
			require.NoError(t, err)
			_, err = io.Copy(f, tr)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			// OpenFile's mode passes through the umask and drops set-uid.
			require.NoError(t, os.Chmod(p, hdr.FileInfo().Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)))
		case tar.TypeLink:
			require.NoError(t, os.Link(filepath.Join(root, filepath.Clean("/"+hdr.Linkname)), p))
			// As containerd does: the link header's mode applies to the
			// shared inode.
			require.NoError(t, os.Chmod(p, os.FileMode(hdr.Mode)&os.ModePerm))
		case tar.TypeSymlink:
			require.NoError(t, os.Symlink(hdr.Linkname, p))
		}
	}
}

// TestStandInServersRun starts the long-running entry points of the images
// as their image config would, and checks that each keeps running until
// SIGTERM and then exits 0 at once, as a container being stopped must.
func TestStandInServersRun(t *testing.T) {
	testutil.RequireRoot(t)
	addr := servedRegistry(t)
	for _, tc := range []struct {
		image    string
		args     []string
		uid, gid uint32
		// comm and cmdArg, when set, are the process name and one
		// argument critest looks for.
		comm, cmdArg string
	}{
		{image: "registry.k8s.io/pause:3.9", args: []string{"/pause"}, uid: 65535, gid: 65535, comm: "pause"},
		{image: e2eImages + "nginx:1.14-2", args: []string{"/usr/sbin/nginx", "-g", "daemon off;"}, comm: "nginx", cmdArg: "master process"},
		{image: e2eImages + "httpd:2.4.39-4", args: []string{"/usr/local/apache2/bin/httpd-foreground"}},
	} {
		t.Run(tc.image, func(t *testing.T) {
			root := unpack(t, addr, tc.image)
			// A runtime provides /dev/null; a shell's background job reads it.
			require.NoError(t, syscall.Mknod(filepath.Join(root, "dev/null"), syscall.S_IFCHR|0o666, int(unixMkdev(1, 3))))
			cmd := exec.Command(tc.args[0], tc.args[1:]...)
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Chroot:     root,
				Credential: &syscall.Credential{Uid: tc.uid, Gid: tc.gid},
				// PID 1 of its own PID namespace, as in a container (so
				// nothing outlives it), and its own network namespace: the
				// servers bind port 80.
				Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNET,
			}
			cmd.Dir = "/"
			cmd.Env = []string{defaultPath}
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				t.Fatalf("%s exited early: %v; output: %s", tc.args[0], err, out.String())
			case <-time.After(time.Second):
			}
			if tc.comm != "" {
				// The script re-execs itself first: allow for a loaded machine.
				assert.Eventually(t, func() bool {
					comm, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid))
					cmdline, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
					return err1 == nil && err2 == nil && string(comm) == tc.comm+"\n" &&
						(tc.cmdArg == "" || slices.Contains(strings.Split(string(cmdline), "\x00"), tc.cmdArg))
				}, 10*time.Second, 50*time.Millisecond, "process name %q and argument %q", tc.comm, tc.cmdArg)
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			select {
			case err := <-exited:
				assert.NoError(t, err, "exit status after SIGTERM; output: %s", out.String())
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("%s ignored SIGTERM", tc.args[0])
			}
		})
	}
}

func unixMkdev(major, minor uint32) uint64 {
	return uint64(major)<<8 | uint64(minor)
}
