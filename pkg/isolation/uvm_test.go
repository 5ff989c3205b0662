package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
)

const (
	memAnnotation = "io.microsoft.virtualmachine.computetopology.memory.sizeinmb"
	cpuAnnotation = "io.microsoft.virtualmachine.computetopology.processor.count"
)

func TestSizeUVM(t *testing.T) {
	configured := Handler{Name: "hyperv", Isolation: config.IsolationHyperV, UVMMemoryMB: 2048, UVMProcessors: 4}
	bare := Handler{Name: "hyperv", Isolation: config.IsolationHyperV}
	withResources := func(res, overhead *runtimeapi.LinuxContainerResources, annotations map[string]string) *runtimeapi.PodSandboxConfig {
		return &runtimeapi.PodSandboxConfig{
			Annotations: annotations,
			Linux:       &runtimeapi.LinuxPodSandboxConfig{Resources: res, Overhead: overhead},
		}
	}
	tests := []struct {
		name    string
		pod     *runtimeapi.PodSandboxConfig
		handler Handler
		want    UVMSize
	}{
		{name: "nothing asked: 1024 MB, shim picks processors", pod: &runtimeapi.PodSandboxConfig{}, handler: bare, want: UVMSize{MemoryMB: 1024}},
		{name: "nil pod", pod: nil, handler: bare, want: UVMSize{MemoryMB: 1024}},
		{name: "handler defaults", pod: &runtimeapi.PodSandboxConfig{}, handler: configured, want: UVMSize{MemoryMB: 2048, Processors: 4}},
		{
			name: "annotations win over everything",
			pod: withResources(&runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 512 << 20, CpuQuota: 100000, CpuPeriod: 100000}, nil,
				map[string]string{memAnnotation: "4096", cpuAnnotation: " 8 "}),
			handler: configured, want: UVMSize{MemoryMB: 4096, Processors: 8},
		},
		{
			name:    "only the memory annotation",
			pod:     withResources(nil, nil, map[string]string{memAnnotation: "3072"}),
			handler: configured, want: UVMSize{MemoryMB: 3072, Processors: 4},
		},
		{
			name: "resources plus overhead, rounded up",
			pod: withResources(
				&runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 1536<<20 + 1, CpuQuota: 150000, CpuPeriod: 100000},
				&runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 512 << 20, CpuQuota: 25000, CpuPeriod: 100000},
				nil),
			handler: configured, want: UVMSize{MemoryMB: 2049, Processors: 2},
		},
		{
			name:    "overhead only",
			pod:     withResources(nil, &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 256 << 20}, nil),
			handler: configured, want: UVMSize{MemoryMB: 256, Processors: 4},
		},
		{
			name:    "unlimited quota (-1) falls through to the handler",
			pod:     withResources(&runtimeapi.LinuxContainerResources{CpuQuota: -1, CpuPeriod: 100000}, nil, nil),
			handler: configured, want: UVMSize{MemoryMB: 2048, Processors: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SizeUVM(tt.pod, tt.handler)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSizeUVMInvalid(t *testing.T) {
	h := Handler{Name: "hyperv", Isolation: config.IsolationHyperV}
	tests := []struct {
		name        string
		annotations map[string]string
		resources   *runtimeapi.LinuxContainerResources
		wantErr     string
	}{
		{name: "non-numeric memory", annotations: map[string]string{memAnnotation: "2GB"}, wantErr: memAnnotation},
		{name: "zero memory", annotations: map[string]string{memAnnotation: "0"}, wantErr: memAnnotation},
		{name: "negative processors", annotations: map[string]string{cpuAnnotation: "-2"}, wantErr: cpuAnnotation},
		{name: "memory given in bytes", annotations: map[string]string{memAnnotation: "2147483648"}, wantErr: memAnnotation},
		{name: "absurd processor count", annotations: map[string]string{cpuAnnotation: "100000"}, wantErr: cpuAnnotation},
		{name: "empty processor count", annotations: map[string]string{cpuAnnotation: ""}, wantErr: cpuAnnotation},
		{name: "negative memory limit", resources: &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: -1}, wantErr: "memory_limit_in_bytes"},
		{name: "absurd memory limit", resources: &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 1 << 62}, wantErr: "memory_limit_in_bytes"},
		{name: "quota without period", resources: &runtimeapi.LinuxContainerResources{CpuQuota: 100000}, wantErr: "cpu_period"},
		{name: "absurd quota", resources: &runtimeapi.LinuxContainerResources{CpuQuota: 1 << 62, CpuPeriod: 100000}, wantErr: "cpu_quota"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &runtimeapi.PodSandboxConfig{Annotations: tt.annotations, Linux: &runtimeapi.LinuxPodSandboxConfig{Resources: tt.resources}}
			_, err := SizeUVM(pod, h)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestUVMSizeAnnotations(t *testing.T) {
	assert.Equal(t, map[string]string{memAnnotation: "1024"}, UVMSize{MemoryMB: 1024}.Annotations())
	assert.Equal(t, map[string]string{memAnnotation: "2048", cpuAnnotation: "2"}, UVMSize{MemoryMB: 2048, Processors: 2}.Annotations())
}
