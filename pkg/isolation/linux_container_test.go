package isolation

import (
	"context"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/shim"
)

func testPodConfig() *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "uid-1", Attempt: 0},
		Hostname:     "web-host",
		LogDirectory: "/var/log/pods/default_web_uid-1",
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: "/kubepods/besteffort/poduid-1",
		},
	}
}

// testContainerInput is a typical kubelet request for a container in a
// pod whose pause process is pid 42.
func testContainerInput(t testing.TB) LinuxContainerInput {
	root := writeRootfs(t, map[string]string{"etc/passwd": testPasswd, "etc/group": testGroup})
	return LinuxContainerInput{
		ID:            "ctr1",
		SandboxID:     "pod1",
		SandboxConfig: testPodConfig(),
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
			Image:    &runtimeapi.ImageSpec{Image: "example.test/app:1"},
			Args:     []string{"serve"},
			Envs:     []*runtimeapi.KeyValue{{Key: "MODE", Value: []byte("prod")}},
			Linux: &runtimeapi.LinuxContainerConfig{
				Resources: &runtimeapi.LinuxContainerResources{CpuShares: 256, MemoryLimitInBytes: 32 << 20, OomScoreAdj: 1000},
				SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
					NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
				},
			},
		},
		ImageName:   "example.test/app:1",
		ImageConfig: imagespec.ImageConfig{Entrypoint: []string{"/app"}, Cmd: []string{"default"}, Env: []string{"IMG=1"}, WorkingDir: "/srv", User: "www"},
		RootfsPath:  root,
		Namespaces:  ContainerNamespaces{SandboxPid: 42},
		Files:       SandboxFiles{HostnamePath: "/s/hostname", HostsPath: "/s/hosts", ResolvConfPath: "/s/resolv.conf", ShmPath: "/s/shm"},
		Host:        newFakeHost(),
	}
}

func TestLinuxContainerSpecTypical(t *testing.T) {
	in := testContainerInput(t)
	spec, err := LinuxContainerSpec(context.Background(), in)
	require.NoError(t, err)

	assert.Equal(t, in.RootfsPath, spec.Root.Path)
	assert.False(t, spec.Root.Readonly)
	assert.Equal(t, []string{"/app", "serve"}, spec.Process.Args)
	assert.Equal(t, []string{defaultPathEnv, "HOSTNAME=web-host", "IMG=1", "MODE=prod"}, spec.Process.Env)
	assert.Equal(t, "/srv", spec.Process.Cwd)
	assert.Equal(t, specs.User{UID: 33, GID: 33, AdditionalGids: []uint32{33, 50000}}, spec.Process.User)
	assert.False(t, spec.Process.Terminal)
	assert.False(t, spec.Process.NoNewPrivileges)
	assert.Empty(t, spec.Hostname, "the container joins the pod's UTS namespace")
	assert.Equal(t, []specs.LinuxNamespace{
		{Type: specs.MountNamespace},
		{Type: specs.NetworkNamespace, Path: "/proc/42/ns/net"},
		{Type: specs.UTSNamespace, Path: "/proc/42/ns/uts"},
		{Type: specs.IPCNamespace, Path: "/proc/42/ns/ipc"},
		{Type: specs.PIDNamespace},
	}, spec.Linux.Namespaces)
	assert.ElementsMatch(t, defaultLinuxCaps, spec.Process.Capabilities.Bounding)
	assert.Equal(t, DefaultMaskedPaths, spec.Linux.MaskedPaths)
	assert.Equal(t, DefaultReadonlyPaths, spec.Linux.ReadonlyPaths)
	assert.Nil(t, spec.Linux.Seccomp, "no seccomp profile asked for means unconfined")
	assert.Equal(t, "/kubepods/besteffort/poduid-1/ctr1", spec.Linux.CgroupsPath)
	require.NotNil(t, spec.Process.OOMScoreAdj)
	assert.Equal(t, 1000, *spec.Process.OOMScoreAdj)
	assert.Equal(t, linuxPtr(uint64(256)), spec.Linux.Resources.CPU.Shares)
	assert.Equal(t, linuxPtr(int64(32<<20)), spec.Linux.Resources.Memory.Limit)
	assert.Equal(t, []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, spec.Linux.Resources.Devices)
	assert.Equal(t, map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeContainer,
		shim.AnnotationSandboxID:     "pod1",
		AnnotationSandboxName:        "web",
		AnnotationSandboxNamespace:   "default",
		AnnotationSandboxUID:         "uid-1",
		AnnotationContainerName:      "app",
		AnnotationImageName:          "example.test/app:1",
	}, spec.Annotations)

	mounts := map[string]specs.Mount{}
	for _, m := range spec.Mounts {
		mounts[m.Destination] = m
	}
	for _, d := range []string{"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/shm"} {
		assert.Contains(t, mounts, d)
	}
	assert.Equal(t, "/s/shm", mounts["/dev/shm"].Source, "the pod's shm replaces the default tmpfs")
	assert.Contains(t, mounts["/sys"].Options, "ro")
}

func TestLinuxContainerSpecVariants(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(in *LinuxContainerInput)
		check   func(t *testing.T, spec *specs.Spec)
		wantErr error
	}{
		{
			name: "privileged",
			mutate: func(in *LinuxContainerInput) {
				in.SandboxConfig.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{Privileged: true}
				sc := in.Config.Linux.SecurityContext
				sc.Privileged = true
				sc.Seccomp = &runtimeapi.SecurityProfile{}
				sc.Capabilities = &runtimeapi.Capability{DropCapabilities: []string{"ALL"}}
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.ElementsMatch(t, allLinuxCaps, spec.Process.Capabilities.Bounding)
				assert.Empty(t, spec.Linux.MaskedPaths)
				assert.Empty(t, spec.Linux.ReadonlyPaths)
				assert.Nil(t, spec.Linux.Seccomp, "privileged ignores seccomp")
				assert.Equal(t, []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}, spec.Linux.Resources.Devices)
				assert.Len(t, spec.Linux.Devices, 2, "every host device")
				for _, m := range spec.Mounts {
					if m.Type == "sysfs" || m.Type == "cgroup" {
						assert.Contains(t, m.Options, "rw")
						assert.NotContains(t, m.Options, "ro")
					}
				}
			},
		},
		{
			name: "privileged container in unprivileged pod",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Linux.SecurityContext.Privileged = true
			},
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "runtime default seccomp, nnp, readonly rootfs, tty",
			mutate: func(in *LinuxContainerInput) {
				sc := in.Config.Linux.SecurityContext
				sc.Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
				sc.NoNewPrivs = true
				sc.ReadonlyRootfs = true
				in.Config.Tty = true
			},
			check: func(t *testing.T, spec *specs.Spec) {
				require.NotNil(t, spec.Linux.Seccomp)
				assert.Equal(t, specs.ActAllow, spec.Linux.Seccomp.DefaultAction)
				assert.True(t, spec.Process.NoNewPrivileges)
				assert.True(t, spec.Root.Readonly)
				assert.True(t, spec.Process.Terminal)
				for _, m := range spec.Mounts {
					if m.Destination == "/etc/hosts" {
						assert.Contains(t, m.Options, "ro")
					}
				}
			},
		},
		{
			name: "host network uses the node's hostname and no net/uts namespaces",
			mutate: func(in *LinuxContainerInput) {
				in.SandboxConfig.Hostname = ""
				in.Config.Linux.SecurityContext.NamespaceOptions = &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_POD}
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Contains(t, spec.Process.Env, "HOSTNAME=node-1")
				for _, ns := range spec.Linux.Namespaces {
					assert.NotEqual(t, specs.NetworkNamespace, ns.Type)
					assert.NotEqual(t, specs.UTSNamespace, ns.Type)
				}
				assert.Contains(t, spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/42/ns/pid"})
			},
		},
		{
			name: "host ipc binds the host's /dev/shm",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Linux.SecurityContext.NamespaceOptions.Ipc = runtimeapi.NamespaceMode_NODE
			},
			check: func(t *testing.T, spec *specs.Spec) {
				i := slices.IndexFunc(spec.Mounts, func(m specs.Mount) bool { return m.Destination == "/dev/shm" })
				require.GreaterOrEqual(t, i, 0)
				assert.Equal(t, "/dev/shm", spec.Mounts[i].Source)
			},
		},
		{
			name: "a volume over /etc/hosts replaces the pod's file",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: "/etc/hosts", HostPath: "/data"}}
			},
			check: func(t *testing.T, spec *specs.Spec) {
				var sources []string
				for _, m := range spec.Mounts {
					if m.Destination == "/etc/hosts" {
						sources = append(sources, m.Source)
					}
				}
				assert.Equal(t, []string{"/data"}, sources)
			},
		},
		{
			name: "oom score clamped to the daemon's",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Linux.Resources.OomScoreAdj = -997
				in.RestrictOOMScoreAdj, in.OOMScoreAdjFloor = true, -500
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Equal(t, -500, *spec.Process.OOMScoreAdj)
			},
		},
		{
			name: "capabilities and devices",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Linux.SecurityContext.Capabilities = &runtimeapi.Capability{AddCapabilities: []string{"NET_ADMIN"}, DropCapabilities: []string{"NET_RAW"}}
				in.Config.Devices = []*runtimeapi.Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rw"}}
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Contains(t, spec.Process.Capabilities.Effective, "CAP_NET_ADMIN")
				assert.NotContains(t, spec.Process.Capabilities.Effective, "CAP_NET_RAW")
				require.Len(t, spec.Linux.Devices, 1)
				assert.Len(t, spec.Linux.Resources.Devices, 2)
			},
		},
		{
			name:    "invalid resources",
			mutate:  func(in *LinuxContainerInput) { in.Config.Linux.Resources.CpuShares = 1 },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "run_as_group without user",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Linux.SecurityContext.RunAsGroup = &runtimeapi.Int64Value{Value: 5}
			},
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "no sandbox pid",
			mutate:  func(in *LinuxContainerInput) { in.Namespaces.SandboxPid = 0 },
			wantErr: errdefs.ErrFailedPrecondition,
		},
		{
			name: "no command anywhere",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Args = nil
				in.ImageConfig.Entrypoint = nil
				in.ImageConfig.Cmd = nil
			},
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "missing metadata",
			mutate:  func(in *LinuxContainerInput) { in.Config.Metadata = nil },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "nil config",
			mutate:  func(in *LinuxContainerInput) { in.Config = nil },
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name: "no linux section at all",
			mutate: func(in *LinuxContainerInput) {
				in.Config.Linux = nil
				in.SandboxConfig.Linux = nil
			},
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Nil(t, spec.Process.OOMScoreAdj)
				assert.Empty(t, spec.Linux.CgroupsPath)
				assert.Contains(t, spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/42/ns/pid"}, "the zero pid mode is POD")
			},
		},
		{
			name:   "systemd slice parent",
			mutate: func(in *LinuxContainerInput) { in.SandboxConfig.Linux.CgroupParent = "kubepods-pod1.slice" },
			check: func(t *testing.T, spec *specs.Spec) {
				assert.Equal(t, "kubepods-pod1.slice:wincri:ctr1", spec.Linux.CgroupsPath)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testContainerInput(t)
			tt.mutate(&in)
			spec, err := LinuxContainerSpec(context.Background(), in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, spec)
		})
	}
}
