package isolation

import (
	"context"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/shim"
)

func testSandboxInput() LinuxSandboxInput {
	cfg := testPodConfig()
	cfg.Linux.Sysctls = map[string]string{"kernel.shm_rmid_forced": "1", "net.ipv4.ping_group_range": "0 2147483647"}
	return LinuxSandboxInput{
		ID:         "pod1",
		Config:     cfg,
		NetNSPath:  "/var/run/netns/cni-1",
		PauseArgs:  []string{"/pause"},
		RootfsPath: "/var/lib/wincri/pause",
		Files:      SandboxFiles{HostnamePath: "/s/hostname", HostsPath: "/s/hosts", ResolvConfPath: "/s/resolv.conf", ShmPath: "/s/shm"},
		Host:       newFakeHost(),
	}
}

func TestLinuxSandboxSpecTypical(t *testing.T) {
	spec, err := LinuxSandboxSpec(context.Background(), testSandboxInput())
	require.NoError(t, err)

	assert.Equal(t, &specs.Root{Path: "/var/lib/wincri/pause", Readonly: true}, spec.Root)
	assert.Equal(t, []string{"/pause"}, spec.Process.Args)
	assert.Equal(t, "web-host", spec.Hostname)
	assert.True(t, spec.Process.NoNewPrivileges)
	assert.Equal(t, []specs.LinuxNamespace{
		{Type: specs.MountNamespace},
		{Type: specs.NetworkNamespace, Path: "/var/run/netns/cni-1"},
		{Type: specs.UTSNamespace},
		{Type: specs.IPCNamespace},
		{Type: specs.PIDNamespace},
	}, spec.Linux.Namespaces)
	assert.Equal(t, map[string]string{"kernel.shm_rmid_forced": "1", "net.ipv4.ping_group_range": "0 2147483647"}, spec.Linux.Sysctl)
	assert.Equal(t, SandboxOOMScoreAdj, *spec.Process.OOMScoreAdj)
	assert.Equal(t, linuxPtr(uint64(2)), spec.Linux.Resources.CPU.Shares)
	assert.Equal(t, "/kubepods/besteffort/poduid-1/pod1", spec.Linux.CgroupsPath)
	assert.Equal(t, specs.User{AdditionalGids: []uint32{0}}, spec.Process.User)
	assert.ElementsMatch(t, defaultLinuxCaps, spec.Process.Capabilities.Bounding)
	assert.Nil(t, spec.Linux.Seccomp)
	assert.Equal(t, map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeSandbox,
		shim.AnnotationSandboxID:     "pod1",
		AnnotationSandboxName:        "web",
		AnnotationSandboxNamespace:   "default",
		AnnotationSandboxUID:         "uid-1",
		AnnotationSandboxLogDir:      "/var/log/pods/default_web_uid-1",
	}, spec.Annotations)

	byDest := map[string]specs.Mount{}
	for _, m := range spec.Mounts {
		byDest[m.Destination] = m
	}
	want := map[string]specs.Mount{
		"/proc":            {Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		"/dev":             {Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		"/dev/pts":         {Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		"/dev/mqueue":      {Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		"/sys":             {Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		"/sys/fs/cgroup":   {Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		"/dev/shm":         bindMount("/s/shm", "/dev/shm", false, "rprivate"),
		"/etc/hostname":    bindMount("/s/hostname", "/etc/hostname", true, "rprivate"),
		"/etc/hosts":       bindMount("/s/hosts", "/etc/hosts", true, "rprivate"),
		"/etc/resolv.conf": bindMount("/s/resolv.conf", "/etc/resolv.conf", true, "rprivate"),
	}
	assert.Equal(t, want, byDest)
}

func TestLinuxSandboxSpecVariants(t *testing.T) {
	i64 := func(v int64) *runtimeapi.Int64Value { return &runtimeapi.Int64Value{Value: v} }
	sc := func(in *LinuxSandboxInput) *runtimeapi.LinuxSandboxSecurityContext {
		if in.Config.Linux.SecurityContext == nil {
			in.Config.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{}
		}
		return in.Config.Linux.SecurityContext
	}
	tests := []struct {
		name    string
		mutate  func(in *LinuxSandboxInput)
		check   func(t *testing.T, spec *specs.Spec)
		wantErr error
	}{
		{
			name: "host network, ipc and pid",
			mutate: func(in *LinuxSandboxInput) {
				in.Config.Linux.Sysctls = map[string]string{"kernel.shm_rmid_forced": "1"}
				sc(in).NamespaceOptions = &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_NODE}
				in.NetNSPath = ""
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Equal(t, []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.IPCNamespace}}, spec.Linux.Namespaces)
				assert.Empty(t, spec.Hostname, "the host's UTS namespace keeps the node's name")
			},
		},
		{
			name: "net sysctl on host network",
			mutate: func(in *LinuxSandboxInput) {
				sc(in).NamespaceOptions = &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}
			},
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "host ipc uses the host shm",
			mutate: func(in *LinuxSandboxInput) {
				in.Config.Linux.Sysctls = nil
				sc(in).NamespaceOptions = &runtimeapi.NamespaceOption{Ipc: runtimeapi.NamespaceMode_NODE}
			},
			check: func(t *testing.T, spec *specs.Spec) {
				for _, m := range spec.Mounts {
					if m.Destination == "/dev/shm" {
						assert.Equal(t, "/dev/shm", m.Source)
					}
				}
			},
		},
		{
			name: "oom score clamped",
			mutate: func(in *LinuxSandboxInput) {
				in.RestrictOOMScoreAdj, in.OOMScoreAdjFloor = true, 0
			},
			check: func(t *testing.T, spec *specs.Spec) { assert.Equal(t, 0, *spec.Process.OOMScoreAdj) },
		},
		{
			name: "oom score not clamped when the daemon may go lower",
			mutate: func(in *LinuxSandboxInput) {
				in.RestrictOOMScoreAdj, in.OOMScoreAdjFloor = true, -999
			},
			check: func(t *testing.T, spec *specs.Spec) { assert.Equal(t, -998, *spec.Process.OOMScoreAdj) },
		},
		{
			name: "run as user and groups",
			mutate: func(in *LinuxSandboxInput) {
				s := sc(in)
				s.RunAsUser, s.RunAsGroup, s.SupplementalGroups = i64(65535), i64(65535), []int64{1, 2}
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Equal(t, specs.User{UID: 65535, GID: 65535, AdditionalGids: []uint32{65535, 1, 2}}, spec.Process.User)
			},
		},
		{
			name:    "run as group without user",
			mutate:  func(in *LinuxSandboxInput) { sc(in).RunAsGroup = i64(1) },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "privileged",
			mutate: func(in *LinuxSandboxInput) {
				sc(in).Privileged = true
				sc(in).Seccomp = &runtimeapi.SecurityProfile{}
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.ElementsMatch(t, allLinuxCaps, spec.Process.Capabilities.Bounding)
				assert.Empty(t, spec.Linux.MaskedPaths)
				assert.Nil(t, spec.Linux.Seccomp)
				for _, m := range spec.Mounts {
					if m.Type == "sysfs" {
						assert.Contains(t, m.Options, "rw")
					}
				}
			},
		},
		{
			name:   "runtime default seccomp",
			mutate: func(in *LinuxSandboxInput) { sc(in).Seccomp = &runtimeapi.SecurityProfile{} },
			check:  func(t *testing.T, spec *specs.Spec) { assert.NotNil(t, spec.Linux.Seccomp) },
		},
		{
			name:   "systemd cgroup",
			mutate: func(in *LinuxSandboxInput) { in.Config.Linux.CgroupParent = "kubepods-besteffort-poduid.slice" },
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Equal(t, "kubepods-besteffort-poduid.slice:wincri:pod1", spec.Linux.CgroupsPath)
			},
		},
		{name: "missing netns", mutate: func(in *LinuxSandboxInput) { in.NetNSPath = "" }, wantErr: errdefs.ErrInvalidArgument},
		{name: "missing metadata", mutate: func(in *LinuxSandboxInput) { in.Config.Metadata = nil }, wantErr: errdefs.ErrInvalidArgument},
		{name: "missing pause", mutate: func(in *LinuxSandboxInput) { in.PauseArgs = nil }, wantErr: errdefs.ErrInvalidArgument},
		{name: "nil config", mutate: func(in *LinuxSandboxInput) { in.Config = nil }, wantErr: errdefs.ErrInvalidArgument},
		{name: "bad cgroup parent", mutate: func(in *LinuxSandboxInput) { in.Config.Linux.CgroupParent = "kubepods" }, wantErr: errdefs.ErrInvalidArgument},
		{name: "unsafe sysctl", mutate: func(in *LinuxSandboxInput) { in.Config.Linux.Sysctls = map[string]string{"kernel.panic": "1"} }, wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testSandboxInput()
			tt.mutate(&in)
			spec, err := LinuxSandboxSpec(context.Background(), in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, spec)
		})
	}
}
