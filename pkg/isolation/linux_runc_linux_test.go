package isolation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/testutil"
)

// TestLinuxSpecsRunUnderRunc hands the built specs to the real runc: a
// pause process in its own network namespace, then a container joining
// it, and checks from inside what the container sees. It proves that
// runc accepts every option, mount and seccomp rule the builders emit.
func TestLinuxSpecsRunUnderRunc(t *testing.T) {
	testutil.RequireRoot(t)
	runc := testutil.RequireBinary(t, "runc")
	ipTool := testutil.RequireBinary(t, "ip")
	busybox := testutil.RequireBinary(t, "busybox")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	tmp := t.TempDir()
	stateRoot := filepath.Join(tmp, "runc")
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	runIn := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, runc, append([]string{"--root", stateRoot}, args...)...)
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	run := func(args ...string) (string, error) { return runIn(ctx, args...) }
	// Cleanups run after ctx is cancelled.
	cleanup := func(id string) { _, _ = runIn(context.Background(), "delete", "-f", id) }
	// A detached container inherits runc's stdio: give it none, or the
	// pipes stay open for the container's lifetime.
	runDetached := func(bundle, id string) error {
		logFile := filepath.Join(tmp, id+".log")
		cmd := exec.CommandContext(ctx, runc, "--root", stateRoot, "--log", logFile, "run", "-d", "--bundle", bundle, id)
		if err := cmd.Run(); err != nil {
			msg, _ := os.ReadFile(logFile)
			return fmt.Errorf("%w: %s", err, msg)
		}
		return nil
	}

	// The pod's network namespace, as the CNI step would leave it.
	netns := "wincri-isotest-" + suffix
	ipOut, err := exec.CommandContext(ctx, ipTool, "netns", "add", netns).CombinedOutput()
	require.NoError(t, err, string(ipOut))
	t.Cleanup(func() { _ = exec.Command(ipTool, "netns", "delete", netns).Run() })

	floor, err := DaemonOOMScoreAdj()
	require.NoError(t, err)

	// Sandbox.
	pauseRoot := makeBusyboxRootfs(t, filepath.Join(tmp, "pause-rootfs"), busybox, nil)
	pod := testPodConfig()
	pod.Hostname = "isotest"
	pod.DnsConfig = &runtimeapi.DNSConfig{Servers: []string{"127.0.0.53"}}
	pod.Linux = &runtimeapi.LinuxPodSandboxConfig{
		Sysctls: map[string]string{"kernel.shm_rmid_forced": "1"},
		// Privileged, so that privileged containers may join it.
		SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{Privileged: true},
	}

	// The pod's files and shm, as the sandbox's platform code prepares
	// them (pkg/sandbox writePodFiles, mountPodShm).
	files := writePodFiles(t, filepath.Join(tmp, "pod"), pod)
	sbSpec, err := LinuxSandboxSpec(ctx, LinuxSandboxInput{
		ID: "sb-" + suffix, Config: pod, NetNSPath: "/run/netns/" + netns,
		PauseArgs: []string{"/bin/busybox", "sleep", "600"}, RootfsPath: pauseRoot, Files: files,
		RestrictOOMScoreAdj: true, OOMScoreAdjFloor: floor,
	})
	require.NoError(t, err)
	sbBundle := writeBundle(t, filepath.Join(tmp, "sb-bundle"), sbSpec)
	sbID := "sb-" + suffix
	t.Cleanup(func() { cleanup(sbID) })
	require.NoError(t, runDetached(sbBundle, sbID))
	out, err := run("state", sbID)
	require.NoError(t, err, out)
	var state struct {
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &state))
	require.Equal(t, "running", state.Status)

	// Containers joining the pod, one after the other.
	vol := filepath.Join(tmp, "vol")
	require.NoError(t, os.MkdirAll(filepath.Join(vol, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(vol, "f"), []byte("from-volume"), 0o644))
	require.NoError(t, unix.Mount("none", filepath.Join(vol, "sub"), "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(vol, "sub"), unix.MNT_DETACH) })
	blockChmod := filepath.Join(tmp, "block-chmod.json")
	require.NoError(t, os.WriteFile(blockChmod, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod","fchmodat","fchmodat2"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644))
	ctrRoot := makeBusyboxRootfs(t, filepath.Join(tmp, "ctr-rootfs"), busybox, map[string]string{
		"etc/passwd": testPasswd, "etc/group": testGroup,
	})
	// A shared host mount for bidirectional propagation, as kubelet's
	// /var/lib/kubelet is on a node.
	propDir := filepath.Join(tmp, "prop")
	require.NoError(t, os.MkdirAll(propDir, 0o755))
	require.NoError(t, unix.Mount(propDir, propDir, "", unix.MS_BIND, ""))
	t.Cleanup(func() { _ = unix.Unmount(propDir, unix.MNT_DETACH) })
	require.NoError(t, unix.Mount("", propDir, "", unix.MS_SHARED, ""))
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(propDir, "sub"), unix.MNT_DETACH) })

	sh := func(lines ...string) []string { return []string{"/bin/sh", "-c", strings.Join(lines, "; ")} }
	tests := []struct {
		name  string
		cfg   *runtimeapi.ContainerConfig
		check func(t *testing.T, lines []string)
	}{
		{
			name: "identity, pod namespaces, default seccomp, read-only rootfs",
			cfg: &runtimeapi.ContainerConfig{
				Command: sh("id -u", "id -G", "hostname", "cat /proc/sys/kernel/shm_rmid_forced",
					"grep Seccomp: /proc/self/status", "grep NoNewPrivs: /proc/self/status",
					"(touch /probe 2>/dev/null && echo rootfs-rw) || echo rootfs-ro",
					"cat /vol/f; echo", "cat /proc/1/cmdline | tr '\\0' ' '; echo",
					"cat /etc/resolv.conf", "echo $GREETING", "echo shared > /dev/shm/marker"),
				Envs:   []*runtimeapi.KeyValue{{Key: "GREETING", Value: []byte("hello")}},
				Mounts: []*runtimeapi.Mount{{ContainerPath: "/vol", HostPath: vol, Readonly: true}},
				Linux: &runtimeapi.LinuxContainerConfig{
					Resources: &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 64 << 20, CpuShares: 128},
					SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
						RunAsUser:          &runtimeapi.Int64Value{Value: 1000},
						SupplementalGroups: []int64{1234},
						ReadonlyRootfs:     true,
						NoNewPrivs:         true,
						Seccomp:            &runtimeapi.SecurityProfile{},
						NamespaceOptions:   &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_POD},
					},
				},
			},
			check: func(t *testing.T, lines []string) {
				require.GreaterOrEqual(t, len(lines), 11)
				assert.Equal(t, "1000", lines[0])
				assert.ElementsMatch(t, []string{"1000", "33", "50000", "1234"}, strings.Fields(lines[1]))
				assert.Equal(t, "isotest", lines[2], "the pod's UTS namespace")
				assert.Equal(t, "1", lines[3], "the pod's sysctl in the pod's IPC namespace")
				assert.Equal(t, "Seccomp:\t2", lines[4], "runtime/default installs a filter")
				assert.Equal(t, "NoNewPrivs:\t1", lines[5])
				assert.Equal(t, "rootfs-ro", lines[6])
				assert.Equal(t, "from-volume", lines[7])
				assert.Equal(t, "/bin/busybox sleep 600", strings.TrimSpace(lines[8]), "pid 1 is the pause process")
				assert.Equal(t, "nameserver 127.0.0.53", lines[9])
				assert.Equal(t, "hello", lines[10])
				marker, err := os.ReadFile(filepath.Join(files.ShmPath, "marker"))
				require.NoError(t, err)
				assert.Equal(t, "shared\n", string(marker), "the container's /dev/shm is the pod's")
			},
		},
		{
			name: "drop ALL capabilities, own pid namespace",
			cfg: &runtimeapi.ContainerConfig{
				Command: sh("grep CapBnd: /proc/self/status", "grep Seccomp: /proc/self/status", "echo $$"),
				Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
					Capabilities:     &runtimeapi.Capability{DropCapabilities: []string{"ALL"}},
					NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
				}},
			},
			check: func(t *testing.T, lines []string) {
				assert.Equal(t, []string{"CapBnd:\t0000000000000000", "Seccomp:\t0", "1"}, lines)
			},
		},
		{
			name: "masked and read-only paths, localhost seccomp",
			cfg: &runtimeapi.ContainerConfig{
				Command: sh("mkdir -p /tmp/ro", "(touch /tmp/ro/x 2>/dev/null && echo ro-writable) || echo ro-denied",
					"cat /proc/kcore >/dev/null 2>&1 && echo kcore-readable || echo kcore-masked",
					"(chmod 700 /tmp 2>/dev/null && echo chmod-ok) || echo chmod-denied"),
				Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
					ReadonlyPaths: []string{"/tmp/ro"},
					Seccomp:       &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: blockChmod},
				}},
			},
			check: func(t *testing.T, lines []string) {
				assert.Equal(t, []string{"ro-denied", "kcore-masked", "chmod-denied"}, lines)
			},
		},
		{
			name: "recursive read-only mount",
			cfg: &runtimeapi.ContainerConfig{
				Command: sh("(touch /vol/sub/x 2>/dev/null && echo sub-writable) || echo sub-ro"),
				Mounts:  []*runtimeapi.Mount{{ContainerPath: "/vol", HostPath: vol, Readonly: true, RecursiveReadOnly: true}},
			},
			check: func(t *testing.T, lines []string) { assert.Equal(t, []string{"sub-ro"}, lines) },
		},
		{
			name: "privileged",
			cfg: &runtimeapi.ContainerConfig{
				Command: sh("grep CapEff: /proc/self/status", "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted",
					"test -c /dev/null && echo has-null", "grep ' /sys ' /proc/self/mountinfo"),
				Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
					Privileged: true,
					Seccomp:    &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: blockChmod},
				}},
			},
			check: func(t *testing.T, lines []string) {
				require.Len(t, lines, 4)
				assert.NotEqual(t, "CapEff:\t0000000000000000", lines[0])
				assert.NotEqual(t, "CapEff:\t00000000a80425fb", lines[0], "more than the default set")
				assert.Equal(t, []string{"mounted", "has-null"}, lines[1:3])
				f := strings.Fields(lines[3])
				require.Len(t, f, 10, lines[3])
				assert.True(t, strings.HasPrefix(f[5], "rw,"), "the /sys mount is writable: %s", lines[3])
				assert.Equal(t, "rw", f[9], "and so is its superblock: %s", lines[3])
			},
		},
	}
	tests = append(tests, struct {
		name  string
		cfg   *runtimeapi.ContainerConfig
		check func(t *testing.T, lines []string)
	}{
		name: "bidirectional propagation",
		cfg: &runtimeapi.ContainerConfig{
			Command: sh("mkdir -p /m/sub && mount -t tmpfs none /m/sub && echo mounted"),
			Mounts:  []*runtimeapi.Mount{{ContainerPath: "/m", HostPath: propDir, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}},
			Linux:   &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{Privileged: true}},
		},
		check: func(t *testing.T, lines []string) {
			assert.Equal(t, []string{"mounted"}, lines)
			info, err := os.ReadFile("/proc/self/mountinfo")
			require.NoError(t, err)
			assert.Contains(t, string(info), " "+filepath.Join(propDir, "sub")+" ", "the container's mount reached the host")
		},
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctrID := fmt.Sprintf("ctr%d-%s", i, suffix)
			tt.cfg.Metadata = &runtimeapi.ContainerMetadata{Name: fmt.Sprintf("probe%d", i)}
			ctrSpec, err := LinuxContainerSpec(ctx, LinuxContainerInput{
				ID: ctrID, SandboxID: sbID, SandboxConfig: pod, Config: tt.cfg,
				RootfsPath: ctrRoot,
				Namespaces: ContainerNamespaces{SandboxPid: uint32(state.Pid)},
				Files:      files,
			})
			require.NoError(t, err)
			ctrBundle := writeBundle(t, filepath.Join(tmp, ctrID), ctrSpec)
			t.Cleanup(func() { cleanup(ctrID) })
			out, err := run("run", "--bundle", ctrBundle, ctrID)
			require.NoError(t, err, out)
			tt.check(t, strings.Split(strings.TrimSpace(out), "\n"))
		})
	}
}

// makeBusyboxRootfs lays out a minimal rootfs: busybox as /bin/sh and
// the given files.
func makeBusyboxRootfs(t *testing.T, root, busybox string, files map[string]string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	src, err := os.Open(busybox)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(root, "bin", "busybox"), os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
	require.NoError(t, os.Symlink("busybox", filepath.Join(root, "bin", "sh")))
	for _, d := range []string{"proc", "dev", "sys", "etc", "vol", "tmp/ro"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	for _, f := range []string{"etc/hostname", "etc/hosts", "etc/resolv.conf"} {
		require.NoError(t, os.WriteFile(filepath.Join(root, f), nil, 0o644))
	}
	for p, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(content), 0o644))
	}
	return root
}

func writeBundle(t *testing.T, dir string, spec *specs.Spec) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	data, err := json.MarshalIndent(spec, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644))
	return dir
}

// writePodFiles writes the files a pod's containers bind-mount and mounts
// its shm, standing in for pkg/sandbox's writePodFiles and mountPodShm.
func writePodFiles(t *testing.T, dir string, pod *runtimeapi.PodSandboxConfig) SandboxFiles {
	t.Helper()
	files := SandboxFiles{
		HostnamePath:   filepath.Join(dir, "hostname"),
		HostsPath:      filepath.Join(dir, "hosts"),
		ResolvConfPath: filepath.Join(dir, "resolv.conf"),
		ShmPath:        filepath.Join(dir, "shm"),
	}
	hostname, err := PodHostname(pod, os.Hostname)
	require.NoError(t, err)
	resolv, err := ResolvConf(pod.GetDnsConfig())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(files.ShmPath, 0o700))
	require.NoError(t, os.WriteFile(files.HostnamePath, []byte(hostname+"\n"), 0o644))
	require.NoError(t, os.WriteFile(files.HostsPath, []byte("127.0.0.1 localhost\n"), 0o644))
	require.NoError(t, os.WriteFile(files.ResolvConfPath, resolv, 0o644))
	require.NoError(t, unix.Mount("shm", files.ShmPath, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"))
	t.Cleanup(func() { _ = unix.Unmount(files.ShmPath, unix.MNT_DETACH) })
	return files
}
