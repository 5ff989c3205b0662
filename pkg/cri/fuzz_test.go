package cri

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
)

// fuzzRuntime accepts every pod and container, so that a fuzz target
// sees exactly what validation let through. The embedded Runtime is nil:
// the targets call no other method.
type fuzzRuntime struct {
	Runtime
	reached int
}

func (f *fuzzRuntime) RunPod(context.Context, *runtime.PodSandboxConfig, string) (string, error) {
	f.reached++
	return "pod", nil
}

func (f *fuzzRuntime) CreateContainer(context.Context, string, *runtime.ContainerConfig) (string, error) {
	f.reached++
	return "ctr", nil
}

func newFuzzServer(t *testing.T) (*Server, *fuzzRuntime) {
	rt := &fuzzRuntime{}
	srv, err := New(Options{Config: config.Default(), Network: &fakeNetwork{}, Runtime: rt})
	require.NoError(t, err)
	return srv, rt
}

// checkRejection asserts that a request the validators refused is
// InvalidArgument, with a message that names a field.
func checkRejection(t *testing.T, err error, fields ...string) {
	t.Helper()
	require.Equal(t, codes.InvalidArgument, codeOf(err), "%v", err)
	require.True(t, errdefs.IsInvalidArgument(err))
	named := false
	for _, f := range fields {
		named = named || strings.Contains(err.Error(), f)
	}
	assert.True(t, named, "%q names none of %v", err.Error(), fields)
}

// checkAcceptedName asserts what an accepted metadata name must be.
func checkAcceptedName(t *testing.T, field, s string) {
	t.Helper()
	assert.NotEmpty(t, s, field)
	assert.True(t, utf8.ValidString(s), "%s %q is not UTF-8", field, s)
	assert.LessOrEqual(t, len(s), maxNameLen, field)
	assert.False(t, strings.ContainsAny(s, "/\\\x00"), "%s %q", field, s)
}

func FuzzValidatePodSandboxConfig(f *testing.F) {
	f.Add("nginx", "default", "0f1e", "nginx", "/var/log/pods/x", "app", "web", "a", "b", int32(80))
	f.Add("", "default", "uid", "", "", "", "", "", "", int32(0))
	f.Add("../x", "ns", "uid", "h", "relative", "bad key", "v", "", "v", int32(-1))
	f.Add("a\xffb", "ns", "uid", "h\x00", `C:\logs`, "example.com/app", "v", "k", "v\xfe", int32(70000))
	f.Add(strings.Repeat("n", 300), "ns", "uid", "h", "/", "-x", "v", "k", "v", int32(65535))
	f.Fuzz(func(t *testing.T, name, namespace, uid, hostname, logDir, labelKey, labelValue, annoKey, annoValue string, port int32) {
		cfg := &runtime.PodSandboxConfig{
			Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: namespace, Uid: uid},
			Hostname:     hostname,
			LogDirectory: logDir,
			Labels:       map[string]string{labelKey: labelValue},
			Annotations:  map[string]string{annoKey: annoValue},
			PortMappings: []*runtime.PortMapping{{ContainerPort: port, HostPort: port}},
		}
		srv, rt := newFuzzServer(t)
		verr := validatePodSandboxConfig(cfg)
		_, err := srv.RunPodSandbox(context.Background(), &runtime.RunPodSandboxRequest{Config: cfg})
		if verr != nil {
			checkRejection(t, verr, "config")
			checkRejection(t, err, "config")
			assert.Zero(t, rt.reached, "the runtime got a config validation refused")
			return
		}
		require.NoError(t, err)
		assert.Equal(t, 1, rt.reached)
		checkAcceptedName(t, "name", name)
		checkAcceptedName(t, "namespace", namespace)
		checkAcceptedName(t, "uid", uid)
		assert.True(t, utf8.ValidString(hostname) && utf8.ValidString(logDir) && utf8.ValidString(labelValue) && utf8.ValidString(annoKey) && utf8.ValidString(annoValue))
		assert.True(t, logDir == "" || isAbs(logDir), "log directory %q", logDir)
		assert.Regexp(t, labelKeyRE, labelKey)
		assert.True(t, port >= 0 && port <= 65535, "port %d", port)
	})
}

func FuzzValidateContainerConfig(f *testing.F) {
	f.Add("app", "busybox:1.29", "app.log", "/data", "/mnt", "PATH", "/bin", "tier")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("a/b", "x\x00y", "../../etc/passwd", "relative", "", "K\xff", "v", "bad key")
	f.Add(strings.Repeat("c", 254), "img", "/abs.log", `C:\data`, `C:\mnt`, "", "", "a.b/c")
	f.Fuzz(func(t *testing.T, name, image, logPath, hostPath, containerPath, envKey, envValue, labelKey string) {
		cfg := &runtime.ContainerConfig{
			Metadata: &runtime.ContainerMetadata{Name: name},
			Image:    &runtime.ImageSpec{Image: image},
			LogPath:  logPath,
			Mounts:   []*runtime.Mount{{HostPath: hostPath, ContainerPath: containerPath}},
			Envs:     []*runtime.KeyValue{{Key: envKey, Value: []byte(envValue)}},
			Labels:   map[string]string{labelKey: "v"},
		}
		srv, rt := newFuzzServer(t)
		verr := validateContainerConfig(cfg)
		_, err := srv.CreateContainer(context.Background(), &runtime.CreateContainerRequest{PodSandboxId: "pod", Config: cfg})
		if verr != nil {
			checkRejection(t, verr, "config")
			checkRejection(t, err, "config")
			assert.Zero(t, rt.reached, "the runtime got a config validation refused")
			return
		}
		require.NoError(t, err)
		assert.Equal(t, 1, rt.reached)
		checkAcceptedName(t, "name", name)
		assert.NotEmpty(t, image)
		assert.True(t, utf8.ValidString(image) && utf8.ValidString(logPath) && utf8.ValidString(containerPath))
		assert.NotEmpty(t, containerPath)
		assert.True(t, hostPath == "" || isAbs(hostPath), "host path %q", hostPath)
		assert.Regexp(t, labelKeyRE, labelKey)
	})
}

// addProtoSeed adds the encoding of m to the corpus.
func addProtoSeed(f *testing.F, m proto.Message) {
	b, err := proto.Marshal(m)
	require.NoError(f, err)
	f.Add(b)
}

// FuzzRunPodSandboxRequest decodes whole requests from the fuzzer's bytes,
// as they would arrive over gRPC, and sends them to the server: no panic,
// and each refusal is InvalidArgument.
func FuzzRunPodSandboxRequest(f *testing.F) {
	addProtoSeed(f, &runtime.RunPodSandboxRequest{})
	addProtoSeed(f, &runtime.RunPodSandboxRequest{Config: &runtime.PodSandboxConfig{
		Metadata: &runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u", Attempt: 3},
		Hostname: "p", LogDirectory: "/var/log/pods/p", DnsConfig: &runtime.DNSConfig{Servers: []string{"10.0.0.10"}},
		PortMappings: []*runtime.PortMapping{{Protocol: runtime.Protocol_UDP, ContainerPort: 53, HostPort: 5353, HostIp: "127.0.0.1"}},
		Linux: &runtime.LinuxPodSandboxConfig{CgroupParent: "/kubepods", Sysctls: map[string]string{"net.ipv4.ip_forward": "1"},
			SecurityContext: &runtime.LinuxSandboxSecurityContext{NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE}}},
		Windows: &runtime.WindowsPodSandboxConfig{SecurityContext: &runtime.WindowsSandboxSecurityContext{HostProcess: true}},
	}, RuntimeHandler: "hyperv"})
	addProtoSeed(f, &runtime.RunPodSandboxRequest{Config: &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "../p"}}, RuntimeHandler: "a/b"})
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &runtime.RunPodSandboxRequest{}
		if proto.Unmarshal(data, req) != nil {
			return // gRPC refuses it before wincri sees it
		}
		srv, rt := newFuzzServer(t)
		_, err := srv.RunPodSandbox(context.Background(), req)
		if err != nil {
			checkRejection(t, err, "config", "runtime_handler")
			assert.Zero(t, rt.reached)
			return
		}
		assert.Equal(t, 1, rt.reached)
		md := req.GetConfig().GetMetadata()
		checkAcceptedName(t, "name", md.GetName())
		checkAcceptedName(t, "namespace", md.GetNamespace())
		checkAcceptedName(t, "uid", md.GetUid())
	})
}

// FuzzCreateContainerRequest is FuzzRunPodSandboxRequest for containers.
func FuzzCreateContainerRequest(f *testing.F) {
	addProtoSeed(f, &runtime.CreateContainerRequest{})
	addProtoSeed(f, &runtime.CreateContainerRequest{PodSandboxId: "abc", Config: &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: "c", Attempt: 1},
		Image:    &runtime.ImageSpec{Image: "busybox"},
		Command:  []string{"/bin/sh"}, Args: []string{"-c", "true"}, WorkingDir: "/",
		Envs:    []*runtime.KeyValue{{Key: "A", Value: []byte("b")}},
		Mounts:  []*runtime.Mount{{HostPath: "/data", ContainerPath: "/mnt", Readonly: true, Propagation: runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL}},
		Devices: []*runtime.Device{{HostPath: "/dev/null", ContainerPath: "/dev/x", Permissions: "rwm"}},
		LogPath: "c/0.log",
		Linux: &runtime.LinuxContainerConfig{Resources: &runtime.LinuxContainerResources{CpuShares: 2, MemoryLimitInBytes: 1 << 30},
			SecurityContext: &runtime.LinuxContainerSecurityContext{Privileged: true, RunAsUser: &runtime.Int64Value{Value: 1000}}},
		Windows: &runtime.WindowsContainerConfig{Resources: &runtime.WindowsContainerResources{CpuCount: 2}},
	}})
	addProtoSeed(f, &runtime.CreateContainerRequest{PodSandboxId: "../x", Config: &runtime.ContainerConfig{Metadata: &runtime.ContainerMetadata{}}})
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &runtime.CreateContainerRequest{}
		if proto.Unmarshal(data, req) != nil {
			return
		}
		srv, rt := newFuzzServer(t)
		_, err := srv.CreateContainer(context.Background(), req)
		if err != nil {
			checkRejection(t, err, "config", "pod_sandbox_id")
			assert.Zero(t, rt.reached)
			return
		}
		assert.Equal(t, 1, rt.reached)
		checkAcceptedName(t, "name", req.GetConfig().GetMetadata().GetName())
		assert.NotEmpty(t, req.GetConfig().GetImage().GetImage())
	})
}
