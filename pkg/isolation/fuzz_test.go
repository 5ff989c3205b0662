package isolation

import (
	"context"
	"errors"
	"testing"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
)

// The spec builders' fuzz targets decode whole CRI requests from the
// fuzzer's bytes, as gRPC would deliver them, and build specs from them:
// a builder must never panic, and every error must wrap an errdefs
// sentinel so that pkg/cri maps it to a meaningful code.

// checkSpecError asserts that a builder's error wraps an errdefs
// sentinel (the builders' documented ones and ErrNotImplemented).
func checkSpecError(t *testing.T, err error) {
	t.Helper()
	for _, sentinel := range []error{errdefs.ErrInvalidArgument, errdefs.ErrNotFound, errdefs.ErrFailedPrecondition, errdefs.ErrNotImplemented} {
		if errors.Is(err, sentinel) {
			return
		}
	}
	t.Errorf("error wraps no errdefs sentinel: %v", err)
}

// addRequestSeed adds the encoding of a CreateContainerRequest, which
// carries both a container and its pod's config.
func addRequestSeed(f *testing.F, pod *runtimeapi.PodSandboxConfig, c *runtimeapi.ContainerConfig) {
	b, err := proto.Marshal(&runtimeapi.CreateContainerRequest{PodSandboxId: "pod", Config: c, SandboxConfig: pod})
	require.NoError(f, err)
	f.Add(b, "", "/", false)
}

func decodeRequest(data []byte) (*runtimeapi.CreateContainerRequest, bool) {
	req := &runtimeapi.CreateContainerRequest{}
	return req, proto.Unmarshal(data, req) == nil
}

func fuzzCtx() context.Context { return klog.NewContext(context.Background(), klog.Background().V(10)) }

func FuzzLinuxContainerSpec(f *testing.F) {
	pod := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u"},
		Linux:    &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_POD}}},
	}
	addRequestSeed(f, nil, nil)
	addRequestSeed(f, pod, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
		Image:    &runtimeapi.ImageSpec{Image: "busybox"},
		Command:  []string{"/bin/sh"}, Args: []string{"-c", "true"},
		Envs:    []*runtimeapi.KeyValue{{Key: "A", Value: []byte("b")}},
		Mounts:  []*runtimeapi.Mount{{HostPath: "/data", ContainerPath: "/mnt", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}, {HostPath: "/shared", ContainerPath: "/s", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}},
		Devices: []*runtimeapi.Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rwm"}, {HostPath: "/dev/snd", ContainerPath: "/dev/snd", Permissions: "r"}},
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources: &runtimeapi.LinuxContainerResources{CpuShares: 512, CpuQuota: 50000, CpuPeriod: 100000, MemoryLimitInBytes: 1 << 28, OomScoreAdj: 1000, CpusetCpus: "0-1", HugepageLimits: []*runtimeapi.HugepageLimit{{PageSize: "2MB", Limit: 1 << 21}}},
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				Capabilities:       &runtimeapi.Capability{AddCapabilities: []string{"NET_ADMIN"}, DropCapabilities: []string{"ALL"}},
				RunAsUser:          &runtimeapi.Int64Value{Value: 1000},
				RunAsGroup:         &runtimeapi.Int64Value{Value: 1000},
				SupplementalGroups: []int64{5},
				ReadonlyRootfs:     true,
				NoNewPrivs:         true,
				Seccomp:            &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
				NamespaceOptions:   &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET, TargetId: "other"},
				MaskedPaths:        []string{"/proc/kcore"},
			},
		},
	})
	addRequestSeed(f, pod, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "priv"},
		Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			Privileged: true, RunAsUsername: "nobody", Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "../../etc/passwd"},
		}},
	})
	rootfs := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, imageUser, imageWorkDir string, restrictOOM bool) {
		req, ok := decodeRequest(data)
		if !ok {
			return
		}
		spec, err := LinuxContainerSpec(fuzzCtx(), LinuxContainerInput{
			ID:                  "c0ffee01",
			SandboxID:           "pod",
			Config:              req.GetConfig(),
			SandboxConfig:       req.GetSandboxConfig(),
			ImageName:           "busybox",
			ImageConfig:         imagespec.ImageConfig{User: imageUser, WorkingDir: imageWorkDir, Cmd: []string{"sh"}},
			RootfsPath:          rootfs,
			Namespaces:          ContainerNamespaces{SandboxPid: 42, TargetPid: 43},
			Files:               SandboxFiles{HostnamePath: "/run/p/hostname", HostsPath: "/run/p/hosts", ResolvConfPath: "/run/p/resolv.conf", ShmPath: "/run/p/shm"},
			RestrictOOMScoreAdj: restrictOOM,
			OOMScoreAdjFloor:    -500,
			Host:                newFakeHost(),
		})
		if err != nil {
			checkSpecError(t, err)
			return
		}
		require.NotNil(t, spec)
		require.NotNil(t, spec.Process)
		assert.NotEmpty(t, spec.Process.Args)
		require.NotNil(t, spec.Linux)
	})
}

func FuzzLinuxSandboxSpec(f *testing.F) {
	addRequestSeed(f, nil, nil)
	addRequestSeed(f, &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u"},
		Hostname: "p", DnsConfig: &runtimeapi.DNSConfig{Servers: []string{"10.0.0.10"}, Searches: []string{"svc"}},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: "/kubepods/burstable", Sysctls: map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1"},
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Ipc: runtimeapi.NamespaceMode_NODE}},
			Overhead:        &runtimeapi.LinuxContainerResources{CpuShares: 2},
		},
	}, nil)
	f.Fuzz(func(t *testing.T, data []byte, _, _ string, restrictOOM bool) {
		req, ok := decodeRequest(data)
		if !ok {
			return
		}
		spec, err := LinuxSandboxSpec(fuzzCtx(), LinuxSandboxInput{
			ID:                  "pod",
			Config:              req.GetSandboxConfig(),
			NetNSPath:           "/run/netns/pod",
			PauseArgs:           []string{"/pause"},
			RootfsPath:          "/var/lib/wincri/pause",
			Files:               SandboxFiles{HostnamePath: "/run/p/hostname", HostsPath: "/run/p/hosts", ResolvConfPath: "/run/p/resolv.conf", ShmPath: "/run/p/shm"},
			RestrictOOMScoreAdj: restrictOOM,
			OOMScoreAdjFloor:    -500,
			Host:                newFakeHost(),
		})
		if err != nil {
			checkSpecError(t, err)
			return
		}
		require.NotNil(t, spec)
		require.NotNil(t, spec.Process)
	})
}

func FuzzBuildWindowsContainer(f *testing.F) {
	addRequestSeed(f, nil, nil)
	addRequestSeed(f, &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u"},
		Windows:  &runtimeapi.WindowsPodSandboxConfig{SecurityContext: &runtimeapi.WindowsSandboxSecurityContext{HostProcess: true, RunAsUsername: "NT AUTHORITY\\SYSTEM"}},
	}, kubeletContainer(true))
	addRequestSeed(f, &runtimeapi.PodSandboxConfig{Metadata: &runtimeapi.PodSandboxMetadata{Name: "p"}}, kubeletContainer(false))
	addRequestSeed(f, nil, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
		Mounts:   []*runtimeapi.Mount{{HostPath: `\\.\pipe\docker_engine`, ContainerPath: `\\.\pipe\docker_engine`}, {HostPath: `C:\data`, ContainerPath: `C:\mnt`, Readonly: true}},
		Devices:  []*runtimeapi.Device{{HostPath: "class/5B45201D-F2F2-4F3B-85BB-30FF1F953599"}},
		Windows: &runtimeapi.WindowsContainerConfig{
			Resources:       &runtimeapi.WindowsContainerResources{CpuCount: 2, CpuShares: 9999, CpuMaximum: 10001, MemoryLimitInBytes: -1, AffinityCpus: []*runtimeapi.WindowsCpuGroupAffinity{{CpuMask: 3, CpuGroup: 0}}},
			SecurityContext: &runtimeapi.WindowsContainerSecurityContext{RunAsUsername: "ContainerUser", HostProcess: true},
		},
	})
	f.Fuzz(func(t *testing.T, data []byte, imageUser, imageWorkDir string, hyperv bool) {
		req, ok := decodeRequest(data)
		if !ok {
			return
		}
		h := Handler{Name: "process", Isolation: config.IsolationProcess, OS: OSWindows}
		if hyperv {
			h = Handler{Name: "hyperv", Isolation: config.IsolationHyperV, OS: OSWindows, UVMMemoryMB: 2048}
		}
		task, err := BuildWindowsContainer(WindowsContainer{
			ID:               testContainerID,
			SandboxID:        "pod",
			Config:           req.GetConfig(),
			Image:            &imagespec.ImageConfig{User: imageUser, WorkingDir: imageWorkDir, Entrypoint: []string{`C:\app.exe`}},
			Pod:              req.GetSandboxConfig(),
			Handler:          h,
			NetworkNamespace: "5f0e6e0b-ns",
			Layers:           appLayers,
		})
		if err != nil {
			checkSpecError(t, err)
			return
		}
		require.NotNil(t, task.Spec)
		require.NotNil(t, task.Spec.Windows)
	})
}

func FuzzBuildWindowsSandbox(f *testing.F) {
	addRequestSeed(f, nil, nil)
	addRequestSeed(f, &runtimeapi.PodSandboxConfig{
		Metadata:    &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u"},
		Annotations: map[string]string{"io.microsoft.virtualmachine.computetopology.memory.sizeinmb": "99999999999", "io.microsoft.virtualmachine.computetopology.processor.count": "-3"},
		Windows:     &runtimeapi.WindowsPodSandboxConfig{SecurityContext: &runtimeapi.WindowsSandboxSecurityContext{HostProcess: true}},
	}, nil)
	f.Fuzz(func(t *testing.T, data []byte, imageUser, imageWorkDir string, hyperv bool) {
		req, ok := decodeRequest(data)
		if !ok {
			return
		}
		h := Handler{Name: "process", Isolation: config.IsolationProcess, OS: OSWindows}
		if hyperv {
			h = Handler{Name: "hyperv", Isolation: config.IsolationHyperV, OS: OSWindows}
		}
		task, err := BuildWindowsSandbox(WindowsSandbox{
			ID:               "pod",
			Config:           req.GetSandboxConfig(),
			Handler:          h,
			NetworkNamespace: "5f0e6e0b-ns",
			Image:            &imagespec.ImageConfig{User: imageUser, WorkingDir: imageWorkDir, Entrypoint: []string{`C:\pause.exe`}},
			Layers:           appLayers,
		})
		if err != nil {
			checkSpecError(t, err)
			return
		}
		require.NotNil(t, task.Spec)
	})
}
